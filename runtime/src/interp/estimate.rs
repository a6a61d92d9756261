//! What a session of a module will hold, computed from the parameters and
//! the program before any key exists, so that work the machine cannot hold
//! is refused (or adapted to a budget) before allocating, not killed by the
//! kernel half way.
//!
//! - keys: the evaluation keys at their levels (`KeyLevels::size_bytes`,
//!   exact for the BSGS circuit's shared keys), the public key and the
//!   encapsulation keys;
//! - bootstrapping matrices: `Bootstrapper::matrices_bytes_estimate`
//!   (exact; none when encoded on use);
//! - evaluation: the most ciphertexts alive at once in `@main` plus four for
//!   key switching's temporaries, at the highest level the program uses,
//!   and for a bootstrapping program sixteen at the top of the chain;
//! - plaintext cache: the plaintexts `ckks.mul_plain` consumes, at their
//!   levels, up to the cache's budget.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use orion_ckks::bootstrap::{BootstrapKeys, BootstrapOptions, Bootstrapper, DftStrategy};
use orion_ckks::{Context, KeyLevels};
use orion_dialects::ckks::liveness::peak_live_ciphertexts;
use orion_dialects::ckks::CtType;
use orion_dialects::ir::limits::available_memory;
use orion_dialects::{Func, Module};

use super::cache::DEFAULT_CACHE_BUDGET;
use super::keys::{bootstrap_for, main_and_params, program_key_levels};
use super::{RunError, RunOptions};

/// Bytes a session will hold, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryEstimate {
    /// Public, relinearization, Galois and encapsulation keys.
    pub keys: usize,
    /// The bootstrapper's encoded DFT matrices.
    pub bootstrap_matrices: usize,
    /// Ciphertexts alive during one evaluation.
    pub evaluation: usize,
    /// Encoded plaintexts kept across runs.
    pub plaintext_cache: usize,
}

impl MemoryEstimate {
    pub fn total(&self) -> usize {
        self.keys
            .saturating_add(self.bootstrap_matrices)
            .saturating_add(self.evaluation)
            .saturating_add(self.plaintext_cache)
    }

    /// Refuses what exceeds `budget` (if given) or the memory the machine
    /// has available; `what` names the work.
    pub fn check(&self, what: &str, budget: Option<usize>) -> Result<(), String> {
        let total = self.total();
        if let Some(b) = budget.filter(|&b| total > b) {
            return Err(format!(
                "{what} needs about {} ({self}), more than the memory budget of {}",
                mb(total),
                mb(b)
            ));
        }
        if let Some(a) = available_memory().filter(|&a| total > a) {
            return Err(format!(
                "{what} needs about {} ({self}), only {} are available (free memory, or this process's limit)",
                mb(total),
                mb(a)
            ));
        }
        Ok(())
    }
}

impl fmt::Display for MemoryEstimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "keys {}, bootstrapping matrices {}, evaluation {}, plaintext cache {}",
            mb(self.keys),
            mb(self.bootstrap_matrices),
            mb(self.evaluation),
            mb(self.plaintext_cache)
        )
    }
}

/// Bytes in decimal megabytes, as the tools print memory.
fn mb(bytes: usize) -> String {
    format!("{:.0} MB", bytes as f64 / 1e6)
}

/// Bytes of one switching key usable up to `level`.
fn key_bytes(ctx: &Context, level: usize) -> usize {
    KeyLevels {
        relinearization: Some(level),
        ..KeyLevels::default()
    }
    .size_bytes(ctx)
}

/// Bytes of a ciphertext of two polynomials at `level`.
fn ciphertext_bytes(ctx: &Context, level: usize) -> usize {
    2 * (level + 1) * ctx.n() * std::mem::size_of::<u64>()
}

/// The highest level a ciphertext of `func` is typed at.
fn top_program_level(func: &Func) -> usize {
    func.values
        .iter()
        .filter_map(|v| CtType::from_type(&v.ty).ok())
        .map(|t| t.level)
        .max()
        .unwrap_or(0)
}

/// Memory of one evaluation of `func` beyond keys and cached plaintexts.
pub fn evaluation_bytes(func: &Func, ctx: &Context, bootstraps: bool) -> usize {
    let live = peak_live_ciphertexts(func) + 4;
    let boot = if bootstraps {
        16 * ciphertext_bytes(ctx, ctx.max_level())
    } else {
        0
    };
    live.saturating_mul(ciphertext_bytes(ctx, top_program_level(func)))
        .saturating_add(boot)
}

/// The plaintexts `ckks.mul_plain` consumes, at their operands' levels,
/// each once, with their slot vectors; at most `budget`.
fn plaintext_cache_bytes(func: &Func, ctx: &Context, budget: usize) -> usize {
    let defs = func.def_sites();
    let mut wanted: BTreeSet<(usize, usize)> = BTreeSet::new();
    for op in func.body.iter().filter(|op| op.name == "ckks.mul_plain") {
        let (Some(a), Some(p)) = (op.operands.first(), op.operands.get(1)) else {
            continue;
        };
        let (Ok(t), Some(Some(idx))) = (CtType::from_type(func.ty(*a)), defs.get(p.0 as usize))
        else {
            continue;
        };
        wanted.insert((*idx, t.level));
    }
    let encodes: BTreeSet<usize> = wanted.iter().map(|w| w.0).collect();
    let bytes = wanted
        .iter()
        .map(|&(_, l)| (l + 1) * ctx.n() * 8)
        .sum::<usize>()
        + encodes.len() * ctx.slots() * 8;
    bytes.min(budget)
}

/// The memory a full session (every key) of `module` on `ctx` will hold.
pub fn estimate_memory(
    module: &Module,
    ctx: &Arc<Context>,
    opts: &RunOptions,
) -> Result<MemoryEstimate, RunError> {
    let (func, params) = main_and_params(module)?;
    let mut need = program_key_levels(module, func, ctx, opts)?;
    let boot = bootstrap_for(func, &params)?;
    let top = ctx.max_level();
    // The public key: two polynomials over Q ∪ P.
    let limbs = ctx.moduli_q().len() + ctx.moduli_p().len();
    let mut keys = 2 * limbs * ctx.n() * std::mem::size_of::<u64>();
    let mut matrices = 0;
    if let Some(bp) = &boot {
        let ck = |e| RunError::Keygen(e);
        match bp.dft {
            DftStrategy::Bsgs => need.merge(&BootstrapKeys::key_levels(ctx, bp).map_err(ck)?),
            DftStrategy::Chained => {
                let steps = BootstrapKeys::rotation_steps(ctx, bp).map_err(ck)?;
                keys += (steps.len() + 1) * key_bytes(ctx, top);
            }
        }
        if bp.ephemeral_hamming_weight.is_some() {
            keys += key_bytes(ctx, top) + key_bytes(ctx, 0);
        }
        let options = BootstrapOptions {
            lazy_matrices: opts.lazy_bootstrap_matrices,
        };
        matrices = Bootstrapper::matrices_bytes_estimate(ctx, bp, &options).map_err(ck)?;
    }
    keys += need.size_bytes(ctx);
    let budget = opts.plaintext_cache_bytes.unwrap_or(DEFAULT_CACHE_BUDGET);
    Ok(MemoryEstimate {
        keys,
        bootstrap_matrices: matrices,
        evaluation: evaluation_bytes(func, ctx, boot.is_some()),
        plaintext_cache: plaintext_cache_bytes(func, ctx, budget),
    })
}
