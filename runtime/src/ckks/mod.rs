//! RNS-CKKS: approximate homomorphic encryption over `Z_Q[X]/(X^N+1)`.
//!
//! Layered bottom-up, one job per module:
//! - [`arith`]: modular arithmetic (Barrett, Shoup) on one prime;
//! - `primes`, `security`, [`params`], [`context`]: parameter sets, prime
//!   generation, the HE Standard check, and every precomputed table;
//! - `poly`, `basis`, `crt`, `automorphism`: RNS polynomials, basis
//!   conversion, CRT reconstruction, Galois automorphisms;
//! - [`fft`], [`encoder`]: the canonical embedding (slots <-> coefficients);
//! - [`conjugate_invariant`]: the ring option with N real slots;
//! - `sampler`, [`keys`], [`keygen`]: secret/public/evaluation keys;
//!   `compact_key`, [`leveled_keys`]: keys stored only up to the level
//!   they are used at;
//! - `keyswitch`: hybrid key switching (ModUp, key inner product, ModDown);
//! - [`linear_transform`]: BSGS matrix-vector products with double hoisting,
//!   and the inner sum;
//! - [`polynomial`]: polynomial evaluation (Chebyshev and monomial bases,
//!   baby-step giant-step, exact output scale);
//! - [`encryptor`], [`decryptor`], [`evaluator`]: the user-facing operations;
//! - [`serialize`]: versioned prost files for keys, ciphertexts, plaintexts.
//!
//! Conventions: a ciphertext at level `l` has `l + 1` Q limbs and is kept in
//! NTT form; `rescale` divides by `q_l`. Slot `i` rotates by the Galois
//! element `5^i mod 2N` (a positive step rotates left). Every fallible
//! operation returns `Result<_, CkksError>`.
//!
//! ```
//! use orion_runtime::ckks::*;
//!
//! # fn main() -> Result<(), CkksError> {
//! let ctx = Context::new(CkksParams::mnist_mlp())?; // N = 2^13, 5 levels, Δ = 2^26
//! let kg = KeyGenerator::new(&ctx);
//! let sk = kg.gen_secret_key();
//! let pk = kg.gen_public_key(&sk)?;
//! let rlk = kg.gen_relin_key(&sk)?;
//! let gks = kg.gen_galois_keys(&sk, &[1, -1])?;
//! let (encoder, eval) = (Encoder::new(&ctx), Evaluator::new(&ctx, Some(&rlk), Some(&gks)));
//!
//! let (top, scale) = (ctx.max_level(), ctx.default_scale());
//! let x = Encryptor::new(&ctx, &pk).encrypt(&encoder.encode(&[0.5, -0.25, 1.0], top, scale)?)?;
//! let w = encoder.encode(&[2.0, 2.0, 2.0], top, ctx.q(top) as f64)?; // rescale restores Δ
//! let y = eval.rescale(&eval.mul_plain(&x, &w)?)?; // level top - 1
//! let y = eval.rescale(&eval.mul_relin(&y, &y)?)?; // level top - 2, scale ≈ Δ²/q
//! let z = eval.rotate(&y, 1)?;
//!
//! let out = encoder.decode(&Decryptor::new(&ctx, &sk).decrypt(&z)?)?;
//! assert!((out[0] - 0.25).abs() < 1e-2 && (out[1] - 4.0).abs() < 1e-2);
//! # Ok(())
//! # }
//! ```

pub mod arith;
mod automorphism;
mod basis;
pub mod bootstrap;
mod ciphertext;
mod compact_key;
pub mod conjugate_invariant;
pub mod context;
mod crt;
pub mod decryptor;
pub mod encoder;
pub mod encryptor;
pub mod error;
pub mod evaluator;
pub mod fft;
pub mod keygen;
pub mod keys;
mod keyswitch;
pub mod leveled_keys;
pub mod linear_transform;
pub mod params;
mod poly;
pub mod polynomial;
mod primes;
mod sampler;
mod scratch;
mod security;
pub mod serialize;
mod simd;

#[cfg(test)]
mod bench;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_ci;
#[cfg(test)]
mod tests_eval;

pub use automorphism::{conjugation_element, galois_element};
pub use ciphertext::{Ciphertext, Plaintext};
pub use conjugate_invariant::Ring;
pub use decryptor::Decryptor;
pub use encoder::Encoder;
pub use encryptor::Encryptor;
pub use error::CkksError;
pub use evaluator::Evaluator;
pub use fft::Complex;
pub use keygen::KeyGenerator;
pub use keys::{GaloisKeys, PublicKey, RelinearizationKey, SecretKey};
pub use leveled_keys::KeyLevels;
pub use linear_transform::LinearTransform;
pub use params::{CkksParams, Context, SecretDist};
pub use poly::RnsPoly;
pub use polynomial::{PolyBasis, Polynomial};
pub use security::max_log_qp_128;
