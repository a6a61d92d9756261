//! `orion_rs._native`: the Python bindings of Orion-RS (PyO3), over the
//! compiler's one-call entry point (`orion_compiler::compile`) and the
//! runtime's client/server API (`orion_runtime::api`). The pure-Python
//! package `orion_rs` wraps it (PyTorch export, file paths).
//!
//! Long work (compiling, key generation, encryption, evaluation,
//! decryption) releases the GIL, so other Python threads run meanwhile;
//! errors are `orion_rs.OrionError` with the tools' one-line message.

use pyo3::prelude::*;

mod arrays;
mod errors;
mod keys;
mod program;

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // As orion-run does: CKKS allocates and frees buffers of 0.5-70 MB by
    // the thousand, and glibc's defaults return them to the kernel each
    // time (a page fault per 4 KB at the next use). Process-wide, once.
    orion_ckks::alloc_tuning::keep_freed_memory();
    m.add("OrionError", m.py().get_type::<errors::OrionError>())?;
    m.add_class::<program::Program>()?;
    m.add_class::<keys::Client>()?;
    m.add_class::<keys::Server>()?;
    m.add_class::<keys::Ciphertext>()?;
    m.add_function(wrap_pyfunction!(program::compile_onnx, m)?)?;
    m.add_function(wrap_pyfunction!(program::presets, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
