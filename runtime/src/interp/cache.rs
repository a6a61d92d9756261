//! The plaintexts of `ckks.encode` ops: their slot vectors and their
//! encodings at the levels and scales their consumers ask for, cached
//! across ops and runs under a byte budget.
//!
//! A `ckks.encode` is materialised lazily *at its use*, since the right
//! scale depends on the consumer (see [`Session::mul_plain_scale`]). Past
//! the budget, plaintexts are encoded at each use instead: a ResNet's
//! diagonals at LogN 16 would take tens of GB.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use orion_ckks::Plaintext;
use orion_dialects::ckks::{plaintext, CtType, PtType};
use orion_dialects::{Func, Module, Op};
use rayon::prelude::*;

use super::keys::main_func;
use super::plan::fingerprint;
use super::{RunError, Session};

/// Default bound on the plaintext caches of a [`Session`].
pub const DEFAULT_CACHE_BUDGET: usize = 2 << 30;

/// Cache key of an encoded plaintext: (encode op index, level, scale bits).
type PtKey = (usize, usize, u64);

/// Slot vectors and encoded plaintexts, within a byte budget.
#[derive(Debug)]
pub(super) struct PlaintextCache {
    /// Slot vectors of `ckks.encode` ops, by op index.
    slots: HashMap<usize, Arc<Vec<f64>>>,
    /// Encoded plaintexts.
    plaintexts: HashMap<PtKey, Arc<Plaintext>>,
    budget: usize,
    bytes: usize,
}

impl PlaintextCache {
    pub(super) fn new(budget: usize) -> Self {
        Self {
            slots: HashMap::new(),
            plaintexts: HashMap::new(),
            budget,
            bytes: 0,
        }
    }

    /// Forgets everything (another module).
    pub(super) fn clear(&mut self) {
        self.slots.clear();
        self.plaintexts.clear();
        self.bytes = 0;
    }

    /// Reserves room for `bytes`, if the budget allows.
    fn reserve(&mut self, bytes: usize) -> bool {
        if self.bytes + bytes > self.budget {
            return false;
        }
        self.bytes += bytes;
        true
    }

    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(super) fn len(&self) -> usize {
        self.plaintexts.len()
    }

    pub(super) fn set_budget(&mut self, bytes: usize) {
        self.budget = bytes;
    }
}

/// The slot vector a `ckks.encode` op stands for, checked against the
/// parameters' slot count.
fn slot_vector(enc: &Op, module: &Module, slots: usize) -> Result<Vec<f64>, RunError> {
    let value = enc
        .attr("value")
        .ok_or_else(|| RunError::op(enc, "needs a 'value' attribute"))?;
    let s = plaintext::materialize(value, module).map_err(|m| RunError::op(enc, m))?;
    if s.len() != slots {
        return Err(RunError::op(
            enc,
            format!("encodes {} slots, the parameters give {slots}", s.len()),
        ));
    }
    Ok(s)
}

impl Session {
    fn slot_bytes(&self) -> usize {
        self.params.slots() * std::mem::size_of::<f64>()
    }

    fn plaintext_bytes(&self, level: usize) -> usize {
        (level + 1) * self.ctx.n() * std::mem::size_of::<u64>()
    }

    /// The scale a `ckks.mul_plain` plaintext is encoded at, for a ciphertext
    /// at `level`: `q_level`, which makes the following rescale exact, as
    /// Orion does; a plaintext typed below `log_q[level]` lowers the result's
    /// scale by the difference (the compiler uses that for output headroom
    /// at level 0). `level` must be at most the top level.
    pub(super) fn mul_plain_scale(&self, op: &Op, func: &Func, level: usize) -> f64 {
        let shift = op
            .operands
            .get(1)
            .and_then(|&v| func.values.get(v.0 as usize))
            .and_then(|d| PtType::from_type(&d.ty).ok())
            .zip(self.params.log_q.get(level))
            .map_or(0, |(t, &lq)| t.log_scale - lq as i64);
        self.ctx.q(level) as f64 * 2f64.powi(shift.clamp(-60, 60) as i32)
    }

    /// Encodes, in parallel and ahead of the first run, every plaintext a
    /// `ckks.mul_plain` consumes (at its operand's typed level and the scale
    /// of `mul_plain_scale`, which is what [`Session::run`] asks for when the
    /// types hold), as far as the cache budget allows. Optional: `run`
    /// encodes lazily what is missing. Returns the time spent.
    pub fn prepare(&mut self, module: &Module) -> Result<Duration, RunError> {
        let start = Instant::now();
        let func = main_func(module)?;
        if fingerprint(module) != self.plan.fingerprint {
            return Err(RunError::module(
                &func.loc,
                "prepare: not the session's module",
            ));
        }
        let wanted = self.wanted_plaintexts(func);
        let mut need: Vec<usize> = wanted
            .iter()
            .map(|w| w.0)
            .filter(|i| !self.cache.slots.contains_key(i))
            .collect();
        need.dedup();
        let slots = self.params.slots();
        let made: Vec<(usize, Arc<Vec<f64>>)> = need
            .par_iter()
            .map(|&idx| Ok((idx, Arc::new(slot_vector(&func.body[idx], module, slots)?))))
            .collect::<Result<_, RunError>>()?;
        self.cache.slots.extend(made);
        let (cached, encoder) = (&self.cache.slots, &self.encoder);
        let encoded: Vec<(PtKey, Arc<Plaintext>)> = wanted
            .par_iter()
            .map(|&(idx, level, scale)| {
                let enc = &func.body[idx];
                let s = cached
                    .get(&idx)
                    .ok_or_else(|| RunError::op(enc, "internal error: slot vector missing"))?;
                let pt = encoder
                    .encode(s, level, scale)
                    .map_err(|e| RunError::ckks(enc, "encoding", e))?;
                Ok(((idx, level, scale.to_bits()), Arc::new(pt)))
            })
            .collect::<Result<_, RunError>>()?;
        self.cache.plaintexts.extend(encoded);
        Ok(start.elapsed())
    }

    /// The (encode op, level, scale) of every `ckks.mul_plain` plaintext not
    /// yet cached, as many as the budget has room for (room reserved).
    fn wanted_plaintexts(&mut self, func: &Func) -> Vec<(usize, usize, f64)> {
        let defs = func.def_sites();
        let mut wanted: Vec<(usize, usize, f64)> = Vec::new();
        for op in &func.body {
            if op.name != "ckks.mul_plain" || op.operands.len() != 2 {
                continue;
            }
            let Some(Some(idx)) = defs.get(op.operands[1].0 as usize).copied() else {
                continue;
            };
            if func.body[idx].name != "ckks.encode" {
                continue;
            }
            let Ok(t) = CtType::from_type(func.ty(op.operands[0])) else {
                continue;
            };
            if t.level > self.ctx.max_level() {
                continue;
            }
            let scale = self.mul_plain_scale(op, func, t.level);
            if !self
                .cache
                .plaintexts
                .contains_key(&(idx, t.level, scale.to_bits()))
            {
                wanted.push((idx, t.level, scale));
            }
        }
        wanted.sort_by_key(|w| (w.0, w.1));
        wanted.dedup_by_key(|w| (w.0, w.1));
        // What does not fit the cache budget is encoded at its use instead.
        let mut fits = 0;
        for w in &wanted {
            let first_of_op =
                !self.cache.slots.contains_key(&w.0) && !wanted[..fits].iter().any(|v| v.0 == w.0);
            let extra = if first_of_op { self.slot_bytes() } else { 0 };
            let bytes = self.plaintext_bytes(w.1) + extra;
            if !self.cache.reserve(bytes) {
                break;
            }
            fits += 1;
        }
        wanted.truncate(fits);
        wanted
    }

    /// The plaintext of `ckks.encode` op `idx`, encoded at `level` and
    /// `scale` for operand `k` of `op`, from the cache when possible.
    pub(super) fn plaintext(
        &mut self,
        op: &Op,
        (func, module): (&Func, &Module),
        (idx, k): (usize, usize),
        level: usize,
        scale: f64,
    ) -> Result<Arc<Plaintext>, RunError> {
        let key = (idx, level, scale.to_bits());
        if let Some(pt) = self.cache.plaintexts.get(&key) {
            return Ok(pt.clone());
        }
        let slots = match self.cache.slots.get(&idx) {
            Some(s) => s.clone(),
            None => {
                let s = Arc::new(slot_vector(&func.body[idx], module, self.params.slots())?);
                if self.cache.reserve(self.slot_bytes()) {
                    self.cache.slots.insert(idx, s.clone());
                }
                s
            }
        };
        let pt = Arc::new(
            self.encoder
                .encode(&slots, level, scale)
                .map_err(|e| RunError::ckks(op, format!("encoding operand #{k}"), e))?,
        );
        if self.cache.reserve(self.plaintext_bytes(level)) {
            self.cache.plaintexts.insert(key, pt.clone());
        }
        Ok(pt)
    }
}
