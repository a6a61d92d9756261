//! One prime of the RNS basis with its reduction constants and NTT plan.

use tfhe_ntt::prime64::Plan;

use crate::math::arith::Modulus;
use crate::ring::conjugate_invariant::CiTwist;

/// One prime with its Barrett constants and its NTT plan.
#[derive(Clone, Debug)]
pub(crate) struct PrimeTable {
    pub(crate) m: Modulus,
    pub(crate) plan: Plan,
    /// The twist of the conjugate-invariant ring's transform, if any.
    pub(crate) ci: Option<CiTwist>,
}

impl PrimeTable {
    /// Forward NTT of one limb of the context's ring (coefficient -> evaluation form).
    #[inline]
    pub(crate) fn fwd(&self, limb: &mut [u64]) {
        if let Some(t) = &self.ci {
            t.twist(&self.m, limb);
        }
        self.plan.fwd(limb);
    }

    /// Inverse NTT of one limb, normalised (evaluation -> coefficient form).
    #[inline]
    pub(crate) fn inv(&self, limb: &mut [u64]) {
        self.plan.inv(limb);
        match &self.ci {
            Some(t) => t.untwist(&self.m, limb),
            None => self.plan.normalize(limb),
        }
    }
}
