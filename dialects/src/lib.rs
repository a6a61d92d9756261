//! The IR of Orion-RS: core structures, textual syntax (custom and generic
//! MLIR forms), verifier, and the `nn`, `pack` and `ckks` dialects with their
//! cleartext reference interpreters.

pub mod diag;
pub mod files;
pub mod fitted_range;
pub mod ir;
pub mod syntax;

pub use diag::{install_panic_hook, Diagnostic};
pub use ir::{Attribute, ElemType, Func, Location, Module, Op, Type, ValueId};
pub use syntax::{parse_module, print_module, PrintOptions};
pub mod ckks;
pub mod interp_memory;
pub mod nn;
pub mod pack;
pub mod tensor;
pub mod verify;
