//! Bootstrapping parameters: the residual chain the network uses, extended
//! with the levels bootstrapping consumes.
//!
//! The modulus chain, from `q_0` up:
//!
//! ```text
//!   residual (network)   | SlotsToCoeffs | EvalMod         | CoeffsToSlots
//!   q_0, q_1 .. q_Lres   | stc primes    | evalmod primes  | cts primes      (top)
//! ```
//!
//! A ciphertext at any residual level is scaled down to level 0, raised to
//! the top, and comes back at level `Lres` with the default scale. The
//! primes are generated from bit sizes in this order, so the residual
//! primes are the same as in the residual parameter set alone (same sizes,
//! handed out first).

use crate::error::CkksError;
use crate::ring::params::{CkksParams, SecretDist};

use super::mod1::Mod1Params;

/// Parameters of a bootstrappable CKKS parameter set.
#[derive(Clone, Debug, PartialEq)]
pub struct BootstrapParams {
    /// log2 of the ring degree N.
    pub log_n: u32,
    /// log2 of the number of complex slots bootstrapped (`<= log_n - 1`);
    /// below `log_n - 1` the slots are *sparse*: the message must be
    /// periodic with period `2^log_slots` (the plaintext lives in
    /// `Z[X^(N / 2^(log_slots + 1))]`, as Orion packs small tensors).
    pub log_slots: u32,
    /// Bit sizes of the residual primes `q_0 .. q_Lres` (the network's chain).
    pub residual_log_q: Vec<u32>,
    /// log2 of the default (residual) scale; bootstrapping outputs this scale.
    pub log_scale: u32,
    /// Bit sizes of the special primes P.
    pub log_p: Vec<u32>,
    /// Hamming weight of the secret key.
    pub hamming_weight: usize,
    /// Hamming weight of the ephemeral sparse secret of sparse-secret
    /// encapsulation (Bossuat et al. 2022), or `None` to bootstrap under the
    /// secret key itself. With it, `|I| <= 0.5 + h_eph / 2`, so `K` can stay
    /// small whatever the secret's weight.
    pub ephemeral_hamming_weight: Option<usize>,
    /// Prime sizes of CoeffsToSlots, one per level, in the order used (the
    /// first is the top prime). The number of entries is the number of levels.
    pub cts_log_q: Vec<u32>,
    /// Prime sizes of SlotsToCoeffs, one per level, in the order used.
    pub stc_log_q: Vec<u32>,
    /// The modular reduction.
    pub mod1: Mod1Params,
    /// How the DFT levels are evaluated (and so which keys exist).
    pub dft: DftStrategy,
    /// Accept parameters above the 128-bit bound (tests only).
    pub insecure_ok: bool,
}

/// How CoeffsToSlots and SlotsToCoeffs are evaluated: a time / memory trade-off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DftStrategy {
    /// The library's double-hoisted BSGS `LinearTransform`: fastest; a
    /// Galois key over the whole chain for every baby and giant step.
    #[default]
    Bsgs,
    /// Chained rotations (`chained.rs`): three keys per level, each stored
    /// at the level where it is used, every rotation a full key switch.
    Chained,
}

/// Level layout of a bootstrappable chain (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Levels {
    /// Highest residual level: where the bootstrap output lands.
    pub residual: usize,
    /// Level at which SlotsToCoeffs starts (its input level).
    pub stc_start: usize,
    /// Level at which EvalMod starts.
    pub evalmod_start: usize,
    /// Top level (ModRaise target, CoeffsToSlots input).
    pub top: usize,
}

impl BootstrapParams {
    /// Orion's ResNet chain (LogN 16, residual [55, 40 x 10], scale 2^40,
    /// H = 192) extended for bootstrapping 2^15 slots: SlotsToCoeffs 3 x 40,
    /// EvalMod 9 x 60 (degree 40: 6 levels, 3 double angles),
    /// CoeffsToSlots 4 x 56, P = 7 x 61 (27 Q primes, dnum 4).
    /// log2 QP = 1766, under the 1772 of our HE Standard table for N = 2^16
    /// (that table assumes a uniform ternary secret; Lattigo's own estimate
    /// for a Hamming weight of 192 is 1546).
    pub fn resnet_n16() -> Self {
        let mut residual = vec![55];
        residual.extend([40; 10]);
        Self {
            log_n: 16,
            log_slots: 15,
            residual_log_q: residual,
            log_scale: 40,
            log_p: vec![61; 7],
            hamming_weight: 192,
            ephemeral_hamming_weight: Some(32),
            cts_log_q: vec![56; 4],
            stc_log_q: vec![40; 3],
            mod1: Mod1Params::default(),
            dft: DftStrategy::Bsgs,
            insecure_ok: false,
        }
    }

    /// A small, *insecure* set for tests (N = 2^12, 2^11 slots, two
    /// residual levels): the same circuit as [`Self::resnet_n16`] in
    /// milliseconds per operation.
    pub fn test_n12() -> Self {
        Self {
            log_n: 12,
            log_slots: 11,
            residual_log_q: vec![55, 40, 40],
            log_scale: 40,
            log_p: vec![61; 4],
            hamming_weight: 192,
            ephemeral_hamming_weight: Some(32),
            cts_log_q: vec![56; 3],
            stc_log_q: vec![40; 2],
            mod1: Mod1Params::default(),
            dft: DftStrategy::Bsgs,
            insecure_ok: true,
        }
    }

    /// The same parameters with another DFT strategy.
    pub fn with_dft(mut self, dft: DftStrategy) -> Self {
        self.dft = dft;
        self
    }

    /// The same parameters with `2^log_slots` (sparse) slots.
    pub fn with_log_slots(mut self, log_slots: u32) -> Self {
        self.log_slots = log_slots;
        self
    }

    /// Number of complex slots bootstrapped.
    pub fn slots(&self) -> usize {
        1 << self.log_slots
    }

    /// Levels EvalMod consumes.
    pub fn evalmod_depth(&self) -> usize {
        self.mod1.depth()
    }

    /// The level layout.
    pub fn levels(&self) -> Levels {
        let residual = self.residual_log_q.len() - 1;
        let stc_start = residual + self.stc_log_q.len();
        let evalmod_start = stc_start + self.evalmod_depth();
        let top = evalmod_start + self.cts_log_q.len();
        Levels {
            residual,
            stc_start,
            evalmod_start,
            top,
        }
    }

    /// Checks the parameters for consistency.
    pub fn validate(&self) -> Result<(), CkksError> {
        let bad = |m: String| Err(CkksError::InvalidParams(format!("bootstrapping: {m}")));
        if self.log_n < 4 {
            return bad(format!("log_n = {} is too small", self.log_n));
        }
        if self.log_slots == 0 || self.log_slots > self.log_n - 1 {
            return bad(format!(
                "log_slots = {} is outside 1..={}",
                self.log_slots,
                self.log_n - 1
            ));
        }
        if self.residual_log_q.is_empty() {
            return bad("the residual chain is empty".into());
        }
        if self.cts_log_q.is_empty() || self.stc_log_q.is_empty() {
            return bad("CoeffsToSlots and SlotsToCoeffs need at least one level each".into());
        }
        if self.cts_log_q.len() > self.log_slots as usize
            || self.stc_log_q.len() > self.log_slots as usize
        {
            return bad(format!(
                "more DFT levels than the {} FFT stages of 2^{} slots",
                self.log_slots, self.log_slots
            ));
        }
        if let Some(h) = self.ephemeral_hamming_weight {
            if h == 0 || h > self.hamming_weight {
                return bad(format!(
                    "ephemeral Hamming weight {h} must be in 1..={}",
                    self.hamming_weight
                ));
            }
        }
        self.mod1.validate(self.max_key_weight())?;
        Ok(())
    }

    /// Hamming weight of the secret ModRaise works under.
    pub(crate) fn max_key_weight(&self) -> usize {
        self.ephemeral_hamming_weight.unwrap_or(self.hamming_weight)
    }

    /// The CKKS parameter set of the whole chain.
    pub fn ckks_params(&self) -> CkksParams {
        let mut log_q = self.residual_log_q.clone();
        log_q.extend(self.stc_log_q.iter().rev());
        log_q.extend(std::iter::repeat_n(
            self.mod1.log_scale,
            self.evalmod_depth(),
        ));
        log_q.extend(self.cts_log_q.iter().rev());
        CkksParams {
            log_n: self.log_n,
            log_q,
            log_p: self.log_p.clone(),
            log_scale: self.log_scale,
            secret: SecretDist::Ternary {
                hamming_weight: Some(self.hamming_weight),
            },
            insecure_ok: self.insecure_ok,
        }
    }

    /// The residual parameter set alone (same residual primes, same P).
    pub fn residual_params(&self) -> CkksParams {
        CkksParams {
            log_q: self.residual_log_q.clone(),
            ..self.ckks_params()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Context;

    #[test]
    fn resnet_set_is_secure_and_keeps_the_residual_primes() {
        let bp = BootstrapParams::resnet_n16();
        bp.validate().unwrap();
        let p = bp.ckks_params();
        let lv = bp.levels();
        assert_eq!(lv.residual, 10);
        assert_eq!(lv.top + 1, p.log_q.len());
        assert!(p.nominal_log_qp() <= 1772, "{}", p.nominal_log_qp());
        // The residual primes are a prefix of the chain's (same generator order).
        let full = crate::math::primes::generate_primes(16, &p.log_q, &[]).unwrap();
        let res = crate::math::primes::generate_primes(16, &bp.residual_log_q, &[]).unwrap();
        assert_eq!(&full[..res.len()], &res[..]);
    }

    #[test]
    fn bad_parameters_are_refused() {
        let ok = BootstrapParams::test_n12();
        ok.validate().unwrap();
        Context::new(ok.ckks_params()).unwrap();
        for bad in [
            ok.clone().with_log_slots(12),
            ok.clone().with_log_slots(0),
            BootstrapParams {
                cts_log_q: vec![],
                ..ok.clone()
            },
            BootstrapParams {
                ephemeral_hamming_weight: Some(500),
                ..ok.clone()
            },
        ] {
            assert!(matches!(bad.validate(), Err(CkksError::InvalidParams(_))));
        }
    }
}
