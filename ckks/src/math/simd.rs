//! Runtime dispatch of the scalar kernels to AVX-512.
//!
//! The library is compiled for baseline x86-64 (portable binaries), where
//! LLVM cannot vectorise our element-wise loops: there is no unsigned 64-bit
//! `min` (the branch-free modular reductions) and no 64-bit integer <-> f64
//! conversion before AVX-512. tfhe-ntt dispatches its own kernels at run
//! time; [`vectorized`] does the same for ours: on a CPU with AVX-512
//! (F, DQ, VL, BW, CD) the kernel runs inside a function compiled with those
//! features (through `pulp`), so its loops are vectorised; elsewhere it runs
//! as is.
//!
//! A kernel is a struct implementing [`Kernel`] whose `run` is
//! `#[inline(always)]` and calls only `#[inline(always)]` code: that is what
//! puts its body in the vectorised function (a closure would be compiled on
//! its own, without the features).

use crate::math::arith::{Modulus, ShoupConst};

/// A unit of work to compile for the best available instruction set.
pub(crate) trait Kernel {
    type Output;
    /// Must be `#[inline(always)]`.
    fn run(self) -> Self::Output;
}

struct Dispatch<K>(K);

impl<K: Kernel> pulp::NullaryFnOnce for Dispatch<K> {
    type Output = K::Output;

    #[inline(always)]
    fn call(self) -> K::Output {
        self.0.run()
    }
}

/// Runs `k` with AVX-512 code generation when the CPU has it.
#[inline(always)]
pub(crate) fn vectorized<K: Kernel>(k: K) -> K::Output {
    #[cfg(target_arch = "x86_64")]
    if let Some(v4) = pulp::x86::V4::try_new() {
        return v4.vectorize(Dispatch(k));
    }
    k.run()
}

/// Element-wise modular addition and subtraction of residues (`< p`), the
/// bodies of ciphertext add/sub. Branch-free (`min` of the two candidates),
/// so under [`vectorized`] they become AVX-512 loops bound by memory.
pub(crate) mod elementwise {
    use super::{vectorized, Kernel};

    /// Which combination of `a` and `b` a kernel computes.
    #[derive(Clone, Copy)]
    pub(crate) enum Op {
        Add,
        Sub,
    }

    #[inline(always)]
    fn apply(op: Op, a: u64, b: u64, p: u64) -> u64 {
        match op {
            Op::Add => {
                let s = a + b;
                s.min(s.wrapping_sub(p))
            }
            Op::Sub => {
                let d = a.wrapping_sub(b);
                d.min(d.wrapping_add(p))
            }
        }
    }

    struct Combine<'a> {
        op: Op,
        out: &'a mut [u64],
        a: &'a [u64],
        b: &'a [u64],
        p: u64,
    }

    impl Kernel for Combine<'_> {
        type Output = ();
        #[inline(always)]
        fn run(self) {
            let (op, p) = (self.op, self.p);
            for ((o, &a), &b) in self.out.iter_mut().zip(self.a).zip(self.b) {
                *o = apply(op, a, b, p);
            }
        }
    }

    struct CombineAssign<'a> {
        op: Op,
        x: &'a mut [u64],
        y: &'a [u64],
        p: u64,
    }

    impl Kernel for CombineAssign<'_> {
        type Output = ();
        #[inline(always)]
        fn run(self) {
            let (op, p) = (self.op, self.p);
            for (x, &y) in self.x.iter_mut().zip(self.y) {
                *x = apply(op, *x, y, p);
            }
        }
    }

    /// `out = a op b mod p`.
    pub(crate) fn into(op: Op, out: &mut [u64], a: &[u64], b: &[u64], p: u64) {
        vectorized(Combine { op, out, a, b, p })
    }

    /// `x = x op y mod p`.
    pub(crate) fn assign(op: Op, x: &mut [u64], y: &[u64], p: u64) {
        vectorized(CombineAssign { op, x, y, p })
    }
}

/// `out = (v mod p) - h mod p` for `v < 2p` and a residue `h`: the first
/// step of a rescale, where `v` is a residue of the dropped prime `q_l`
/// and `q_l < 2p`, so its reduction is one conditional subtraction.
pub(crate) fn reduce_once_sub(out: &mut [u64], v: &[u64], p: u64, h: u64) {
    struct ReduceOnceSub<'a> {
        out: &'a mut [u64],
        v: &'a [u64],
        p: u64,
        h: u64,
    }
    impl Kernel for ReduceOnceSub<'_> {
        type Output = ();
        #[inline(always)]
        fn run(self) {
            let (p, h) = (self.p, self.h);
            for (o, &v) in self.out.iter_mut().zip(self.v) {
                let r = v.min(v.wrapping_sub(p));
                let d = r.wrapping_sub(h);
                *o = d.min(d.wrapping_add(p));
            }
        }
    }
    debug_assert!(v.iter().all(|&x| x < 2 * p));
    vectorized(ReduceOnceSub { out, v, p, h })
}

/// `x = (x - y) * c mod p` over residues: the last step of a ModDown or a
/// rescale (`c` is `P^-1` or `q_l^-1`). For `p < 2^50` on a CPU with
/// AVX-512 IFMA it runs 8 lanes at a time with 52-bit Shoup products (as
/// tfhe-ntt's kernels do for such primes); otherwise, scalar 64-bit Shoup.
pub(crate) fn sub_mul_const(x: &mut [u64], y: &[u64], c: &ShoupConst, m: &Modulus) {
    debug_assert_eq!(x.len(), y.len());
    let p = m.value();
    #[cfg(target_arch = "x86_64")]
    if p < (1 << 50) && ifma::available() {
        // SAFETY: the CPU has AVX-512 F and IFMA (checked just above).
        let done = unsafe { ifma::sub_mul_const(x, y, c.w, p) };
        for (x, &y) in x[done..].iter_mut().zip(&y[done..]) {
            *x = c.mul(m, m.sub(*x, y));
        }
        return;
    }
    for (x, &y) in x.iter_mut().zip(y) {
        *x = c.mul(m, m.sub(*x, y));
    }
}

/// The constants of one basis conversion (at most 3 sources below 2^50)
/// to one target `t < 2^50`, in 52-bit Montgomery form (`R = 2^52`).
pub(crate) struct Convert52 {
    /// `(S/s_i) 2^52 mod t`.
    pub(crate) hat: [u64; 3],
    /// `corr(u) 2^52 mod t` for overflow counts `u < 8`.
    pub(crate) corr: [u64; 8],
    pub(crate) t: u64,
    /// `-t^-1 mod 2^52`.
    pub(crate) neg_inv: u64,
}

/// Basis conversion `out = sum_i y_i (S/s_i) + corr(u) mod t` with AVX-512
/// IFMA, 8 coefficients at a time, where the CPU has it. Returns how many
/// leading coefficients it wrote (0 without IFMA, fewer than all if a
/// chunk has an overflow count of 8 or more); the caller does the rest.
pub(crate) fn convert_52(c: &Convert52, y: &[&[u64]], u: &[u64], out: &mut [u64]) -> usize {
    #[cfg(target_arch = "x86_64")]
    if ifma::available() && (1..=3).contains(&y.len()) && c.t < (1 << 50) {
        // SAFETY: the CPU has AVX-512 F and IFMA (checked just above).
        return unsafe { ifma::convert_52(c, y, u, out) };
    }
    let _ = (c, y, u, out);
    0
}

#[cfg(target_arch = "x86_64")]
mod ifma {
    use std::arch::x86_64::*;

    pub(super) fn available() -> bool {
        is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512ifma")
    }

    /// The vector part of [`super::convert_52`].
    ///
    /// With `y_i < s_i < 2^50` and `hat_i < t < 2^50` the low and high
    /// 52-bit halves of the products are summed separately (the low sum
    /// stays below 2^54), then normalised to `x = hi 2^52 + lo`. As
    /// `x < 3 * 2^50 t + t < 2^52 t`, one Montgomery reduction by 2^52 gives
    /// `(x + m t) / 2^52 < 2t`, and one conditional subtraction finishes.
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) unsafe fn convert_52(
        c: &super::Convert52,
        y: &[&[u64]],
        u: &[u64],
        out: &mut [u64],
    ) -> usize {
        let n = out.len().min(u.len()) / 8 * 8;
        let low52 = _mm512_set1_epi64(((1u64 << 52) - 1) as i64);
        let zero = _mm512_setzero_si512();
        let one = _mm512_set1_epi64(1);
        let vt = _mm512_set1_epi64(c.t as i64);
        let vni = _mm512_set1_epi64(c.neg_inv as i64);
        let seven = _mm512_set1_epi64(7);
        // SAFETY: `corr` holds 8 u64 (64 bytes).
        let corr = unsafe { _mm512_loadu_si512(c.corr.as_ptr().cast()) };
        let hats: Vec<__m512i> = (0..y.len())
            .map(|i| _mm512_set1_epi64(c.hat[i] as i64))
            .collect();
        let mut k = 0;
        while k < n {
            // SAFETY: k + 8 <= n <= the length of `u`, `out` and each `y_i`
            // (the caller passes N-long limbs); unaligned accesses.
            let vu = unsafe { _mm512_loadu_si512(u.as_ptr().add(k).cast()) };
            if _mm512_cmpgt_epu64_mask(vu, seven) != 0 {
                break;
            }
            let mut lo = _mm512_permutexvar_epi64(vu, corr);
            let mut hi = zero;
            for (yi, &h) in y.iter().zip(&hats) {
                debug_assert!(yi.len() >= n);
                // SAFETY: as above.
                let v = unsafe { _mm512_loadu_si512(yi.as_ptr().add(k).cast()) };
                lo = _mm512_madd52lo_epu64(lo, v, h);
                hi = _mm512_madd52hi_epu64(hi, v, h);
            }
            hi = _mm512_add_epi64(hi, _mm512_srli_epi64(lo, 52));
            lo = _mm512_and_si512(lo, low52);
            let m = _mm512_madd52lo_epu64(zero, lo, vni);
            let mut r = _mm512_madd52hi_epu64(hi, m, vt);
            // (lo + m t mod 2^52) is 0 or 2^52: a carry exactly when lo != 0.
            let nonzero = _mm512_test_epi64_mask(lo, lo);
            r = _mm512_mask_add_epi64(r, nonzero, r, one);
            r = _mm512_min_epu64(r, _mm512_sub_epi64(r, vt));
            // SAFETY: as above.
            unsafe { _mm512_storeu_si512(out.as_mut_ptr().add(k).cast(), r) };
            k += 8;
        }
        k
    }

    /// The vector part of [`super::sub_mul_const`] for `p < 2^50`: handles
    /// the first `8 * floor(len / 8)` elements and returns that count.
    ///
    /// Shoup with 52-bit words: for `d < p` and `c' = floor(c 2^52 / p)`,
    /// `q = floor(d c' / 2^52)` gives `d c - q p` in `[0, 2p)`, below 2^51,
    /// so it is exact when computed modulo 2^52 from the products' low
    /// halves.
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) unsafe fn sub_mul_const(x: &mut [u64], y: &[u64], c: u64, p: u64) -> usize {
        let n = x.len().min(y.len()) / 8 * 8;
        let c52 = ((c as u128) << 52) / p as u128;
        let vp = _mm512_set1_epi64(p as i64);
        let vc = _mm512_set1_epi64(c as i64);
        let vc52 = _mm512_set1_epi64(c52 as i64);
        let low52 = _mm512_set1_epi64(((1u64 << 52) - 1) as i64);
        let zero = _mm512_setzero_si512();
        for k in (0..n).step_by(8) {
            // SAFETY: k + 8 <= n <= len of both slices; unaligned accesses.
            let (a, b) = unsafe {
                (
                    _mm512_loadu_si512(x.as_ptr().add(k).cast()),
                    _mm512_loadu_si512(y.as_ptr().add(k).cast()),
                )
            };
            let d = _mm512_sub_epi64(a, b);
            let d = _mm512_min_epu64(d, _mm512_add_epi64(d, vp));
            let q = _mm512_madd52hi_epu64(zero, d, vc52);
            let dc = _mm512_madd52lo_epu64(zero, d, vc);
            let qp = _mm512_madd52lo_epu64(zero, q, vp);
            let r = _mm512_and_si512(_mm512_sub_epi64(dc, qp), low52);
            let r = _mm512_min_epu64(r, _mm512_sub_epi64(r, vp));
            // SAFETY: as for the loads.
            unsafe { _mm512_storeu_si512(x.as_mut_ptr().add(k).cast(), r) };
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::primes;

    /// The vector kernels agree with the scalar arithmetic, tails included
    /// (lengths not a multiple of 8), for a prime the IFMA path takes and
    /// one it does not.
    #[test]
    fn kernels_match_scalar_arithmetic() {
        for bits in [40u32, 61] {
            let p = primes::generate_primes(10, &[bits], &[]).unwrap()[0];
            let m = Modulus::new(p);
            let c = ShoupConst::new(&m, p / 3 + 7);
            let mut state = 0x9E37_79B9_7F4A_7C15u64;
            let mut next = |bound: u64| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state % bound
            };
            let len = 1000 + 5;
            let x: Vec<u64> = (0..len).map(|_| next(p)).collect();
            let y: Vec<u64> = (0..len).map(|_| next(p)).collect();

            let mut got = x.clone();
            sub_mul_const(&mut got, &y, &c, &m);
            let want: Vec<u64> = x
                .iter()
                .zip(&y)
                .map(|(&a, &b)| c.mul(&m, m.sub(a, b)))
                .collect();
            assert_eq!(got, want, "sub_mul_const, {bits}-bit prime");

            let h = next(p);
            let v: Vec<u64> = (0..len).map(|_| next(2 * p)).collect();
            let mut got = vec![0; len];
            reduce_once_sub(&mut got, &v, p, h);
            let want: Vec<u64> = v.iter().map(|&a| m.sub(m.reduce(a), h)).collect();
            assert_eq!(got, want, "reduce_once_sub, {bits}-bit prime");

            for op in [elementwise::Op::Add, elementwise::Op::Sub] {
                let mut got = vec![0; len];
                elementwise::into(op, &mut got, &x, &y, p);
                let want: Vec<u64> = x
                    .iter()
                    .zip(&y)
                    .map(|(&a, &b)| match op {
                        elementwise::Op::Add => m.add(a, b),
                        elementwise::Op::Sub => m.sub(a, b),
                    })
                    .collect();
                assert_eq!(got, want, "elementwise, {bits}-bit prime");
            }
        }
    }
}
