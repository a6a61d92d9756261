//! Key generation.
//!
//! Secret key: ternary (uniform or fixed Hamming weight). Public key and
//! switching keys: RLWE samples modulo QP with Gaussian errors (σ = 3.2).
//! The generator owns a ChaCha20 CSPRNG seeded from the OS;
//! [`KeyGenerator::with_seed`] makes runs reproducible for tests.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::error::CkksError;
use crate::ring::conjugate_invariant::Ring;
use crate::ring::context::Context;
use crate::ring::params::SecretDist;
use crate::ring::poly::RnsPoly;
use crate::scheme::keys::{
    GaloisKeys, Mask, PublicKey, RelinearizationKey, SecretKey, SwitchingKey,
};
use crate::scheme::sampler;

/// Generates keys for one context.
#[derive(Debug)]
pub struct KeyGenerator {
    ctx: Arc<Context>,
    rng: Mutex<ChaCha20Rng>,
}

impl KeyGenerator {
    /// A generator seeded from the operating system's entropy source.
    pub fn new(ctx: &Arc<Context>) -> Self {
        Self {
            ctx: ctx.clone(),
            rng: Mutex::new(ChaCha20Rng::from_os_rng()),
        }
    }

    /// A deterministic generator (tests, reproducible benchmarks). Not for
    /// production keys.
    pub fn with_seed(ctx: &Arc<Context>, seed: u64) -> Self {
        Self {
            ctx: ctx.clone(),
            rng: Mutex::new(ChaCha20Rng::seed_from_u64(seed)),
        }
    }

    fn rng(&self) -> std::sync::MutexGuard<'_, ChaCha20Rng> {
        self.rng.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A fresh secret key.
    pub fn gen_secret_key(&self) -> SecretKey {
        let ctx = &self.ctx;
        let SecretDist::Ternary { hamming_weight } = ctx.params().secret;
        let coeffs = sampler::ternary(&mut *self.rng(), ctx.n(), hamming_weight);
        let ntt = ctx.poly_from_small(&coeffs, &ctx.basis_all());
        SecretKey { coeffs, ntt }
    }

    fn check_sk(&self, sk: &SecretKey) -> Result<(), CkksError> {
        let ctx = &self.ctx;
        if sk.coeffs.len() != ctx.n()
            || sk.ntt.num_limbs() != ctx.basis_all().len()
            || sk.ntt.n() != ctx.n()
        {
            return Err(CkksError::ContextMismatch(
                "secret key was generated for another parameter set".into(),
            ));
        }
        Ok(())
    }

    /// A uniform polynomial over all primes (NTT form).
    fn uniform_all(&self) -> RnsPoly {
        let ctx = &self.ctx;
        let mut rng = self.rng();
        let mut p = RnsPoly::zero(ctx.n(), ctx.basis_all().len(), true);
        for (limb, t) in p.limbs.iter_mut().zip(&ctx.primes) {
            sampler::uniform_limb(&mut *rng, &t.m, limb);
        }
        p
    }

    /// A Gaussian error polynomial over all primes (NTT form).
    fn error_all(&self) -> RnsPoly {
        let e = sampler::gaussian(&mut *self.rng(), self.ctx.n());
        self.ctx.poly_from_small(&e, &self.ctx.basis_all())
    }

    /// `(-a s + e, a)` over QP.
    fn rlwe_sample(&self, s: &RnsPoly) -> (RnsPoly, RnsPoly) {
        let ctx = &self.ctx;
        let basis = ctx.basis_all();
        let a = self.uniform_all();
        let mut b = self.error_all();
        let as_ = ctx.poly_mul(&a, s, &basis);
        ctx.poly_sub_assign(&mut b, &as_, &basis);
        (b, a)
    }

    /// The public key.
    pub fn gen_public_key(&self, sk: &SecretKey) -> Result<PublicKey, CkksError> {
        self.check_sk(sk)?;
        let (b, a) = self.rlwe_sample(&sk.ntt);
        Ok(PublicKey { b, a })
    }

    /// Switching key from `s_in` to `s_out` (both NTT over QP).
    pub(crate) fn gen_switching_key(&self, s_in: &RnsPoly, s_out: &RnsPoly) -> SwitchingKey {
        let ctx = &self.ctx;
        let nq = ctx.max_level() + 1;
        let digits = (0..ctx.dnum)
            .map(|j| {
                let (mut b, a) = self.rlwe_sample(s_out);
                add_gadget_term(ctx, &mut b, s_in, j, nq);
                (b, Mask::Held(a))
            })
            .collect();
        SwitchingKey { digits, top: None }
    }

    /// The relinearization key (switches `s^2` to `s`).
    pub fn gen_relin_key(&self, sk: &SecretKey) -> Result<RelinearizationKey, CkksError> {
        self.check_sk(sk)?;
        let s2 = self.ctx.poly_mul(&sk.ntt, &sk.ntt, &self.ctx.basis_all());
        Ok(RelinearizationKey {
            key: Arc::new(self.gen_switching_key(&s2, &sk.ntt)),
        })
    }

    /// The key of Galois element `g`: switches `s` to `σ_g^-1(s)` (see [`GaloisKeys`]).
    fn gen_galois_key(&self, sk: &SecretKey, g: u64) -> SwitchingKey {
        let ctx = &self.ctx;
        let g_inv = ctx.galois_inverse(g);
        let perm = ctx.galois_permutation(g_inv);
        let mut s_out = sk.ntt.clone();
        for (o, i) in s_out.limbs.iter_mut().zip(&sk.ntt.limbs) {
            crate::ring::automorphism::permute(i, &perm, o);
        }
        self.gen_switching_key(&sk.ntt, &s_out)
    }

    /// Galois keys for left rotations by each of `steps` (negative: right).
    /// Step 0 and duplicates need no key and are skipped.
    pub fn gen_galois_keys(&self, sk: &SecretKey, steps: &[i64]) -> Result<GaloisKeys, CkksError> {
        self.gen_galois_keys_with_conjugation(sk, steps, false)
    }

    /// Galois keys for `steps`, plus the conjugation key if `conjugation`.
    pub fn gen_galois_keys_with_conjugation(
        &self,
        sk: &SecretKey,
        steps: &[i64],
        conjugation: bool,
    ) -> Result<GaloisKeys, CkksError> {
        self.check_sk(sk)?;
        let slots = self.ctx.slots() as i64;
        let mut rotations = BTreeMap::new();
        for &step in steps {
            if step.rem_euclid(slots) == 0 || rotations.contains_key(&step) {
                continue;
            }
            let g = self.ctx.galois_element(step);
            rotations.insert(step, (g, Arc::new(self.gen_galois_key(sk, g))));
        }
        // Real slots (conjugate-invariant ring): conjugation is the identity
        // and needs no key.
        let conjugation = (conjugation && self.ctx.ring() == Ring::Standard)
            .then(|| Arc::new(self.gen_galois_key(sk, self.ctx.conjugation_element())));
        Ok(GaloisKeys {
            rotations,
            conjugation,
        })
    }
}

/// Adds digit `j`'s gadget term `P g_j s_in` to a switching key's `b`
/// (limbs indexed by prime, Q primes first): it is non-zero only on the
/// digit's Q primes below `num_q`, where it is `[P]_{q_i} s_in`.
pub(crate) fn add_gadget_term(
    ctx: &Context,
    b: &mut RnsPoly,
    s_in: &RnsPoly,
    j: usize,
    num_q: usize,
) {
    for i in j * ctx.alpha..((j + 1) * ctx.alpha).min(num_q) {
        let m = &ctx.primes[i].m;
        let pm = ctx.p_mod[i];
        let pms = m.shoup(pm);
        for (x, &s) in b.limbs[i].iter_mut().zip(&s_in.limbs[i]) {
            *x = m.add(*x, m.mul_shoup(s, pm, pms));
        }
    }
}
