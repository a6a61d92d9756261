//! The one error type of the CKKS library.
//!
//! Every user-reachable failure (bad parameters, mismatched operands, a
//! missing evaluation key, a ciphertext from another context) is reported
//! as a [`CkksError`] instead of a panic, so that the interpreter can turn it
//! into a diagnostic that points at the offending op.

use thiserror::Error;

/// Errors of the CKKS library.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CkksError {
    /// The parameter set is malformed (sizes out of range, no primes, ...).
    #[error("invalid CKKS parameters: {0}")]
    InvalidParams(String),

    /// The parameter set is below 128-bit security according to the
    /// Homomorphic Encryption Standard table (ternary secret).
    #[error(
        "insecure CKKS parameters: log2(QP) = {log_qp:.2} exceeds the 128-bit bound of {bound} \
         for N = 2^{log_n} (ternary secret, HE Standard); set insecure_ok to override"
    )]
    InsecureParams {
        /// log2 of the ring degree.
        log_n: u32,
        /// log2 of the product of all Q and P primes.
        log_qp: f64,
        /// Maximal log2(QP) allowed for 128-bit security at this N.
        bound: u32,
    },

    /// Not enough NTT-friendly primes of a requested size exist.
    #[error("cannot find {count} distinct NTT-friendly primes of {bits} bits for N = 2^{log_n}")]
    NotEnoughPrimes {
        /// Requested bit size.
        bits: u32,
        /// How many primes of that size were needed.
        count: usize,
        /// log2 of the ring degree.
        log_n: u32,
    },

    /// Two operands have different levels.
    #[error(
        "level mismatch in {op}: left operand at level {left}, right operand at level {right}"
    )]
    LevelMismatch {
        /// The operation.
        op: &'static str,
        /// Level of the left operand.
        left: usize,
        /// Level of the right operand.
        right: usize,
    },

    /// Two operands have different scales.
    #[error("scale mismatch in {op}: left operand scale {left:e} (2^{:.4}), right operand scale {right:e} (2^{:.4})", .left.log2(), .right.log2())]
    ScaleMismatch {
        /// The operation.
        op: &'static str,
        /// Scale of the left operand.
        left: f64,
        /// Scale of the right operand.
        right: f64,
    },

    /// A level outside `0..=max_level` was requested, or a level that is
    /// above the operand's current level.
    #[error("invalid level {level} in {op} (allowed: 0..={max})")]
    InvalidLevel {
        /// The operation.
        op: &'static str,
        /// The requested level.
        level: usize,
        /// The largest level allowed here.
        max: usize,
    },

    /// Rescale of a ciphertext that is already at level 0.
    #[error("cannot rescale a ciphertext at level 0")]
    RescaleAtLevelZero,

    /// A rotation needs a Galois key that was not generated.
    #[error("missing Galois key for rotation step {0}")]
    MissingGaloisKey(i64),

    /// Conjugation needs the conjugation key, which was not generated.
    #[error("missing Galois key for conjugation")]
    MissingConjugationKey,

    /// Relinearization needs a relinearization key.
    #[error("missing relinearization key")]
    MissingRelinKey,

    /// The ciphertext has a degree the operation does not accept.
    #[error("{op} expects a ciphertext of degree {expected}, got degree {got}")]
    DegreeMismatch {
        /// The operation.
        op: &'static str,
        /// The accepted degree.
        expected: usize,
        /// The actual degree.
        got: usize,
    },

    /// An operand does not belong to this context (ring degree, number of
    /// limbs or representation disagree).
    #[error("operand does not match the context: {0}")]
    ContextMismatch(String),

    /// More values than slots were given to the encoder.
    #[error("too many values to encode: {given} > {slots} slots")]
    TooManyValues {
        /// Number of values given.
        given: usize,
        /// Number of slots.
        slots: usize,
    },

    /// A scale that is not finite and positive, or one too large to encode.
    #[error("invalid scale {0:e}")]
    InvalidScale(f64),

    /// A value is not finite, or too large for the given scale.
    #[error("cannot encode value {value:e} at scale {scale:e}: {reason}")]
    ValueOutOfRange {
        /// The offending value.
        value: f64,
        /// The scale it was multiplied by.
        scale: f64,
        /// Why it cannot be encoded.
        reason: &'static str,
    },

    /// An operation needs more levels than its operand has left.
    #[error("{op} needs {needed} levels but the ciphertext is at level {available}")]
    NotEnoughLevels {
        /// The operation.
        op: &'static str,
        /// Levels the operation consumes.
        needed: usize,
        /// Level of the operand.
        available: usize,
    },

    /// An argument of an operation is malformed (empty diagonal set, a
    /// polynomial with non-finite coefficients, a count that is not a power
    /// of two, ...).
    #[error("invalid argument to {op}: {reason}")]
    InvalidArgument {
        /// The operation.
        op: &'static str,
        /// What is wrong.
        reason: String,
    },
}
