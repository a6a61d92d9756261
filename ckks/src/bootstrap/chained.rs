//! Memory-lean evaluation of the DFT levels: few rotation keys, each
//! stored only on the primes of the level where it is used.
//!
//! The library's double-hoisted BSGS (`LinearTransform`) is the fast way to
//! apply a DFT level, but it needs a Galois key for every baby and giant
//! step: at N = 2^16 about 50 keys over the whole chain, 136-192 MB each.
//! Here a level whose diagonals are `a s` (stride `s`, `|a| <= A`) is
//! evaluated with three keys only, `s` and `±n1 s`:
//!
//! ```text
//!     M x = sum_g rot_(g n1 s)( I_g ),   I_g = sum_(b < n1) rot_(-g n1 s)(diag_(g n1 + b)) * x_b
//! ```
//!
//! with the baby rotations *chained* (`x_b = rot_s(x_(b-1))`) and the giant
//! sum in Horner form (`acc = rot_(n1 s)(acc) + I_g`, separately for the
//! negative giants). Every rotation is a full key switch (no hoisting), so
//! this costs time; keys are generated at the level of the matrix that uses
//! them (`CompactKey`), so the SlotsToCoeffs keys are a third of the size.
//! The diagonals are encoded on `Q_level` right before use, one giant group
//! at a time.

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;

use crate::error::CkksError;
use crate::math::fft::Complex;
use crate::ring::automorphism::{galois_element, permute};
use crate::ring::context::Context;
use crate::scheme::ciphertext::Ciphertext;
use crate::scheme::encoder::Encoder;
use crate::scheme::evaluator::Evaluator;
use crate::scheme::keys::SecretKey;

use super::modraise::sub_sum_steps;
use super::plan::{DftLevel, Plan};
use crate::scheme::compact_key::CompactKey;

/// Galois keys by rotation step, each at its own level.
#[derive(Debug, Clone, Default)]
pub(crate) struct LevelKeys {
    /// Step -> (Galois element, key). Step 0 is not stored.
    pub(crate) rotations: BTreeMap<i64, (u64, CompactKey)>,
    /// The conjugation key.
    pub(crate) conjugation: Option<CompactKey>,
}

/// `g^-1 mod 2N` (the unit group mod 2N has exponent N/2).
fn galois_inverse(g: u64, n: usize) -> u64 {
    let two_n = 2 * n as u64;
    (1..n / 2).fold(1, |acc, _| acc * g % two_n)
}

impl LevelKeys {
    /// Bytes of key material held.
    pub(crate) fn size_bytes(&self) -> usize {
        self.rotations
            .values()
            .map(|(_, k)| k.size_bytes())
            .chain(self.conjugation.iter().map(CompactKey::size_bytes))
            .sum()
    }

    /// Generates the keys of `steps` (step -> level) and, if
    /// `conjugation_level` is given, the conjugation key at that level. The
    /// key of Galois element `g` switches `s` to `σ_g^-1(s)`, the library's
    /// convention (apply to the un-permuted `c_1`, permute afterwards).
    pub(crate) fn generate(
        ctx: &Context,
        sk: &SecretKey,
        steps: &BTreeMap<i64, usize>,
        conjugation_level: Option<usize>,
        seed: Option<u64>,
        on_key: &(dyn Fn() + Sync),
    ) -> Self {
        let n = ctx.n();
        let conj = crate::ring::automorphism::conjugation_element(n);
        let mut jobs: Vec<(Option<i64>, u64, usize)> = steps
            .iter()
            .map(|(&s, &l)| (Some(s), galois_element(s, n), l))
            .collect();
        if let Some(l) = conjugation_level {
            jobs.push((None, conj, l));
        }
        let keys: Vec<(Option<i64>, u64, CompactKey)> = jobs
            .par_iter()
            .enumerate()
            .map(|(i, &(step, g, level))| {
                let mut rng = match seed {
                    Some(s) => ChaCha20Rng::seed_from_u64(s.wrapping_add(0xC4A1 + i as u64)),
                    None => ChaCha20Rng::from_os_rng(),
                };
                let perm = ctx.galois_permutation(galois_inverse(g, n));
                let mut s_out = sk.ntt.clone();
                for (o, src) in s_out.limbs.iter_mut().zip(&sk.ntt.limbs) {
                    permute(src, &perm, o);
                }
                let key = CompactKey::generate(ctx, &mut rng, &sk.ntt, &s_out, level, false);
                on_key();
                (step, g, key)
            })
            .collect();
        let mut out = LevelKeys::default();
        for (step, g, key) in keys {
            match step {
                Some(s) => {
                    out.rotations.insert(s, (g, key));
                }
                None => out.conjugation = Some(key),
            }
        }
        out
    }

    /// Applies the Galois element `g` with `key` to `ct`.
    fn apply_galois(ctx: &Context, ct: &Ciphertext, g: u64, key: &CompactKey) -> Ciphertext {
        let (mut k0, k1) = key.switch(ctx, ct.level, &ct.parts[1]);
        ctx.poly_add_assign(&mut k0, &ct.parts[0], &ctx.basis_q(ct.level));
        let perm = ctx.galois_permutation(g);
        let mut parts = Vec::with_capacity(2);
        for p in [k0, k1] {
            let mut out = ctx.scratch.uninit_poly(ct.level + 1, true);
            for (o, i) in out.limbs.iter_mut().zip(&p.limbs) {
                permute(i, &perm, o);
            }
            parts.push(out);
        }
        Ciphertext {
            parts,
            level: ct.level,
            scale: ct.scale,
        }
    }

    /// Left rotation by `step` slots.
    pub(crate) fn rotate(
        &self,
        ctx: &Context,
        ct: &Ciphertext,
        step: i64,
    ) -> Result<Ciphertext, CkksError> {
        let (g, key) = self
            .rotations
            .get(&step)
            .ok_or(CkksError::MissingGaloisKey(step))?;
        check_level(key, ct)?;
        Ok(Self::apply_galois(ctx, ct, *g, key))
    }

    /// Complex conjugation of the slots.
    pub(crate) fn conjugate(
        &self,
        ctx: &Context,
        ct: &Ciphertext,
    ) -> Result<Ciphertext, CkksError> {
        let key = self
            .conjugation
            .as_ref()
            .ok_or(CkksError::MissingConjugationKey)?;
        check_level(key, ct)?;
        let g = crate::ring::automorphism::conjugation_element(ctx.n());
        Ok(Self::apply_galois(ctx, ct, g, key))
    }
}

fn check_level(key: &CompactKey, ct: &Ciphertext) -> Result<(), CkksError> {
    if ct.level > key.level {
        return Err(CkksError::InvalidLevel {
            op: "bootstrap (rotation key generated for a lower level)",
            level: ct.level,
            max: key.level,
        });
    }
    Ok(())
}

/// One DFT level in chained form.
#[derive(Debug)]
pub(crate) struct ChainedLevel {
    level: usize,
    scale: f64,
    dim: usize,
    stride: usize,
    n1: usize,
    /// Giant index `g` (signed) -> baby `b` -> diagonal `g n1 + b`
    /// pre-rotated by `-g n1 s`, over `dim` slots.
    giants: BTreeMap<i64, Vec<(usize, Vec<Complex>)>>,
}

/// Number of rotations of the chained evaluation with baby step `n1`
/// over the multipliers `a` (diagonal `a s`).
fn chained_cost(a: &[i64], n1: i64) -> (usize, usize) {
    let max_b = a.iter().map(|&x| x.rem_euclid(n1)).max().unwrap_or(0);
    let gmax = a
        .iter()
        .map(|&x| x.div_euclid(n1))
        .max()
        .unwrap_or(0)
        .max(0);
    let gmin = a
        .iter()
        .map(|&x| x.div_euclid(n1))
        .min()
        .unwrap_or(0)
        .min(0);
    let rotations = (max_b + gmax - gmin) as usize;
    let keys = usize::from(max_b > 0) + usize::from(gmax > 0) + usize::from(gmin < 0);
    (rotations, keys)
}

impl ChainedLevel {
    /// Regroups a DFT level (diagonal `d < dim`, a rotation by `d` or,
    /// past `dim / 2`, by `d - dim`).
    pub(crate) fn new(l: &DftLevel, dim: usize) -> Self {
        let signed = |d: usize| -> i64 {
            if d > dim / 2 {
                d as i64 - dim as i64
            } else {
                d as i64
            }
        };
        let stride = l
            .diagonals
            .keys()
            .filter(|&&d| d != 0)
            .map(|&d| signed(d).unsigned_abs() as usize)
            .fold(0usize, gcd)
            .max(1);
        let a: Vec<i64> = l
            .diagonals
            .keys()
            .map(|&d| signed(d) / stride as i64)
            .collect();
        let mut n1 = 1i64;
        let mut best = (chained_cost(&a, 1), 1i64);
        while n1 < dim as i64 {
            n1 *= 2;
            let c = chained_cost(&a, n1);
            if c < best.0 {
                best = (c, n1);
            }
        }
        let n1 = best.1;
        let mut giants: BTreeMap<i64, Vec<(usize, Vec<Complex>)>> = BTreeMap::new();
        for (&d, diag) in &l.diagonals {
            let x = signed(d) / stride as i64;
            let (g, b) = (x.div_euclid(n1), x.rem_euclid(n1));
            let shift = (g * n1 * stride as i64).rem_euclid(dim as i64) as usize;
            let rotated: Vec<Complex> = (0..dim).map(|j| diag[(j + dim - shift) % dim]).collect();
            giants.entry(g).or_default().push((b as usize, rotated));
        }
        Self {
            level: l.level,
            scale: l.scale,
            dim,
            stride,
            n1: n1 as usize,
            giants,
        }
    }

    /// The rotation steps this level uses.
    pub(crate) fn steps(&self) -> Vec<i64> {
        let mut out = Vec::new();
        let s = self.stride as i64;
        let max_b = self
            .giants
            .values()
            .flat_map(|v| v.iter().map(|(b, _)| *b))
            .max()
            .unwrap_or(0);
        if max_b > 0 {
            out.push(s);
        }
        let giant = self.n1 as i64 * s;
        if self.giants.keys().any(|&g| g > 0) {
            out.push(giant);
        }
        if self.giants.keys().any(|&g| g < 0) {
            out.push(-giant);
        }
        out
    }

    /// The level the diagonals are encoded at.
    pub(crate) fn level(&self) -> usize {
        self.level
    }

    /// `M ct`, at `ct`'s level with scale `ct.scale * scale`, not rescaled.
    pub(crate) fn apply(
        &self,
        eval: &Evaluator,
        encoder: &Encoder,
        keys: &LevelKeys,
        ct: &Ciphertext,
    ) -> Result<Ciphertext, CkksError> {
        let ctx = eval.context().clone();
        let slots = ctx.slots();
        let s = self.stride as i64;
        let max_b = self
            .giants
            .values()
            .flat_map(|v| v.iter().map(|(b, _)| *b))
            .max()
            .unwrap_or(0);
        let mut babies = vec![ct.clone()];
        for _ in 0..max_b {
            let next = keys.rotate(&ctx, babies.last().expect("non-empty"), s)?;
            babies.push(next);
        }
        // I_g on demand: encode the group's diagonals, multiply, sum.
        let inner = |g: i64| -> Result<Option<Ciphertext>, CkksError> {
            let Some(group) = self.giants.get(&g) else {
                return Ok(None);
            };
            let terms = group
                .par_iter()
                .map(|(b, diag)| {
                    let vals: Vec<Complex> = (0..slots).map(|j| diag[j % self.dim]).collect();
                    let pt = encoder.encode_complex(&vals, ct.level, self.scale)?;
                    eval.mul_plain(&babies[*b], &pt)
                })
                .collect::<Result<Vec<_>, CkksError>>()?;
            let mut it = terms.into_iter();
            let mut acc = it.next().expect("a group has a diagonal");
            for t in it {
                eval.add_assign(&mut acc, &t)?;
            }
            Ok(Some(acc))
        };
        let giant = self.n1 as i64 * s;
        let gmax = self.giants.keys().copied().max().unwrap_or(0).max(0);
        let gmin = self.giants.keys().copied().min().unwrap_or(0).min(0);
        // Horner over g = gmax .. 0 with rot_(+giant).
        let mut acc: Option<Ciphertext> = None;
        for g in (0..=gmax).rev() {
            if let Some(a) = acc.take() {
                acc = Some(keys.rotate(&ctx, &a, giant)?);
            }
            acc = add_opt(eval, acc, inner(g)?)?;
        }
        // Horner over g = gmin .. -1 with rot_(-giant), then one more rotation.
        let mut neg: Option<Ciphertext> = None;
        for g in gmin..0 {
            if let Some(a) = neg.take() {
                neg = Some(keys.rotate(&ctx, &a, -giant)?);
            }
            neg = add_opt(eval, neg, inner(g)?)?;
        }
        if let Some(nacc) = neg {
            let r = keys.rotate(&ctx, &nacc, -giant)?;
            acc = add_opt(eval, acc, Some(r))?;
        }
        let mut out =
            acc.ok_or_else(|| CkksError::InvalidParams("DFT level without diagonals".into()))?;
        out.scale = ct.scale * self.scale;
        Ok(out)
    }
}

fn add_opt(
    eval: &Evaluator,
    a: Option<Ciphertext>,
    b: Option<Ciphertext>,
) -> Result<Option<Ciphertext>, CkksError> {
    Ok(match (a, b) {
        (None, x) | (x, None) => x,
        (Some(mut a), Some(b)) => {
            eval.add_assign(&mut a, &b)?;
            Some(a)
        }
    })
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The chained form of a plan (here, so that the plan need not know it).
impl Plan {
    /// The chained (memory-lean) form of every DFT level, CoeffsToSlots
    /// first.
    pub(crate) fn chained(&self) -> (Vec<ChainedLevel>, Vec<ChainedLevel>) {
        let conv = |v: &Vec<DftLevel>| v.iter().map(|l| ChainedLevel::new(l, self.dim)).collect();
        (conv(&self.cts), conv(&self.stc))
    }

    /// Rotation steps of the chained evaluation with the highest level
    /// each is used at (SubSum's at the top).
    pub(crate) fn chained_steps(&self, slots: usize) -> BTreeMap<i64, usize> {
        let mut out: BTreeMap<i64, usize> = BTreeMap::new();
        let (cts, stc) = self.chained();
        for l in cts.iter().chain(&stc) {
            for s in l.steps() {
                let e = out.entry(s).or_insert(l.level());
                *e = (*e).max(l.level());
            }
        }
        for s in sub_sum_steps(self.n, slots) {
            out.insert(s, self.levels.top);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn galois_inverse_inverts() {
        let n = 1 << 10;
        for step in [1i64, 3, -7, 100] {
            let g = galois_element(step, n);
            assert_eq!(g * galois_inverse(g, n) % (2 * n as u64), 1);
        }
    }
}
