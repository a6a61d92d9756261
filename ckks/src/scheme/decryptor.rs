//! Decryption: `m = c_0 + c_1 s + c_2 s^2 + ...` (Horner in `s`).

use std::sync::Arc;

use crate::error::CkksError;
use crate::ring::context::Context;
use crate::scheme::ciphertext::{Ciphertext, Plaintext};
use crate::scheme::keys::SecretKey;

/// Decrypts ciphertexts of any degree with the secret key.
#[derive(Debug)]
pub struct Decryptor {
    ctx: Arc<Context>,
    sk: SecretKey,
}

impl Decryptor {
    /// A decryptor for `sk`.
    pub fn new(ctx: &Arc<Context>, sk: &SecretKey) -> Self {
        Self {
            ctx: ctx.clone(),
            sk: sk.clone(),
        }
    }

    /// The plaintext of `ct` (same level and scale).
    pub fn decrypt(&self, ct: &Ciphertext) -> Result<Plaintext, CkksError> {
        let ctx = &self.ctx;
        ctx.check_ciphertext(ct)?;
        if self.sk.ntt.num_limbs() != ctx.basis_all().len() || self.sk.ntt.n() != ctx.n() {
            return Err(CkksError::ContextMismatch(
                "secret key was generated for another parameter set".into(),
            ));
        }
        let basis = ctx.basis_q(ct.level);
        let s = self.sk.ntt.prefix(ct.level + 1);
        let mut acc = ct.parts[ct.parts.len() - 1].clone();
        for part in ct.parts[..ct.parts.len() - 1].iter().rev() {
            acc = ctx.poly_mul(&acc, &s, &basis);
            ctx.poly_add_assign(&mut acc, part, &basis);
        }
        Ok(Plaintext {
            poly: acc,
            level: ct.level,
            scale: ct.scale,
        })
    }
}
