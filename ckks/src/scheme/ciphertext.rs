//! Plaintexts and ciphertexts.
//!
//! Both carry their level (number of Q limbs minus one) and their scale Δ:
//! a slot value `z` is represented by the integer polynomial `round(Δ z)`.
//! Polynomials are kept in NTT form so that products are pointwise.

use crate::error::CkksError;
use crate::ring::context::Context;
use crate::ring::poly::RnsPoly;

/// An encoded (unencrypted) message.
#[derive(Clone, Debug, PartialEq)]
pub struct Plaintext {
    /// The message polynomial on the basis `q_0 .. q_level`, NTT form.
    pub poly: RnsPoly,
    /// Level: the polynomial has `level + 1` limbs.
    pub level: usize,
    /// Scale Δ of the encoding.
    pub scale: f64,
}

/// A CKKS ciphertext `(c_0, c_1, ...)`, decrypting to `sum_i c_i s^i`.
#[derive(Clone, Debug, PartialEq)]
pub struct Ciphertext {
    /// The parts, each on the basis `q_0 .. q_level` in NTT form. Two parts
    /// normally; three after a multiplication before relinearization.
    pub parts: Vec<RnsPoly>,
    /// Level: every part has `level + 1` limbs.
    pub level: usize,
    /// Scale Δ of the encrypted message.
    pub scale: f64,
}

impl Ciphertext {
    /// Degree of the ciphertext (number of parts minus one).
    pub fn degree(&self) -> usize {
        self.parts.len().saturating_sub(1)
    }
}

/// Checks that `poly` fits `ctx` at `level` (NTT form, right sizes).
fn check_poly(ctx: &Context, poly: &RnsPoly, level: usize, what: &str) -> Result<(), CkksError> {
    if !poly.is_ntt() {
        return Err(CkksError::ContextMismatch(format!(
            "{what} is not in NTT form"
        )));
    }
    if poly.num_limbs() != level + 1 {
        return Err(CkksError::ContextMismatch(format!(
            "{what} has {} limbs but its level {level} needs {}",
            poly.num_limbs(),
            level + 1
        )));
    }
    if poly.limbs().iter().any(|l| l.len() != ctx.n()) {
        return Err(CkksError::ContextMismatch(format!(
            "{what} has a limb whose length is not N = {}",
            ctx.n()
        )));
    }
    Ok(())
}

fn check_level_scale(ctx: &Context, level: usize, scale: f64, what: &str) -> Result<(), CkksError> {
    if level > ctx.max_level() {
        return Err(CkksError::ContextMismatch(format!(
            "{what} level {level} exceeds the context's max level {}",
            ctx.max_level()
        )));
    }
    if !(scale.is_finite() && scale > 0.0) {
        return Err(CkksError::InvalidScale(scale));
    }
    Ok(())
}

impl Context {
    /// Checks that a ciphertext belongs to this context.
    pub fn check_ciphertext(&self, ct: &Ciphertext) -> Result<(), CkksError> {
        check_level_scale(self, ct.level, ct.scale, "ciphertext")?;
        if ct.parts.len() < 2 {
            return Err(CkksError::ContextMismatch(format!(
                "ciphertext has {} parts (at least 2 needed)",
                ct.parts.len()
            )));
        }
        for p in &ct.parts {
            check_poly(self, p, ct.level, "ciphertext part")?;
        }
        Ok(())
    }

    /// Checks that a plaintext belongs to this context.
    pub fn check_plaintext(&self, pt: &Plaintext) -> Result<(), CkksError> {
        check_level_scale(self, pt.level, pt.scale, "plaintext")?;
        check_poly(self, &pt.poly, pt.level, "plaintext")
    }
}
