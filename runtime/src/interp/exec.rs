//! The evaluation loop: `@main`'s ops in order over an environment of
//! values, the whole program or one of its three parts (the client's
//! encryption, the server's evaluation, the client's decryption).
//!
//! Ciphertexts are freed after their last use, and an operand at its last
//! use is updated in place where the op allows it.

use std::collections::HashMap;
use std::time::Instant;

use orion_ckks::{scales_match, Ciphertext};
use orion_dialects::ckks::CtType;
use orion_dialects::tensor::Tensor;
use orion_dialects::{Func, Module, Op, ValueId};

use super::values::{check_result, result_ct_type, Env, Val};
use super::{RunError, Session, Timings};

/// Which ops of `@main` a pass over the body executes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Everything: encrypt, evaluate, decrypt.
    All,
    /// Only `ckks.encrypt` (the client).
    Encrypt,
    /// Everything between encryption and decryption (the server).
    Evaluate,
    /// Only `ckks.decrypt` (the client).
    Decrypt,
}

impl Phase {
    fn runs(self, name: &str) -> bool {
        match self {
            Phase::All => true,
            Phase::Encrypt => name == "ckks.encrypt",
            Phase::Evaluate => name != "ckks.encrypt" && name != "ckks.decrypt",
            Phase::Decrypt => name == "ckks.decrypt",
        }
    }
}

fn empty_env(func: &Func) -> Env {
    (0..func.values.len()).map(|_| None).collect()
}

fn tensor_env(func: &Func, inputs: &[Tensor]) -> Result<Env, RunError> {
    if inputs.len() != func.args.len() {
        return Err(RunError::module(
            &func.loc,
            format!(
                "@main takes {} inputs, got {}",
                func.args.len(),
                inputs.len()
            ),
        ));
    }
    let mut env = empty_env(func);
    for (&a, t) in func.args.iter().zip(inputs) {
        let slot = env.get_mut(a.0 as usize).ok_or_else(|| {
            RunError::module(&func.loc, "an argument lies outside the value table")
        })?;
        *slot = Some(Val::Tensor(t.clone()));
    }
    Ok(env)
}

fn tensors(vals: Vec<Val>) -> Vec<Tensor> {
    vals.into_iter()
        .filter_map(|v| match v {
            Val::Tensor(t) => Some(t),
            _ => None,
        })
        .collect()
}

fn ciphertexts(vals: Vec<Val>) -> Vec<Ciphertext> {
    vals.into_iter()
        .filter_map(|v| match v {
            Val::Ct(c) => Some(c),
            _ => None,
        })
        .collect()
}

impl Session {
    /// Encrypts `inputs`, evaluates `@main` and decrypts its results.
    pub fn run(
        &mut self,
        module: &Module,
        inputs: &[Tensor],
    ) -> Result<(Vec<Tensor>, Timings), RunError> {
        let func = self.main_of(module)?;
        let env = tensor_env(func, inputs)?;
        let (outs, timings) = self.exec(module, func, env, Phase::All)?;
        Ok((tensors(outs), timings))
    }

    /// The client's first part: runs only the `ckks.encrypt` ops of `@main`
    /// on `inputs` (needs the public key). Returns one ciphertext per
    /// `ckks.encrypt` op, in program order.
    pub fn encrypt_inputs(
        &mut self,
        module: &Module,
        inputs: &[Tensor],
    ) -> Result<Vec<Ciphertext>, RunError> {
        let func = self.main_of(module)?;
        let env = tensor_env(func, inputs)?;
        let (outs, _) = self.exec(module, func, env, Phase::Encrypt)?;
        Ok(ciphertexts(outs))
    }

    /// The server's part: takes the ciphertexts of [`Session::encrypt_inputs`]
    /// (one per `ckks.encrypt` op) and runs every op between encryption and
    /// decryption (needs only the evaluation keys). Returns one ciphertext per
    /// `ckks.decrypt` op operand, in program order.
    pub fn evaluate(
        &mut self,
        module: &Module,
        inputs: Vec<Ciphertext>,
    ) -> Result<Vec<Ciphertext>, RunError> {
        let func = self.main_of(module)?;
        let mut env = empty_env(func);
        let encrypts: Vec<&Op> = func
            .body
            .iter()
            .filter(|op| op.name == "ckks.encrypt")
            .collect();
        if encrypts.len() != inputs.len() {
            return Err(RunError::module(
                &func.loc,
                format!(
                    "@main encrypts {} input(s), {} ciphertext(s) given",
                    encrypts.len(),
                    inputs.len()
                ),
            ));
        }
        for (op, ct) in encrypts.into_iter().zip(inputs) {
            self.check_input(op, func, &ct)?;
            let r = op
                .results
                .first()
                .ok_or_else(|| RunError::op(op, "has no result"))?;
            if let Some(slot) = env.get_mut(r.0 as usize) {
                *slot = Some(Val::Ct(ct));
            }
        }
        let (outs, _) = self.exec(module, func, env, Phase::Evaluate)?;
        Ok(ciphertexts(outs))
    }

    /// A ciphertext handed to the server for `ckks.encrypt` op `op` must be
    /// well formed and at the level, degree and scale of its type.
    fn check_input(&self, op: &Op, func: &Func, ct: &Ciphertext) -> Result<(), RunError> {
        self.ctx
            .check_ciphertext(ct)
            .map_err(|e| RunError::ckks(op, "checking the given ciphertext", e))?;
        check_result(op, func, ct)?;
        let ty = result_ct_type(op, func)?;
        let want = 2f64.powi(ty.log_scale.clamp(-1000, 1000) as i32);
        if !scales_match(ct.scale, want) {
            return Err(RunError::op(
                op,
                format!(
                    "scale mismatch: the given ciphertext has scale 2^{:.4}, the type says 2^{}",
                    ct.scale.log2(),
                    ty.log_scale
                ),
            ));
        }
        Ok(())
    }

    /// The client's last part: decrypts the ciphertexts of
    /// [`Session::evaluate`] (one per `ckks.decrypt` operand; needs the
    /// secret key) and returns `@main`'s results.
    pub fn decrypt_outputs(
        &mut self,
        module: &Module,
        inputs: Vec<Ciphertext>,
    ) -> Result<Vec<Tensor>, RunError> {
        let func = self.main_of(module)?;
        let mut env = empty_env(func);
        // One ciphertext per operand of each `ckks.decrypt` (a layout over
        // several ciphertexts has several), in program order.
        let operands: Vec<(&Op, &ValueId)> = func
            .body
            .iter()
            .filter(|op| op.name == "ckks.decrypt")
            .flat_map(|op| op.operands.iter().map(move |v| (op, v)))
            .collect();
        if operands.len() != inputs.len() {
            return Err(RunError::module(
                &func.loc,
                format!(
                    "@main decrypts {} ciphertext(s), {} given",
                    operands.len(),
                    inputs.len()
                ),
            ));
        }
        for ((op, v), ct) in operands.into_iter().zip(inputs) {
            let ty = CtType::from_type(func.ty(*v)).map_err(|m| RunError::op(op, m))?;
            if ty.level != ct.level {
                return Err(RunError::op(
                    op,
                    format!(
                        "level mismatch: the given ciphertext is at level {} but the operand's type says level {}",
                        ct.level, ty.level
                    ),
                ));
            }
            if let Some(slot) = env.get_mut(v.0 as usize) {
                *slot = Some(Val::Ct(ct));
            }
        }
        let (outs, _) = self.exec(module, func, env, Phase::Decrypt)?;
        Ok(tensors(outs))
    }

    /// Runs the ops of `phase` over `env`. Returns `@main`'s results for
    /// [`Phase::All`] and [`Phase::Decrypt`] (tensors), the results of the
    /// `ckks.encrypt` ops for [`Phase::Encrypt`] and the operands of the
    /// `ckks.decrypt` ops for [`Phase::Evaluate`].
    fn exec(
        &mut self,
        module: &Module,
        func: &Func,
        mut env: Env,
        phase: Phase,
    ) -> Result<(Vec<Val>, Timings), RunError> {
        let mut timings = Timings {
            keygen: self.keygen,
            ..Timings::default()
        };
        let pb = crate::progress::bar(
            self.progress,
            Some(func.body.len() as u64),
            "{bar:30} {pos}/{len} ops {msg} [{elapsed}]",
        );
        let mut pending: HashMap<usize, Ciphertext> = HashMap::new();
        for (i, op) in func.body.iter().enumerate() {
            pb.set_position(i as u64);
            if op.name == "func.return" {
                pb.finish_and_clear();
                let outs = match phase {
                    Phase::Encrypt | Phase::Evaluate => handover(func, op, &mut env, phase)?,
                    Phase::All | Phase::Decrypt => returned(op, &mut env)?,
                };
                return Ok((outs, timings));
            }
            if !phase.runs(&op.name) {
                continue;
            }
            let start = Instant::now();
            let owned = self.take_if_last_use(i, op, &mut env);
            let out = self.eval_op(i, op, (func, module), &env, &mut pending, owned)?;
            let spent = start.elapsed();
            let entry = self.profile.entry(op.name.clone()).or_default();
            entry.0 += spent;
            entry.1 += 1;
            match op.name.as_str() {
                "ckks.encrypt" => timings.encrypt += spent,
                "ckks.decrypt" => timings.decrypt += spent,
                _ => timings.evaluate += spent,
            }
            if let Val::Ct(ct) = &out {
                check_result(op, func, ct)?;
            }
            for v in &op.operands {
                let k = v.0 as usize;
                if self.plan.last_use.get(k) == Some(&i) {
                    env[k] = None;
                }
            }
            let r = op
                .results
                .first()
                .ok_or_else(|| RunError::op(op, "has no result"))?;
            let slot = env
                .get_mut(r.0 as usize)
                .ok_or_else(|| RunError::op(op, "defines a value outside the value table"))?;
            *slot = Some(out);
        }
        Err(RunError::module(&func.loc, "@main has no func.return"))
    }

    /// The first operand of op `i`, moved out of `env`, if the op can update
    /// it in place and this is its last use (no copy).
    fn take_if_last_use(&self, i: usize, op: &Op, env: &mut Env) -> Option<Ciphertext> {
        let in_place = matches!(op.name.as_str(), "ckks.add" | "ckks.sub" | "ckks.rescale")
            && op.operands.first().is_some_and(|a| {
                self.plan.last_use.get(a.0 as usize) == Some(&i)
                    && op.operands[1..].iter().all(|b| b != a)
            });
        if !in_place {
            return None;
        }
        let k = op.operands[0].0 as usize;
        match env.get_mut(k).and_then(Option::take) {
            Some(Val::Ct(c)) => Some(c),
            other => {
                env[k] = other;
                None
            }
        }
    }
}

/// `@main`'s returned tensors.
fn returned(ret: &Op, env: &mut Env) -> Result<Vec<Val>, RunError> {
    let mut outs = Vec::new();
    for v in &ret.operands {
        match env.get_mut(v.0 as usize).and_then(Option::take) {
            Some(Val::Tensor(t)) => outs.push(Val::Tensor(t)),
            Some(_) => {
                return Err(RunError::op(
                    ret,
                    "@main must return tensors (decrypt them first)",
                ))
            }
            None => return Err(RunError::op(ret, "returns an undefined value")),
        }
    }
    Ok(outs)
}

/// What a partial run hands over: the results of the `ckks.encrypt` ops
/// (after [`Phase::Encrypt`]) or every operand of the `ckks.decrypt` ops
/// (after [`Phase::Evaluate`]: each block of a layout over several
/// ciphertexts), in program order.
fn handover(func: &Func, ret: &Op, env: &mut Env, phase: Phase) -> Result<Vec<Val>, RunError> {
    let mut handed = Vec::new();
    for o in &func.body {
        let vs = match (phase, o.name.as_str()) {
            (Phase::Encrypt, "ckks.encrypt") => &o.results,
            (Phase::Evaluate, "ckks.decrypt") => &o.operands,
            _ => continue,
        };
        if vs.is_empty() {
            return Err(RunError::op(o, "lacks its ciphertext"));
        }
        for v in vs {
            match env.get(v.0 as usize).and_then(Option::as_ref) {
                Some(Val::Ct(_)) => handed.push(v.0 as usize),
                _ => return Err(RunError::op(o, "has no ciphertext to hand over")),
            }
        }
    }
    // Moved out at their last mention, copied before (a value decrypted
    // twice).
    let mut outs = Vec::with_capacity(handed.len());
    for (j, &k) in handed.iter().enumerate() {
        let again = handed[j + 1..].contains(&k);
        match (again, &mut env[k]) {
            (true, Some(Val::Ct(c))) => outs.push(Val::Ct(c.clone())),
            (false, slot @ Some(Val::Ct(_))) => outs.extend(slot.take()),
            _ => return Err(RunError::op(ret, "internal error: ciphertext lost")),
        }
    }
    Ok(outs)
}
