//! CKKS encoding: real (or complex) slot vectors <-> plaintext polynomials.
//!
//! Encoding maps the slots through the inverse special FFT (see `fft.rs`),
//! multiplies by the scale Δ, rounds each coefficient to an integer and
//! reduces it modulo every prime of the level. `Δ * value` may exceed 2^63
//! (Δ up to ~2^60 with values of a few units), so rounding goes through
//! `i128` when needed. Decoding reconstructs each coefficient from its
//! residues with a balanced-digit Garner CRT (`crt.rs`), divides by Δ and
//! runs the forward special FFT.
//!
//! In the conjugate-invariant ring (N real slots) the same FFT of degree 2N
//! is used; see `conjugate_invariant.rs` for how its coefficients map to
//! the ring's N integers.

use std::sync::Arc;

use rayon::prelude::*;

use crate::error::CkksError;
use crate::math::fft::{Complex, SlotFft};
use crate::ring::conjugate_invariant::Ring;
use crate::ring::context::Context;
use crate::ring::poly::{for_each_limb, RnsPoly};
use crate::scheme::ciphertext::Plaintext;

/// Encoder/decoder for one context.
#[derive(Debug, Clone)]
pub struct Encoder {
    ctx: Arc<Context>,
    fft: SlotFft,
}

/// Coefficient of a plaintext before reduction: small ones stay in `i64`.
enum Coeffs {
    Small(Vec<i64>),
    Big(Vec<i128>),
}

impl Encoder {
    /// An encoder for `ctx`.
    pub fn new(ctx: &Arc<Context>) -> Self {
        Self {
            ctx: ctx.clone(),
            fft: SlotFft::new(ctx.slots()),
        }
    }

    /// The context.
    pub fn context(&self) -> &Arc<Context> {
        &self.ctx
    }

    /// Encodes real `values` (zero-padded to N/2 slots) at `level` and `scale`.
    pub fn encode(&self, values: &[f64], level: usize, scale: f64) -> Result<Plaintext, CkksError> {
        let slots: Vec<Complex> = values.iter().map(|&v| Complex::new(v, 0.0)).collect();
        self.encode_complex(&slots, level, scale)
    }

    /// Encodes complex `values` (zero-padded to N/2 slots) at `level` and `scale`.
    pub fn encode_complex(
        &self,
        values: &[Complex],
        level: usize,
        scale: f64,
    ) -> Result<Plaintext, CkksError> {
        let basis = self.ctx.basis_q(level);
        let poly = self.encode_on_basis(values, level, scale, &basis)?;
        Ok(Plaintext { poly, level, scale })
    }

    /// Encodes `values` on the basis `Q_level ∪ P` (NTT form): the operand
    /// of products that happen before a ModDown, as in the double-hoisted
    /// linear transform.
    pub(crate) fn encode_complex_qp(
        &self,
        values: &[Complex],
        level: usize,
        scale: f64,
    ) -> Result<RnsPoly, CkksError> {
        let basis = self.ctx.basis_qp(level);
        self.encode_on_basis(values, level, scale, &basis)
    }

    /// The integer polynomial `round(scale * slots_to_coeffs(values))`,
    /// reduced on `basis` (whose first `level + 1` primes are Q primes) and
    /// in NTT form.
    fn encode_on_basis(
        &self,
        values: &[Complex],
        level: usize,
        scale: f64,
        basis: &[usize],
    ) -> Result<RnsPoly, CkksError> {
        let ctx = &self.ctx;
        if values.len() > ctx.slots() {
            return Err(CkksError::TooManyValues {
                given: values.len(),
                slots: ctx.slots(),
            });
        }
        if level > ctx.max_level() {
            return Err(CkksError::InvalidLevel {
                op: "encode",
                level,
                max: ctx.max_level(),
            });
        }
        if !(scale.is_finite() && scale >= 1.0) {
            return Err(CkksError::InvalidScale(scale));
        }
        for v in values {
            if !(v.re.is_finite() && v.im.is_finite()) {
                return Err(CkksError::ValueOutOfRange {
                    value: if v.re.is_finite() { v.im } else { v.re },
                    scale,
                    reason: "not finite",
                });
            }
        }
        let folded = self.fft.slots_to_folded(values);
        let mut scaled = vec![0f64; ctx.n()];
        match ctx.ring() {
            Ring::Standard => {
                let m = ctx.slots();
                for (k, u) in folded.iter().enumerate() {
                    scaled[k] = (u.re * scale).round();
                    scaled[k + m] = (u.im * scale).round();
                }
            }
            Ring::ConjugateInvariant => {
                // Real slots: the degree-2N polynomial is conjugate-invariant,
                // and its first N coefficients are the element.
                if let Some(v) = values.iter().find(|v| v.im != 0.0) {
                    return Err(CkksError::ValueOutOfRange {
                        value: v.im,
                        scale,
                        reason:
                            "the conjugate-invariant ring has real slots (imaginary part given)",
                    });
                }
                for (x, u) in scaled.iter_mut().zip(&folded) {
                    *x = (u.re * scale).round();
                }
            }
        }
        let max_abs = scaled.iter().fold(0f64, |a, &b| a.max(b.abs()));
        // The coefficients must stay below Q_level / 2 to be decodable
        // (also on Q_level ∪ P: the product is divided by P afterwards).
        let log_q: f64 = ctx.moduli_q()[..=level]
            .iter()
            .map(|&q| (q as f64).log2())
            .sum();
        if max_abs > 0.0 && max_abs.log2() >= log_q - 1.0 {
            return Err(CkksError::ValueOutOfRange {
                value: max_abs / scale,
                scale,
                reason: "scaled coefficients exceed Q/2 at this level",
            });
        }
        let coeffs = if max_abs < 9.0e18 {
            Coeffs::Small(scaled.iter().map(|&x| x as i64).collect())
        } else {
            Coeffs::Big(scaled.iter().map(|&x| x as i128).collect())
        };
        let mut poly = RnsPoly::zero(ctx.n(), basis.len(), false);
        for_each_limb(&mut poly, basis, true, |limb, i| {
            let t = &ctx.primes[i];
            match &coeffs {
                Coeffs::Small(c) => {
                    for (x, &v) in limb.iter_mut().zip(c) {
                        *x = t.m.from_i64(v);
                    }
                }
                Coeffs::Big(c) => {
                    for (x, &v) in limb.iter_mut().zip(c) {
                        *x = t.m.from_i128(v);
                    }
                }
            }
            t.fwd(limb);
        });
        poly.ntt = true;
        Ok(poly)
    }

    /// Decodes the real parts of the N/2 slots.
    pub fn decode(&self, pt: &Plaintext) -> Result<Vec<f64>, CkksError> {
        Ok(self.decode_complex(pt)?.into_iter().map(|z| z.re).collect())
    }

    /// Decodes the N/2 complex slots.
    pub fn decode_complex(&self, pt: &Plaintext) -> Result<Vec<Complex>, CkksError> {
        let ctx = &self.ctx;
        ctx.check_plaintext(pt)?;
        let basis = ctx.basis_q(pt.level);
        let mut poly = pt.poly.clone();
        ctx.poly_intt(&mut poly, &basis);
        let coeffs = self.reconstruct(&poly);
        let m = ctx.slots();
        let inv_scale = 1.0 / pt.scale;
        let folded: Vec<Complex> = match ctx.ring() {
            Ring::Standard => (0..m)
                .map(|k| Complex::new(coeffs[k] * inv_scale, coeffs[k + m] * inv_scale))
                .collect(),
            // Coefficient N + k of the degree-2N polynomial is -c_(N-k) (0 at N).
            Ring::ConjugateInvariant => (0..m)
                .map(|k| {
                    let hi = if k == 0 { 0.0 } else { -coeffs[m - k] };
                    Complex::new(coeffs[k] * inv_scale, hi * inv_scale)
                })
                .collect(),
        };
        let mut slots = self.fft.folded_to_slots(folded);
        if ctx.ring() == Ring::ConjugateInvariant {
            for z in &mut slots {
                z.im = 0.0;
            }
        }
        Ok(slots)
    }

    /// Centered coefficients of a coefficient-form polynomial on `q_0..q_l`, as f64.
    fn reconstruct(&self, poly: &RnsPoly) -> Vec<f64> {
        let n = self.ctx.n();
        let l = poly.num_limbs();
        let garner = &self.ctx.garner;
        let mut out = vec![0f64; n];
        out.par_chunks_mut(1024).enumerate().for_each(|(c, chunk)| {
            let mut res = vec![0u64; l];
            let mut digits = vec![0i64; l];
            for (k, o) in chunk.iter_mut().enumerate() {
                let idx = c * 1024 + k;
                for (r, limb) in res.iter_mut().zip(poly.limbs()) {
                    *r = limb[idx];
                }
                *o = garner.to_f64(&res, &mut digits);
            }
        });
        out
    }
}
