//! Arithmetic modulo one prime, and the complex FFT.
//!
//! - [`arith`]: Barrett and Shoup reduction modulo one prime;
//! - `simd`: the AVX-512 (IFMA) kernels and their scalar fallbacks;
//! - `primes`: NTT-friendly primes of given bit sizes;
//! - [`fft`]: the complex FFT of the canonical embedding.

pub mod arith;
pub mod fft;
pub(crate) mod primes;
pub(crate) mod simd;
