//! Homomorphic operations on ciphertexts.
//!
//! Level and scale discipline: additive operations need equal levels and
//! scales (relative difference at most [`SCALE_TOLERANCE`]); products
//! multiply the scales; `rescale` divides by the last prime `q_level`
//! exactly (the scale is tracked as an `f64`, not rounded to a power of
//! two). Nothing is adjusted implicitly: the compiler decides levels and
//! scales, and a mismatch is a [`CkksError`] naming the operation.

use std::sync::Arc;

use rayon::prelude::*;

use crate::error::CkksError;
use crate::ring::conjugate_invariant::Ring;
use crate::ring::context::Context;
use crate::ring::poly::{for_each_limb, Op, RnsPoly};
use crate::scheme::ciphertext::{Ciphertext, Plaintext};
use crate::scheme::keys::{GaloisKeys, Mask, RelinearizationKey, SwitchingKey};
use crate::scheme::keyswitch::Decomposed;

/// Largest relative difference of two scales that still count as equal.
pub const SCALE_TOLERANCE: f64 = 1e-9;

/// Whether two scales are equal within [`SCALE_TOLERANCE`].
pub fn scales_match(a: f64, b: f64) -> bool {
    (a - b).abs() <= SCALE_TOLERANCE * a.abs().max(b.abs())
}

/// Evaluates homomorphic operations with optional evaluation keys.
#[derive(Debug, Clone)]
pub struct Evaluator {
    ctx: Arc<Context>,
    rlk: Option<RelinearizationKey>,
    gks: Option<GaloisKeys>,
}

impl Evaluator {
    /// An evaluator; keys are shared, not copied.
    pub fn new(
        ctx: &Arc<Context>,
        rlk: Option<&RelinearizationKey>,
        gks: Option<&GaloisKeys>,
    ) -> Self {
        Self {
            ctx: ctx.clone(),
            rlk: rlk.cloned(),
            gks: gks.cloned(),
        }
    }

    /// The context.
    pub fn context(&self) -> &Arc<Context> {
        &self.ctx
    }

    /// The Galois keys, if any.
    pub fn galois_keys(&self) -> Option<&GaloisKeys> {
        self.gks.as_ref()
    }

    fn check_same(
        &self,
        op: &'static str,
        a: &Ciphertext,
        b_level: usize,
        b_scale: f64,
    ) -> Result<(), CkksError> {
        if a.level != b_level {
            return Err(CkksError::LevelMismatch {
                op,
                left: a.level,
                right: b_level,
            });
        }
        if !scales_match(a.scale, b_scale) {
            return Err(CkksError::ScaleMismatch {
                op,
                left: a.scale,
                right: b_scale,
            });
        }
        Ok(())
    }

    pub(crate) fn check_degree(
        op: &'static str,
        ct: &Ciphertext,
        expected: usize,
    ) -> Result<(), CkksError> {
        if ct.degree() != expected {
            return Err(CkksError::DegreeMismatch {
                op,
                expected,
                got: ct.degree(),
            });
        }
        Ok(())
    }

    // ---------------------------------------------------------------- additive

    /// `a + b` (same level and scale; degrees may differ).
    pub fn add(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext, CkksError> {
        self.add_sub(a, b, Op::Add, "add")
    }

    /// `a += b`.
    pub fn add_assign(&self, a: &mut Ciphertext, b: &Ciphertext) -> Result<(), CkksError> {
        self.add_sub_assign(a, b, false, "add")
    }

    /// `a - b` (same level and scale).
    pub fn sub(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext, CkksError> {
        self.add_sub(a, b, Op::Sub, "sub")
    }

    fn add_sub(
        &self,
        a: &Ciphertext,
        b: &Ciphertext,
        op: Op,
        name: &'static str,
    ) -> Result<Ciphertext, CkksError> {
        let ctx = &self.ctx;
        ctx.check_ciphertext(a)?;
        ctx.check_ciphertext(b)?;
        self.check_same(name, a, b.level, b.scale)?;
        let basis = ctx.basis_q(a.level);
        let common = a.parts.len().min(b.parts.len());
        let mut parts: Vec<RnsPoly> = (0..common)
            .map(|k| ctx.poly_combine(op, &a.parts[k], &b.parts[k], &basis))
            .collect();
        // A degree-2 operand (before relinearization) keeps its extra part.
        parts.extend(a.parts[common..].iter().cloned());
        for y in &b.parts[common..] {
            let mut y = y.clone();
            if let Op::Sub = op {
                ctx.poly_neg_assign(&mut y, &basis);
            }
            parts.push(y);
        }
        Ok(Ciphertext {
            parts,
            level: a.level,
            scale: a.scale,
        })
    }

    /// `a -= b`.
    pub fn sub_assign(&self, a: &mut Ciphertext, b: &Ciphertext) -> Result<(), CkksError> {
        self.add_sub_assign(a, b, true, "sub")
    }

    fn add_sub_assign(
        &self,
        a: &mut Ciphertext,
        b: &Ciphertext,
        sub: bool,
        op: &'static str,
    ) -> Result<(), CkksError> {
        let ctx = &self.ctx;
        ctx.check_ciphertext(a)?;
        ctx.check_ciphertext(b)?;
        self.check_same(op, a, b.level, b.scale)?;
        let basis = ctx.basis_q(a.level);
        while a.parts.len() < b.parts.len() {
            a.parts.push(RnsPoly::zero(ctx.n(), a.level + 1, true));
        }
        for (x, y) in a.parts.iter_mut().zip(&b.parts) {
            if sub {
                ctx.poly_sub_assign(x, y, &basis);
            } else {
                ctx.poly_add_assign(x, y, &basis);
            }
        }
        Ok(())
    }

    /// `-a`.
    pub fn neg(&self, a: &Ciphertext) -> Result<Ciphertext, CkksError> {
        let ctx = &self.ctx;
        ctx.check_ciphertext(a)?;
        let basis = ctx.basis_q(a.level);
        let mut out = a.clone();
        for p in &mut out.parts {
            ctx.poly_neg_assign(p, &basis);
        }
        Ok(out)
    }

    /// `ct + pt` (same level and scale).
    pub fn add_plain(&self, ct: &Ciphertext, pt: &Plaintext) -> Result<Ciphertext, CkksError> {
        self.add_sub_plain(ct, pt, Op::Add, "add_plain")
    }

    /// `ct - pt` (same level and scale).
    pub fn sub_plain(&self, ct: &Ciphertext, pt: &Plaintext) -> Result<Ciphertext, CkksError> {
        self.add_sub_plain(ct, pt, Op::Sub, "sub_plain")
    }

    fn add_sub_plain(
        &self,
        ct: &Ciphertext,
        pt: &Plaintext,
        op: Op,
        name: &'static str,
    ) -> Result<Ciphertext, CkksError> {
        let ctx = &self.ctx;
        ctx.check_ciphertext(ct)?;
        ctx.check_plaintext(pt)?;
        self.check_same(name, ct, pt.level, pt.scale)?;
        let basis = ctx.basis_q(ct.level);
        // The plaintext only touches c_0.
        let mut parts = vec![ctx.poly_combine(op, &ct.parts[0], &pt.poly, &basis)];
        parts.extend(ct.parts[1..].iter().cloned());
        Ok(Ciphertext {
            parts,
            level: ct.level,
            scale: ct.scale,
        })
    }

    /// Adds the real constant `c` to every slot (encoded at the ciphertext's scale).
    pub fn add_const(&self, ct: &Ciphertext, c: f64) -> Result<Ciphertext, CkksError> {
        let ctx = &self.ctx;
        ctx.check_ciphertext(ct)?;
        let v = round_to_i128(c, ct.scale)?;
        let basis = ctx.basis_q(ct.level);
        let mut out = ct.clone();
        // The constant polynomial v evaluates to v at every root: in NTT
        // form it is v in every slot.
        for_each_limb(&mut out.parts[0], &basis, false, |limb, i| {
            let m = &ctx.primes[i].m;
            let r = m.from_i128(v);
            for x in limb.iter_mut() {
                *x = m.add(*x, r);
            }
        });
        Ok(out)
    }

    // ---------------------------------------------------------- multiplicative

    /// `ct * pt` pointwise in the slots; the scales multiply. Same level needed.
    pub fn mul_plain(&self, ct: &Ciphertext, pt: &Plaintext) -> Result<Ciphertext, CkksError> {
        let ctx = &self.ctx;
        ctx.check_ciphertext(ct)?;
        ctx.check_plaintext(pt)?;
        if ct.level != pt.level {
            return Err(CkksError::LevelMismatch {
                op: "mul_plain",
                left: ct.level,
                right: pt.level,
            });
        }
        let basis = ctx.basis_q(ct.level);
        let parts = ct
            .parts
            .iter()
            .map(|p| ctx.poly_mul(p, &pt.poly, &basis))
            .collect();
        Ok(Ciphertext {
            parts,
            level: ct.level,
            scale: ct.scale * pt.scale,
        })
    }

    /// Multiplies every slot by the real constant `c`, encoded as the
    /// integer `round(c * const_scale)`; the result's scale is
    /// `ct.scale * const_scale`. With `const_scale = 1` and an integer `c`
    /// the scale is unchanged and no rescale is needed.
    pub fn mul_const(
        &self,
        ct: &Ciphertext,
        c: f64,
        const_scale: f64,
    ) -> Result<Ciphertext, CkksError> {
        let ctx = &self.ctx;
        ctx.check_ciphertext(ct)?;
        if !(const_scale.is_finite() && const_scale > 0.0) {
            return Err(CkksError::InvalidScale(const_scale));
        }
        let v = round_to_i128(c, const_scale)?;
        let basis = ctx.basis_q(ct.level);
        let consts: Vec<u64> = ctx.primes.iter().map(|t| t.m.from_i128(v)).collect();
        let mut out = ct.clone();
        for p in &mut out.parts {
            ctx.poly_mul_scalar_assign(p, &basis, &consts);
        }
        out.scale = ct.scale * const_scale;
        Ok(out)
    }

    /// Tensor product `a * b` (degree 1 each): a degree-2 ciphertext whose
    /// scale is the product of the scales. Relinearize before rotating.
    pub fn mul(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext, CkksError> {
        let ctx = &self.ctx;
        ctx.check_ciphertext(a)?;
        ctx.check_ciphertext(b)?;
        Self::check_degree("mul", a, 1)?;
        Self::check_degree("mul", b, 1)?;
        if a.level != b.level {
            return Err(CkksError::LevelMismatch {
                op: "mul",
                left: a.level,
                right: b.level,
            });
        }
        let basis = ctx.basis_q(a.level);
        let (a0, a1, b0, b1) = (&a.parts[0], &a.parts[1], &b.parts[0], &b.parts[1]);
        let d0 = ctx.poly_mul(a0, b0, &basis);
        let mut d1 = ctx.poly_mul(a0, b1, &basis);
        ctx.poly_mul_acc(&mut d1, a1, b0, &basis);
        let d2 = ctx.poly_mul(a1, b1, &basis);
        Ok(Ciphertext {
            parts: vec![d0, d1, d2],
            level: a.level,
            scale: a.scale * b.scale,
        })
    }

    /// `a * a` (degree 2 result), cheaper than `mul(a, a)`.
    pub fn square(&self, a: &Ciphertext) -> Result<Ciphertext, CkksError> {
        let ctx = &self.ctx;
        ctx.check_ciphertext(a)?;
        Self::check_degree("square", a, 1)?;
        let basis = ctx.basis_q(a.level);
        let (a0, a1) = (&a.parts[0], &a.parts[1]);
        let d0 = ctx.poly_mul(a0, a0, &basis);
        let mut d1 = ctx.poly_mul(a0, a1, &basis);
        let d1c = d1.clone();
        ctx.poly_add_assign(&mut d1, &d1c, &basis);
        let d2 = ctx.poly_mul(a1, a1, &basis);
        Ok(Ciphertext {
            parts: vec![d0, d1, d2],
            level: a.level,
            scale: a.scale * a.scale,
        })
    }

    /// Relinearizes a degree-2 ciphertext to degree 1 (degree 1 is returned as is).
    pub fn relinearize(&self, ct: &Ciphertext) -> Result<Ciphertext, CkksError> {
        let ctx = &self.ctx;
        ctx.check_ciphertext(ct)?;
        if ct.degree() == 1 {
            return Ok(ct.clone());
        }
        Self::check_degree("relinearize", ct, 2)?;
        let rlk = self.rlk.as_ref().ok_or(CkksError::MissingRelinKey)?;
        Self::check_key(ctx, &rlk.key)?;
        rlk.key.check_level("relinearize", ct.level)?;
        let basis = ctx.basis_q(ct.level);
        let (mut c0, mut c1) = ctx.key_switch(ct.level, &ct.parts[2], &rlk.key);
        ctx.poly_add_assign(&mut c0, &ct.parts[0], &basis);
        ctx.poly_add_assign(&mut c1, &ct.parts[1], &basis);
        Ok(Ciphertext {
            parts: vec![c0, c1],
            level: ct.level,
            scale: ct.scale,
        })
    }

    /// `relinearize(mul(a, b))`.
    pub fn mul_relin(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext, CkksError> {
        self.relinearize(&self.mul(a, b)?)
    }

    /// `relinearize(square(a))`.
    pub fn square_relin(&self, a: &Ciphertext) -> Result<Ciphertext, CkksError> {
        self.relinearize(&self.square(a)?)
    }

    // ------------------------------------------------------------------ levels

    /// Divides by `q_level` (exactly, with rounding): level - 1, scale / q_level.
    pub fn rescale(&self, ct: &Ciphertext) -> Result<Ciphertext, CkksError> {
        let mut out = ct.clone();
        self.rescale_assign(&mut out)?;
        Ok(out)
    }

    /// In-place [`Self::rescale`].
    pub fn rescale_assign(&self, ct: &mut Ciphertext) -> Result<(), CkksError> {
        let ctx = &self.ctx;
        ctx.check_ciphertext(ct)?;
        if ct.level == 0 {
            return Err(CkksError::RescaleAtLevelZero);
        }
        let level = ct.level;
        for p in &mut ct.parts {
            ctx.divide_round_by_last(p, level);
        }
        ct.scale /= ctx.q(level) as f64;
        ct.level = level - 1;
        Ok(())
    }

    /// Drops limbs down to level `to` (no change of scale or message).
    pub fn level_down(&self, ct: &Ciphertext, to: usize) -> Result<Ciphertext, CkksError> {
        let ctx = &self.ctx;
        ctx.check_ciphertext(ct)?;
        if to > ct.level {
            return Err(CkksError::InvalidLevel {
                op: "level_down",
                level: to,
                max: ct.level,
            });
        }
        let mut out = ct.clone();
        for p in &mut out.parts {
            p.truncate(to + 1);
        }
        out.level = to;
        Ok(out)
    }

    // --------------------------------------------------------------- rotations

    fn check_key(ctx: &Context, key: &SwitchingKey) -> Result<(), CkksError> {
        let ok = key.digits.len() == key.top.map_or(ctx.dnum, |l| ctx.dnum_at(l))
            && key.digits.iter().all(|(b, a)| {
                b.num_limbs() == ctx.basis_all().len()
                    && match a {
                        Mask::Held(a) => a.num_limbs() == b.num_limbs(),
                        Mask::Seeded(_) => true,
                    }
                    && b.n() == ctx.n()
            });
        if ok {
            Ok(())
        } else {
            Err(CkksError::ContextMismatch(
                "evaluation key was generated for another parameter set".into(),
            ))
        }
    }

    pub(crate) fn rotation_key(&self, step: i64) -> Result<(u64, Arc<SwitchingKey>), CkksError> {
        let (g, key) = self
            .gks
            .as_ref()
            .and_then(|k| k.find(step, self.ctx.slots()))
            .ok_or(CkksError::MissingGaloisKey(step))?;
        Self::check_key(&self.ctx, key)?;
        Ok((*g, key.clone()))
    }

    /// Applies `X -> X^g` with the key of `g` to a ciphertext whose `c_1`
    /// was already decomposed.
    fn galois_decomposed(
        &self,
        ct: &Ciphertext,
        dec: &Decomposed,
        g: u64,
        key: &SwitchingKey,
    ) -> Ciphertext {
        let ctx = &self.ctx;
        let basis = ctx.basis_q(ct.level);
        let (mut t0, ks1) = ctx.key_switch_decomposed(dec, key);
        // (c_0 + ks_0, ks_1) decrypts under σ_g^-1(s); permuting both
        // parts by σ_g makes it decrypt under s to σ_g(m).
        ctx.poly_add_assign(&mut t0, &ct.parts[0], &basis);
        let (out0, out1) = rayon::join(|| ctx.poly_permuted(&t0, g), || ctx.poly_permuted(&ks1, g));
        ctx.scratch.give_poly(t0);
        ctx.scratch.give_poly(ks1);
        Ciphertext {
            parts: vec![out0, out1],
            level: ct.level,
            scale: ct.scale,
        }
    }

    /// Rotates the slots left by `step` (right if negative).
    pub fn rotate(&self, ct: &Ciphertext, step: i64) -> Result<Ciphertext, CkksError> {
        let ctx = &self.ctx;
        ctx.check_ciphertext(ct)?;
        Self::check_degree("rotate", ct, 1)?;
        if step.rem_euclid(ctx.slots() as i64) == 0 {
            return Ok(ct.clone());
        }
        let (g, key) = self.rotation_key(step)?;
        key.check_level("rotate", ct.level)?;
        let dec = ctx.decompose(ct.level, &ct.parts[1]);
        let out = self.galois_decomposed(ct, &dec, g, &key);
        ctx.recycle_decomposed(dec);
        Ok(out)
    }

    /// Rotations of `ct` by every step of `steps`, sharing one decomposition
    /// of `c_1` (hoisting): the ModUp is paid once instead of per step.
    /// The result is in the order of `steps`.
    pub fn hoisted_rotate(
        &self,
        ct: &Ciphertext,
        steps: &[i64],
    ) -> Result<Vec<Ciphertext>, CkksError> {
        let ctx = &self.ctx;
        ctx.check_ciphertext(ct)?;
        Self::check_degree("hoisted_rotate", ct, 1)?;
        let slots = ctx.slots() as i64;
        let keys = steps
            .iter()
            .map(|&s| {
                if s.rem_euclid(slots) == 0 {
                    Ok(None)
                } else {
                    let (g, key) = self.rotation_key(s)?;
                    key.check_level("hoisted_rotate", ct.level)?;
                    Ok(Some((g, key)))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let dec = if keys.iter().any(Option::is_some) {
            Some(ctx.decompose(ct.level, &ct.parts[1]))
        } else {
            None
        };
        // The steps share the decomposition and are otherwise independent.
        let out = keys
            .par_iter()
            .map(|k| match (k, &dec) {
                (Some((g, key)), Some(dec)) => self.galois_decomposed(ct, dec, *g, key),
                _ => ct.clone(),
            })
            .collect();
        if let Some(dec) = dec {
            ctx.recycle_decomposed(dec);
        }
        Ok(out)
    }

    /// Complex conjugation of the slots (needs the conjugation key; the
    /// identity on the conjugate-invariant ring, whose slots are real).
    pub fn conjugate(&self, ct: &Ciphertext) -> Result<Ciphertext, CkksError> {
        let ctx = &self.ctx;
        ctx.check_ciphertext(ct)?;
        Self::check_degree("conjugate", ct, 1)?;
        if ctx.ring() == Ring::ConjugateInvariant {
            return Ok(ct.clone());
        }
        let key = self
            .gks
            .as_ref()
            .and_then(|k| k.conjugation.clone())
            .ok_or(CkksError::MissingConjugationKey)?;
        Self::check_key(ctx, &key)?;
        key.check_level("conjugate", ct.level)?;
        let dec = ctx.decompose(ct.level, &ct.parts[1]);
        let out = self.galois_decomposed(ct, &dec, ctx.conjugation_element(), &key);
        ctx.recycle_decomposed(dec);
        Ok(out)
    }
}

/// `round(c * scale)` as an `i128`, or an error if not representable.
/// The bound is the i128 range (2^126 with a margin): constants added at a
/// squared 60-bit scale (2^120, as in bootstrapping's EvalMod) must fit.
fn round_to_i128(c: f64, scale: f64) -> Result<i128, CkksError> {
    let v = (c * scale).round();
    if !v.is_finite() || v.abs() >= 2f64.powi(126) {
        return Err(CkksError::ValueOutOfRange {
            value: c,
            scale,
            reason: "not finite or too large",
        });
    }
    Ok(v as i128)
}
