//! Evaluation keys made only as large as their use: each relinearization,
//! rotation and conjugation key is generated at the highest level an
//! operation uses it at ([`CompactKey`]), then laid out as the library's
//! [`SwitchingKey`] with that `top`, so the evaluator, hoisting and the
//! linear transform use it unchanged and refuse a ciphertext above it.
//!
//! A program states what it needs as a [`KeyLevels`] (step -> level), the
//! needs of several users (the network, each bootstrapping circuit) are
//! merged by keeping the highest level per key, and one key per Galois
//! element is generated. At LogN 16 with bootstrapping (27 Q primes, 7 P
//! primes) a key at the top is 136 MB, at the network's top level (10) 36
//! MB, at level 5 14 MB.

use std::collections::BTreeMap;
use std::sync::Arc;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;

use crate::error::CkksError;
use crate::ring::automorphism::permute;
use crate::ring::conjugate_invariant::Ring;
use crate::ring::context::Context;
use crate::scheme::compact_key::CompactKey;
#[cfg(doc)]
use crate::scheme::keys::Mask;
use crate::scheme::keys::{GaloisKeys, RelinearizationKey, SecretKey, SwitchingKey};

/// The highest level each evaluation key is used at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyLevels {
    /// Rotation step (in `0..slots`) -> level.
    pub rotations: BTreeMap<i64, usize>,
    /// Level of the conjugation key, if one is needed.
    pub conjugation: Option<usize>,
    /// Level of the relinearization key, if one is needed.
    pub relinearization: Option<usize>,
    /// Generate the keys seeded ([`Mask::Seeded`]): each digit's uniform
    /// half is a 32-byte seed expanded at every key switch, so the keys
    /// take half the memory (and half the file) for a slower switch.
    pub seeded: bool,
}

fn raise(slot: &mut Option<usize>, level: usize) {
    *slot = Some(slot.map_or(level, |l| l.max(level)));
}

impl KeyLevels {
    /// Records a rotation by `step` of a ciphertext at `level` (a step that
    /// is a multiple of the slot count needs no key).
    pub fn rotate(&mut self, step: i64, level: usize, slots: usize) {
        let r = step.rem_euclid(slots as i64);
        if r != 0 {
            let l = self.rotations.entry(r).or_insert(level);
            *l = (*l).max(level);
        }
    }

    /// Records a relinearization at `level`.
    pub fn relinearize(&mut self, level: usize) {
        raise(&mut self.relinearization, level);
    }

    /// Records a conjugation at `level`.
    pub fn conjugate(&mut self, level: usize) {
        raise(&mut self.conjugation, level);
    }

    /// Adds the needs of `other`, keeping the higher level of each key.
    pub fn merge(&mut self, other: &KeyLevels) {
        for (&s, &l) in &other.rotations {
            let e = self.rotations.entry(s).or_insert(l);
            *e = (*e).max(l);
        }
        if let Some(l) = other.conjugation {
            self.conjugate(l);
        }
        if let Some(l) = other.relinearization {
            self.relinearize(l);
        }
    }

    /// Number of keys [`Self::generate`] makes.
    pub fn count(&self) -> usize {
        self.rotations.len()
            + usize::from(self.conjugation.is_some())
            + usize::from(self.relinearization.is_some())
    }

    /// Bytes the keys will take (from their digit and limb counts).
    pub fn size_bytes(&self, ctx: &Context) -> usize {
        let halves = if self.seeded { 1 } else { 2 };
        let key =
            |level: usize| ctx.dnum_at(level) * halves * ctx.basis_qp(level).len() * ctx.n() * 8;
        self.rotations.values().map(|&l| key(l)).sum::<usize>()
            + self.conjugation.map_or(0, key)
            + self.relinearization.map_or(0, key)
    }

    /// Generates the keys for `sk`, in parallel (one CSPRNG stream per key,
    /// from `seed` for reproducible runs, else from the OS), calling
    /// `on_key` after each.
    pub fn generate(
        &self,
        ctx: &Context,
        sk: &SecretKey,
        seed: Option<u64>,
        on_key: &(dyn Fn() + Sync),
    ) -> Result<(Option<RelinearizationKey>, GaloisKeys), CkksError> {
        let max = ctx.max_level();
        let too_high = |&l: &usize| l > max;
        if let Some(l) = self
            .rotations
            .values()
            .chain(&self.conjugation)
            .chain(&self.relinearization)
            .copied()
            .find(too_high)
        {
            return Err(CkksError::InvalidLevel {
                op: "key generation",
                level: l,
                max,
            });
        }
        enum Job {
            Relin,
            Conj,
            Rotate(i64),
        }
        let mut jobs: Vec<(Job, usize)> = Vec::with_capacity(self.count());
        jobs.extend(self.relinearization.map(|l| (Job::Relin, l)));
        // Real slots (conjugate-invariant ring): conjugation is the identity.
        if ctx.ring() == Ring::Standard {
            jobs.extend(self.conjugation.map(|l| (Job::Conj, l)));
        }
        jobs.extend(self.rotations.iter().map(|(&s, &l)| (Job::Rotate(s), l)));
        // Each key laid out as it will be held as soon as it is made: a
        // seeded key's `a_j` is freed here, not after the whole set.
        let keys: Vec<(&Job, SwitchingKey)> = jobs
            .par_iter()
            .enumerate()
            .map(|(i, (job, level))| {
                let mut rng = match seed {
                    Some(s) => ChaCha20Rng::seed_from_u64(
                        s.wrapping_add(0x9E37_79B9_7F4A_7C15u64.wrapping_mul(i as u64 + 1)),
                    ),
                    None => ChaCha20Rng::from_os_rng(),
                };
                let s_in = match job {
                    Job::Relin => ctx.poly_mul(&sk.ntt, &sk.ntt, &ctx.basis_all()),
                    Job::Conj => galois_image(ctx, sk, ctx.conjugation_element()),
                    Job::Rotate(s) => galois_image(ctx, sk, ctx.galois_element(*s)),
                };
                let key = match job {
                    // s^2 -> s.
                    Job::Relin => {
                        CompactKey::generate(ctx, &mut rng, &s_in, &sk.ntt, *level, self.seeded)
                    }
                    // The library's convention: the key of g switches s to
                    // σ_g^-1(s) (apply to the un-permuted c_1, permute after).
                    _ => CompactKey::generate(ctx, &mut rng, &sk.ntt, &s_in, *level, self.seeded),
                };
                on_key();
                (job, key.into_switching_key(ctx))
            })
            .collect();
        let mut relin = None;
        let mut galois = GaloisKeys::default();
        for (job, key) in keys {
            let key = Arc::new(key);
            match job {
                Job::Relin => relin = Some(RelinearizationKey { key }),
                Job::Conj => galois.conjugation = Some(key),
                Job::Rotate(s) => {
                    galois.rotations.insert(*s, (ctx.galois_element(*s), key));
                }
            }
        }
        Ok((relin, galois))
    }
}

/// `σ_g^-1(s)` over every prime, NTT form.
fn galois_image(ctx: &Context, sk: &SecretKey, g: u64) -> crate::ring::poly::RnsPoly {
    let perm = ctx.galois_permutation(ctx.galois_inverse(g));
    let mut out = sk.ntt.clone();
    for (o, src) in out.limbs.iter_mut().zip(&sk.ntt.limbs) {
        permute(src, &perm, o);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootstrap::BootstrapParams;
    use crate::{Ciphertext, Decryptor, Encoder, Encryptor, Evaluator, KeyGenerator};

    /// Keys at their level rotate, conjugate and relinearize like
    /// whole-chain keys at and below that level, take less memory, and
    /// refuse a ciphertext above it with an error.
    #[test]
    fn leveled_keys_match_whole_chain_keys_below_their_level() {
        let bp = BootstrapParams::test_n12();
        let ctx = Context::new(bp.ckks_params()).unwrap();
        let top = bp.levels().residual;
        assert!(top + 2 < ctx.max_level());
        let kg = KeyGenerator::with_seed(&ctx, 3);
        let sk = kg.gen_secret_key();
        let pk = kg.gen_public_key(&sk).unwrap();
        let slots = ctx.slots();
        let steps = [1i64, -5, 300];
        let full_gk = kg
            .gen_galois_keys_with_conjugation(&sk, &steps, true)
            .unwrap();
        let full_rlk = kg.gen_relin_key(&sk).unwrap();
        let mut need = KeyLevels::default();
        need.rotate(1, top, slots);
        need.rotate(-5, top - 1, slots);
        need.rotate(300, top, slots);
        need.rotate(slots as i64, top, slots); // no key
        need.conjugate(top);
        need.relinearize(top - 1);
        let mut more = KeyLevels::default();
        more.relinearize(top);
        more.rotate(slots as i64 - 5, top, slots); // the same key as -5
        need.merge(&more);
        assert_eq!(need.count(), 5);
        assert_eq!(need.rotations[&(slots as i64 - 5)], top);
        let (rlk, gk) = need.generate(&ctx, &sk, Some(4), &|| {}).unwrap();
        let rlk = rlk.unwrap();
        assert_eq!(need.size_bytes(&ctx), gk.size_bytes() + rlk.size_bytes());
        eprintln!(
            "galois keys: {} B whole chain, {} B at level {top}; relin: {} B, {} B",
            full_gk.size_bytes(),
            gk.size_bytes(),
            full_rlk.size_bytes(),
            rlk.size_bytes()
        );
        assert!(2 * gk.size_bytes() < full_gk.size_bytes());
        assert!(2 * rlk.size_bytes() < full_rlk.size_bytes());

        let enc = Encoder::new(&ctx);
        let encryptor = Encryptor::new(&ctx, &pk);
        let dec = Decryptor::new(&ctx, &sk);
        let full = Evaluator::new(&ctx, Some(&full_rlk), Some(&full_gk));
        let leveled = Evaluator::new(&ctx, Some(&rlk), Some(&gk));
        let x: Vec<f64> = (0..slots)
            .map(|i| ((i * 37 % 101) as f64) / 101.0 - 0.5)
            .collect();
        let scale = ctx.default_scale();
        let at = |level: usize| {
            encryptor
                .encrypt(&enc.encode(&x, level, scale).unwrap())
                .unwrap()
        };
        let read = |c: &Ciphertext| enc.decode(&dec.decrypt(c).unwrap()).unwrap();
        let max_diff = |a: &[f64], b: &[f64]| {
            a.iter()
                .zip(b)
                .map(|(u, v)| (u - v).abs())
                .fold(0f64, f64::max)
        };
        // Level 1, not 0: the square at scale 2^80 must fit q_0 q_1.
        for level in [top, 1] {
            let ct = at(level);
            for &s in &steps {
                let want: Vec<f64> = (0..slots)
                    .map(|i| x[(i as i64 + s).rem_euclid(slots as i64) as usize])
                    .collect();
                let a = read(&full.rotate(&ct, s).unwrap());
                let b = read(&leveled.hoisted_rotate(&ct, &[s]).unwrap()[0]);
                // Fresh encryption at 2^40: both within 1e-6 of the rotated input.
                assert!(max_diff(&a, &want) < 1e-6, "whole chain, step {s}");
                assert!(
                    max_diff(&b, &want) < 1e-6,
                    "leveled, step {s}, level {level}"
                );
            }
            // Real inputs: conjugation leaves them unchanged.
            let c = read(&leveled.conjugate(&ct).unwrap());
            assert!(max_diff(&c, &x) < 1e-6, "conjugation at level {level}");
            let want: Vec<f64> = x.iter().map(|v| v * v).collect();
            let sq = read(&leveled.square_relin(&ct).unwrap());
            assert!(
                max_diff(&sq, &want) < 1e-6,
                "relinearization at level {level}"
            );
        }

        let above = at(top + 1);
        for r in [
            leveled.rotate(&above, 1).map(|_| ()),
            leveled.conjugate(&above).map(|_| ()),
            leveled.square_relin(&above).map(|_| ()),
        ] {
            assert!(matches!(r, Err(CkksError::InvalidLevel { .. })), "{r:?}");
        }
        // -5 was asked for at top - 1 and at top: it works at top.
        assert!(leveled.rotate(&at(top), -5).is_ok());
        // A level above the chain is refused before any work.
        let mut bad = KeyLevels::default();
        bad.relinearize(ctx.max_level() + 1);
        assert!(matches!(
            bad.generate(&ctx, &sk, None, &|| {}),
            Err(CkksError::InvalidLevel { .. })
        ));
    }

    /// Seeded keys (each `a_j` expanded from 32 bytes at every use) take
    /// about half the memory of held ones and rotate and relinearize with
    /// the same precision.
    #[test]
    fn seeded_keys_switch_like_held_keys_at_half_the_memory() {
        let bp = BootstrapParams::test_n12();
        let ctx = Context::new(bp.ckks_params()).unwrap();
        let top = bp.levels().residual;
        let kg = KeyGenerator::with_seed(&ctx, 5);
        let sk = kg.gen_secret_key();
        let pk = kg.gen_public_key(&sk).unwrap();
        let slots = ctx.slots();
        let mut need = KeyLevels::default();
        need.rotate(3, top, slots);
        need.rotate(-70, top - 1, slots);
        need.relinearize(top);
        let (held_rlk, held_gk) = need.generate(&ctx, &sk, Some(6), &|| {}).unwrap();
        need.seeded = true;
        let (rlk, gk) = need.generate(&ctx, &sk, Some(6), &|| {}).unwrap();
        let (rlk, held_rlk) = (rlk.unwrap(), held_rlk.unwrap());
        // The estimate leaves out the seeds' 32 bytes per digit.
        let bytes = gk.size_bytes() + rlk.size_bytes();
        assert!(need.size_bytes(&ctx) <= bytes && bytes < need.size_bytes(&ctx) + 1024);
        let held = held_gk.size_bytes() + held_rlk.size_bytes();
        assert!(2 * (gk.size_bytes() + rlk.size_bytes()) < held + 4096);

        let enc = Encoder::new(&ctx);
        let dec = Decryptor::new(&ctx, &sk);
        let x: Vec<f64> = (0..slots)
            .map(|i| ((i * 53 % 97) as f64) / 97.0 - 0.5)
            .collect();
        let ct = Encryptor::new(&ctx, &pk)
            .encrypt(&enc.encode(&x, 1, ctx.default_scale()).unwrap())
            .unwrap();
        let read = |c: &Ciphertext| enc.decode(&dec.decrypt(c).unwrap()).unwrap();
        let ev = Evaluator::new(&ctx, Some(&rlk), Some(&gk));
        for s in [3i64, -70] {
            let got = read(&ev.rotate(&ct, s).unwrap());
            let err = (0..slots)
                .map(|i| (got[i] - x[(i as i64 + s).rem_euclid(slots as i64) as usize]).abs())
                .fold(0f64, f64::max);
            // Fresh encryption at 2^40: within 1e-6 of the rotated input.
            assert!(err < 1e-6, "step {s}: {err}");
        }
        // At level 1 or above: the square at scale 2^80 must fit.
        let sq = read(&ev.square_relin(&ct).unwrap());
        let err = sq
            .iter()
            .zip(&x)
            .map(|(s, v)| (s - v * v).abs())
            .fold(0f64, f64::max);
        assert!(err < 1e-6, "relinearization: {err}");
    }
}
