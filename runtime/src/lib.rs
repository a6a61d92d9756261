//! Orion runtime: the interpreter of the `ckks` dialect over the
//! [`orion_ckks`] library.

pub mod interp;
pub mod progress;
