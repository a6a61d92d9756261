//! RNS polynomials: one `Vec<u64>` limb per prime.
//!
//! A polynomial of `Z_Q[X]/(X^N+1)` with `Q = q_0 ... q_l` is stored by its
//! residues modulo each prime (the CRT isomorphism), so that every ring
//! operation is a word-sized operation on independent limbs. Limbs are in
//! coefficient order or in NTT (evaluation) order; the flag `ntt` records
//! which. An `RnsPoly` does not know its primes: the caller passes the
//! *basis*, a list of indices into [`Context`]'s prime table (Q primes first,
//! then P primes), one per limb. Ciphertexts and plaintexts always use the
//! basis `0..=level` and are kept in NTT form, where products are pointwise.

use rayon::prelude::*;

use crate::math::simd::elementwise;
pub(crate) use crate::math::simd::elementwise::Op;
use crate::ring::context::Context;
use crate::ring::scratch::{self, Scratch};

/// Work (limbs x N) above which limb-parallel loops go through rayon. Below
/// it the fork/join overhead costs more than it saves.
pub(crate) const PAR_THRESHOLD: usize = 1 << 14;

/// A polynomial in RNS representation.
#[derive(Debug, PartialEq, Eq)]
pub struct RnsPoly {
    pub(crate) limbs: Vec<Vec<u64>>,
    pub(crate) ntt: bool,
}

impl Clone for RnsPoly {
    fn clone(&self) -> Self {
        Self {
            limbs: self
                .limbs
                .iter()
                .map(|l| {
                    let mut v = scratch::take(l.len());
                    v.copy_from_slice(l);
                    v
                })
                .collect(),
            ntt: self.ntt,
        }
    }
}

/// Limbs go back to the buffer pool (see `scratch.rs`).
impl Drop for RnsPoly {
    fn drop(&mut self) {
        for l in self.limbs.drain(..) {
            scratch::give(l);
        }
    }
}

impl RnsPoly {
    /// The zero polynomial with `num_limbs` limbs of `n` coefficients.
    pub fn zero(n: usize, num_limbs: usize, ntt: bool) -> Self {
        Self {
            limbs: (0..num_limbs)
                .map(|_| {
                    let mut v = scratch::take(n);
                    v.fill(0);
                    v
                })
                .collect(),
            ntt,
        }
    }

    /// Builds a polynomial from its limbs (all of the same length).
    pub fn from_limbs(limbs: Vec<Vec<u64>>, ntt: bool) -> Self {
        Self { limbs, ntt }
    }

    /// Ring degree N (0 for a polynomial without limbs).
    pub fn n(&self) -> usize {
        self.limbs.first().map_or(0, Vec::len)
    }

    /// Number of limbs (primes).
    pub fn num_limbs(&self) -> usize {
        self.limbs.len()
    }

    /// Whether the limbs are in NTT (evaluation) form.
    pub fn is_ntt(&self) -> bool {
        self.ntt
    }

    /// The limbs.
    pub fn limbs(&self) -> &[Vec<u64>] {
        &self.limbs
    }

    /// Drops the limbs past the first `num_limbs`.
    pub fn truncate(&mut self, num_limbs: usize) {
        if num_limbs < self.limbs.len() {
            for l in self.limbs.drain(num_limbs..) {
                scratch::give(l);
            }
        }
    }

    /// A copy of the first `num_limbs` limbs.
    pub(crate) fn prefix(&self, num_limbs: usize) -> Self {
        Self {
            limbs: self.limbs[..num_limbs]
                .iter()
                .map(|l| {
                    let mut v = scratch::take(l.len());
                    v.copy_from_slice(l);
                    v
                })
                .collect(),
            ntt: self.ntt,
        }
    }
}

/// Runs `f(limb, global_prime_index)` on every limb, in parallel when the
/// polynomial is large enough for it to pay.
pub(crate) fn for_each_limb<F>(poly: &mut RnsPoly, basis: &[usize], heavy: bool, f: F)
where
    F: Fn(&mut [u64], usize) + Sync + Send,
{
    debug_assert_eq!(poly.limbs.len(), basis.len());
    let work = poly.n() * poly.limbs.len();
    if heavy && work >= PAR_THRESHOLD && poly.limbs.len() > 1 {
        poly.limbs
            .par_iter_mut()
            .zip(basis.par_iter())
            .for_each(|(l, &i)| f(l, i));
    } else {
        for (l, &i) in poly.limbs.iter_mut().zip(basis) {
            f(l, i);
        }
    }
}

/// Runs `f(out_limb, in_limb, global_prime_index)` over paired limbs.
pub(crate) fn for_each_limb2<F>(
    out: &mut RnsPoly,
    other: &RnsPoly,
    basis: &[usize],
    heavy: bool,
    f: F,
) where
    F: Fn(&mut [u64], &[u64], usize) + Sync + Send,
{
    debug_assert_eq!(out.limbs.len(), basis.len());
    debug_assert!(other.limbs.len() >= basis.len());
    let work = out.n() * out.limbs.len();
    if heavy && work >= PAR_THRESHOLD && out.limbs.len() > 1 {
        out.limbs
            .par_iter_mut()
            .zip(other.limbs.par_iter())
            .zip(basis.par_iter())
            .for_each(|((o, a), &i)| f(o, a, i));
    } else {
        for ((o, a), &i) in out.limbs.iter_mut().zip(&other.limbs).zip(basis) {
            f(o, a, i);
        }
    }
}

impl Context {
    /// A copy of `p` in pooled buffers.
    pub(crate) fn poly_copy(&self, p: &RnsPoly) -> RnsPoly {
        self.scratch.copy_poly(p, p.num_limbs())
    }

    /// `a += b` limb-wise over `basis`.
    pub(crate) fn poly_add_assign(&self, a: &mut RnsPoly, b: &RnsPoly, basis: &[usize]) {
        self.poly_assign(Op::Add, a, b, basis);
    }

    /// `a -= b` limb-wise over `basis`.
    pub(crate) fn poly_sub_assign(&self, a: &mut RnsPoly, b: &RnsPoly, basis: &[usize]) {
        self.poly_assign(Op::Sub, a, b, basis);
    }

    fn poly_assign(&self, op: Op, a: &mut RnsPoly, b: &RnsPoly, basis: &[usize]) {
        for_each_limb2(a, b, basis, true, |x, y, i| {
            elementwise::assign(op, x, y, self.primes[i].m.value());
        });
    }

    /// `a + b` or `a - b` limb-wise over `basis`, into new buffers (one pass
    /// over memory instead of a copy and then an in-place pass).
    pub(crate) fn poly_combine(
        &self,
        op: Op,
        a: &RnsPoly,
        b: &RnsPoly,
        basis: &[usize],
    ) -> RnsPoly {
        debug_assert!(a.limbs.len() >= basis.len() && b.limbs.len() >= basis.len());
        let mut out = self.scratch.uninit_poly(basis.len(), a.ntt);
        let f = |(t, o): (usize, &mut Vec<u64>)| {
            let p = self.primes[basis[t]].m.value();
            elementwise::into(op, o, &a.limbs[t], &b.limbs[t], p);
        };
        if out.n() * basis.len() >= PAR_THRESHOLD && basis.len() > 1 {
            out.limbs.par_iter_mut().enumerate().for_each(f);
        } else {
            out.limbs.iter_mut().enumerate().for_each(f);
        }
        out
    }

    /// `a = -a` limb-wise over `basis`.
    pub(crate) fn poly_neg_assign(&self, a: &mut RnsPoly, basis: &[usize]) {
        for_each_limb(a, basis, false, |x, i| {
            let m = &self.primes[i].m;
            for x in x.iter_mut() {
                *x = m.neg(*x);
            }
        });
    }

    /// `acc += a * b` pointwise (both in NTT form) over `basis`, on
    /// `tfhe-ntt`'s SIMD kernel.
    pub(crate) fn poly_mul_acc(
        &self,
        acc: &mut RnsPoly,
        a: &RnsPoly,
        b: &RnsPoly,
        basis: &[usize],
    ) {
        debug_assert!(a.ntt && b.ntt);
        let work = acc.n() * acc.limbs.len();
        let f = |(o, (x, y)): (&mut Vec<u64>, (&Vec<u64>, &Vec<u64>)), i: usize| {
            self.primes[i].plan.mul_accumulate(o, x, y);
        };
        if work >= PAR_THRESHOLD && basis.len() > 1 {
            acc.limbs
                .par_iter_mut()
                .zip(a.limbs.par_iter().zip(b.limbs.par_iter()))
                .zip(basis.par_iter())
                .for_each(|(t, &i)| f(t, i));
        } else {
            for (t, &i) in acc
                .limbs
                .iter_mut()
                .zip(a.limbs.iter().zip(&b.limbs))
                .zip(basis)
            {
                f(t, i);
            }
        }
    }

    /// `a * b` pointwise (both in NTT form) over `basis`.
    pub(crate) fn poly_mul(&self, a: &RnsPoly, b: &RnsPoly, basis: &[usize]) -> RnsPoly {
        let mut out = self.scratch.zero_poly(basis.len(), true);
        self.poly_mul_acc(&mut out, a, b, basis);
        out
    }

    /// Multiplies every limb by a per-prime constant (`consts[global index]`).
    pub(crate) fn poly_mul_scalar_assign(&self, a: &mut RnsPoly, basis: &[usize], consts: &[u64]) {
        for_each_limb(a, basis, true, |x, i| {
            let m = &self.primes[i].m;
            let w = consts[i];
            let ws = m.shoup(w);
            for x in x.iter_mut() {
                *x = m.mul_shoup(*x, w, ws);
            }
        });
    }

    /// Inverse NTT of every limb (evaluation -> coefficient form), normalized.
    pub(crate) fn poly_intt(&self, a: &mut RnsPoly, basis: &[usize]) {
        debug_assert!(a.ntt);
        for_each_limb(a, basis, true, |x, i| {
            self.primes[i].inv(x);
        });
        a.ntt = false;
    }

    /// `σ_g` applied to every limb (NTT-domain permutation, same for all primes).
    pub(crate) fn poly_permuted(&self, p: &RnsPoly, g: u64) -> RnsPoly {
        let perm = self.galois_permutation(g);
        let mut out = self.scratch.uninit_poly(p.num_limbs(), p.ntt);
        let job =
            |(o, i): (&mut Vec<u64>, &Vec<u64>)| crate::ring::automorphism::permute(i, &perm, o);
        if p.n() * p.num_limbs() >= PAR_THRESHOLD {
            out.limbs
                .par_iter_mut()
                .zip(p.limbs.par_iter())
                .for_each(job);
        } else {
            out.limbs.iter_mut().zip(p.limbs.iter()).for_each(job);
        }
        out
    }

    /// The RNS form, over `basis`, of a polynomial with small signed
    /// coefficients; returned in NTT form.
    pub(crate) fn poly_from_small(&self, coeffs: &[i64], basis: &[usize]) -> RnsPoly {
        let mut p = self.scratch.uninit_poly(basis.len(), false);
        for_each_limb(&mut p, basis, true, |x, i| {
            let m = &self.primes[i].m;
            for (x, &c) in x.iter_mut().zip(coeffs) {
                *x = m.from_i64(c);
            }
            self.primes[i].fwd(x);
        });
        p.ntt = true;
        p
    }
}

/// Whole polynomials from the pool (here rather than in `scratch`, which
/// knows only limbs).
impl Scratch {
    /// Returns every limb of a polynomial to the pool (same as dropping it).
    pub(crate) fn give_poly(&self, p: RnsPoly) {
        drop(p)
    }

    /// A polynomial of `limbs` zero limbs.
    pub(crate) fn zero_poly(&self, limbs: usize, ntt: bool) -> RnsPoly {
        RnsPoly::from_limbs((0..limbs).map(|_| self.take_zeroed()).collect(), ntt)
    }

    /// A polynomial of `limbs` limbs with unspecified contents.
    pub(crate) fn uninit_poly(&self, limbs: usize, ntt: bool) -> RnsPoly {
        RnsPoly::from_limbs((0..limbs).map(|_| self.take()).collect(), ntt)
    }

    /// A copy of the first `limbs` limbs of `p`.
    pub(crate) fn copy_poly(&self, p: &RnsPoly, limbs: usize) -> RnsPoly {
        RnsPoly::from_limbs(
            p.limbs[..limbs].iter().map(|l| self.take_copy(l)).collect(),
            p.ntt,
        )
    }
}
