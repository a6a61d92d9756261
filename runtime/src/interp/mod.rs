//! The encrypted interpreter of the `ckks` dialect.
//!
//! A [`Session`] is built once per module: it makes the CKKS context from the
//! module's `ckks.params`, the secret, public and relinearization keys, and
//! Galois keys for exactly the steps in `ckks.rotations`. [`Session::run`]
//! then encrypts the inputs, evaluates `@main` op by op and decrypts the
//! results; it can be called for many inputs, reusing keys and the encoded
//! plaintexts.
//!
//! Each op has the semantics of the cleartext reference
//! (`orion_dialects::ckks::interp`) on ciphertexts: see the `ops` module,
//! and `cache` for the scale a `ckks.encode` is encoded at (decided at its
//! use, so that the following rescale is exact).
//!
//! Client and server can be separate: [`SessionKeys`] holds any subset of
//! the keys (loaded from files, see `orion_ckks::serialize`), [`Session::from_keys`]
//! builds a session on them, and [`Session::encrypt_inputs`] (the
//! `ckks.encrypt` ops, public key), [`Session::evaluate`] (every op between
//! encryption and decryption, evaluation keys only) and
//! [`Session::decrypt_outputs`] (the `ckks.decrypt` ops, secret key) run the
//! program in three parts.
//!
//! Ciphertexts are freed after their last use. Each result's level and degree
//! are checked against its type; a mismatch is an error naming the op.
//!
//! One module per job: `session` (the state), `keys` (which keys a module
//! needs, their generation), `plan` (last uses, hoisted groups), `exec`
//! (the loop and its three parts), `ops` (each op's semantics), `values`
//! (the environment and the type checks), `cache` (the encoded
//! plaintexts), `error`.

use std::time::Duration;

use orion_dialects::tensor::Tensor;
use orion_dialects::Module;

mod cache;
mod error;
mod estimate;
mod exec;
mod keys;
mod ops;
mod plan;
mod session;
mod values;

pub use cache::DEFAULT_CACHE_BUDGET;
pub use error::RunError;
pub use estimate::{estimate_memory, evaluation_bytes, MemoryEstimate};
pub use keys::{bootstrap_params, module_context, SessionKeys};
pub use session::{MemoryUse, Session};

/// Options of a session.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Seed for key generation and encryption randomness (reproducible runs,
    /// tests); `None` draws from the operating system.
    pub seed: Option<u64>,
    /// Show progress (keygen spinner, per-op bar) on stderr.
    pub progress: bool,
    /// Encode each bootstrapping DFT level's matrices right before it runs
    /// instead of keeping them all encoded (at LogN 16 with 2^14 slots:
    /// 3.6 GB less, each bootstrap slower by the encoding).
    pub lazy_bootstrap_matrices: bool,
    /// Hold the evaluation keys seeded: each key-switching digit's uniform
    /// half is a 32-byte seed expanded at every use (half the key memory
    /// and key file, each key switch slower by the sampling).
    pub seeded_keys: bool,
    /// Bytes the cached slot vectors and encoded plaintexts may take
    /// (default [`DEFAULT_CACHE_BUDGET`]); past it, plaintexts are encoded
    /// at each use.
    pub plaintext_cache_bytes: Option<usize>,
    /// Memory the session may take, in bytes: over it, the API encodes the
    /// bootstrapping matrices on use and shrinks the plaintext cache, and
    /// refuses what still does not fit (see [`MemoryEstimate`]). The
    /// machine's available memory bounds it in any case.
    pub memory_budget: Option<usize>,
}

/// Wall-clock time per phase.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timings {
    pub keygen: Duration,
    pub encrypt: Duration,
    pub evaluate: Duration,
    pub decrypt: Duration,
}

/// One-shot convenience: keygen, encrypt, evaluate, decrypt.
pub fn interpret(
    module: &Module,
    inputs: &[Tensor],
    opts: &RunOptions,
) -> Result<(Vec<Tensor>, Timings), RunError> {
    Session::new(module, opts)?.run(module, inputs)
}

#[cfg(test)]
mod tests;
