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
        Self { src, hat_inv, hat_mod }
    }

    /// Number of source primes.
    pub(crate) fn len(&self) -> usize {
        self.src.len()
    }

    /// First step: `y_i = x_i * (S/s_i)^-1 mod s_i` for every source limb
    /// (coefficient form), written into `y`.
    pub(crate) fn scale_inputs(&self, primes: &[PrimeTable], x: &[&[u64]], y: &mut [Vec<u64>]) {
        for (((xi, yi), &gi), c) in x.iter().zip(y.iter_mut()).zip(&self.src).zip(&self.hat_inv) {
            let m = &primes[gi].m;
            for (o, &v) in yi.iter_mut().zip(xi.iter()) {
                *o = c.mul(m, v);
            }
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
