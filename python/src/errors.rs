//! One Python exception for everything Orion-RS refuses, carrying the
//! diagnostic text the command-line tools print.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::PyErr;

create_exception!(
    orion_rs,
    OrionError,
    PyException,
    "An input, program, key or ciphertext that Orion-RS refuses; the message is the diagnostic."
);

/// Any error that prints as a diagnostic, as an [`OrionError`].
pub fn orion_err(e: impl std::fmt::Display) -> PyErr {
    OrionError::new_err(e.to_string())
}
