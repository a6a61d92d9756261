//! The encrypted semantics of each `ckks` op, on the [`Evaluator`]
//! (the cleartext reference is `orion_dialects::ckks::interp`).
//!
//! - `ckks.encrypt`: `layout.pack`, encode at the result type's level and
//!   scale `2^log_scale`, public-key encrypt;
//! - `ckks.decrypt`: decrypt, decode, `layout.unpack`;
//! - `ckks.encode` stays lazy until its use (see the `cache` module);
//! - several `ckks.rotate` ops of one operand are evaluated together as
//!   one hoisted rotation;
//! - the others map one to one onto the evaluator.
//!
//! Each result's level and degree are checked against its type; a mismatch
//! is an error naming the op.
//!
//! [`Evaluator`]: orion_ckks::Evaluator

use std::collections::HashMap;

use orion_ckks::{Ciphertext, CkksError, Polynomial};
use orion_dialects::ckks::interp::{op_block, op_layout, pack_tensor, unpack_tensor};
use orion_dialects::ckks::polynomial as poly_attrs;
use orion_dialects::{Attribute, Func, Module, Op};

use super::keys::bootstrap_log_slots;
use super::values::{result_ct_type, Env, Val};
use super::{RunError, Session};

/// An op and the function and module it belongs to.
type Site<'a> = (&'a Func, &'a Module);

/// Maps a library error of `op` to a [`RunError`] saying what failed.
fn ck<'a>(op: &'a Op, what: &'a str) -> impl Fn(CkksError) -> RunError + 'a {
    move |e| RunError::ckks(op, what, e)
}

fn operand_count(op: &Op, n: usize) -> Result<(), RunError> {
    if op.operands.len() != n {
        return Err(RunError::op(
            op,
            format!("expects {n} operand(s), got {}", op.operands.len()),
        ));
    }
    Ok(())
}

/// The ciphertext of operand `k`.
fn ct<'a>(op: &Op, env: &'a Env, k: usize) -> Result<&'a Ciphertext, RunError> {
    match operand(op, env, k)? {
        Val::Ct(c) => Ok(c),
        _ => Err(RunError::op(
            op,
            format!("operand #{k} is not a ciphertext"),
        )),
    }
}

fn operand<'a>(op: &Op, env: &'a Env, k: usize) -> Result<&'a Val, RunError> {
    let v = op
        .operands
        .get(k)
        .ok_or_else(|| RunError::op(op, format!("lacks operand #{k}")))?;
    env.get(v.0 as usize)
        .and_then(Option::as_ref)
        .ok_or_else(|| RunError::op(op, format!("operand #{k} is undefined")))
}

impl Session {
    /// Evaluates op `i`. `owned` is its first operand when the loop moved
    /// it out for an in-place update; `pending` holds the results of a
    /// hoisted rotation group computed ahead of their ops.
    pub(super) fn eval_op(
        &mut self,
        i: usize,
        op: &Op,
        site: Site,
        env: &Env,
        pending: &mut HashMap<usize, Ciphertext>,
        owned: Option<Ciphertext>,
    ) -> Result<Val, RunError> {
        let ev = &self.evaluator;
        Ok(Val::Ct(match op.name.as_str() {
            "ckks.encrypt" => self.encrypt(op, site.0, env)?,
            "ckks.decrypt" => return self.decrypt(op, site.0, env).map(Val::Tensor),
            "ckks.encode" => {
                operand_count(op, 0)?;
                return Ok(Val::Pt(i));
            }
            "ckks.add" | "ckks.sub" => self.add_sub(op, env, owned)?,
            "ckks.add_plain" | "ckks.mul_plain" => self.plain(op, site, env)?,
            "ckks.mul" => {
                operand_count(op, 2)?;
                let (a, b) = (ct(op, env, 0)?, ct(op, env, 1)?);
                ev.mul(a, b).map_err(ck(op, "multiplying"))?
            }
            "ckks.relinearize" => {
                operand_count(op, 1)?;
                ev.relinearize(ct(op, env, 0)?)
                    .map_err(ck(op, "relinearizing"))?
            }
            "ckks.rescale" => {
                operand_count(op, 1)?;
                match owned {
                    Some(mut a) => {
                        ev.rescale_assign(&mut a).map_err(ck(op, "rescaling"))?;
                        a
                    }
                    None => ev.rescale(ct(op, env, 0)?).map_err(ck(op, "rescaling"))?,
                }
            }
            "ckks.level_down" => {
                operand_count(op, 1)?;
                let to = op
                    .attr("level")
                    .and_then(Attribute::as_int)
                    .filter(|&l| l >= 0)
                    .ok_or_else(|| RunError::op(op, "needs a non-negative integer 'level'"))?;
                ev.level_down(ct(op, env, 0)?, to as usize)
                    .map_err(ck(op, "dropping levels"))?
            }
            "ckks.rotate" => {
                operand_count(op, 1)?;
                match pending.remove(&i) {
                    Some(ct) => ct,
                    None => self.rotate(i, op, site.0, env, pending)?,
                }
            }
            "ckks.bootstrap" => {
                operand_count(op, 1)?;
                self.bootstrap(op, site.0, ct(op, env, 0)?)?
            }
            "ckks.polynomial" => {
                operand_count(op, 1)?;
                self.polynomial(op, site.0, ct(op, env, 0)?)?
            }
            other => {
                return Err(RunError::op(
                    op,
                    format!("has no encrypted semantics ('{other}')"),
                ))
            }
        }))
    }

    /// `ckks.encrypt`: pack the tensor operand into its slots, encode at the
    /// result type's level and scale, encrypt with the public key.
    fn encrypt(&self, op: &Op, func: &Func, env: &Env) -> Result<Ciphertext, RunError> {
        operand_count(op, 1)?;
        let Val::Tensor(t) = operand(op, env, 0)? else {
            return Err(RunError::op(op, "expects a tensor operand"));
        };
        let layout = op_layout(op, self.params.slots()).map_err(|m| RunError::op(op, m))?;
        let slots = op_block(op, &layout)
            .and_then(|b| pack_tensor(&layout, t, b))
            .map_err(|m| RunError::op(op, m))?;
        let ty = result_ct_type(op, func)?;
        if ty.level > self.ctx.max_level() {
            return Err(RunError::op(
                op,
                format!(
                    "encrypts at level {} above the top level {}",
                    ty.level,
                    self.ctx.max_level()
                ),
            ));
        }
        let scale = 2f64.powi(ty.log_scale.clamp(0, 1000) as i32);
        let pt = self
            .encoder
            .encode(&slots, ty.level, scale)
            .map_err(ck(op, "encoding the input"))?;
        let encryptor = self.encryptor.as_ref().ok_or_else(|| {
            RunError::op(op, "needs the public key, which this session does not hold")
        })?;
        encryptor.encrypt(&pt).map_err(ck(op, "encrypting"))
    }

    /// `ckks.decrypt`: decrypt and decode every block, unpack the layout.
    fn decrypt(
        &self,
        op: &Op,
        func: &Func,
        env: &Env,
    ) -> Result<orion_dialects::tensor::Tensor, RunError> {
        let layout = op_layout(op, self.params.slots()).map_err(|m| RunError::op(op, m))?;
        operand_count(op, layout.blocks())?;
        let decryptor = self.decryptor.as_ref().ok_or_else(|| {
            RunError::op(op, "needs the secret key, which this session does not hold")
        })?;
        let blocks = (0..layout.blocks())
            .map(|k| {
                let pt = decryptor
                    .decrypt(ct(op, env, k)?)
                    .map_err(ck(op, "decrypting"))?;
                self.encoder.decode(&pt).map_err(ck(op, "decoding"))
            })
            .collect::<Result<Vec<_>, RunError>>()?;
        let blocks: Vec<&[f64]> = blocks.iter().map(Vec::as_slice).collect();
        let r = op
            .results
            .first()
            .ok_or_else(|| RunError::op(op, "has no result"))?;
        let shape = func
            .values
            .get(r.0 as usize)
            .and_then(|d| d.ty.shape())
            .ok_or_else(|| RunError::op(op, "result must be a tensor"))?;
        unpack_tensor(&layout, &blocks, shape).map_err(|m| RunError::op(op, m))
    }

    /// `ckks.add` / `ckks.sub`, in place into `owned` when given.
    fn add_sub(
        &self,
        op: &Op,
        env: &Env,
        owned: Option<Ciphertext>,
    ) -> Result<Ciphertext, RunError> {
        operand_count(op, 2)?;
        let ev = &self.evaluator;
        let add = op.name == "ckks.add";
        let what = if add { "adding" } else { "subtracting" };
        let b = ct(op, env, 1)?;
        match owned {
            Some(mut a) => {
                if add {
                    ev.add_assign(&mut a, b)
                } else {
                    ev.sub_assign(&mut a, b)
                }
                .map_err(ck(op, what))?;
                Ok(a)
            }
            None => {
                let a = ct(op, env, 0)?;
                if add { ev.add(a, b) } else { ev.sub(a, b) }.map_err(ck(op, what))
            }
        }
    }

    /// `ckks.add_plain` (the plaintext at the ciphertext's scale) and
    /// `ckks.mul_plain` (at the scale that makes the next rescale exact).
    fn plain(&mut self, op: &Op, site: Site, env: &Env) -> Result<Ciphertext, RunError> {
        operand_count(op, 2)?;
        let a = ct(op, env, 0)?;
        let (level, ct_scale) = (a.level, a.scale);
        let add = op.name == "ckks.add_plain";
        let scale = if add {
            ct_scale
        } else {
            if level > self.ctx.max_level() {
                return Err(RunError::op(
                    op,
                    format!("ciphertext level {level} above the top level"),
                ));
            }
            self.mul_plain_scale(op, site.0, level)
        };
        let Val::Pt(idx) = operand(op, env, 1)? else {
            return Err(RunError::op(op, "operand #1 is not a plaintext"));
        };
        let pt = self.plaintext(op, site, (*idx, 1), level, scale)?;
        let ev = &self.evaluator;
        if add {
            ev.add_plain(a, &pt).map_err(ck(op, "adding a plaintext"))
        } else {
            ev.mul_plain(a, &pt)
                .map_err(ck(op, "multiplying by a plaintext"))
        }
    }

    /// `ckks.rotate` op `i`: alone, or, at the head of a hoisted group, the
    /// whole group at once (the others' results wait in `pending`).
    fn rotate(
        &self,
        i: usize,
        op: &Op,
        func: &Func,
        env: &Env,
        pending: &mut HashMap<usize, Ciphertext>,
    ) -> Result<Ciphertext, RunError> {
        let k = op
            .attr("offset")
            .and_then(Attribute::as_int)
            .ok_or_else(|| RunError::op(op, "needs an integer 'offset'"))?;
        let a = ct(op, env, 0)?;
        let ev = &self.evaluator;
        let Some(group) = self.plan.hoist_groups.get(&i) else {
            return ev.rotate(a, k).map_err(ck(op, "rotating"));
        };
        let steps: Vec<i64> = group.iter().map(|&(_, s)| s).collect();
        let outs = ev.hoisted_rotate(a, &steps).map_err(|e| {
            // Name the op whose step failed.
            let culprit = match &e {
                CkksError::MissingGaloisKey(s) => group
                    .iter()
                    .find(|&&(_, k)| k == *s)
                    .map(|&(j, _)| &func.body[j]),
                _ => None,
            };
            RunError::ckks(culprit.unwrap_or(op), "rotating (hoisted)", e)
        })?;
        let mut first = None;
        for (&(j, _), ct) in group.iter().zip(outs) {
            if j == i {
                first = Some(ct);
            } else {
                pending.insert(j, ct);
            }
        }
        first.ok_or_else(|| RunError::op(op, "internal error: hoisted group lost its head"))
    }

    /// `ckks.bootstrap {bound = B}`: the circuit wants values in [-1, 1], so
    /// the ciphertext is read at B' = ceil(B) times its scale (the value
    /// divided by B', no computation), bootstrapped to the default scale,
    /// and multiplied back by the integer B' (exact, no level).
    fn bootstrap(&self, op: &Op, func: &Func, a: &Ciphertext) -> Result<Ciphertext, RunError> {
        let (set_slots, boot) = self
            .bootstrapper
            .as_ref()
            .ok_or_else(|| RunError::op(op, "needs bootstrapping keys (the session has none)"))?;
        let log_slots = bootstrap_log_slots(op, self.ctx.log_n() - 1);
        if log_slots > *set_slots {
            return Err(RunError::op(
                op,
                format!(
                    "bootstraps 2^{log_slots} slots, the session's bootstrapping keys are for 2^{set_slots}"
                ),
            ));
        }
        let bound = orion_dialects::pack::bootstrap_bound(op).map_err(|m| RunError::op(op, m))?;
        let factor = bound.ceil().max(1.0);
        let mut x = a.clone();
        x.scale *= factor;
        let y = boot.bootstrap(&x).map_err(ck(op, "bootstrapping"))?;
        let y = if factor > 1.0 {
            self.evaluator
                .mul_const(&y, factor, 1.0)
                .map_err(ck(op, "undoing the bootstrap's range scaling"))?
        } else {
            y
        };
        let want = result_ct_type(op, func)?;
        if y.level != want.level {
            return Err(RunError::op(
                op,
                format!(
                    "bootstrapping returned level {}, the type says {}",
                    y.level, want.level
                ),
            ));
        }
        Ok(y)
    }

    /// `ckks.polynomial` by the library's evaluator (which maps a Chebyshev
    /// domain onto [-1, 1] as `depth` counts it). The result lands exactly
    /// at the operand's scale, or at q_l with `result_scale = "level_prime"`
    /// (l the `prime_level`, by default the result's level).
    fn polynomial(&self, op: &Op, func: &Func, a: &Ciphertext) -> Result<Ciphertext, RunError> {
        let p = poly_attrs::from_op(op).map_err(|m| RunError::op(op, m))?;
        let want = result_ct_type(op, func)?;
        let ev = &self.evaluator;
        let poly = match p.chebyshev_domain {
            Some([lo, hi]) => Polynomial::chebyshev(p.coeffs, lo, hi),
            None => Polynomial::monomial(p.coeffs),
        };
        let target = match poly_attrs::result_scale(op).map_err(|m| RunError::op(op, m))? {
            poly_attrs::RESULT_SCALE_LEVEL_PRIME => {
                let l = poly_attrs::prime_level(op, want.level).map_err(|m| RunError::op(op, m))?;
                self.ctx.q(l) as f64
            }
            _ => a.scale,
        };
        let y = ev
            .evaluate_polynomial(a, &poly, target)
            .map_err(ck(op, "evaluating a polynomial"))?;
        match y.level.cmp(&want.level) {
            std::cmp::Ordering::Equal => Ok(y),
            std::cmp::Ordering::Greater => ev
                .level_down(&y, want.level)
                .map_err(ck(op, "dropping levels after a polynomial")),
            std::cmp::Ordering::Less => Err(RunError::op(
                op,
                format!(
                    "the evaluator left the result at level {}, below the typed level {}",
                    y.level, want.level
                ),
            )),
        }
    }
}
