//! CKKS parameter sets.
//!
//! A parameter set names bit sizes, not primes: the [`Context`](crate::Context) built from
//! it generates the NTT-friendly primes and every precomputed table. This
//! keeps the IR and key files portable (the primes are a deterministic
//! function of the sizes and N).

/// Distribution of the secret key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretDist {
    /// Coefficients in {-1, 0, 1}: uniform when `hamming_weight` is `None`,
    /// otherwise exactly `hamming_weight` non-zero coefficients (sparse
    /// secrets make bootstrapping's modular reduction cheaper; note that the
    /// HE Standard table assumes a uniform ternary secret).
    Ternary {
        /// Number of non-zero coefficients, or `None` for uniform ternary.
        hamming_weight: Option<usize>,
    },
}

impl Default for SecretDist {
    fn default() -> Self {
        SecretDist::Ternary {
            hamming_weight: None,
        }
    }
}

/// A CKKS parameter set.
#[derive(Clone, Debug, PartialEq)]
pub struct CkksParams {
    /// log2 of the ring degree N (10..=17). There are N/2 slots.
    pub log_n: u32,
    /// Bit sizes of the ciphertext primes q_0, q_1, ... (q_0 first: the
    /// prime that remains at level 0). There are `log_q.len() - 1` levels
    /// of rescaling.
    pub log_q: Vec<u32>,
    /// Bit sizes of the special primes P used by hybrid key switching.
    pub log_p: Vec<u32>,
    /// log2 of the default scale Δ.
    pub log_scale: u32,
    /// Distribution of the secret key.
    pub secret: SecretDist,
    /// Accept parameter sets above the 128-bit bound (tests, benchmarks);
    /// a warning is printed on stderr instead of refusing them.
    pub insecure_ok: bool,
}

impl CkksParams {
    /// Orion's parameter set for the MNIST MLP: N = 2^13, log QP = 217.
    pub fn mnist_mlp() -> Self {
        Self {
            log_n: 13,
            log_q: vec![29, 26, 26, 26, 26, 26],
            log_p: vec![29, 29],
            log_scale: 26,
            secret: SecretDist::default(),
            insecure_ok: false,
        }
    }

    /// Sum of the requested bit sizes of Q and P (an upper bound of
    /// log2(QP); the actual primes lie just below their powers of two).
    pub fn nominal_log_qp(&self) -> u32 {
        self.log_q.iter().chain(&self.log_p).sum()
    }
}
