//! Slot-wise matrix-vector products: the BSGS diagonal linear transform with
//! double hoisting, and the inner sum (`rotate_and_sum`).
//!
//! A `n x n` complex matrix `M` acts on a slot vector `x` as
//! `M x = Σ_d diag_d ⊙ rot_d(x)`, with `diag_d[k] = M[k][(k + d) mod n]`.
//! Baby-step giant-step with `d = n1 j + i` (`i < n1`) rewrites it as
//!
//! ```text
//!     M x = Σ_j rot_{n1 j}( Σ_i rot_{-n1 j}(diag_d) ⊙ rot_i(x) )
//! ```
//!
//! so only the `n1` baby rotations of `x` and one giant rotation per `j` are
//! needed; the diagonals are stored pre-rotated by `-n1 j`.
//!
//! **Double hoisting** (Bossuat, Mouchet, Troncoso-Pastoriza, Hubaux,
//! Eurocrypt 2021): every key switch ends with a ModDown (divide by P), and
//! every rotation of the same input shares one ModUp. Here
//! 1. `c_1` of the input is decomposed and extended to `Q ∪ P` once;
//! 2. each baby rotation is the key inner product with that decomposition,
//!    plus `P c_0`, permuted, and *kept on `Q ∪ P`* (it encrypts `P rot_i(x)`;
//!    no ModDown);
//! 3. the products by the diagonals happen on `Q ∪ P` too (the diagonals are
//!    encoded over `Q ∪ P`) and are summed per giant step `j`;
//! 4. per giant step `j ≠ 0` only the `c_1` part is brought down to Q (one
//!    ModDown of one polynomial), decomposed, and key-switched for the giant
//!    rotation *again without ModDown*: its `c_0` part never leaves `Q ∪ P`;
//! 5. all giant steps are summed on `Q ∪ P` and divided by P once at the end.
//!
//! So a transform with `b` baby and `g` giant rotations pays `1 + g` ModUps,
//! `g + 2` polynomial ModDowns and `b + g` key inner products, where the
//! plain BSGS pays `1 + g` ModUps and `2 (b + g)` ModDowns. The rounding
//! errors of the intermediate ModDowns of `c_1` are multiplied by `s` and
//! divided by P at the end, so they cost no precision.
//!
//! Diagonals of length `n < N/2` (a power of two dividing N/2) describe an
//! `n x n` matrix acting on a slot vector that repeats with period `n`
//! (sparse packing, as in bootstrapping with few slots): the diagonals are
//! replicated and the rotations are rotations of the whole slot vector.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rayon::prelude::*;

use crate::error::CkksError;
use crate::math::fft::Complex;
use crate::ring::context::Context;
use crate::ring::poly::{RnsPoly, PAR_THRESHOLD};
use crate::scheme::ciphertext::Ciphertext;
use crate::scheme::encoder::Encoder;
use crate::scheme::evaluator::Evaluator;
use crate::scheme::keys::SwitchingKey;

/// Baby steps tried above this bound are powers of two only (the search
/// is `O(candidates x diagonals)`).
const BABY_SEARCH_LIMIT: usize = 256;

/// The encoded diagonals of a matrix, ready for [`Evaluator::linear_transform`].
#[derive(Debug, Clone)]
pub struct LinearTransform {
    level: usize,
    scale: f64,
    n1: usize,
    period: usize,
    /// Giant index `j` -> baby indices `i` with their diagonal
    /// `rot_{-n1 j}(diag_{n1 j + i})`, encoded over `Q_level ∪ P`.
    giants: Vec<(usize, Vec<(usize, RnsPoly)>)>,
}

impl LinearTransform {
    /// Encodes the diagonals of a `n x n` complex matrix at `level` and
    /// `scale` (`diagonals[d][k] = M[k][(k + d) mod n]`, only the nonzero
    /// ones; all of length `n`, a power of two dividing N/2, and `d < n`).
    ///
    /// `baby_steps`: `None` picks the baby step `n1` that minimises the
    /// number of rotations (= Galois keys) for this diagonal set, preferring
    /// the larger `n1` on ties because hoisted baby rotations are cheaper
    /// than giant ones.
    pub fn new(
        encoder: &Encoder,
        diagonals: &BTreeMap<usize, Vec<Complex>>,
        level: usize,
        scale: f64,
        baby_steps: Option<usize>,
    ) -> Result<LinearTransform, CkksError> {
        let ctx = encoder.context();
        let bad = |reason: String| CkksError::InvalidArgument {
            op: "LinearTransform::new",
            reason,
        };
        let period = diagonals
            .values()
            .next()
            .ok_or_else(|| bad("no diagonals".into()))?
            .len();
        if !period.is_power_of_two() || period > ctx.slots() {
            return Err(bad(format!(
                "diagonal length {period} is not a power of two dividing the {} slots",
                ctx.slots()
            )));
        }
        if let Some((d, v)) = diagonals.iter().find(|(_, v)| v.len() != period) {
            return Err(bad(format!(
                "diagonal {d} has length {} but the first has length {period}",
                v.len()
            )));
        }
        if let Some(&d) = diagonals.keys().find(|&&d| d >= period) {
            return Err(bad(format!(
                "diagonal index {d} is not below the matrix size {period}"
            )));
        }
        if level > ctx.max_level() {
            return Err(CkksError::InvalidLevel {
                op: "LinearTransform::new",
                level,
                max: ctx.max_level(),
            });
        }
        let n1 = match baby_steps {
            Some(b) if b == 0 || b > period => {
                return Err(bad(format!("baby step {b} is outside 1..={period}")))
            }
            Some(b) => b,
            None => best_baby_step(diagonals.keys().copied(), period),
        };
        let slots = ctx.slots();
        let encoded: Vec<(usize, usize, RnsPoly)> = diagonals
            .par_iter()
            .map(|(&d, diag)| {
                let (j, i) = (d / n1, d % n1);
                let shift = n1 * j;
                // rot_{-shift}(diag)[k] = diag[k - shift], replicated to all slots.
                let vals: Vec<Complex> = (0..slots)
                    .map(|k| diag[(k % period + period - shift % period) % period])
                    .collect();
                Ok((j, i, encoder.encode_complex_qp(&vals, level, scale)?))
            })
            .collect::<Result<_, CkksError>>()?;
        let mut by_giant: BTreeMap<usize, Vec<(usize, RnsPoly)>> = BTreeMap::new();
        for (j, i, pt) in encoded {
            by_giant.entry(j).or_default().push((i, pt));
        }
        Ok(LinearTransform {
            level,
            scale,
            n1,
            period,
            giants: by_giant.into_iter().collect(),
        })
    }

    /// Level of the encoded diagonals (the highest level it can be applied at).
    pub fn level(&self) -> usize {
        self.level
    }

    /// Scale of the encoded diagonals.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The baby step `n1`.
    pub fn baby_step(&self) -> usize {
        self.n1
    }

    /// The matrix size `n` (length of the diagonals).
    pub fn size(&self) -> usize {
        self.period
    }

    /// Number of encoded diagonals.
    pub fn num_diagonals(&self) -> usize {
        self.giants.iter().map(|(_, v)| v.len()).sum()
    }

    fn baby_indices(&self) -> BTreeSet<usize> {
        self.giants
            .iter()
            .flat_map(|(_, v)| v.iter().map(|(i, _)| *i))
            .collect()
    }

    /// Galois rotation steps (slot rotations, > 0 = left) that evaluation
    /// needs keys for: the nonzero baby steps and giant steps.
    /// Bytes of the encoded diagonals.
    pub fn size_bytes(&self) -> usize {
        self.giants
            .iter()
            .flat_map(|(_, babies)| babies.iter())
            .flat_map(|(_, p)| p.limbs.iter())
            .map(|l| l.len() * 8)
            .sum()
    }

    pub fn rotation_steps(&self) -> Vec<i64> {
        let mut steps: BTreeSet<i64> = self
            .baby_indices()
            .into_iter()
            .filter(|&i| i != 0)
            .map(|i| i as i64)
            .collect();
        steps.extend(
            self.giants
                .iter()
                .filter(|(j, _)| *j != 0)
                .map(|(j, _)| (self.n1 * j) as i64),
        );
        steps.into_iter().collect()
    }
}

/// The baby step minimising baby + giant rotations for the diagonal set
/// (larger on ties).
fn best_baby_step(indices: impl Iterator<Item = usize> + Clone, period: usize) -> usize {
    let candidates = (1..=period.min(BABY_SEARCH_LIMIT)).chain(
        (0..usize::BITS)
            .map(|b| 1usize << b)
            .filter(|&p| p > BABY_SEARCH_LIMIT && p <= period),
    );
    let mut best = (usize::MAX, 1);
    for n1 in candidates {
        let babies: BTreeSet<usize> = indices
            .clone()
            .map(|d| d % n1)
            .filter(|&i| i != 0)
            .collect();
        let giants: BTreeSet<usize> = indices
            .clone()
            .map(|d| d / n1)
            .filter(|&j| j != 0)
            .collect();
        let cost = babies.len() + giants.len();
        if cost <= best.0 {
            best = (cost, n1);
        }
    }
    best.1
}

/// The two accumulator limbs of one prime, with the limb's position and prime.
type AccLimbs<'a> = ((&'a mut Vec<u64>, &'a mut Vec<u64>), (usize, &'a usize));

/// A ciphertext on `Q_level ∪ P` that encrypts `P m` (the intermediate form
/// of double hoisting).
struct QpCiphertext {
    c0: RnsPoly,
    c1: RnsPoly,
}

impl Context {
    /// `c * P` on the Q limbs `0..=level` (the P limbs of `P c` are zero).
    fn mul_by_p(&self, c: &RnsPoly, level: usize) -> RnsPoly {
        let mut out = self.poly_copy(c);
        let basis = self.basis_q(level);
        self.poly_mul_scalar_assign(&mut out, &basis, &self.p_mod);
        out
    }

    /// A rotation kept on `Q_level ∪ P`: from the decomposition of `c_1`
    /// and `P c_0`, returns `σ_g(P c_0 + ks_0, ks_1)`, an encryption of
    /// `P σ_g(m)` (no ModDown).
    fn rotate_lazy_qp(
        &self,
        p_c0: &RnsPoly,
        dec: &crate::scheme::keyswitch::Decomposed,
        g: u64,
        key: &SwitchingKey,
    ) -> QpCiphertext {
        let (mut k0, k1) = self.key_inner_product(dec, key);
        let level = dec.level;
        // P c_0 has zero P limbs: only the Q limbs change.
        for (x, (y, i)) in k0.limbs.iter_mut().zip(p_c0.limbs.iter().zip(0..=level)) {
            let m = &self.primes[i].m;
            for (x, &y) in x.iter_mut().zip(y) {
                *x = m.add(*x, y);
            }
        }
        let out = QpCiphertext {
            c0: self.poly_permuted(&k0, g),
            c1: self.poly_permuted(&k1, g),
        };
        self.scratch.give_poly(k0);
        self.scratch.give_poly(k1);
        out
    }
}

impl Evaluator {
    /// `M ct` slot-wise, by double-hoisted BSGS (see the module
    /// documentation). The output is at `ct`'s level with scale
    /// `ct.scale * lt.scale()`, not rescaled. `ct` may be below the level
    /// the diagonals were encoded at (the diagonals' upper limbs are
    /// ignored), not above it.
    pub fn linear_transform(
        &self,
        ct: &Ciphertext,
        lt: &LinearTransform,
    ) -> Result<Ciphertext, CkksError> {
        let ctx = self.context().clone();
        let ctx = &*ctx;
        ctx.check_ciphertext(ct)?;
        Self::check_degree("linear_transform", ct, 1)?;
        if ct.level > lt.level {
            return Err(CkksError::LevelMismatch {
                op: "linear_transform",
                left: ct.level,
                right: lt.level,
            });
        }
        let mut keys: BTreeMap<i64, (u64, Arc<SwitchingKey>)> = BTreeMap::new();
        for step in lt.rotation_steps() {
            let (g, key) = self.rotation_key(step)?;
            key.check_level("linear_transform", ct.level)?;
            keys.insert(step, (g, key));
        }
        let level = ct.level;
        let nq = level + 1;
        let basis_qp = ctx.basis_qp(level);
        let n_qp = basis_qp.len();
        // Limb t of the ciphertext basis Q_level ∪ P -> limb of the diagonal.
        let pt_limb = |t: usize| if t < nq { t } else { lt.level + 1 + (t - nq) };

        // 1-2. One ModUp, the baby rotations on Q ∪ P.
        let p_c0 = ctx.mul_by_p(&ct.parts[0], level);
        let p_c1 = ctx.mul_by_p(&ct.parts[1], level);
        let babies_needed: Vec<usize> = lt.baby_indices().into_iter().filter(|&i| i != 0).collect();
        let dec = (!babies_needed.is_empty()).then(|| ctx.decompose(level, &ct.parts[1]));
        let babies: BTreeMap<usize, QpCiphertext> = match &dec {
            Some(dec) => babies_needed
                .par_iter()
                .map(|&i| {
                    let (g, key) = &keys[&(i as i64)];
                    (i, ctx.rotate_lazy_qp(&p_c0, dec, *g, key))
                })
                .collect(),
            None => BTreeMap::new(),
        };
        if let Some(dec) = dec {
            ctx.recycle_decomposed(dec);
        }

        // 3-4. Per giant step: diagonal products on Q ∪ P, then the giant rotation.
        let giant_step = |(j, diags): &(usize, Vec<(usize, RnsPoly)>)| -> QpCiphertext {
            let mut acc0 = ctx.scratch.zero_poly(n_qp, true);
            let mut acc1 = ctx.scratch.zero_poly(n_qp, true);
            let job = |((o0, o1), (t, &g)): AccLimbs<'_>| {
                let plan = &ctx.primes[g].plan;
                for (i, pt) in diags {
                    let d = &pt.limbs[pt_limb(t)];
                    if *i == 0 {
                        // rot_0 = (P c_0, P c_1): zero on the P limbs.
                        if t < nq {
                            plan.mul_accumulate(o0, d, &p_c0.limbs[t]);
                            plan.mul_accumulate(o1, d, &p_c1.limbs[t]);
                        }
                    } else {
                        let b = &babies[i];
                        plan.mul_accumulate(o0, d, &b.c0.limbs[t]);
                        plan.mul_accumulate(o1, d, &b.c1.limbs[t]);
                    }
                }
            };
            if ctx.n() * n_qp >= PAR_THRESHOLD {
                acc0.limbs
                    .par_iter_mut()
                    .zip(acc1.limbs.par_iter_mut())
                    .zip(basis_qp.par_iter().enumerate())
                    .for_each(job);
            } else {
                acc0.limbs
                    .iter_mut()
                    .zip(acc1.limbs.iter_mut())
                    .zip(basis_qp.iter().enumerate())
                    .for_each(job);
            }
            if *j == 0 {
                return QpCiphertext { c0: acc0, c1: acc1 };
            }
            // Only c_1 goes down to Q (to be decomposed); c_0 stays on Q ∪ P.
            let c1 = ctx.mod_down(level, acc1);
            let dec = ctx.decompose(level, &c1);
            ctx.scratch.give_poly(c1);
            let (g, key) = &keys[&((lt.n1 * j) as i64)];
            let (mut k0, k1) = ctx.key_inner_product(&dec, key);
            ctx.recycle_decomposed(dec);
            ctx.poly_add_assign(&mut k0, &acc0, &basis_qp);
            ctx.scratch.give_poly(acc0);
            let out = QpCiphertext {
                c0: ctx.poly_permuted(&k0, *g),
                c1: ctx.poly_permuted(&k1, *g),
            };
            ctx.scratch.give_poly(k0);
            ctx.scratch.give_poly(k1);
            out
        };
        let sum = lt
            .giants
            .par_iter()
            .map(giant_step)
            .reduce_with(|mut a, b| {
                ctx.poly_add_assign(&mut a.c0, &b.c0, &basis_qp);
                ctx.poly_add_assign(&mut a.c1, &b.c1, &basis_qp);
                a
            })
            .expect("a linear transform has at least one diagonal");
        drop(babies);

        // 5. One ModDown of the sum.
        let (c0, c1) = rayon::join(
            || ctx.mod_down(level, sum.c0),
            || ctx.mod_down(level, sum.c1),
        );
        Ok(Ciphertext {
            parts: vec![c0, c1],
            level,
            scale: ct.scale * lt.scale,
        })
    }

    /// `Σ_{i < n} rot(ct, i * stride)` with `log2(n)` rotations (`n` a power
    /// of two): the sum of `n` slots spaced `stride` apart lands in every
    /// slot. Needs the keys of `stride * 2^k` for `2^k < n`.
    pub fn rotate_and_sum(
        &self,
        ct: &Ciphertext,
        stride: usize,
        n: usize,
    ) -> Result<Ciphertext, CkksError> {
        self.context().check_ciphertext(ct)?;
        Self::check_degree("rotate_and_sum", ct, 1)?;
        if !n.is_power_of_two() {
            return Err(CkksError::InvalidArgument {
                op: "rotate_and_sum",
                reason: format!("the count {n} is not a power of two"),
            });
        }
        let slots = self.context().slots() as i64;
        // Check every key first: fail before doing any work.
        let steps: Vec<i64> = (0..n.trailing_zeros())
            .map(|k| ((stride as i64) << k).rem_euclid(slots))
            .collect();
        for &s in &steps {
            if s != 0 {
                self.rotation_key(s)?;
            }
        }
        let mut acc = ct.clone();
        for s in steps {
            let r = self.rotate(&acc, s)?;
            self.add_assign(&mut acc, &r)?;
        }
        Ok(acc)
    }
}
