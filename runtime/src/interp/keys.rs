//! The keys of a [`Session`](super::Session): which ones a module needs and
//! at which level, their generation, and the evaluation side of a key set
//! read from files.
//!
//! The program's rotation and relinearization keys are generated at the
//! highest level an op of the program uses them at; with bootstrapping
//! (BSGS DFT), the circuit's keys are merged in by Galois element
//! ([`KeyLevels`]), so each key exists once, for both users.

use std::sync::Arc;

use indicatif::ProgressBar;
use orion_dialects::ckks::params::{rotations_of_module, BootstrapDft};
use orion_dialects::ckks::{CtType, ParamsAttr};
use orion_dialects::{Attribute, Func, Location, Module, Op};

use orion_ckks::progress::ProgressSink;

use super::RunError;
use super::RunOptions;
use crate::progress::BarProgress;
use orion_ckks::bootstrap::{
    BootstrapKeys, BootstrapParams, DftStrategy, EncapsulationKeys, KeyGenOptions, Mod1Params,
};
use orion_ckks::{
    CkksParams, Context, GaloisKeys, KeyGenerator, KeyLevels, PublicKey, RelinearizationKey,
    SecretDist, SecretKey,
};

/// `@main`, or an error saying the module has none.
pub(super) fn main_func(module: &Module) -> Result<&Func, RunError> {
    module
        .main()
        .ok_or_else(|| RunError::module(&Location::Unknown, "module has no func.func @main"))
}

/// `@main` and the module's `ckks.params` (an error at `@main` without them).
pub(super) fn main_and_params(module: &Module) -> Result<(&Func, ParamsAttr), RunError> {
    let func = main_func(module)?;
    let params = ParamsAttr::of_module(module).map_err(|m| RunError::module(&func.loc, m))?;
    Ok((func, params))
}

/// Key material of a session. Any part may be absent: a client that only
/// encrypts holds the public key, the server that evaluates holds only the
/// evaluation keys, a client that decrypts holds the secret key.
#[derive(Clone, Debug, Default)]
pub struct SessionKeys {
    /// The secret key (decryption).
    pub secret: Option<SecretKey>,
    /// The public key (encryption).
    pub public: Option<PublicKey>,
    /// The relinearization key (needed when the module relinearizes).
    pub relin: Option<RelinearizationKey>,
    /// Galois keys for the module's `ckks.rotations`.
    pub galois: Option<GaloisKeys>,
    /// Keys of the bootstrapping circuit and the log2 of the slots it
    /// bootstraps, if the module bootstraps.
    pub bootstrap: Option<(u32, BootstrapKeys)>,
}

/// The parameters of `module` and the CKKS context built from them.
pub fn module_context(module: &Module) -> Result<(Arc<Context>, ParamsAttr), RunError> {
    let (_, params) = main_and_params(module)?;
    let ctx = Context::new(ckks_params(&params)).map_err(RunError::Keygen)?;
    Ok((ctx, params))
}

/// log2 of the slots a `ckks.bootstrap` refreshes: its `log_slots`, else
/// `full` (every slot).
pub(super) fn bootstrap_log_slots(op: &Op, full: u32) -> u32 {
    op.attr("log_slots")
        .and_then(Attribute::as_int)
        .map_or(full, |k| k.clamp(1, full as i64) as u32)
}

/// The bootstrapping parameters `ckks.params` describes, if it bootstraps.
pub fn bootstrap_params(params: &ParamsAttr) -> Option<BootstrapParams> {
    let b = params.bootstrap.as_ref()?;
    Some(BootstrapParams {
        log_n: params.log_n,
        log_slots: b.log_slots,
        residual_log_q: params.log_q.clone(),
        log_scale: params.log_scale,
        log_p: params.log_p.clone(),
        // The runtime refuses a bootstrapping set with a dense secret.
        hamming_weight: params.hamming_weight.unwrap_or(0),
        ephemeral_hamming_weight: b.ephemeral_hamming_weight,
        cts_log_q: b.cts_log_q.clone(),
        stc_log_q: b.stc_log_q.clone(),
        mod1: Mod1Params::default(),
        dft: match b.dft {
            BootstrapDft::Chained => DftStrategy::Chained,
            BootstrapDft::Bsgs => DftStrategy::Bsgs,
        },
        insecure_ok: params.insecure,
    })
}

/// The whole modulus chain: with bootstrapping, the residual levels the
/// program uses are the lowest of a longer chain, so level numbers agree.
pub(super) fn ckks_params(params: &ParamsAttr) -> CkksParams {
    if let Some(bp) = bootstrap_params(params) {
        return bp.ckks_params();
    }
    CkksParams {
        log_n: params.log_n,
        log_q: params.log_q.clone(),
        log_p: params.log_p.clone(),
        log_scale: params.log_scale,
        secret: SecretDist::Ternary {
            hamming_weight: params.hamming_weight,
        },
        insecure_ok: params.insecure,
    }
}

impl SessionKeys {
    /// Generates every key `module` needs: secret and public keys, the
    /// relinearization key if it relinearizes, Galois keys for exactly its
    /// `ckks.rotations`.
    pub fn generate(
        module: &Module,
        ctx: &Arc<Context>,
        opts: &RunOptions,
    ) -> Result<SessionKeys, RunError> {
        let (func, params) = main_and_params(module)?;
        let seed = |salt: u64| opts.seed.map(|s| s.wrapping_add(salt));
        let kg = match opts.seed {
            Some(s) => KeyGenerator::with_seed(ctx, s),
            None => KeyGenerator::new(ctx),
        };
        let sk = kg.gen_secret_key();
        let pk = kg.gen_public_key(&sk).map_err(RunError::Keygen)?;

        let mut need = program_key_levels(module, func, ctx, opts)?;
        // A bootstrapping circuit with the BSGS DFT shares the program's
        // keys (one per Galois element, at the highest level either uses);
        // the chained DFT has keys of its own.
        let boot = bootstrap_for(func, &params)?;
        if let Some(bp) = boot.as_ref().filter(|bp| bp.dft == DftStrategy::Bsgs) {
            need.merge(&BootstrapKeys::key_levels(ctx, bp).map_err(RunError::Keygen)?);
        }
        let pb = counter(opts.progress, "keygen", need.count() as u64);
        pb.set_message(format!(
            "evaluation keys ({} MB at their levels)",
            need.size_bytes(ctx) >> 20
        ));
        let (relin, galois) = need
            .generate(ctx, &sk, seed(0x94d0_49bb), &|| pb.inc(1))
            .map_err(RunError::Keygen)?;
        pb.finish_and_clear();
        let galois = (!galois.is_empty()).then_some(galois);
        let bootstrap = match boot {
            None => None,
            Some(bp) => {
                let keys = match bp.dft {
                    DftStrategy::Chained => {
                        let bar = crate::progress::bar(
                            opts.progress,
                            None,
                            "bootstrapping keys {bar:30} {pos}/{len} [{elapsed_precise}] {msg}",
                        );
                        let opts = KeyGenOptions {
                            seed: seed(0x5bd1_e995),
                            progress: ProgressSink::new(Arc::new(BarProgress(bar))),
                        };
                        BootstrapKeys::generate(ctx, &bp, &sk, &opts).map_err(RunError::Keygen)?
                    }
                    DftStrategy::Bsgs => BootstrapKeys::from_shared(
                        relin.clone().ok_or_else(|| {
                            RunError::module(&func.loc, "bootstrapping needs a relinearization key")
                        })?,
                        galois.clone().unwrap_or_default(),
                        BootstrapKeys::generate_encapsulation(ctx, &bp, &sk, seed(0x5bd1_e995)),
                    ),
                };
                Some((bp.log_slots, keys))
            }
        };
        Ok(SessionKeys {
            secret: Some(sk),
            public: Some(pk),
            relin,
            galois,
            bootstrap,
        })
    }
}

impl SessionKeys {
    /// The evaluation side of a key set read from files (a server without
    /// the secret or public key): the program's relinearization and Galois
    /// keys, and, if it bootstraps (BSGS DFT), the bootstrapper's keys made
    /// of the same keys plus the encapsulation keys.
    pub fn evaluation(
        module: &Module,
        relin: Option<RelinearizationKey>,
        galois: GaloisKeys,
        encapsulation: Option<Arc<EncapsulationKeys>>,
    ) -> Result<SessionKeys, RunError> {
        let (func, params) = main_and_params(module)?;
        let bootstrap = match bootstrap_for(func, &params)? {
            None => None,
            Some(bp) if bp.dft == DftStrategy::Chained => {
                return Err(RunError::module(
                    &func.loc,
                    "the module bootstraps with the chained DFT, whose keys are not stored in \
                     evaluation-key files; compile with bootstrap dft = \"bsgs\" or run in one go",
                ))
            }
            Some(bp) => {
                let relin = relin.clone().ok_or_else(|| {
                    RunError::module(&func.loc, "bootstrapping needs a relinearization key")
                })?;
                let keys = BootstrapKeys::from_shared(relin, galois.clone(), encapsulation);
                Some((bp.log_slots, keys))
            }
        };
        Ok(SessionKeys {
            relin,
            galois: Some(galois),
            bootstrap,
            ..SessionKeys::default()
        })
    }
}

/// The keys the program's own ops use, each at the highest level of an
/// operand that uses it: the steps `ckks.rotations` records (the module's
/// statement of its Galois keys; a step no op rotates by gets the top
/// level, a rotation by an unrecorded step finds no key at run time) and
/// relinearization (polynomials multiply inside the op); held `seeded`
/// if the options say so.
pub(super) fn program_key_levels(
    module: &Module,
    func: &Func,
    ctx: &Context,
    opts: &RunOptions,
) -> Result<KeyLevels, RunError> {
    let slots = ctx.slots();
    let operand_level = |op: &Op| -> Result<usize, RunError> {
        let v = op
            .operands
            .first()
            .ok_or_else(|| RunError::op(op, "has no operand"))?;
        CtType::from_type(func.ty(*v))
            .map(|t| t.level)
            .map_err(|m| RunError::op(op, m))
    };
    let mut used = KeyLevels::default();
    for op in &func.body {
        match op.name.as_str() {
            "ckks.rotate" => {
                let step = op
                    .attr("offset")
                    .and_then(Attribute::as_int)
                    .ok_or_else(|| RunError::op(op, "needs an integer 'offset'"))?;
                used.rotate(step, operand_level(op)?, slots);
            }
            "ckks.relinearize" | "ckks.polynomial" => used.relinearize(operand_level(op)?),
            _ => {}
        }
    }
    let top = ParamsAttr::of_module(module)
        .map_err(|m| RunError::module(&func.loc, m))?
        .max_level();
    let mut need = KeyLevels {
        relinearization: used.relinearization,
        seeded: opts.seeded_keys,
        ..KeyLevels::default()
    };
    for step in rotations_of_module(module) {
        let level = used
            .rotations
            .get(&step.rem_euclid(slots as i64))
            .copied()
            .unwrap_or(top);
        need.rotate(step, level, slots);
    }
    Ok(need)
}

/// The bootstrapping circuit of the program: one, for the largest slot
/// count its `ckks.bootstrap` ops ask for (a vector that repeats every
/// 2^k slots also repeats every 2^k' for k' > k, so it serves the smaller
/// ones too, with one set of keys and DFT matrices); `None` if the program
/// does not bootstrap.
pub(super) fn bootstrap_for(
    func: &Func,
    params: &ParamsAttr,
) -> Result<Option<BootstrapParams>, RunError> {
    let Some(log_slots) = func
        .body
        .iter()
        .filter(|op| op.name == "ckks.bootstrap")
        .map(|op| bootstrap_log_slots(op, params.log_n - 1))
        .max()
    else {
        return Ok(None);
    };
    let bp = bootstrap_params(params).ok_or_else(|| {
        RunError::module(
            &func.loc,
            "the module bootstraps but its ckks.params have no 'bootstrap' settings",
        )
    })?;
    Ok(Some(bp.with_log_slots(log_slots)))
}

/// A bar counting `total` items of long work (key generation), on stderr.
fn counter(enabled: bool, prefix: &'static str, total: u64) -> ProgressBar {
    let pb = crate::progress::bar(
        enabled,
        Some(total),
        "{prefix} {bar:30} {pos}/{len} [{elapsed}] {msg}",
    );
    pb.set_prefix(prefix);
    pb
}
