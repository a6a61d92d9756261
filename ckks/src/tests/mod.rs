//! The library's end-to-end tests (precision against f64 references, error
//! paths) and kernel timings.

mod circuits;
mod conjugate_invariant;
mod kernels_bench;
mod scheme;
