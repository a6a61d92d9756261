//! A [`Session`]: the keys, encoder, evaluator, bootstrapper and caches of
//! one module, built once and used for many inputs.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use orion_ckks::bootstrap::{BootstrapOptions, Bootstrapper};
use orion_ckks::{
    Context, Decryptor, Encoder, Encryptor, Evaluator, GaloisKeys, RelinearizationKey,
};
use orion_dialects::ckks::ParamsAttr;
use orion_dialects::{Func, Module};

use super::cache::{PlaintextCache, DEFAULT_CACHE_BUDGET};
use super::keys::{bootstrap_params, ckks_params, main_and_params, main_func, module_context};
use super::plan::{fingerprint, Plan};
use super::{RunError, RunOptions, SessionKeys};

/// Keys, encoder and caches for running one module on many inputs.
pub struct Session {
    pub(super) ctx: Arc<Context>,
    pub(super) params: ParamsAttr,
    pub(super) encoder: Encoder,
    pub(super) encryptor: Option<Encryptor>,
    pub(super) decryptor: Option<Decryptor>,
    pub(super) evaluator: Evaluator,
    /// The bootstrapping circuit and log2 of its slot count.
    pub(super) bootstrapper: Option<(u32, Bootstrapper)>,
    pub(super) keygen: Duration,
    pub(super) progress: bool,
    pub(super) plan: Plan,
    pub(super) cache: PlaintextCache,
    /// Cumulative wall time and count per op name, over all runs.
    pub(super) profile: HashMap<String, (Duration, usize)>,
    /// Bytes of the evaluation keys the session holds.
    key_bytes: usize,
    /// The address of a module that cannot change while the session lives
    /// (see [`Session::pin_module`]).
    pinned: Option<usize>,
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

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("params", &self.params)
            .field("keygen", &self.keygen)
            .field("cached_plaintexts", &self.cache.len())
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
            cache: PlaintextCache::new(opts.plaintext_cache_bytes.unwrap_or(DEFAULT_CACHE_BUDGET)),
            profile: HashMap::new(),
            key_bytes,
            pinned: None,
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
            plaintext_cache: self.cache.bytes(),
        }
    }

    /// Bounds the bytes cached slot vectors and plaintexts may take.
    pub fn set_cache_budget(&mut self, bytes: usize) {
        self.cache.set_budget(bytes);
    }

    /// Number of encoded plaintexts held in the cache.
    pub fn cached_plaintexts(&self) -> usize {
        self.cache.len()
    }

    /// Declares that `module`, the one the session was built for, stays at
    /// its address unchanged for the session's life (the API's `Program`
    /// owns it behind an `Arc` and never mutates it), so that calls with it
    /// skip re-fingerprinting the whole module (about a millisecond for the
    /// MNIST MLP). Calls with any other module are checked as before.
    pub(crate) fn pin_module(&mut self, module: &Module) {
        if fingerprint(module) == self.plan.fingerprint {
            self.pinned = Some(module as *const Module as usize);
        }
    }

    /// `@main`, after re-planning if `module` is not the one planned for.
    pub(super) fn main_of<'m>(&mut self, module: &'m Module) -> Result<&'m Func, RunError> {
        let func = main_func(module)?;
        if self.pinned == Some(module as *const Module as usize) {
            return Ok(func);
        }
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
            self.cache.clear();
            self.pinned = None;
        }
        Ok(func)
    }
}
