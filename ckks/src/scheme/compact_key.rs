//! Key-switching keys stored only on the primes of one level.
//!
//! A hybrid key at level `l` has `ceil((l + 1) / alpha)` digits over
//! `Q_0..Q_l ∪ P` instead of `dnum` digits over the whole chain: it
//! switches any ciphertext at a level `<= l` (the gadget `P g_j` is defined
//! prime by prime, so dropping the upper primes keeps it valid). At LogN 16
//! with bootstrapping, a key at the network's top level is a quarter of a
//! whole-chain key, and a key at level 5 an eighth.

use rand::RngCore;

use crate::ring::context::Context;
use crate::ring::poly::RnsPoly;
use crate::scheme::keygen::add_gadget_term;
use crate::scheme::keys::{expand_mask_limb, Mask, SwitchingKey};
use crate::scheme::keyswitch::Decomposed;
use crate::scheme::sampler;

/// A hybrid key-switching key restricted to level `level`: digit `j` is
/// `(-a_j s_out + e_j + P g_j s_in, a_j)` on the basis `Q_0..Q_level ∪ P`
/// (local limb `i` is global prime `i` for `i <= level`, then the P primes).
#[derive(Debug, Clone)]
pub(crate) struct CompactKey {
    pub(crate) level: usize,
    pub(crate) digits: Vec<(RnsPoly, RnsPoly)>,
    /// The seed of each digit's `a_j` when the key is to be held seeded
    /// ([`Mask::Seeded`]): `a_j` is kept until [`Self::into_switching_key`].
    pub(crate) seeds: Option<Vec<[u8; 32]>>,
}

impl CompactKey {
    /// Generates the key from `s_in` to `s_out` (both in NTT form over all
    /// primes); with `seeded`, each `a_j` is expanded from a seed drawn
    /// from `rng` (see [`expand_mask_limb`]) and the seeds are kept.
    pub(crate) fn generate<R: RngCore>(
        ctx: &Context,
        rng: &mut R,
        s_in: &RnsPoly,
        s_out: &RnsPoly,
        level: usize,
        seeded: bool,
    ) -> Self {
        let basis = ctx.basis_qp(level);
        let s_out_l = restrict(ctx, s_out, level);
        let mut seeds = seeded.then(Vec::new);
        let digits = (0..ctx.dnum_at(level))
            .map(|j| {
                let mut a = ctx.scratch.uninit_poly(basis.len(), true);
                if let Some(seeds) = &mut seeds {
                    let mut seed = [0u8; 32];
                    rng.fill_bytes(&mut seed);
                    for (limb, &g) in a.limbs.iter_mut().zip(&basis) {
                        expand_mask_limb(&seed, g, &ctx.primes[g].m, limb);
                    }
                    seeds.push(seed);
                } else {
                    for (limb, &g) in a.limbs.iter_mut().zip(&basis) {
                        sampler::uniform_limb(rng, &ctx.primes[g].m, limb);
                    }
                }
                let e = sampler::gaussian(rng, ctx.n());
                let mut b = ctx.poly_from_small(&e, &basis);
                let as_ = ctx.poly_mul(&a, &s_out_l, &basis);
                ctx.poly_sub_assign(&mut b, &as_, &basis);
                // Local limb i is prime i for the Q primes up to `level`.
                add_gadget_term(ctx, &mut b, s_in, j, level + 1);
                (b, a)
            })
            .collect();
        Self {
            level,
            digits,
            seeds,
        }
    }

    /// Bytes of key material held.
    pub(crate) fn size_bytes(&self) -> usize {
        self.digits
            .iter()
            .flat_map(|(b, a)| b.limbs.iter().chain(&a.limbs))
            .map(|l| l.len() * std::mem::size_of::<u64>())
            .sum()
    }

    /// Switches `c` (NTT, level `level <= self.level`): returns `(ks0, ks1)`
    /// on `Q_level` with `ks0 + ks1 s_out ≈ c s_in`.
    pub(crate) fn switch(&self, ctx: &Context, level: usize, c: &RnsPoly) -> (RnsPoly, RnsPoly) {
        assert!(level <= self.level, "compact key used above its level");
        let dec = ctx.decompose(level, c);
        let (a0, a1) = self.inner_product(ctx, &dec);
        ctx.recycle_decomposed(dec);
        rayon::join(|| ctx.mod_down(level, a0), || ctx.mod_down(level, a1))
    }

    /// The same key laid out as the library's [`SwitchingKey`] (global limb
    /// positions, the primes above `level` left empty), so that the
    /// evaluator's rotations, hoisting and relinearization can use it.
    pub(crate) fn into_switching_key(self, ctx: &Context) -> SwitchingKey {
        let level = self.level;
        let digits = match self.seeds {
            Some(seeds) => self
                .digits
                .into_iter()
                .zip(seeds)
                .map(|((b, _), seed)| (to_global(ctx, b, level), Mask::Seeded(seed)))
                .collect(),
            None => self
                .digits
                .into_iter()
                .map(|(b, a)| {
                    (
                        to_global(ctx, b, level),
                        Mask::Held(to_global(ctx, a, level)),
                    )
                })
                .collect(),
        };
        SwitchingKey {
            digits,
            top: Some(level),
        }
    }

    fn inner_product(&self, ctx: &Context, dec: &Decomposed) -> (RnsPoly, RnsPoly) {
        let basis = ctx.basis_qp(dec.level);
        let mut acc0 = ctx.scratch.zero_poly(basis.len(), true);
        let mut acc1 = ctx.scratch.zero_poly(basis.len(), true);
        let p_start = ctx.p_start();
        for (t, &g) in basis.iter().enumerate() {
            let local = if g < p_start {
                g
            } else {
                self.level + 1 + g - p_start
            };
            let plan = &ctx.primes[g].plan;
            for (d, (kb, ka)) in dec.digits.iter().zip(&self.digits) {
                plan.mul_accumulate(&mut acc0.limbs[t], &d.limbs[t], &kb.limbs[local]);
                plan.mul_accumulate(&mut acc1.limbs[t], &d.limbs[t], &ka.limbs[local]);
            }
        }
        (acc0, acc1)
    }
}

/// `s` restricted to the basis `Q_0..Q_level ∪ P`.
pub(crate) fn restrict(ctx: &Context, s: &RnsPoly, level: usize) -> RnsPoly {
    let basis = ctx.basis_qp(level);
    RnsPoly::from_limbs(
        basis
            .iter()
            .map(|&g| ctx.scratch.take_copy(&s.limbs[g]))
            .collect(),
        true,
    )
}

/// A polynomial on `Q_0..Q_level ∪ P` (local limbs) laid out on the whole
/// chain's limb positions, the primes above `level` left empty.
pub(crate) fn to_global(ctx: &Context, mut poly: RnsPoly, level: usize) -> RnsPoly {
    let p_start = ctx.p_start();
    let mut local = std::mem::take(&mut poly.limbs).into_iter();
    let limbs = (0..ctx.basis_all().len())
        .map(|g| {
            if g <= level || g >= p_start {
                local.next().unwrap_or_default()
            } else {
                Vec::new()
            }
        })
        .collect();
    RnsPoly::from_limbs(limbs, true)
}
