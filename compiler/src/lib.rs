//! The Orion-RS compiler: ONNX import, the passes that lower `nn` to `pack`
//! to `ckks`, and the pass manager that runs them.

pub mod approx;
pub mod compile;
pub mod cost_model;
pub mod import_onnx;
pub mod pack_stats;
pub mod pass_manager;
pub mod passes;

pub use import_onnx::{import_onnx_bytes, import_onnx_file};
pub use pass_manager::{PassManager, PrintIr};
pub use passes::{Pass, PassOptions, Statistics};
