//! The ring `Z_Q[X]/(X^N+1)` in RNS form, and what fixes it.
//!
//! - [`params`], `security`: parameter sets (bit sizes) and the HE
//!   Standard's 128-bit bound;
//! - `prime_table`: one prime's reduction constants and NTT plan;
//! - `basis`, `crt`: RNS basis conversion (the core of ModUp and ModDown)
//!   and CRT reconstruction;
//! - [`context`]: the primes and every precomputed table of a parameter set;
//! - [`poly`]: RNS polynomials and their arithmetic (NTT, limb-wise ops);
//! - `scratch`: the process-wide pool of limb buffers;
//! - `automorphism`: Galois elements and their action on slots and limbs;
//! - [`conjugate_invariant`]: the ring option with N real slots.

pub(crate) mod automorphism;
pub(crate) mod basis;
pub mod conjugate_invariant;
pub mod context;
pub(crate) mod crt;
pub mod params;
pub mod poly;
pub(crate) mod prime_table;
pub(crate) mod scratch;
pub(crate) mod security;
