//! `orion-ckks`: RNS-CKKS, approximate homomorphic encryption over
//! `Z_Q[X]/(X^N+1)`, with bootstrapping and versioned key and ciphertext
//! files. It knows nothing of the compiler's IR and can be used alone, as
//! Lattigo or OpenFHE are.
//!
//! The folders are the scheme's layers, each using only those below it:
//! - [`math`]: arithmetic modulo one prime (Barrett, Shoup, vector kernels),
//!   NTT-friendly primes and their tables, RNS basis conversion, CRT
//!   reconstruction, the complex FFT of the canonical embedding;
//! - [`ring`]: parameter sets and the HE Standard check, the [`Context`]
//!   (every precomputed table of a parameter set), RNS polynomials and
//!   their arithmetic, Galois automorphisms, the conjugate-invariant ring,
//!   the pool of limb buffers;
//! - [`scheme`]: CKKS proper: keys and their generation (also stored only up
//!   to their level of use), hybrid key switching, the encoder, encryptor,
//!   decryptor and evaluator;
//! - [`circuits`]: what is built from the evaluator's operations: BSGS
//!   linear transforms with double hoisting, the inner sum, polynomial
//!   evaluation (Chebyshev and monomial bases, baby-step giant-step);
//! - [`bootstrap`]: ModRaise, CoeffsToSlots, EvalMod, SlotsToCoeffs, their
//!   keys and parameters;
//! - [`serialize`]: versioned prost files for keys, ciphertexts and
//!   plaintexts, with parameter fingerprints, key ids and checksums.
//!
//! Conventions: a ciphertext at level `l` has `l + 1` Q limbs and is kept in
//! NTT form; `rescale` divides by `q_l`. Slot `i` rotates by the Galois
//! element `5^i mod 2N` (a positive step rotates left). Every fallible
//! operation returns `Result<_, CkksError>`.
//!
//! ```
//! use orion_ckks::*;
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

pub mod alloc_tuning;
pub mod bootstrap;
pub mod circuits;
pub mod error;
pub mod math;
pub mod progress;
pub mod ring;
pub mod scheme;
pub mod serialize;

#[cfg(test)]
mod tests;

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctest;

pub use circuits::linear_transform::LinearTransform;
pub use circuits::polynomial::{PolyBasis, Polynomial};
pub use error::CkksError;
pub use math::fft::Complex;
pub use progress::Progress;
pub use ring::automorphism::{conjugation_element, galois_element};
pub use ring::conjugate_invariant::Ring;
pub use ring::context::Context;
pub use ring::params::{CkksParams, SecretDist};
pub use ring::poly::RnsPoly;
pub use ring::security::max_log_qp_128;
pub use scheme::ciphertext::{Ciphertext, Plaintext};
pub use scheme::decryptor::Decryptor;
pub use scheme::encoder::Encoder;
pub use scheme::encryptor::Encryptor;
pub use scheme::evaluator::{scales_match, Evaluator};
pub use scheme::keygen::KeyGenerator;
pub use scheme::keys::{GaloisKeys, PublicKey, RelinearizationKey, SecretKey};
pub use scheme::leveled_keys::KeyLevels;
