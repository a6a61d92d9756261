//! The encrypted interpreter of the `ckks` dialect.
//!
//! A [`Session`] is built once per module: it makes the CKKS context from the
//! module's `ckks.params`, the secret, public and relinearization keys, and
//! Galois keys for exactly the steps in `ckks.rotations`. [`Session::run`]
//! then encrypts the inputs, evaluates `@main` op by op and decrypts the
//! results; it can be called for many inputs, reusing keys and the encoded
//! plaintexts.
//!
//! Semantics per op (the cleartext reference is
//! `orion_dialects::ckks::interp`):
//! - `ckks.encrypt`: `layout.pack`, encode at the result type's level and
//!   scale `2^log_scale`, public-key encrypt;
//! - `ckks.decrypt`: decrypt, decode, `layout.unpack`;
//! - `ckks.encode` is materialised lazily *at its use*, since the right scale
//!   depends on the consumer: for `ckks.mul_plain` at scale `q_l` (the prime
//!   of the ciphertext's level `l`), so that the following rescale restores
//!   the ciphertext's scale exactly, as Orion does (times
//!   `2^(pt.log_scale - log_q[l])` when the plaintext's type asks for less:
//!   output headroom at level 0); for `ckks.add_plain` at
//!   exactly the ciphertext's current scale. Slot vectors and encoded
//!   plaintexts are cached across ops and runs, keyed by (encode op, level,
//!   scale);
//! - the other ops map to the [`Evaluator`]. Several `ckks.rotate` ops of one
//!   operand are evaluated together as one hoisted rotation.
//!
//! Client and server can be separate: [`SessionKeys`] holds any subset of
//! the keys (loaded from files, see `ckks::serialize`), [`Session::from_keys`]
//! builds a session on them, and [`Session::encrypt_inputs`] (the
//! `ckks.encrypt` ops, public key), [`Session::evaluate`] (every op between
//! encryption and decryption, evaluation keys only) and
//! [`Session::decrypt_outputs`] (the `ckks.decrypt` ops, secret key) run the
//! program in three parts.
//!
//! Ciphertexts are freed after their last use. Each result's level and degree
//! are checked against its type; a mismatch is an error naming the op.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use orion_dialects::ckks::interp::{op_block, op_layout, pack_tensor, unpack_tensor};
use orion_dialects::ckks::{plaintext, CtType, ParamsAttr, PtType};
use orion_dialects::tensor::Tensor;
use orion_dialects::{Attribute, Diagnostic, Func, Location, Module, Op, ValueId};
use thiserror::Error;

use orion_ckks::bootstrap::{BootstrapOptions, Bootstrapper};
use orion_ckks::scales_match;

mod keys;
use keys::{bootstrap_log_slots, ckks_params, main_and_params, main_func};
pub use keys::{bootstrap_params, module_context, SessionKeys};
use orion_ckks::Polynomial;
use orion_ckks::{
    Ciphertext, CkksError, Context, Decryptor, Encoder, Encryptor, Evaluator, GaloisKeys,
    Plaintext, RelinearizationKey,
};

/// Options of a session.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Seed for key generation and encryption randomness (reproducible runs,
    /// tests); `None` draws from the operating system.
    pub seed: Option<u64>,
    /// Show progress (keygen spinner, per-op bar) on stderr.
    pub progress: bool,
    /// Encode each bootstrapping DFT level's matrices right before it runs
    /// instead of keeping them all encoded (at LogN 16 with 2^14 slots:
    /// 3.6 GB less, each bootstrap slower by the encoding).
    pub lazy_bootstrap_matrices: bool,
}

/// Wall-clock time per phase.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timings {
    pub keygen: Duration,
    pub encrypt: Duration,
    pub evaluate: Duration,
    pub decrypt: Duration,
}

/// `file:line:col: ` or `name: ` or nothing.
fn loc_prefix(loc: &Location) -> String {
    match loc {
        Location::Unknown => String::new(),
        l => format!("{l}: "),
    }
}

/// Errors of the encrypted interpreter, printed like MLIR diagnostics.
#[derive(Debug, Error)]
pub enum RunError {
    /// The module as a whole cannot run (no params, no @main, wrong inputs).
    #[error("{}error: {message}", loc_prefix(.loc))]
    Module { loc: Box<Location>, message: String },
    /// Building the context or the keys failed.
    #[error("error: key generation failed: {0}")]
    Keygen(#[source] CkksError),
    /// A CKKS operation of an op failed.
    #[error("{}error: {label} {what}: {source}", loc_prefix(.loc))]
    Ckks {
        loc: Box<Location>,
        label: String,
        what: String,
        #[source]
        source: CkksError,
    },
    /// An op cannot be evaluated (bad operands, level mismatch, ...).
    #[error("{}error: {label} {message}", loc_prefix(.loc))]
    Op {
        loc: Box<Location>,
        label: String,
        message: String,
    },
}

impl RunError {
    fn op(op: &Op, message: impl Into<String>) -> RunError {
        RunError::Op {
            loc: Box::new(op.loc.clone()),
            label: op.label(),
            message: message.into(),
        }
    }

    fn ckks(op: &Op, what: impl Into<String>, source: CkksError) -> RunError {
        RunError::Ckks {
            loc: Box::new(op.loc.clone()),
            label: op.label(),
            what: what.into(),
            source,
        }
    }

    fn module(loc: &Location, message: impl Into<String>) -> RunError {
        RunError::Module {
            loc: Box::new(loc.clone()),
            message: message.into(),
        }
    }

    /// The same error as a [`Diagnostic`] (location + message).
    pub fn to_diagnostic(&self) -> Diagnostic {
        let loc = match self {
            RunError::Module { loc, .. }
            | RunError::Ckks { loc, .. }
            | RunError::Op { loc, .. } => (**loc).clone(),
            RunError::Keygen(_) => Location::Unknown,
        };
        let text = self.to_string();
        let prefix = format!("{}error: ", loc_prefix(&loc));
        Diagnostic::new(loc, text.strip_prefix(&prefix).unwrap_or(&text).to_string())
    }
}

/// The parts of a module the evaluation loop needs, computed once.
struct Plan {
    fingerprint: u64,
    /// Index of the last op using each value (`usize::MAX`: never used).
    last_use: Vec<usize>,
    /// For a rotate op that starts a hoisted group: the other rotate ops of
    /// the same operand, with their offsets (the first entry is the op itself).
    hoist_groups: HashMap<usize, Vec<(usize, i64)>>,
}

fn fingerprint(module: &Module) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    format!("{:?}", module.attrs).hash(&mut h);
    if let Some(f) = module.main() {
        format!("{:?}{:?}{:?}", f.args, f.values, f.body).hash(&mut h);
    }
    for r in &module.resources {
        r.name.hash(&mut h);
        r.data.hash(&mut h);
    }
    h.finish()
}

impl Plan {
    fn new(module: &Module, func: &Func) -> Plan {
        let mut last_use = vec![usize::MAX; func.values.len()];
        let mut rotates: HashMap<u32, Vec<(usize, i64)>> = HashMap::new();
        for (i, op) in func.body.iter().enumerate() {
            for v in &op.operands {
                if let Some(l) = last_use.get_mut(v.0 as usize) {
                    *l = i;
                }
            }
            if op.name == "ckks.rotate" && op.operands.len() == 1 {
                if let Some(k) = op.attr("offset").and_then(Attribute::as_int) {
                    rotates.entry(op.operands[0].0).or_default().push((i, k));
                }
            }
        }
        let hoist_groups = rotates
            .into_values()
            .filter(|g| g.len() >= 2)
            .map(|g| (g[0].0, g))
            .collect();
        Plan {
            fingerprint: fingerprint(module),
            last_use,
            hoist_groups,
        }
    }
}

enum Val {
    Tensor(Tensor),
    Ct(Ciphertext),
    /// A lazily encoded plaintext: the index of its `ckks.encode` op.
    Pt(usize),
}

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

/// Keys, encoder and caches for running one module on many inputs.
pub struct Session {
    ctx: Arc<Context>,
    params: ParamsAttr,
    encoder: Encoder,
    encryptor: Option<Encryptor>,
    decryptor: Option<Decryptor>,
    evaluator: Evaluator,
    /// The bootstrapping circuit and log2 of its slot count.
    bootstrapper: Option<(u32, Bootstrapper)>,
    keygen: Duration,
    progress: bool,
    plan: Plan,
    /// Slot vectors of `ckks.encode` ops, by op index.
    slots: HashMap<usize, Arc<Vec<f64>>>,
    /// Encoded plaintexts by (encode op index, level, scale bits).
    plaintexts: HashMap<(usize, usize, u64), Arc<Plaintext>>,
    /// Cumulative wall time and count per op name, over all runs.
    profile: HashMap<String, (Duration, usize)>,
    /// Bytes the slot-vector and plaintext caches may hold; past it,
    /// plaintexts are encoded at each use (a ResNet's diagonals at LogN 16
    /// would take tens of GB).
    cache_budget: usize,
    cached_bytes: usize,
    /// Bytes of the evaluation keys the session holds.
    key_bytes: usize,
}

/// What a [`Session`]'s long-lived state takes, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryUse {
    /// Relinearization, Galois and encapsulation keys (each once, however
    /// many users share it).
    pub keys: usize,
    /// The bootstrapper's encoded DFT matrices.
    pub bootstrap_matrices: usize,
    /// Cached slot vectors and encoded plaintexts.
    pub plaintext_cache: usize,
}

/// Default bound on the plaintext caches of a [`Session`].
pub const DEFAULT_CACHE_BUDGET: usize = 2 << 30;

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("params", &self.params)
            .field("keygen", &self.keygen)
            .field("cached_plaintexts", &self.plaintexts.len())
            .finish()
    }
}

impl Session {
    /// Builds the context and generates the keys the module needs.
    pub fn new(module: &Module, opts: &RunOptions) -> Result<Session, RunError> {
        let start = Instant::now();
        let (ctx, _) = module_context(module)?;
        let keys = SessionKeys::generate(module, &ctx, opts)?;
        let mut session = Session::from_keys(module, &ctx, keys, opts)?;
        session.keygen = start.elapsed();
        Ok(session)
    }

    /// A session on keys made elsewhere (loaded from files): `ctx` must be
    /// the module's context (see [`module_context`]). Encryption needs the
    /// public key, decryption the secret key, evaluation the relinearization
    /// and Galois keys the module uses; a missing key is an error when the op
    /// that needs it runs.
    pub fn from_keys(
        module: &Module,
        ctx: &Arc<Context>,
        keys: SessionKeys,
        opts: &RunOptions,
    ) -> Result<Session, RunError> {
        let (func, params) = main_and_params(module)?;
        if &ckks_params(&params) != ctx.params() {
            return Err(RunError::module(
                &func.loc,
                "the context was built for other parameters than the module's ckks.params",
            ));
        }
        let encryptor = keys.public.as_ref().map(|pk| {
            let e = Encryptor::new(ctx, pk);
            match opts.seed {
                Some(s) => e.seeded(s.wrapping_add(0x9e37_79b9_7f4a_7c15)),
                None => e,
            }
        });
        let key_bytes = keys
            .relin
            .as_ref()
            .map_or(0, RelinearizationKey::size_bytes)
            + keys.galois.as_ref().map_or(0, GaloisKeys::size_bytes)
            + keys
                .bootstrap
                .as_ref()
                .map_or(0, |(_, b)| b.own_size_bytes());
        let bootstrapper = match (&keys.bootstrap, bootstrap_params(&params)) {
            (Some((log_slots, k)), Some(bp)) => {
                let bp = bp.with_log_slots(*log_slots);
                let options = BootstrapOptions {
                    lazy_matrices: opts.lazy_bootstrap_matrices,
                };
                let b =
                    Bootstrapper::with_options(ctx, &bp, k, &options).map_err(RunError::Keygen)?;
                Some((*log_slots, b))
            }
            _ => None,
        };
        Ok(Session {
            bootstrapper,
            encoder: Encoder::new(ctx),
            decryptor: keys.secret.as_ref().map(|sk| Decryptor::new(ctx, sk)),
            evaluator: Evaluator::new(ctx, keys.relin.as_ref(), keys.galois.as_ref()),
            encryptor,
            ctx: ctx.clone(),
            params,
            keygen: Duration::ZERO,
            progress: opts.progress,
            plan: Plan::new(module, func),
            slots: HashMap::new(),
            plaintexts: HashMap::new(),
            profile: HashMap::new(),
            cache_budget: DEFAULT_CACHE_BUDGET,
            cached_bytes: 0,
            key_bytes,
        })
    }

    /// The CKKS context of the session.
    pub fn context(&self) -> &Arc<Context> {
        &self.ctx
    }

    /// Time spent in key generation by [`Session::new`].
    pub fn keygen_time(&self) -> Duration {
        self.keygen
    }

    /// Turns the per-op progress bar of [`Session::run`] on or off.
    pub fn set_progress(&mut self, on: bool) {
        self.progress = on;
    }

    /// Encodes, in parallel and ahead of the first run, every plaintext a
    /// `ckks.mul_plain` consumes (at its operand's typed level and the scale
    /// of `mul_plain_scale`, which is what [`Session::run`] asks for when the types hold).
    /// Optional: `run` encodes lazily what is missing. Returns the time spent.
    pub fn prepare(&mut self, module: &Module) -> Result<Duration, RunError> {
        use rayon::prelude::*;
        let start = Instant::now();
        let func = main_func(module)?;
        if fingerprint(module) != self.plan.fingerprint {
            return Err(RunError::module(
                &func.loc,
                "prepare: not the session's module",
            ));
        }
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
            let extra =
                if self.slots.contains_key(&w.0) || wanted[..fits].iter().any(|v| v.0 == w.0) {
                    0
                } else {
                    self.slot_bytes()
                };
            if !self.reserve(self.plaintext_bytes(w.1) + extra) {
                break;
            }
            fits += 1;
        }
        wanted.truncate(fits);
        let mut need: Vec<usize> = wanted
            .iter()
            .map(|w| w.0)
            .filter(|i| !self.slots.contains_key(i))
            .collect();
        need.dedup();
        let params_slots = self.params.slots();
        let made: Vec<(usize, Arc<Vec<f64>>)> = need
            .par_iter()
            .map(|&idx| {
                let enc = &func.body[idx];
                let value = enc
                    .attr("value")
                    .ok_or_else(|| RunError::op(enc, "needs a 'value' attribute"))?;
                let s = plaintext::materialize(value, module).map_err(|m| RunError::op(enc, m))?;
                if s.len() != params_slots {
                    return Err(RunError::op(
                        enc,
                        format!(
                            "encodes {} slots, the parameters give {params_slots}",
                            s.len()
                        ),
                    ));
                }
                Ok((idx, Arc::new(s)))
            })
            .collect::<Result<_, _>>()?;
        self.slots.extend(made);
        let (slots, encoder) = (&self.slots, &self.encoder);
        let encoded: Vec<((usize, usize, u64), Arc<Plaintext>)> = wanted
            .par_iter()
            .map(|&(idx, level, scale)| {
                let enc = &func.body[idx];
                let s = slots
                    .get(&idx)
                    .ok_or_else(|| RunError::op(enc, "internal error: slot vector missing"))?;
                let pt = encoder
                    .encode(s, level, scale)
                    .map_err(|e| RunError::ckks(enc, "encoding", e))?;
                Ok(((idx, level, scale.to_bits()), Arc::new(pt)))
            })
            .collect::<Result<_, _>>()?;
        self.plaintexts.extend(encoded);
        Ok(start.elapsed())
    }

    /// The scale a `ckks.mul_plain` plaintext is encoded at, for a ciphertext
    /// at `level`: `q_level`, which makes the following rescale exact; a
    /// plaintext typed below `log_q[level]` lowers the result's scale by the
    /// difference (the compiler uses that for output headroom at level 0).
    /// `level` must be at most the top level.
    fn mul_plain_scale(&self, op: &Op, func: &Func, level: usize) -> f64 {
        let shift = op
            .operands
            .get(1)
            .and_then(|&v| func.values.get(v.0 as usize))
            .and_then(|d| PtType::from_type(&d.ty).ok())
            .zip(self.params.log_q.get(level))
            .map_or(0, |(t, &lq)| t.log_scale - lq as i64);
        self.ctx.q(level) as f64 * 2f64.powi(shift.clamp(-60, 60) as i32)
    }

    /// Cumulative wall time and op count per op name over all runs so far,
    /// slowest first (a lazily encoded plaintext counts to its consumer).
    pub fn op_profile(&self) -> Vec<(String, Duration, usize)> {
        let mut v: Vec<_> = self
            .profile
            .iter()
            .map(|(k, &(d, n))| (k.clone(), d, n))
            .collect();
        v.sort_by_key(|e| std::cmp::Reverse(e.1));
        v
    }

    /// The bytes of the session's keys, DFT matrices and caches.
    pub fn memory_use(&self) -> MemoryUse {
        MemoryUse {
            keys: self.key_bytes,
            bootstrap_matrices: self
                .bootstrapper
                .as_ref()
                .map_or(0, |(_, b)| b.matrices_bytes()),
            plaintext_cache: self.cached_bytes,
        }
    }

    /// Bounds the bytes cached slot vectors and plaintexts may take.
    pub fn set_cache_budget(&mut self, bytes: usize) {
        self.cache_budget = bytes;
    }

    fn slot_bytes(&self) -> usize {
        self.params.slots() * std::mem::size_of::<f64>()
    }

    fn plaintext_bytes(&self, level: usize) -> usize {
        (level + 1) * self.ctx.n() * std::mem::size_of::<u64>()
    }

    /// Reserves cache room for `bytes`, if the budget allows.
    fn reserve(&mut self, bytes: usize) -> bool {
        if self.cached_bytes + bytes > self.cache_budget {
            return false;
        }
        self.cached_bytes += bytes;
        true
    }

    /// Number of encoded plaintexts held in the cache.
    pub fn cached_plaintexts(&self) -> usize {
        self.plaintexts.len()
    }

    /// `@main`, after re-planning if `module` is not the one planned for.
    fn main_of<'m>(&mut self, module: &'m Module) -> Result<&'m Func, RunError> {
        let func = main_func(module)?;
        if fingerprint(module) != self.plan.fingerprint {
            let params =
                ParamsAttr::of_module(module).map_err(|m| RunError::module(&func.loc, m))?;
            if params != self.params {
                return Err(RunError::module(
                    &func.loc,
                    "the module's ckks.params differ from the session's; build a new Session",
                ));
            }
            self.plan = Plan::new(module, func);
            self.slots.clear();
            self.plaintexts.clear();
            self.cached_bytes = 0;
        }
        Ok(func)
    }

    fn empty_env(func: &Func) -> Vec<Option<Val>> {
        (0..func.values.len()).map(|_| None).collect()
    }

    fn tensor_env(func: &Func, inputs: &[Tensor]) -> Result<Vec<Option<Val>>, RunError> {
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
        let mut env = Self::empty_env(func);
        for (&a, t) in func.args.iter().zip(inputs) {
            let slot = env.get_mut(a.0 as usize).ok_or_else(|| {
                RunError::module(&func.loc, "an argument lies outside the value table")
            })?;
            *slot = Some(Val::Tensor(t.clone()));
        }
        Ok(env)
    }

    /// Encrypts `inputs`, evaluates `@main` and decrypts its results.
    pub fn run(
        &mut self,
        module: &Module,
        inputs: &[Tensor],
    ) -> Result<(Vec<Tensor>, Timings), RunError> {
        let func = self.main_of(module)?;
        let env = Self::tensor_env(func, inputs)?;
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
        let env = Self::tensor_env(func, inputs)?;
        let (outs, _) = self.exec(module, func, env, Phase::Encrypt)?;
        Ok(ciphertexts(outs))
    }

    /// The server's part: takes the ciphertexts of [`Session::encrypt_inputs`]
    /// (one per `ckks.encrypt` op) and runs every op between encryption and
    /// decryption (needs only the evaluation keys). Returns one ciphertext per
    /// `ckks.decrypt` op, in program order.
    pub fn evaluate(
        &mut self,
        module: &Module,
        inputs: Vec<Ciphertext>,
    ) -> Result<Vec<Ciphertext>, RunError> {
        let func = self.main_of(module)?;
        let mut env = Self::empty_env(func);
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
            self.ctx
                .check_ciphertext(&ct)
                .map_err(|e| RunError::ckks(op, "checking the given ciphertext", e))?;
            check_result(op, func, &ct)?;
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

    /// The client's last part: decrypts the ciphertexts of
    /// [`Session::evaluate`] (one per `ckks.decrypt` op; needs the secret
    /// key) and returns `@main`'s results.
    pub fn decrypt_outputs(
        &mut self,
        module: &Module,
        inputs: Vec<Ciphertext>,
    ) -> Result<Vec<Tensor>, RunError> {
        let func = self.main_of(module)?;
        let mut env = Self::empty_env(func);
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
        mut env: Vec<Option<Val>>,
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
            if op.name == "func.return" && matches!(phase, Phase::Encrypt | Phase::Evaluate) {
                let mut handed = Vec::new();
                for o in &func.body {
                    let vs = match (phase, o.name.as_str()) {
                        (Phase::Encrypt, "ckks.encrypt") => &o.results,
                        // Every block of a layout over several ciphertexts.
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
                // Moved out at their last mention, copied before (a value
                // decrypted twice).
                let mut outs = Vec::with_capacity(handed.len());
                for (j, &k) in handed.iter().enumerate() {
                    let again = handed[j + 1..].contains(&k);
                    match (again, &mut env[k]) {
                        (true, Some(Val::Ct(c))) => outs.push(Val::Ct(c.clone())),
                        (false, slot @ Some(Val::Ct(_))) => outs.extend(slot.take()),
                        _ => return Err(RunError::op(op, "internal error: ciphertext lost")),
                    }
                }
                pb.finish_and_clear();
                return Ok((outs, timings));
            }
            if op.name == "func.return" {
                let mut outs = Vec::new();
                for v in &op.operands {
                    match env.get_mut(v.0 as usize).and_then(Option::take) {
                        Some(Val::Tensor(t)) => outs.push(Val::Tensor(t)),
                        Some(_) => {
                            return Err(RunError::op(
                                op,
                                "@main must return tensors (decrypt them first)",
                            ))
                        }
                        None => return Err(RunError::op(op, "returns an undefined value")),
                    }
                }
                pb.finish_and_clear();
                return Ok((outs, timings));
            }
            if !phase.runs(&op.name) {
                continue;
            }
            let start = Instant::now();
            // An operand at its last use is updated in place (no copy).
            let in_place = matches!(op.name.as_str(), "ckks.add" | "ckks.sub" | "ckks.rescale")
                && op.operands.first().is_some_and(|a| {
                    self.plan.last_use.get(a.0 as usize) == Some(&i)
                        && op.operands[1..].iter().all(|b| b != a)
                });
            let owned = if in_place {
                let k = op.operands[0].0 as usize;
                match env.get_mut(k).and_then(Option::take) {
                    Some(Val::Ct(c)) => Some(c),
                    other => {
                        env[k] = other;
                        None
                    }
                }
            } else {
                None
            };
            let out = self.eval_op(i, op, func, module, &env, &mut pending, owned)?;
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

    fn ct<'a>(
        &self,
        op: &Op,
        env: &'a [Option<Val>],
        k: usize,
    ) -> Result<&'a Ciphertext, RunError> {
        let v = op
            .operands
            .get(k)
            .ok_or_else(|| RunError::op(op, format!("lacks operand #{k}")))?;
        match env.get(v.0 as usize).and_then(Option::as_ref) {
            Some(Val::Ct(c)) => Ok(c),
            Some(_) => Err(RunError::op(
                op,
                format!("operand #{k} is not a ciphertext"),
            )),
            None => Err(RunError::op(op, format!("operand #{k} is undefined"))),
        }
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

    /// The plaintext of operand `k` (a lazily encoded `ckks.encode`), encoded
    /// at `level` and `scale`, from the cache when possible.
    #[allow(clippy::too_many_arguments)]
    fn plaintext(
        &mut self,
        op: &Op,
        func: &Func,
        module: &Module,
        env: &[Option<Val>],
        k: usize,
        level: usize,
        scale: f64,
    ) -> Result<Arc<Plaintext>, RunError> {
        let v = op
            .operands
            .get(k)
            .ok_or_else(|| RunError::op(op, format!("lacks operand #{k}")))?;
        let idx = match env.get(v.0 as usize).and_then(Option::as_ref) {
            Some(Val::Pt(i)) => *i,
            Some(_) => return Err(RunError::op(op, format!("operand #{k} is not a plaintext"))),
            None => return Err(RunError::op(op, format!("operand #{k} is undefined"))),
        };
        let key = (idx, level, scale.to_bits());
        if let Some(pt) = self.plaintexts.get(&key) {
            return Ok(pt.clone());
        }
        let slots = match self.slots.get(&idx) {
            Some(s) => s.clone(),
            None => {
                let enc = &func.body[idx];
                let value = enc
                    .attr("value")
                    .ok_or_else(|| RunError::op(enc, "needs a 'value' attribute"))?;
                let s = plaintext::materialize(value, module).map_err(|m| RunError::op(enc, m))?;
                if s.len() != self.params.slots() {
                    return Err(RunError::op(
                        enc,
                        format!(
                            "encodes {} slots, the parameters give {}",
                            s.len(),
                            self.params.slots()
                        ),
                    ));
                }
                let s = Arc::new(s);
                if self.reserve(self.slot_bytes()) {
                    self.slots.insert(idx, s.clone());
                }
                s
            }
        };
        let pt = Arc::new(
            self.encoder
                .encode(&slots, level, scale)
                .map_err(|e| RunError::ckks(op, format!("encoding operand #{k}"), e))?,
        );
        if self.reserve(self.plaintext_bytes(level)) {
            self.plaintexts.insert(key, pt.clone());
        }
        Ok(pt)
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_op(
        &mut self,
        i: usize,
        op: &Op,
        func: &Func,
        module: &Module,
        env: &[Option<Val>],
        pending: &mut HashMap<usize, Ciphertext>,
        owned: Option<Ciphertext>,
    ) -> Result<Val, RunError> {
        let ev = &self.evaluator;
        let ck = |what: &str| {
            let what = what.to_string();
            move |e: CkksError| RunError::ckks(op, what, e)
        };
        Ok(match op.name.as_str() {
            "ckks.encrypt" => {
                Self::operand_count(op, 1)?;
                let t = match env.get(op.operands[0].0 as usize).and_then(Option::as_ref) {
                    Some(Val::Tensor(t)) => t,
                    _ => return Err(RunError::op(op, "expects a tensor operand")),
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
                    .map_err(ck("encoding the input"))?;
                let encryptor = self.encryptor.as_ref().ok_or_else(|| {
                    RunError::op(op, "needs the public key, which this session does not hold")
                })?;
                Val::Ct(encryptor.encrypt(&pt).map_err(ck("encrypting"))?)
            }
            "ckks.decrypt" => {
                let layout = op_layout(op, self.params.slots()).map_err(|m| RunError::op(op, m))?;
                Self::operand_count(op, layout.blocks())?;
                let decryptor = self.decryptor.as_ref().ok_or_else(|| {
                    RunError::op(op, "needs the secret key, which this session does not hold")
                })?;
                let blocks = (0..layout.blocks())
                    .map(|k| {
                        let pt = decryptor
                            .decrypt(self.ct(op, env, k)?)
                            .map_err(ck("decrypting"))?;
                        self.encoder.decode(&pt).map_err(ck("decoding"))
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
                Val::Tensor(
                    unpack_tensor(&layout, &blocks, shape).map_err(|m| RunError::op(op, m))?,
                )
            }
            "ckks.encode" => {
                Self::operand_count(op, 0)?;
                Val::Pt(i)
            }
            "ckks.add" | "ckks.sub" => {
                Self::operand_count(op, 2)?;
                let add = op.name == "ckks.add";
                let b = self.ct(op, env, 1)?;
                Val::Ct(match owned {
                    Some(mut a) => {
                        if add {
                            ev.add_assign(&mut a, b).map_err(ck("adding"))?;
                        } else {
                            ev.sub_assign(&mut a, b).map_err(ck("subtracting"))?;
                        }
                        a
                    }
                    None => {
                        let a = self.ct(op, env, 0)?;
                        if add {
                            ev.add(a, b).map_err(ck("adding"))?
                        } else {
                            ev.sub(a, b).map_err(ck("subtracting"))?
                        }
                    }
                })
            }
            "ckks.add_plain" | "ckks.mul_plain" => {
                Self::operand_count(op, 2)?;
                let a = self.ct(op, env, 0)?;
                let (level, ct_scale) = (a.level, a.scale);
                let scale = if op.name == "ckks.add_plain" {
                    ct_scale
                } else {
                    if level > self.ctx.max_level() {
                        return Err(RunError::op(
                            op,
                            format!("ciphertext level {level} above the top level"),
                        ));
                    }
                    self.mul_plain_scale(op, func, level)
                };
                let pt = self.plaintext(op, func, module, env, 1, level, scale)?;
                let a = self.ct(op, env, 0)?;
                let ev = &self.evaluator;
                Val::Ct(if op.name == "ckks.add_plain" {
                    ev.add_plain(a, &pt).map_err(ck("adding a plaintext"))?
                } else {
                    ev.mul_plain(a, &pt)
                        .map_err(ck("multiplying by a plaintext"))?
                })
            }
            "ckks.mul" => {
                Self::operand_count(op, 2)?;
                let (a, b) = (self.ct(op, env, 0)?, self.ct(op, env, 1)?);
                Val::Ct(ev.mul(a, b).map_err(ck("multiplying"))?)
            }
            "ckks.relinearize" => {
                Self::operand_count(op, 1)?;
                Val::Ct(
                    ev.relinearize(self.ct(op, env, 0)?)
                        .map_err(ck("relinearizing"))?,
                )
            }
            "ckks.rescale" => {
                Self::operand_count(op, 1)?;
                Val::Ct(match owned {
                    Some(mut a) => {
                        ev.rescale_assign(&mut a).map_err(ck("rescaling"))?;
                        a
                    }
                    None => ev.rescale(self.ct(op, env, 0)?).map_err(ck("rescaling"))?,
                })
            }
            "ckks.level_down" => {
                Self::operand_count(op, 1)?;
                let to = op
                    .attr("level")
                    .and_then(Attribute::as_int)
                    .filter(|&l| l >= 0)
                    .ok_or_else(|| RunError::op(op, "needs a non-negative integer 'level'"))?;
                Val::Ct(
                    ev.level_down(self.ct(op, env, 0)?, to as usize)
                        .map_err(ck("dropping levels"))?,
                )
            }
            "ckks.rotate" => {
                Self::operand_count(op, 1)?;
                if let Some(ct) = pending.remove(&i) {
                    return Ok(Val::Ct(ct));
                }
                let k = op
                    .attr("offset")
                    .and_then(Attribute::as_int)
                    .ok_or_else(|| RunError::op(op, "needs an integer 'offset'"))?;
                let a = self.ct(op, env, 0)?;
                match self.plan.hoist_groups.get(&i) {
                    Some(group) => {
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
                            let culprit = culprit.unwrap_or(op);
                            RunError::ckks(culprit, "rotating (hoisted)", e)
                        })?;
                        let mut first = None;
                        for (&(j, _), ct) in group.iter().zip(outs) {
                            if j == i {
                                first = Some(ct);
                            } else {
                                pending.insert(j, ct);
                            }
                        }
                        Val::Ct(first.ok_or_else(|| {
                            RunError::op(op, "internal error: hoisted group lost its head")
                        })?)
                    }
                    None => Val::Ct(ev.rotate(a, k).map_err(ck("rotating"))?),
                }
            }
            "ckks.bootstrap" => {
                Self::operand_count(op, 1)?;
                Val::Ct(self.bootstrap(op, func, self.ct(op, env, 0)?)?)
            }
            "ckks.polynomial" => {
                Self::operand_count(op, 1)?;
                let a = self.ct(op, env, 0)?;
                Val::Ct(self.polynomial(op, func, a)?)
            }
            other => {
                return Err(RunError::op(
                    op,
                    format!("has no encrypted semantics ('{other}')"),
                ))
            }
        })
    }

    /// `ckks.bootstrap {bound = B}`: the circuit wants values in [-1, 1], so
    /// the ciphertext is read at B' = ceil(B) times its scale (the value
    /// divided by B', no computation), bootstrapped to the default scale,
    /// and multiplied back by the integer B' (exact, no level).
    fn bootstrap(&self, op: &Op, func: &Func, a: &Ciphertext) -> Result<Ciphertext, RunError> {
        let ck = |what: &'static str| move |e: CkksError| RunError::ckks(op, what, e);
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
        let y = boot.bootstrap(&x).map_err(ck("bootstrapping"))?;
        let y = if factor > 1.0 {
            self.evaluator
                .mul_const(&y, factor, 1.0)
                .map_err(ck("undoing the bootstrap's range scaling"))?
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
        let ck = |what: &'static str| move |e: CkksError| RunError::ckks(op, what, e);
        let p = orion_dialects::ckks::polynomial::from_op(op).map_err(|m| RunError::op(op, m))?;
        let want = result_ct_type(op, func)?;
        let ev = &self.evaluator;
        let poly = match p.chebyshev_domain {
            Some([lo, hi]) => Polynomial::chebyshev(p.coeffs, lo, hi),
            None => Polynomial::monomial(p.coeffs),
        };
        let target = match orion_dialects::ckks::polynomial::result_scale(op)
            .map_err(|m| RunError::op(op, m))?
        {
            orion_dialects::ckks::polynomial::RESULT_SCALE_LEVEL_PRIME => {
                let l = orion_dialects::ckks::polynomial::prime_level(op, want.level)
                    .map_err(|m| RunError::op(op, m))?;
                self.ctx.q(l) as f64
            }
            _ => a.scale,
        };
        let y = ev
            .evaluate_polynomial(a, &poly, target)
            .map_err(ck("evaluating a polynomial"))?;
        match y.level.cmp(&want.level) {
            std::cmp::Ordering::Equal => Ok(y),
            std::cmp::Ordering::Greater => ev
                .level_down(&y, want.level)
                .map_err(ck("dropping levels after a polynomial")),
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

fn result_ct_type(op: &Op, func: &Func) -> Result<CtType, RunError> {
    let r = op
        .results
        .first()
        .ok_or_else(|| RunError::op(op, "has no result"))?;
    let ty = func
        .values
        .get(r.0 as usize)
        .map(|d| &d.ty)
        .ok_or_else(|| RunError::op(op, "result outside the value table"))?;
    CtType::from_type(ty).map_err(|m| RunError::op(op, m))
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

/// The actual level and degree of a result must be those of its type.
fn check_result(op: &Op, func: &Func, ct: &Ciphertext) -> Result<(), RunError> {
    let ty = result_ct_type(op, func)?;
    if ty.level != ct.level {
        return Err(RunError::op(
            op,
            format!(
                "level mismatch: the result is at level {} but its type says level {}",
                ct.level, ty.level
            ),
        ));
    }
    if ty.degree != ct.degree() {
        return Err(RunError::op(
            op,
            format!(
                "degree mismatch: the result has degree {} but its type says degree {}",
                ct.degree(),
                ty.degree
            ),
        ));
    }
    Ok(())
}

/// One-shot convenience: keygen, encrypt, evaluate, decrypt.
pub fn interpret(
    module: &Module,
    inputs: &[Tensor],
    opts: &RunOptions,
) -> Result<(Vec<Tensor>, Timings), RunError> {
    Session::new(module, opts)?.run(module, inputs)
}

#[cfg(test)]
mod tests;
