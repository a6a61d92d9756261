//! Fast (approximate) RNS basis conversion.
//!
//! Given `x` by its residues modulo the primes `s_i` of a basis `S`, the
//! conversion computes, modulo another prime `t`,
//!
//! ```text
//!     sum_i [x_i * (S/s_i)^-1]_{s_i} * (S/s_i)   =   x + u*S,   0 <= u < |S|
//! ```
//!
//! without ever forming the big integer `x`. The multiple `u*S` is harmless
//! in both places it is used: in ModUp it is multiplied by a gadget factor
//! that vanishes modulo QP, and in ModDown it becomes an error of at most
//! `|P|` after the division by P (see `keyswitch.rs`).
//!
//! Cost per coefficient and target: `|S|` products accumulated in 128 bits
//! and one Barrett reduction (the sum of up to 64 products of 62-bit values
//! fits in a `u128`).

use super::arith::{Modulus, ShoupConst};
use super::context::PrimeTable;

/// Precomputed constants to convert from one source basis to any prime of
/// the context.
#[derive(Debug, Clone)]
pub(crate) struct BasisConverter {
    /// Global indices of the source primes.
    pub(crate) src: Vec<usize>,
    /// `(S/s_i)^-1 mod s_i`.
    hat_inv: Vec<ShoupConst>,
    /// `hat_mod[t][i] = (S/s_i) mod prime_t` for every global prime `t`.
    hat_mod: Vec<Vec<u64>>,
    /// `S mod prime_t` for every global prime `t`.
    prod_mod: Vec<u64>,
    /// `floor(S/2) mod prime_t` for every global prime `t`.
    half_mod: Vec<u64>,
    /// `1 / s_i` in floating point.
    inv_src: Vec<f64>,
}

impl BasisConverter {
    /// Constants for the source basis `src` (global indices into `primes`).
    pub(crate) fn new(primes: &[PrimeTable], src: Vec<usize>) -> Self {
        let hat_inv = src
            .iter()
            .map(|&i| {
                let m = &primes[i].m;
                let hat = src
                    .iter()
                    .filter(|&&j| j != i)
                    .fold(1u64, |acc, &j| m.mul(acc, m.reduce(primes[j].m.value())));
                ShoupConst::new(m, m.inv(hat))
            })
            .collect();
        let hat_mod = primes
            .iter()
            .map(|t| {
                let m = &t.m;
                src.iter()
                    .map(|&i| {
                        src.iter()
                            .filter(|&&j| j != i)
                            .fold(1u64, |acc, &j| m.mul(acc, m.reduce(primes[j].m.value())))
                    })
                    .collect()
            })
            .collect();
        let prod_mod = primes
            .iter()
            .map(|t| {
                src.iter().fold(1u64, |acc, &j| {
                    t.m.mul(acc, t.m.reduce(primes[j].m.value()))
                })
            })
            .collect();
        let inv_src = src
            .iter()
            .map(|&i| 1.0 / primes[i].m.value() as f64)
            .collect();
        // floor(S/2) = (S - 1)/2 because S is odd.
        let half_mod = primes
            .iter()
            .zip(&prod_mod)
            .map(|(t, &sm)| t.m.mul(t.m.sub(sm, 1), t.m.inv(2)))
            .collect();
        Self {
            src,
            hat_inv,
            hat_mod,
            prod_mod,
            half_mod,
            inv_src,
        }
    }

    /// First step: `y_i = x'_i * (S/s_i)^-1 mod s_i` for every source limb
    /// (coefficient form), written into `y`. With `center`, `x' = x + floor(S/2)`
    /// so that [`Self::correct`] can return the centered representative.
    pub(crate) fn scale_inputs(
        &self,
        primes: &[PrimeTable],
        x: &[&[u64]],
        y: &mut [Vec<u64>],
        center: bool,
    ) {
        for (((xi, yi), &gi), c) in x.iter().zip(y.iter_mut()).zip(&self.src).zip(&self.hat_inv) {
            let m = &primes[gi].m;
            let h = if center { self.half_mod[gi] } else { 0 };
            for (o, &v) in yi.iter_mut().zip(xi.iter()) {
                *o = c.mul(m, m.add(v, h));
            }
        }
    }

    /// For an exact conversion: the multiple `u` of S that the fast
    /// conversion adds, per coefficient, from the scaled inputs `y`:
    /// `u = floor(sum_i y_i / s_i)` evaluated in floating point (Halevi,
    /// Polyakov, Shoup). It can be off by one only when the value is within
    /// ~2^-50 S of a multiple of S, which for ModDown's uniform-looking
    /// inputs happens with negligible probability and then costs an error
    /// of 1 after the division.
    pub(crate) fn overflow(&self, y: &[Vec<u64>], out: &mut [u64]) {
        out.fill(0);
        let mut acc = vec![0f64; out.len()];
        for (yi, &inv) in y.iter().zip(&self.inv_src) {
            for (a, &v) in acc.iter_mut().zip(yi) {
                *a += v as f64 * inv;
            }
        }
        for (o, a) in out.iter_mut().zip(&acc) {
            *o = *a as u64;
        }
    }

    /// Subtracts `u * S` (and `floor(S/2)` with `center`) modulo the global
    /// prime `target` from a converted limb, making the fast conversion
    /// exact (see [`Self::overflow`]): the result is then the representative
    /// of `x mod S` in `[0, S)`, or in `[-S/2, S/2)` with `center`.
    pub(crate) fn correct(
        &self,
        target: usize,
        tm: &Modulus,
        u: &[u64],
        center: bool,
        out: &mut [u64],
    ) {
        let sm = self.prod_mod[target];
        let sms = tm.shoup(sm);
        let h = if center { self.half_mod[target] } else { 0 };
        for (o, &k) in out.iter_mut().zip(u) {
            *o = tm.sub(tm.sub(*o, tm.mul_shoup(k, sm, sms)), h);
        }
    }

    /// Second step: the residues modulo the global prime `target` of the
    /// converted value, from the scaled inputs `y` of [`Self::scale_inputs`].
    pub(crate) fn convert_to(&self, target: usize, tm: &Modulus, y: &[Vec<u64>], out: &mut [u64]) {
        let hm = &self.hat_mod[target];
        match y.len() {
            1 => {
                let h0 = hm[0];
                for (o, &a) in out.iter_mut().zip(&y[0]) {
                    *o = tm.reduce_u128(a as u128 * h0 as u128);
                }
            }
            2 => {
                let (h0, h1) = (hm[0] as u128, hm[1] as u128);
                for ((o, &a), &b) in out.iter_mut().zip(&y[0]).zip(&y[1]) {
                    *o = tm.reduce_u128(a as u128 * h0 + b as u128 * h1);
                }
            }
            3 => {
                let (h0, h1, h2) = (hm[0] as u128, hm[1] as u128, hm[2] as u128);
                for (((o, &a), &b), &c) in out.iter_mut().zip(&y[0]).zip(&y[1]).zip(&y[2]) {
                    *o = tm.reduce_u128(a as u128 * h0 + b as u128 * h1 + c as u128 * h2);
                }
            }
            _ => {
                // Accumulate in chunks of 3 products (< 2^64 * p each time)
                // so that reduce_u128's input bound always holds.
                out.fill(0);
                for (chunk_idx, chunk) in y.chunks(3).enumerate() {
                    let hs = &hm[chunk_idx * 3..chunk_idx * 3 + chunk.len()];
                    for (k, o) in out.iter_mut().enumerate() {
                        let mut acc = *o as u128;
                        for (yi, &h) in chunk.iter().zip(hs) {
                            acc += yi[k] as u128 * h as u128;
                        }
                        *o = tm.reduce_u128(acc);
                    }
                }
            }
        }
    }
}
