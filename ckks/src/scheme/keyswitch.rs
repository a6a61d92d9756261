//! Hybrid key switching: ModUp, key inner product, ModDown.
//!
//! To switch a polynomial `c` (decrypting under `s_in`) to `s_out`:
//!
//! 1. **Decompose / ModUp.** Cut `c` (level `l`) into digits
//!    `d_j = [c]_{Q_j}` over the primes of digit `j`, and extend each to the
//!    whole basis `Q_l ∪ P` with a fast basis conversion. The conversion
//!    returns `d_j + u Q_j`; the extra multiple of `Q_j` is killed by the
//!    gadget factor `P g_j` in the key (`Q_j g_j ≡ 0 mod Q`, `P ≡ 0 mod P`).
//!    This step does not depend on the key, so hoisted rotations do it once.
//! 2. **Inner product.** `(Σ d_j b_j, Σ d_j a_j)` over `Q_l ∪ P`, which
//!    decrypts under `s_out` to `P c s_in + Σ d_j e_j`.
//! 3. **ModDown.** Divide by P with rounding, back to `Q_l`; the error
//!    `Σ d_j e_j / P` is small because each `d_j < Q_j <= P` (roughly).
//!
//! Both conversions are made *exact* and *centered* (digits in
//! `[-Q_j/2, Q_j/2)`, remainders modulo P in `[-P/2, P/2)`), with the
//! floating-point overflow estimate of Halevi-Polyakov-Shoup. This is not
//! cosmetic: a non-negative digit has mean `Q_j/2`, and `Σ d_j e_j` then
//! contains `(Q_j/2)(1 + X + ... + X^(N-1)) e_j`, a random walk whose energy
//! sits in the slots next to `ζ`; likewise the `u ≥ 0` overflow of a fast
//! ModDown biases the rounding and `bias * s` is again a random walk. Both
//! cost 4-6 bits of precision in a handful of slots (measured: max error
//! 2^-8.8 against a mean of 2^-15.5 at Δ = 2^26 before the fix).
//!
//! Cost at level `l` with `k = #P` and `β` digits: `l+1` inverse NTTs,
//! `β (l+1+k-α)` forward NTTs for ModUp, `2k` inverse and `2(l+1)` forward
//! NTTs for ModDown, and `2β(l+1+k)` pointwise product-accumulates.

use rayon::prelude::*;

use crate::math::simd::{reduce_once_sub, sub_mul_const};
use crate::ring::context::Context;
use crate::ring::poly::{RnsPoly, PAR_THRESHOLD};
use crate::scheme::keys::{Mask, SwitchingKey};

/// The two accumulator limbs of one prime in the key inner product.
type AccPair<'a> = (&'a mut Vec<u64>, &'a mut Vec<u64>);

/// The ModUp of every digit of a polynomial (step 1 above), reusable with
/// any key at the same level.
#[derive(Clone, Debug)]
pub(crate) struct Decomposed {
    pub(crate) level: usize,
    /// One polynomial per digit, on the basis `Q_l ∪ P`, NTT form.
    pub(crate) digits: Vec<RnsPoly>,
}

impl Context {
    /// Step 1: decompose `c` (NTT form, basis `Q_level`) and extend each digit to `Q_level ∪ P`.
    pub(crate) fn decompose(&self, level: usize, c: &RnsPoly) -> Decomposed {
        let basis_q = self.basis_q(level);
        let basis_qp = self.basis_qp(level);
        let mut coeff = self.poly_copy(c);
        self.poly_intt(&mut coeff, &basis_q);
        let n = self.n();
        let nd = self.dnum_at(level);
        let parallel = n * basis_qp.len() >= PAR_THRESHOLD;
        // Digits in parallel too: each digit's `prepare` is one serial pass
        // that would otherwise leave the other threads idle.
        let digits = (0..nd)
            .into_par_iter()
            .map(|j| {
                let start = j * self.alpha;
                let end = ((j + 1) * self.alpha).min(level + 1);
                let conv = &self.modup[j][end - start - 1];
                let src: Vec<&[u64]> = coeff.limbs[start..end]
                    .iter()
                    .map(|v| v.as_slice())
                    .collect();
                let mut y: Vec<Vec<u64>> = (start..end).map(|_| self.scratch.take()).collect();
                let mut u = self.scratch.take();
                conv.prepare(&self.primes, &src, &mut y, &mut u);
                let mut out = self.scratch.uninit_poly(basis_qp.len(), true);
                let job = |(limb, &g): (&mut Vec<u64>, &usize)| {
                    if g >= start && g < end {
                        limb.copy_from_slice(&c.limbs[g]);
                    } else {
                        let t = &self.primes[g];
                        conv.convert(g, &t.m, &y, &u, limb);
                        t.fwd(limb);
                    }
                };
                if parallel {
                    out.limbs
                        .par_iter_mut()
                        .zip(basis_qp.par_iter())
                        .for_each(job);
                } else {
                    out.limbs.iter_mut().zip(basis_qp.iter()).for_each(job);
                }
                for v in y {
                    self.scratch.give(v);
                }
                self.scratch.give(u);
                out
            })
            .collect();
        self.scratch.give_poly(coeff);
        Decomposed { level, digits }
    }

    /// Step 2: `(Σ_j d_j b_j, Σ_j d_j a_j)` on `Q_level ∪ P`, NTT form.
    pub(crate) fn key_inner_product(
        &self,
        dec: &Decomposed,
        key: &SwitchingKey,
    ) -> (RnsPoly, RnsPoly) {
        let basis_qp = self.basis_qp(dec.level);
        let n = self.n();
        let mut acc0 = self.scratch.zero_poly(basis_qp.len(), true);
        let mut acc1 = self.scratch.zero_poly(basis_qp.len(), true);
        let job = |((o0, o1), (t, &g)): (AccPair<'_>, (usize, &usize))| {
            let plan = &self.primes[g].plan;
            let mut buf = Vec::new();
            for (d, (kb, ka)) in dec.digits.iter().zip(&key.digits) {
                plan.mul_accumulate(o0, &d.limbs[t], &kb.limbs[g]);
                if matches!(ka, Mask::Seeded(_)) && buf.is_empty() {
                    buf = self.scratch.take();
                }
                let a = ka.limb(g, &self.primes[g].m, &mut buf);
                plan.mul_accumulate(o1, &d.limbs[t], a);
            }
            self.scratch.give(buf);
        };
        if n * basis_qp.len() >= PAR_THRESHOLD {
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
        (acc0, acc1)
    }

    /// Step 3: divide `x` (basis `Q_level ∪ P`, NTT form) by P with
    /// rounding; returns the result on `Q_level`, NTT form.
    pub(crate) fn mod_down(&self, level: usize, mut x: RnsPoly) -> RnsPoly {
        let n = self.n();
        let nq = level + 1;
        let p0 = self.p_start();
        // P limbs to coefficient form.
        let mut pc: Vec<Vec<u64>> = x.limbs.split_off(nq);
        for (limb, k) in pc.iter_mut().zip(0..) {
            let t = &self.primes[p0 + k];
            t.inv(limb);
        }
        // [x]_P in (-P/2, P/2], converted exactly to each q_i; then
        // (x - [x]_P) / P is x / P rounded to the nearest integer.
        let src: Vec<&[u64]> = pc.iter().map(|v| v.as_slice()).collect();
        let mut y: Vec<Vec<u64>> = pc.iter().map(|_| self.scratch.take()).collect();
        let mut u = self.scratch.take();
        self.moddown.prepare(&self.primes, &src, &mut y, &mut u);
        let job_q = |(limb, i): (&mut Vec<u64>, usize)| {
            let t = &self.primes[i];
            let mut tmp = self.scratch.take();
            self.moddown.convert(i, &t.m, &y, &u, &mut tmp);
            t.fwd(&mut tmp);
            sub_mul_const(limb, &tmp, &self.p_inv_mod_q[i], &t.m);
            self.scratch.give(tmp);
        };
        if n * nq >= PAR_THRESHOLD {
            x.limbs.par_iter_mut().zip(0..nq).for_each(job_q);
        } else {
            x.limbs.iter_mut().zip(0..nq).for_each(job_q);
        }
        for v in pc.into_iter().chain(y).chain(std::iter::once(u)) {
            self.scratch.give(v);
        }
        x
    }

    /// Full key switch of `c` (NTT, basis `Q_level`): returns `(ks0, ks1)`
    /// on `Q_level` with `ks0 + ks1 s_out ≈ c s_in`.
    pub(crate) fn key_switch(
        &self,
        level: usize,
        c: &RnsPoly,
        key: &SwitchingKey,
    ) -> (RnsPoly, RnsPoly) {
        let dec = self.decompose(level, c);
        let out = self.key_switch_decomposed(&dec, key);
        self.recycle_decomposed(dec);
        out
    }

    /// Returns the buffers of a decomposition to the pool.
    pub(crate) fn recycle_decomposed(&self, dec: Decomposed) {
        for d in dec.digits {
            self.scratch.give_poly(d);
        }
    }

    /// Steps 2 and 3 on an existing decomposition.
    pub(crate) fn key_switch_decomposed(
        &self,
        dec: &Decomposed,
        key: &SwitchingKey,
    ) -> (RnsPoly, RnsPoly) {
        let (a0, a1) = self.key_inner_product(dec, key);
        rayon::join(
            || self.mod_down(dec.level, a0),
            || self.mod_down(dec.level, a1),
        )
    }

    /// Divides `poly` (NTT, basis `Q_level`, `level >= 1`) by `q_level` with
    /// rounding and drops its last limb (the rescale of one polynomial).
    pub(crate) fn divide_round_by_last(&self, poly: &mut RnsPoly, level: usize) {
        let n = self.n();
        let mut last = poly.limbs.pop().expect("level >= 1");
        let tl = &self.primes[level];
        tl.inv(&mut last);
        let half = tl.m.value() / 2;
        for v in last.iter_mut() {
            *v = tl.m.add(*v, half);
        }
        let consts = &self.rescale[level];
        let job = |(limb, i): (&mut Vec<u64>, usize)| {
            let t = &self.primes[i];
            let h = consts.half_ql_mod_qi[i];
            let mut tmp = self.scratch.take();
            if tl.m.value() < 2 * t.m.value() {
                reduce_once_sub(&mut tmp, &last, t.m.value(), h);
            } else {
                for (o, &v) in tmp.iter_mut().zip(&last) {
                    *o = t.m.sub(t.m.reduce(v), h);
                }
            }
            t.fwd(&mut tmp);
            sub_mul_const(limb, &tmp, &consts.inv_ql[i], &t.m);
            self.scratch.give(tmp);
        };
        if n * level >= PAR_THRESHOLD {
            poly.limbs.par_iter_mut().zip(0..level).for_each(job);
        } else {
            poly.limbs.iter_mut().zip(0..level).for_each(job);
        }
        self.scratch.give(last);
    }
}
