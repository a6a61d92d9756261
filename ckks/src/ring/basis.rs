//! Exact, centered RNS basis conversion.
//!
//! Given `x` by its residues modulo the primes `s_i` of a basis `S`, we want
//! the residues modulo other primes `t` of the *centered* representative
//! `[x]_S` in `[-S/2, S/2)`, without forming the big integer. With
//! `x' = x + floor(S/2)` and `y_i = [x'_i (S/s_i)^-1]_{s_i}`,
//!
//! ```text
//!     sum_i y_i (S/s_i) = x'' + u S,   x'' = x' mod S in [0, S),   u = floor(sum_i y_i / s_i)
//! ```
//!
//! so `[x]_S = sum_i y_i (S/s_i) - u S - floor(S/2)`. The integer `u < |S|`
//! is estimated in floating point (Halevi-Polyakov-Shoup); it can be off by
//! one only when `x''` lies within ~2^-50 S of 0 or S, with negligible
//! probability and then a harmless effect (an extra multiple of S, killed
//! by the gadget in ModUp, an error of 1 in ModDown).
//!
//! Why exact and centered rather than the cheaper approximate conversion:
//! see `keyswitch.rs` (biased digits cost 4-6 bits of precision in the
//! slots next to ζ).
//!
//! Cost per coefficient and target: `|S|` word products summed in 128 bits,
//! a table lookup for the correction, and one Montgomery reduction (two
//! more products): the constants are stored times `2^64 mod t`, so that the
//! reduction's factor `2^-64` cancels. This needs the sum below `2^64 t`,
//! i.e. `|S| max(s_i) < 2^64` (true for up to 7 primes of 61 bits); larger
//! source bases use per-term Shoup products. When every source and the
//! target are below 2^50 (ModUp of a digit of 40-bit primes) and the CPU
//! has AVX-512 IFMA, the same sum and reduction run 8 coefficients at a
//! time in 52-bit words (`simd::convert_52`).

use crate::math::arith::{Modulus, ShoupConst};
use crate::math::simd::{convert_52, vectorized, Convert52, Kernel};
use crate::ring::prime_table::PrimeTable;

/// Precomputed constants to convert from one source basis to any prime of
/// the context.
#[derive(Debug, Clone)]
pub(crate) struct BasisConverter {
    /// Global indices of the source primes.
    pub(crate) src: Vec<usize>,
    /// `(S/s_i)^-1 mod s_i`.
    hat_inv: Vec<ShoupConst>,
    /// `floor(S/2) mod s_i`.
    half_src: Vec<u64>,
    /// `hat_mod[t][i] = (S/s_i) mod prime_t` for every global prime `t`.
    hat_mod: Vec<Vec<ShoupConst>>,
    /// `corr[t][u] = (-u S - floor(S/2)) mod prime_t` for `u <= |S|`: the
    /// whole correction is a table lookup because `u` is tiny.
    corr: Vec<Vec<u64>>,
    /// `-S mod prime_t`, for the (practically unreachable) `u > |S|`.
    neg_prod_mod: Vec<u64>,
    /// `1 / s_i` in floating point.
    inv_src: Vec<f64>,
    /// Montgomery form of the target constants, when the 128-bit sum of
    /// `|S|` products cannot overflow the reduction's range.
    mont: Option<Montgomery>,
    /// Every source prime is below 2^50 (the 52-bit IFMA path applies to
    /// targets below 2^50 too).
    small_src: bool,
}

/// `hat[t][i] = (S/s_i) 2^64 mod t` and `corr[t][u] = corr * 2^64 mod t`,
/// with `-t^-1 mod 2^64` per target.
#[derive(Debug, Clone)]
struct Montgomery {
    hat: Vec<Vec<u64>>,
    corr: Vec<Vec<u64>>,
    neg_inv: Vec<u64>,
}

/// `-p^-1 mod 2^64` for odd `p` (Newton iteration on the 2-adic inverse).
fn neg_inv_mod_2_64(p: u64) -> u64 {
    let mut inv = p; // correct to 3 bits for odd p
    for _ in 0..5 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(p.wrapping_mul(inv)));
    }
    inv.wrapping_neg()
}

/// `x 2^-64 mod p` for `x < 2^64 p` (Montgomery's REDC): in `[0, p)`.
#[inline(always)]
fn redc(x: u128, p: u64, neg_inv: u64) -> u64 {
    let (x0, x1) = (x as u64, (x >> 64) as u64);
    let m = x0.wrapping_mul(neg_inv);
    // x + m p is divisible by 2^64; its low words cancel with a carry
    // exactly when x0 != 0.
    let t = x1 + ((m as u128 * p as u128) >> 64) as u64 + u64::from(x0 != 0);
    t.min(t.wrapping_sub(p))
}

/// `prod_{j in src, j != skip} p_j mod m`.
fn partial_product(primes: &[PrimeTable], src: &[usize], skip: Option<usize>, m: &Modulus) -> u64 {
    src.iter()
        .filter(|&&j| Some(j) != skip)
        .fold(1u64, |acc, &j| m.mul(acc, m.reduce(primes[j].m.value())))
}

/// `floor(S/2) mod m`, i.e. `(S - 1) / 2 mod m` as S is odd.
fn half_mod(s_mod: u64, m: &Modulus) -> u64 {
    m.mul(m.sub(s_mod, 1), m.inv(2))
}

impl BasisConverter {
    /// Constants for the source basis `src` (global indices into `primes`).
    pub(crate) fn new(primes: &[PrimeTable], src: Vec<usize>) -> Self {
        let hat_inv = src
            .iter()
            .map(|&i| {
                let m = &primes[i].m;
                ShoupConst::new(m, m.inv(partial_product(primes, &src, Some(i), m)))
            })
            .collect();
        let half_src = src
            .iter()
            .map(|&i| {
                let m = &primes[i].m;
                half_mod(partial_product(primes, &src, None, m), m)
            })
            .collect();
        let hat_mod = primes
            .iter()
            .map(|t| {
                src.iter()
                    .map(|&i| ShoupConst::new(&t.m, partial_product(primes, &src, Some(i), &t.m)))
                    .collect()
            })
            .collect();
        let prod_mod: Vec<u64> = primes
            .iter()
            .map(|t| partial_product(primes, &src, None, &t.m))
            .collect();
        let neg_prod_mod: Vec<u64> = primes
            .iter()
            .zip(&prod_mod)
            .map(|(t, &s)| t.m.neg(s))
            .collect();
        let corr = primes
            .iter()
            .zip(&prod_mod)
            .zip(&neg_prod_mod)
            .map(|((t, &s), &ns)| {
                let nh = t.m.neg(half_mod(s, &t.m));
                (0..=src.len() as u64)
                    .map(|u| t.m.add(t.m.mul(t.m.reduce(u), ns), nh))
                    .collect()
            })
            .collect();
        let inv_src = src
            .iter()
            .map(|&i| 1.0 / primes[i].m.value() as f64)
            .collect();
        let max_src = src.iter().map(|&i| primes[i].m.value()).max().unwrap_or(0);
        let fits = (src.len() as u128 * max_src as u128) < (1u128 << 64) - 1;
        let small_src = max_src < (1 << 50);
        let mont = fits.then(|| {
            let r = |t: &PrimeTable| t.m.reduce_u128_any(1u128 << 64);
            Montgomery {
                hat: primes
                    .iter()
                    .zip(&hat_mod)
                    .map(|(t, h): (&PrimeTable, &Vec<ShoupConst>)| {
                        h.iter().map(|c| t.m.mul(c.w, r(t))).collect()
                    })
                    .collect(),
                corr: primes
                    .iter()
                    .zip(&corr)
                    .map(|(t, c): (&PrimeTable, &Vec<u64>)| {
                        c.iter().map(|&v| t.m.mul(v, r(t))).collect()
                    })
                    .collect(),
                neg_inv: primes
                    .iter()
                    .map(|t| neg_inv_mod_2_64(t.m.value()))
                    .collect(),
            }
        });
        Self {
            src,
            hat_inv,
            half_src,
            hat_mod,
            corr,
            neg_prod_mod,
            inv_src,
            mont,
            small_src,
        }
    }

    /// First step, shared by all targets: from the source limbs `x`
    /// (coefficient form) computes `y_i` into `y` and the overflow `u`.
    pub(crate) fn prepare(
        &self,
        primes: &[PrimeTable],
        x: &[&[u64]],
        y: &mut [Vec<u64>],
        u: &mut [u64],
    ) {
        struct Prepare<'a> {
            conv: &'a BasisConverter,
            primes: &'a [PrimeTable],
            x: &'a [&'a [u64]],
            y: &'a mut [Vec<u64>],
            u: &'a mut [u64],
        }
        impl Kernel for Prepare<'_> {
            type Output = ();
            #[inline(always)]
            fn run(self) {
                self.conv
                    .prepare_kernel(self.primes, self.x, self.y, self.u)
            }
        }
        vectorized(Prepare {
            conv: self,
            primes,
            x,
            y,
            u,
        })
    }

    #[inline(always)]
    fn prepare_kernel(
        &self,
        primes: &[PrimeTable],
        x: &[&[u64]],
        y: &mut [Vec<u64>],
        u: &mut [u64],
    ) {
        for (((xi, yi), &gi), (c, &h)) in x
            .iter()
            .zip(y.iter_mut())
            .zip(&self.src)
            .zip(self.hat_inv.iter().zip(&self.half_src))
        {
            let m = &primes[gi].m;
            for (o, &v) in yi.iter_mut().zip(xi.iter()) {
                *o = c.mul(m, m.add(v, h));
            }
        }
        match y.len() {
            1 => u.fill(0),
            2 => {
                let (i0, i1) = (self.inv_src[0], self.inv_src[1]);
                // Through i64: values are < 2^62, and signed conversions are
                // single instructions on baseline x86-64 (unsigned ones are not).
                for ((o, &a), &b) in u.iter_mut().zip(&y[0]).zip(&y[1]) {
                    *o = ((a as i64) as f64 * i0 + (b as i64) as f64 * i1) as i64 as u64;
                }
            }
            _ => {
                for (k, o) in u.iter_mut().enumerate() {
                    let s: f64 = y
                        .iter()
                        .zip(&self.inv_src)
                        .map(|(yi, &inv)| (yi[k] as i64) as f64 * inv)
                        .sum();
                    *o = s as i64 as u64;
                }
            }
        }
    }

    /// Second step: the residues modulo the global prime `target` of the
    /// centered value, from `y` and `u` of [`Self::prepare`].
    ///
    /// Each `y_i * (S/s_i)` is a Shoup product by a per-target constant
    /// (three word multiplications, no 128-bit Barrett); for up to three
    /// sources the terms are summed lazily (each `< 2t`, total `< 7t < 2^64`)
    /// and reduced once.
    pub(crate) fn convert(
        &self,
        target: usize,
        tm: &Modulus,
        y: &[Vec<u64>],
        u: &[u64],
        out: &mut [u64],
    ) {
        if self.small_src && tm.value() < (1 << 50) && y.len() <= 3 {
            let ys: Vec<&[u64]> = y.iter().map(|v| v.as_slice()).collect();
            let done = convert_52(&self.constants_52(target, tm), &ys, u, out);
            if done > 0 {
                // The rare chunks the vector path leaves (an overflow count
                // of 8 or more): plain modular arithmetic.
                for k in done..out.len() {
                    out[k] = y
                        .iter()
                        .zip(&self.hat_mod[target])
                        .fold(self.correction(target, tm, u[k]), |acc, (yi, h)| {
                            tm.add(acc, tm.mul(tm.reduce(yi[k]), h.w))
                        });
                }
                return;
            }
        }
        if let Some(mont) = &self.mont {
            struct Convert<'a> {
                conv: &'a BasisConverter,
                mont: &'a Montgomery,
                target: usize,
                tm: &'a Modulus,
                y: &'a [Vec<u64>],
                u: &'a [u64],
                out: &'a mut [u64],
            }
            impl Kernel for Convert<'_> {
                type Output = ();
                #[inline(always)]
                fn run(self) {
                    let Self {
                        conv,
                        mont,
                        target,
                        tm,
                        y,
                        u,
                        out,
                    } = self;
                    conv.convert_montgomery(mont, target, tm, y, u, out)
                }
            }
            vectorized(Convert {
                conv: self,
                mont,
                target,
                tm,
                y,
                u,
                out,
            });
            return;
        }
        let hm = &self.hat_mod[target];
        let p = tm.value();
        let fix = |k: u64| self.correction(target, tm, k);
        // Shoup product reduced to [0, 2p) (no final subtraction).
        let lazy = |a: u64, c: &ShoupConst| -> u64 {
            let q = ((a as u128 * c.ws as u128) >> 64) as u64;
            a.wrapping_mul(c.w).wrapping_sub(q.wrapping_mul(p))
        };
        match y.len() {
            1 => {
                let h0 = hm[0];
                for ((o, &a), &k) in out.iter_mut().zip(&y[0]).zip(u) {
                    *o = tm.reduce(lazy(a, &h0) + fix(k));
                }
            }
            2 => {
                let (h0, h1) = (hm[0], hm[1]);
                for (((o, &a), &b), &k) in out.iter_mut().zip(&y[0]).zip(&y[1]).zip(u) {
                    *o = tm.reduce(lazy(a, &h0) + lazy(b, &h1) + fix(k));
                }
            }
            3 => {
                let (h0, h1, h2) = (hm[0], hm[1], hm[2]);
                for ((((o, &a), &b), &c), &k) in
                    out.iter_mut().zip(&y[0]).zip(&y[1]).zip(&y[2]).zip(u)
                {
                    // 3 terms < 2p plus one < p: below 7p < 2^64 for p < 2^61.
                    *o = tm.reduce(lazy(a, &h0) + lazy(b, &h1) + lazy(c, &h2) + fix(k));
                }
            }
            _ => {
                for (o, &k) in out.iter_mut().zip(u) {
                    *o = fix(k);
                }
                for (yi, h) in y.iter().zip(hm) {
                    for (o, &a) in out.iter_mut().zip(yi) {
                        *o = tm.add(*o, h.mul(tm, a));
                    }
                }
            }
        }
    }
}

impl BasisConverter {
    /// `(-k S - floor(S/2)) mod t`, the correction for an overflow count `k`.
    fn correction(&self, target: usize, tm: &Modulus, k: u64) -> u64 {
        let corr = &self.corr[target];
        match corr.get(k as usize) {
            Some(&c) => c,
            None => tm.add(tm.mul(tm.reduce(k), self.neg_prod_mod[target]), corr[0]),
        }
    }

    /// The target's constants for [`convert_52`] (at most 3 sources).
    fn constants_52(&self, target: usize, tm: &Modulus) -> Convert52 {
        let r52 = tm.reduce(1 << 52);
        let mut hat = [0u64; 3];
        for (h, c) in hat.iter_mut().zip(&self.hat_mod[target]) {
            *h = tm.mul(c.w, r52);
        }
        let corr = std::array::from_fn(|k| tm.mul(self.correction(target, tm, k as u64), r52));
        Convert52 {
            hat,
            corr,
            t: tm.value(),
            neg_inv: neg_inv_mod_2_64(tm.value()) & ((1 << 52) - 1),
        }
    }

    /// [`Self::convert`] with the products summed in 128 bits and one
    /// Montgomery reduction per coefficient.
    #[inline(always)]
    fn convert_montgomery(
        &self,
        mont: &Montgomery,
        target: usize,
        tm: &Modulus,
        y: &[Vec<u64>],
        u: &[u64],
        out: &mut [u64],
    ) {
        let p = tm.value();
        let ni = mont.neg_inv[target];
        let h = &mont.hat[target];
        let corr = mont.corr[target].as_slice();
        // The correction `(-u S - floor(S/2)) 2^64`: a table lookup, as u <= |S|
        // but for a float estimate off by one at the very edge of the range.
        let fix = |k: u64| -> u128 {
            match corr.get(k as usize) {
                Some(&c) => c as u128,
                None => self.slow_correction(target, tm, k) as u128,
            }
        };
        let w = |a: u64, c: u64| a as u128 * c as u128;
        match y.len() {
            1 => {
                let h0 = h[0];
                for ((o, &a), &k) in out.iter_mut().zip(&y[0]).zip(u) {
                    *o = redc(w(a, h0) + fix(k), p, ni);
                }
            }
            2 => {
                let (h0, h1) = (h[0], h[1]);
                for (((o, &a), &b), &k) in out.iter_mut().zip(&y[0]).zip(&y[1]).zip(u) {
                    *o = redc(w(a, h0) + w(b, h1) + fix(k), p, ni);
                }
            }
            3 => {
                let (h0, h1, h2) = (h[0], h[1], h[2]);
                let (y0, y1, y2) = (&y[0][..out.len()], &y[1][..out.len()], &y[2][..out.len()]);
                let u = &u[..out.len()];
                for (kk, o) in out.iter_mut().enumerate() {
                    let s = w(y0[kk], h0) + w(y1[kk], h1) + w(y2[kk], h2) + fix(u[kk]);
                    *o = redc(s, p, ni);
                }
            }
            _ => {
                for (kk, (o, &k)) in out.iter_mut().zip(u).enumerate() {
                    let s = y
                        .iter()
                        .zip(h)
                        .fold(fix(k), |acc, (yi, &c)| acc + w(yi[kk], c));
                    *o = redc(s, p, ni);
                }
            }
        }
    }

    /// The Montgomery-form correction for an overflow estimate `k > |S|`
    /// (only reachable at the very edges of the range; kept out of line).
    #[cold]
    #[inline(never)]
    fn slow_correction(&self, target: usize, tm: &Modulus, k: u64) -> u64 {
        let r64 = tm.reduce_u128_any(1u128 << 64);
        let c = tm.add(
            tm.mul(tm.reduce(k), self.neg_prod_mod[target]),
            self.corr[target][0],
        );
        tm.mul(c, r64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CkksParams, Context, SecretDist};

    /// Converts known centered integers from P to Q and from a 2-prime
    /// digit to the rest, and checks every residue.
    #[test]
    fn exact_centered_conversion() {
        let ctx = Context::new(CkksParams {
            log_n: 10,
            log_q: vec![60, 50, 40, 35, 30],
            log_p: vec![61, 59, 45, 33, 61, 61, 61, 61, 61, 61],
            log_scale: 30,
            secret: SecretDist::default(),
            insecure_ok: true,
        })
        .unwrap();
        let primes = &ctx.primes;
        // The last basis (nine primes of ~61 bits) is too wide for the
        // 128-bit Montgomery sum and takes the per-term Shoup path.
        for src in [
            vec![0usize, 1],
            vec![5, 6, 7, 8],
            vec![2],
            vec![6, 7, 8],
            vec![5, 9, 10, 11, 12, 13, 14, 6, 0],
        ] {
            let conv = BasisConverter::new(primes, src.clone());
            assert_eq!(conv.mont.is_none(), src.len() == 9);
            let s_big: u128 = src
                .iter()
                .fold(1u128, |a, &i| a.saturating_mul(primes[i].m.value() as u128))
                .min(1 << 126);
            let half = (s_big / 2) as i128;
            let n = 1024;
            // Values spread over the centered range, including the edges.
            let vals: Vec<i128> = (0..n as i128)
                .map(|k| match k {
                    // Near (not at) the edges: exactly at them the float
                    // estimate of u may be off by one (documented above).
                    0 => -half + half / 1024,
                    1 => half - half / 1024,
                    2 => 0,
                    3 => -1,
                    _ => {
                        (k * 0x9E37_79B9_7F4A_7C15 % (2 * half.min(1 << 100))) - half.min(1 << 100)
                    }
                })
                .collect();
            let limbs: Vec<Vec<u64>> = src
                .iter()
                .map(|&i| {
                    let p = primes[i].m.value() as i128;
                    vals.iter().map(|v| v.rem_euclid(p) as u64).collect()
                })
                .collect();
            let x: Vec<&[u64]> = limbs.iter().map(|v| v.as_slice()).collect();
            let mut y = vec![vec![0u64; n]; src.len()];
            let mut u = vec![0u64; n];
            conv.prepare(primes, &x, &mut y, &mut u);
            for (t, pt) in primes.iter().enumerate() {
                if src.contains(&t) {
                    continue;
                }
                let mut out = vec![0u64; n];
                conv.convert(t, &pt.m, &y, &u, &mut out);
                let p = pt.m.value() as i128;
                // (When S > 2^126 the range is clamped, which stays inside it.)
                for (k, v) in vals.iter().enumerate() {
                    assert_eq!(
                        out[k] as i128,
                        v.rem_euclid(p),
                        "src {src:?} target {t} k {k}"
                    );
                }
            }
        }
    }
}
