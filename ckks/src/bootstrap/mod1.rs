//! EvalMod: the homomorphic reduction modulo `q_0`, as a scaled sine.
//!
//! After CoeffsToSlots a slot holds `y = (m / q_0 + I) / K` with `I` an
//! integer, `|I| < K`, and `|m / q_0| <= 2^-log_message_ratio`. We want
//! `m / q_0 = (K y) mod 1`, approximated by `sin(2 pi K y) / 2 pi`, whose
//! error `(2 pi)^2 x^3 / 6` is small because `x = m / q_0` is small.
//!
//! The sine is not interpolated directly (it would need a degree of about
//! `2 pi K`): following Han and Ki ("Better bootstrapping", 2020) we
//! interpolate the scaled cosine `a cos(2 pi (K y - 1/4) / 2^r)` on
//! `[-1, 1]` (Chebyshev interpolation, a low degree because the argument
//! shrinks by `2^r`) and apply the double-angle formula `r` times:
//!
//! ```text
//!     c_(i+1) = 2 c_i^2 - a^(2^(i+1)),   c_i = a^(2^i) cos(2^i theta)
//! ```
//!
//! With `a = (1 / 2 pi)^(1 / 2^r)` the last step yields
//! `cos(2 pi K y - pi / 2) / 2 pi = sin(2 pi K y) / 2 pi` without a
//! multiplication by a constant. Scales are set backwards from the output
//! scale so that each square-and-rescale lands exactly on it.

use crate::error::CkksError;
use crate::scheme::ciphertext::Ciphertext;
use crate::scheme::evaluator::Evaluator;

use crate::circuits::polynomial::Polynomial;

/// Parameters of EvalMod.
#[derive(Clone, Debug, PartialEq)]
pub struct Mod1Params {
    /// Bit size of the EvalMod primes (and scale of its intermediate values).
    pub log_scale: u32,
    /// Range: the interpolation covers `K y` in `[-K, K]`, so `|I| < K` is
    /// required (`K >= 0.5 + 8 sigma` for the key's Hamming weight, see
    /// [`Mod1Params::validate`]).
    pub k: u32,
    /// Number of double-angle iterations `r`.
    pub double_angle: u32,
    /// Degree of the Chebyshev interpolant of the scaled cosine.
    pub degree: usize,
    /// log2 of `q_0 / max |m|`: the input is scaled down so that the
    /// message uses at most this fraction of `q_0`.
    pub log_message_ratio: u32,
}

impl Default for Mod1Params {
    /// K = 16 (for an ephemeral secret of weight 32), r = 3, degree 40
    /// (the Chebyshev tail is below 2^-51, the f64 floor of the
    /// interpolation: higher degrees do not improve it), 60-bit primes,
    /// ratio 2^8.
    fn default() -> Self {
        Self {
            log_scale: 60,
            k: 16,
            double_angle: 3,
            degree: 40,
            log_message_ratio: 8,
        }
    }
}

impl Mod1Params {
    /// Levels consumed: the polynomial plus one per double angle.
    pub fn depth(&self) -> usize {
        self.polynomial().depth() + self.double_angle as usize
    }

    /// The scaled cosine in Chebyshev basis on [-1, 1].
    pub(crate) fn polynomial(&self) -> Polynomial {
        let k = self.k as f64;
        let r = (1u64 << self.double_angle) as f64;
        let a = (1.0 / (2.0 * std::f64::consts::PI)).powf(1.0 / r);
        let f = |y: f64| a * (2.0 * std::f64::consts::PI * (k * y - 0.25) / r).cos();
        Polynomial::chebyshev(chebyshev_interpolation(f, self.degree), -1.0, 1.0)
    }

    /// `a^(2^(i+1))` for each double-angle step `i`.
    fn double_angle_constants(&self) -> Vec<f64> {
        let r = (1u64 << self.double_angle) as f64;
        let a = (1.0 / (2.0 * std::f64::consts::PI)).powf(1.0 / r);
        (0..self.double_angle)
            .map(|i| a.powf((1u64 << (i + 1)) as f64))
            .collect()
    }

    /// Checks the range against the secret's Hamming weight `h`: `I` is a
    /// rounding of `c_0 / q_0 + sum of h terms uniform in [-1/2, 1/2]`,
    /// standard deviation `sigma = sqrt((h + 1) / 12)`; we ask
    /// `K - 1/2 >= 8 sigma` (a Gaussian tail of 2^-49 per coefficient, an
    /// over-estimate for these bounded sums). h = 32 gives 13.3 <= 15.5.
    pub fn validate(&self, h: usize) -> Result<(), CkksError> {
        let sigma = ((h as f64 + 1.0) / 12.0).sqrt();
        if (self.k as f64) - 0.5 < 8.0 * sigma {
            return Err(CkksError::InvalidParams(format!(
                "bootstrapping: EvalMod range K = {} is too small for a secret of Hamming weight {h} \
                 (needs K >= {:.1}); use sparse-secret encapsulation or a larger K",
                self.k,
                0.5 + 8.0 * sigma
            )));
        }
        if self.degree < 2 || self.log_scale < 20 || self.log_scale > 61 {
            return Err(CkksError::InvalidParams(format!(
                "bootstrapping: EvalMod degree {} / prime size {} out of range",
                self.degree, self.log_scale
            )));
        }
        Ok(())
    }

    /// Evaluates `sin(2 pi K y) / 2 pi` on `ct` (values `y` in [-1, 1]);
    /// the output has scale exactly `out_scale` and is `depth()` levels down.
    pub(crate) fn evaluate(
        &self,
        eval: &Evaluator,
        ct: &Ciphertext,
        out_scale: f64,
    ) -> Result<Ciphertext, CkksError> {
        let ctx = eval.context().clone();
        let poly = self.polynomial();
        let after_poly = ct
            .level
            .checked_sub(poly.depth())
            .ok_or(CkksError::InvalidLevel {
                op: "bootstrap (EvalMod)",
                level: ct.level,
                max: ctx.max_level(),
            })?;
        let r = self.double_angle as usize;
        if after_poly < r {
            return Err(CkksError::InvalidLevel {
                op: "bootstrap (EvalMod)",
                level: ct.level,
                max: ctx.max_level(),
            });
        }
        // Step i squares at level after_poly - i and rescales by that prime.
        let mut target = out_scale;
        for i in (0..r).rev() {
            target = (target * ctx.q(after_poly - i) as f64).sqrt();
        }
        let mut c = eval.evaluate_polynomial(ct, &poly, target)?;
        for sub in self.double_angle_constants() {
            let sq = eval.square_relin(&c)?;
            let twice = eval.add(&sq, &sq)?;
            // After the rescale: at the squared scale the constant may not
            // fit the evaluator's 128-bit constant encoding.
            c = eval.add_const(&eval.rescale(&twice)?, -sub)?;
        }
        Ok(c)
    }
}

/// Chebyshev interpolant of degree `d` of `f` on [-1, 1]:
/// `f ≈ sum_j c_j T_j`, from the values at the `d + 1` Chebyshev nodes
/// (a discrete cosine transform; stable in floating point).
pub(crate) fn chebyshev_interpolation(f: impl Fn(f64) -> f64, d: usize) -> Vec<f64> {
    use std::f64::consts::PI;
    let n = d + 1;
    let theta: Vec<f64> = (0..n).map(|k| PI * (k as f64 + 0.5) / n as f64).collect();
    let vals: Vec<f64> = theta.iter().map(|t| f(t.cos())).collect();
    (0..n)
        .map(|j| {
            let s: f64 = vals
                .iter()
                .zip(&theta)
                .map(|(v, t)| v * (j as f64 * t).cos())
                .sum();
            s * if j == 0 { 1.0 } else { 2.0 } / n as f64
        })
        .collect()
}

/// `sum_j c_j T_j(x)` (Clenshaw).
#[cfg(test)]
pub(crate) fn chebyshev_eval(c: &[f64], x: f64) -> f64 {
    let (mut b1, mut b2) = (0.0, 0.0);
    for &cj in c.iter().skip(1).rev() {
        let b0 = 2.0 * x * b1 - b2 + cj;
        b2 = b1;
        b1 = b0;
    }
    x * b1 - b2 + c.first().copied().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    /// The cleartext pipeline (interpolant + double angles) computes
    /// `sin(2 pi K y) / 2 pi` on the whole range to 2^-43 (the cosine
    /// interpolation error, at the f64 floor of about 2^-50, amplified by
    /// up to 4 per double angle),
    /// and `(K y) mod 1` near the integers to the sine's own error.
    #[test]
    fn scaled_cosine_and_double_angles_give_the_sine() {
        let p = Mod1Params::default();
        let poly = p.polynomial();
        let k = p.k as f64;
        let mut worst: f64 = 0.0;
        for i in 0..=20000 {
            let y = -1.0 + 2.0 * i as f64 / 20000.0;
            let mut c = chebyshev_eval(&poly.coeffs, y);
            for sub in p.double_angle_constants() {
                c = 2.0 * c * c - sub;
            }
            let want = (2.0 * PI * k * y).sin() / (2.0 * PI);
            worst = worst.max((c - want).abs());
        }
        assert!(worst < 2f64.powi(-43), "max error 2^{:.1}", worst.log2());
        // Near an integer I: x = 2^-10 -> error (2 pi)^2 x^3 / 6 = 2^-27.3.
        let x = 2f64.powi(-10);
        let y = (3.0 + x) / k;
        let mut c = chebyshev_eval(&poly.coeffs, y);
        for sub in p.double_angle_constants() {
            c = 2.0 * c * c - sub;
        }
        assert!((c - x).abs() < 2f64.powi(-27), "{}", (c - x).abs().log2());
    }

    #[test]
    fn interpolation_degree_is_enough() {
        // The tail of the Chebyshev series is negligible at the default degree.
        let p = Mod1Params::default();
        let c = p.polynomial().coeffs;
        let tail = c[c.len() - 2..].iter().fold(0.0f64, |a, x| a.max(x.abs()));
        assert!(tail < 2f64.powi(-51), "tail 2^{:.1}", tail.log2());
    }

    #[test]
    fn range_check_follows_the_hamming_weight() {
        let p = Mod1Params::default();
        p.validate(32).unwrap();
        assert!(matches!(p.validate(192), Err(CkksError::InvalidParams(_))));
        let wide = Mod1Params { k: 34, ..p };
        wide.validate(192).unwrap();
    }
}
