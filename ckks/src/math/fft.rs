//! The special FFT of the CKKS canonical embedding, in O(N log N).
//!
//! With `M = N/2` slots and `ζ = exp(iπ/N)`, slot `j` of a real polynomial
//! `m` is `m(ζ^(5^j))`. Since `5^j mod 4M` runs over the residues `≡ 1 mod 4`,
//! write `5^j = 4 t_j + 1`; since `ζ^(M e) = i` for `e ≡ 1 mod 4`, folding
//! `u_k = m_k + i m_(k+M)` gives
//!
//! ```text
//!     m(ζ^(4t+1)) = sum_{k<M} (u_k ζ^k) exp(2πi t k / M)
//! ```
//!
//! so decoding is a twist by `ζ^k`, a length-M DFT, and the slot
//! permutation `j -> t_j`; encoding runs the same steps backwards. The fold
//! is a bijection between real polynomials and complex slot vectors, which
//! is why CKKS packs N/2 complex (here: real) numbers.

use std::ops::{Add, Mul, Sub};

/// A complex number (the crate avoids a dependency for this).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Complex {
    /// Real part.
    pub re: f64,
    /// Imaginary part.
    pub im: f64,
}

impl Complex {
    /// `re + i im`.
    pub const fn new(re: f64, im: f64) -> Self {
        Self { re, im }
    }

    /// `exp(i theta)`.
    pub fn cis(theta: f64) -> Self {
        Self::new(theta.cos(), theta.sin())
    }

    /// Complex conjugate.
    pub fn conj(self) -> Self {
        Self::new(self.re, -self.im)
    }

    /// Modulus.
    pub fn abs(self) -> f64 {
        self.re.hypot(self.im)
    }

    /// Multiplication by a real.
    pub fn scale(self, s: f64) -> Self {
        Self::new(self.re * s, self.im * s)
    }
}

impl Add for Complex {
    type Output = Complex;
    fn add(self, o: Complex) -> Complex {
        Complex::new(self.re + o.re, self.im + o.im)
    }
}

impl Sub for Complex {
    type Output = Complex;
    fn sub(self, o: Complex) -> Complex {
        Complex::new(self.re - o.re, self.im - o.im)
    }
}

impl Mul for Complex {
    type Output = Complex;
    fn mul(self, o: Complex) -> Complex {
        Complex::new(
            self.re * o.re - self.im * o.im,
            self.re * o.im + self.im * o.re,
        )
    }
}

/// Tables for the slot transform of a ring of degree `N = 2M`.
#[derive(Debug, Clone)]
pub(crate) struct SlotFft {
    m: usize,
    /// `exp(2πi k / M)` for `k < M/2`.
    roots: Vec<Complex>,
    /// Bit reversal on log2(M) bits.
    bitrev: Vec<u32>,
    /// `ζ^k = exp(iπ k / N)` for `k < M`.
    twist: Vec<Complex>,
    /// `t_j = (5^j mod 4M - 1) / 4`: DFT index of slot `j`.
    pub(crate) slot_pos: Vec<u32>,
}

impl SlotFft {
    /// Tables for `M = slots` (a power of two, at least 2).
    pub(crate) fn new(slots: usize) -> Self {
        let m = slots;
        let log_m = m.trailing_zeros();
        let n = 2 * m;
        let roots = (0..m / 2)
            .map(|k| Complex::cis(2.0 * std::f64::consts::PI * k as f64 / m as f64))
            .collect();
        let bitrev = (0..m)
            .map(|i| crate::math::arith::bit_reverse(i, log_m) as u32)
            .collect();
        let twist = (0..m)
            .map(|k| Complex::cis(std::f64::consts::PI * k as f64 / n as f64))
            .collect();
        let four_m = 4 * m as u64;
        let mut e = 1u64;
        let slot_pos = (0..m)
            .map(|_| {
                let t = ((e - 1) / 4) as u32;
                e = e * 5 % four_m;
                t
            })
            .collect();
        Self {
            m,
            roots,
            bitrev,
            twist,
            slot_pos,
        }
    }

    /// In-place radix-2 DFT of length M: `a_t <- sum_k a_k exp(±2πi t k / M)`
    /// (sign `+` when `inverse` is false; no normalization).
    fn dft(&self, a: &mut [Complex], inverse: bool) {
        let m = self.m;
        for i in 0..m {
            let j = self.bitrev[i] as usize;
            if i < j {
                a.swap(i, j);
            }
        }
        let mut len = 2;
        while len <= m {
            let half = len / 2;
            let stride = m / len;
            for start in (0..m).step_by(len) {
                for k in 0..half {
                    let w = self.roots[k * stride];
                    let w = if inverse { w.conj() } else { w };
                    let u = a[start + k];
                    let v = a[start + k + half] * w;
                    a[start + k] = u + v;
                    a[start + k + half] = u - v;
                }
            }
            len *= 2;
        }
    }

    /// Slots -> folded coefficients: returns `u` with `m_k = Re u_k`,
    /// `m_(k+M) = Im u_k` (unscaled). `slots` may be shorter than M (zero-padded).
    pub(crate) fn slots_to_folded(&self, slots: &[Complex]) -> Vec<Complex> {
        let mut a = vec![Complex::default(); self.m];
        for (j, &z) in slots.iter().enumerate() {
            a[self.slot_pos[j] as usize] = z;
        }
        self.dft(&mut a, true);
        let inv_m = 1.0 / self.m as f64;
        for (x, t) in a.iter_mut().zip(&self.twist) {
            *x = (*x * t.conj()).scale(inv_m);
        }
        a
    }

    /// Folded coefficients -> slots (the inverse of [`Self::slots_to_folded`]).
    pub(crate) fn folded_to_slots(&self, mut u: Vec<Complex>) -> Vec<Complex> {
        for (x, t) in u.iter_mut().zip(&self.twist) {
            *x = *x * *t;
        }
        self.dft(&mut u, false);
        self.slot_pos.iter().map(|&t| u[t as usize]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct O(N^2) evaluation of the real polynomial at the slot roots.
    fn naive_decode(coeffs: &[f64]) -> Vec<Complex> {
        let n = coeffs.len();
        let m = n / 2;
        let mut e = 1u64;
        (0..m)
            .map(|_| {
                let mut acc = Complex::default();
                for (k, &c) in coeffs.iter().enumerate() {
                    let ang =
                        std::f64::consts::PI * ((e * k as u64) % (2 * n as u64)) as f64 / n as f64;
                    acc = acc + Complex::cis(ang).scale(c);
                }
                e = e * 5 % (2 * n as u64);
                acc
            })
            .collect()
    }

    #[test]
    fn fft_matches_naive_and_inverts() {
        let n = 64;
        let f = SlotFft::new(n / 2);
        let coeffs: Vec<f64> = (0..n).map(|i| ((i * 37 % 11) as f64) - 5.0).collect();
        let folded: Vec<Complex> = (0..n / 2)
            .map(|k| Complex::new(coeffs[k], coeffs[k + n / 2]))
            .collect();
        let fast = f.folded_to_slots(folded.clone());
        let slow = naive_decode(&coeffs);
        for (a, b) in fast.iter().zip(&slow) {
            assert!((*a - *b).abs() < 1e-9, "{a:?} vs {b:?}");
        }
        let back = f.slots_to_folded(&fast);
        for (a, b) in back.iter().zip(&folded) {
            assert!((*a - *b).abs() < 1e-9);
        }
    }
}
