//! `optimize-ckks`: equality saturation (egg) over the arithmetic `ckks` ops of
//! `func.func @main`, extraction with a cost model counted in NTTs, and a
//! rebuild of `@main` that keeps values shared.
//!
//! The arithmetic ops (`rotate`, `add`, `sub`, `add_plain`, `mul_plain`, `mul`,
//! `relinearize`, `rescale`, `level_down`) become e-graph nodes; every other
//! value (function arguments, results of `ckks.encrypt` / `ckks.encode`) is an
//! opaque leaf named after its `ValueId`, so the rebuilt function refers to
//! the very same value instead of re-creating it. Rewrites:
//!
//! - `rotate(rotate(x, a), b) -> rotate(x, (a + b) mod slots)`, `rotate(x, 0) -> x`;
//! - lazy rescale: `add(rescale(a), rescale(b)) -> rescale(add(a, b))` (and
//!   `sub`), only when `a` and `b` have the same level and scale;
//! - `add(rotate(a, k), rotate(b, k)) -> rotate(add(a, b), k)` (and `sub`);
//! - `rescale(rotate(x, k)) <-> rotate(rescale(x), k)`, so that a rescale can
//!   move past a giant-step rotation and meet the other rescales of a sum.
//!
//! Every rewrite checks the e-class analysis, which tracks the ciphertext type
//! (level, log_scale, degree) of each class with the verifier's rules, so the
//! e-graph only ever holds well-typed terms. Extraction picks the cheapest node
//! of each class (key switch at level l: `(dnum_l + 2)(l + 1) + 2 #P` NTTs plus
//! its inner product; rescale: `(degree + 1)(l + 1)` NTTs; additions and
//! plaintext products a fraction of an NTT per limb), then emits each chosen
//! class once. If the extracted DAG would cost more than the input DAG (tree
//! extraction does not see sharing), the function is left as it was.
//!
//! Before (`ckks.params`: log_q = [29, 26, 26, 26, 26, 26]):
//!
//! ```text
//! %2 = ckks.rotate %x {offset = 3} : !ckks.ct<level = 5, log_scale = 26>
//! %3 = ckks.rotate %2 {offset = 5} : !ckks.ct<level = 5, log_scale = 26>
//! %4 = ckks.mul_plain %x, %p0 : !ckks.ct<level = 5, log_scale = 52>
//! %5 = ckks.rescale %4 : !ckks.ct<level = 4, log_scale = 26>
//! %6 = ckks.mul_plain %3, %p1 : !ckks.ct<level = 5, log_scale = 52>
//! %7 = ckks.rescale %6 : !ckks.ct<level = 4, log_scale = 26>
//! %8 = ckks.add %5, %7 : !ckks.ct<level = 4, log_scale = 26>
//! ```
//!
//! After (two key switches -> one, two rescales -> one; `ckks.rotations = array<i64: 8>`):
//!
//! ```text
//! %3 = ckks.rotate %x {offset = 8} : !ckks.ct<level = 5, log_scale = 26>
//! %4 = ckks.mul_plain %x, %p0 : !ckks.ct<level = 5, log_scale = 52>
//! %6 = ckks.mul_plain %3, %p1 : !ckks.ct<level = 5, log_scale = 52>
//! %9 = ckks.add %4, %6 : !ckks.ct<level = 5, log_scale = 52>
//! %8 = ckks.rescale %9 : !ckks.ct<level = 4, log_scale = 26>
//! ```

use super::{Pass, Statistics};
use egg::{Id, Symbol};
use orion_dialects::ckks::params::ROTATIONS_ATTR;
use orion_dialects::ckks::ParamsAttr;
use orion_dialects::{Attribute, Diagnostic, Func, Location, Module, Op, ValueId};
use std::collections::HashMap;
use std::ops::Range;
use std::time::Duration;

mod cost;
mod emit;
mod lang;
mod region;
mod rules;

use cost::CostModel;
use lang::{CkksEGraph, CkksLang};
use region::{keep_region, optimize_region, Output, Shared};

/// The pass. Limits bound the equality saturation.
#[derive(Clone, Debug)]
pub struct OptimizeCkks {
    pub iter_limit: usize,
    pub node_limit: usize,
    /// Per region.
    pub time_limit: Duration,
    /// For the whole pass: past it, the remaining regions are kept as they
    /// are (a bound on adversarial input, never reached by a network).
    pub total_time_limit: Duration,
}

impl Default for OptimizeCkks {
    fn default() -> Self {
        OptimizeCkks {
            iter_limit: 30,
            node_limit: 200_000,
            time_limit: Duration::from_secs(10),
            total_time_limit: Duration::from_secs(120),
        }
    }
}

impl OptimizeCkks {
    pub fn new() -> OptimizeCkks {
        OptimizeCkks::default()
    }
}

/// Counts of the ops the statistics report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpCounts {
    pub rotations: i64,
    pub relinearizations: i64,
    pub rescales: i64,
    pub ops: i64,
}

impl OpCounts {
    pub fn of(func: &Func) -> OpCounts {
        let n = |name: &str| func.body.iter().filter(|op| op.name == name).count() as i64;
        OpCounts {
            rotations: n("ckks.rotate"),
            relinearizations: n("ckks.relinearize"),
            rescales: n("ckks.rescale"),
            ops: func.body.len() as i64,
        }
    }
}

/// The op name (without `ckks.`) if `op` is a well-formed arithmetic op.
fn arith_name(op: &Op) -> Option<&'static str> {
    let (name, arity) = match op.name.strip_prefix("ckks.")? {
        "rotate" => ("rotate", 1),
        "relinearize" => ("relinearize", 1),
        "rescale" => ("rescale", 1),
        "level_down" => ("level_down", 1),
        "add" => ("add", 2),
        "sub" => ("sub", 2),
        "add_plain" => ("add_plain", 2),
        "mul_plain" => ("mul_plain", 2),
        "mul" => ("mul", 2),
        _ => return None,
    };
    let int_attr = |k: &str| op.attr(k).and_then(Attribute::as_int).is_some();
    let attrs_ok = match name {
        "rotate" => int_attr("offset"),
        "level_down" => int_attr("level"),
        _ => true,
    };
    (op.operands.len() == arity && op.results.len() == 1 && attrs_ok).then_some(name)
}

/// The e-graph node of a well-formed arithmetic op whose operands are in classes `c`.
fn arith_node(op: &Op, name: &str, slots: i64, eg: &mut CkksEGraph, c: &[Id]) -> CkksLang {
    let int = |k: &str| op.attr(k).and_then(Attribute::as_int).unwrap_or(0);
    match name {
        "rotate" => {
            let k = eg.add(CkksLang::Num(int("offset").rem_euclid(slots)));
            CkksLang::Rotate([c[0], k])
        }
        "level_down" => {
            let l = eg.add(CkksLang::Num(int("level")));
            CkksLang::LevelDown([c[0], l])
        }
        "relinearize" => CkksLang::Relinearize([c[0]]),
        "rescale" => CkksLang::Rescale([c[0]]),
        "add" => CkksLang::Add([c[0], c[1]]),
        "sub" => CkksLang::Sub([c[0], c[1]]),
        "add_plain" => CkksLang::AddPlain([c[0], c[1]]),
        "mul_plain" => CkksLang::MulPlain([c[0], c[1]]),
        _ => CkksLang::Mul([c[0], c[1]]),
    }
}

fn leaf_symbol(v: ValueId) -> Symbol {
    Symbol::from(format!("v{}", v.0))
}

/// Outcome of optimizing one function.
struct Optimized {
    func: Func,
    cost_before: f64,
    cost_after: f64,
    egraph_nodes: usize,
    iterations: usize,
    regions: usize,
    regions_rejected: usize,
    regions_skipped: usize,
}

/// A region closes once it holds this many arithmetic ops and the last op
/// was a bootstrap (no rewrite crosses a bootstrap: its result is a fresh
/// ciphertext)...
const REGION_MIN: usize = 2048;
/// ... or this many and the next op belongs to another layer (its
/// location's name)...
const REGION_LAYER: usize = 6144;
/// ... and in any case at this many: the e-graph, its saturation and its
/// extraction stay bounded, so the pass is linear in the program's size.
/// (ResNet-20, 24k arithmetic ops in 10 regions, keeps the NTT cost of one
/// whole-function e-graph; a program without bootstraps of up to 6k
/// arithmetic ops is one region.)
const REGION_MAX: usize = 8192;

/// Consecutive op ranges covering `func`'s body (see `REGION_MIN`).
fn regions(func: &Func) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut arith) = (0, 0);
    for (i, op) in func.body.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| &func.body[p]);
        let after_bootstrap = prev.is_some_and(|p| p.name == "ckks.bootstrap");
        let new_layer = prev.is_some_and(|p| p.loc.name() != op.loc.name());
        if arith >= REGION_MAX
            || (arith >= REGION_MIN && after_bootstrap)
            || (arith >= REGION_LAYER && new_layer)
        {
            out.push(start..i);
            (start, arith) = (i, 0);
        }
        arith += usize::from(arith_name(op).is_some());
    }
    out.push(start..func.body.len());
    out
}

/// Whether each value is needed by an op that is not arithmetic (the
/// function's result, decryptions, ...), through any chain of uses.
fn live_values(func: &Func) -> Vec<bool> {
    let mut live = vec![false; func.values.len()];
    for op in func.body.iter().rev() {
        let needed = arith_name(op).is_none() || op.results.iter().any(|r| live[r.0 as usize]);
        if needed {
            for v in &op.operands {
                live[v.0 as usize] = true;
            }
        }
    }
    live
}

/// Optimizes `func` region by region (see the `region` module): linear in
/// its size, each region's e-graph bounded by `REGION_MAX` ops.
fn optimize_func(
    func: &Func,
    params: &ParamsAttr,
    limits: &OptimizeCkks,
) -> Result<Optimized, Diagnostic> {
    let model = CostModel::new(params);
    let (last_use, live) = (func.last_uses(), live_values(func));
    let shared = Shared {
        func,
        params,
        limits,
        model: &model,
        last_use: &last_use,
        live: &live,
    };
    let mut defined = vec![false; func.values.len()];
    for a in &func.args {
        defined[a.0 as usize] = true;
    }
    let mut o = Output {
        out: Func {
            name: func.name.clone(),
            args: func.args.clone(),
            body: Vec::with_capacity(func.body.len()),
            values: func.values.clone(),
            loc: func.loc.clone(),
        },
        defined,
        rename: HashMap::new(),
    };
    let mut total = Optimized {
        func: Func::new(&func.name),
        cost_before: 0.0,
        cost_after: 0.0,
        egraph_nodes: 0,
        iterations: 0,
        regions: 0,
        regions_rejected: 0,
        regions_skipped: 0,
    };
    let start = std::time::Instant::now();
    for range in regions(func) {
        total.regions += 1;
        if start.elapsed() >= limits.total_time_limit {
            total.regions_skipped += 1;
            keep_region(&shared, range, &mut o);
            continue;
        }
        let r = optimize_region(&shared, range, &mut o)?;
        total.cost_before += r.cost_before;
        total.cost_after += r.cost_after;
        total.egraph_nodes += r.nodes;
        total.iterations = total.iterations.max(r.iterations);
        total.regions_rejected += usize::from(r.rejected);
    }
    o.out.remove_dead_ops();
    total.func = o.out;
    Ok(total)
}

/// Sorted distinct nonzero offsets (mod slots) of the module's rotations.
pub fn used_rotations(module: &Module, slots: i64) -> Vec<i64> {
    let mut r: Vec<i64> = module
        .funcs
        .iter()
        .flat_map(|f| f.body.iter())
        .filter(|op| op.name == "ckks.rotate")
        .filter_map(|op| op.attr("offset").and_then(Attribute::as_int))
        .map(|k| k.rem_euclid(slots))
        .filter(|&k| k != 0)
        .collect();
    r.sort_unstable();
    r.dedup();
    r
}

impl Pass for OptimizeCkks {
    fn name(&self) -> &'static str {
        "optimize-ckks"
    }

    fn run(&self, module: &mut Module) -> Result<Statistics, Diagnostic> {
        let params =
            ParamsAttr::of_module(module).map_err(|m| Diagnostic::new(Location::Unknown, m))?;
        let main = module.main().ok_or_else(|| {
            Diagnostic::new(
                Location::Unknown,
                "optimize-ckks: module has no func.func @main",
            )
        })?;
        let before = OpCounts::of(main);
        let opt = optimize_func(main, &params, self)?;
        // Tree extraction cannot see sharing: never make the DAG more expensive.
        let accepted = opt.cost_after <= opt.cost_before + 1e-9;
        if accepted {
            *module.main_mut().expect("main") = opt.func;
            let rotations = used_rotations(module, params.slots() as i64);
            if module.attr(ROTATIONS_ATTR).is_some() || !rotations.is_empty() {
                module.set_attr(ROTATIONS_ATTR, Attribute::I64Array(rotations));
            }
        }
        let after = OpCounts::of(module.main().expect("main"));
        let mut stats: Statistics = Vec::new();
        for (key, b, a) in [
            ("rotations", before.rotations, after.rotations),
            (
                "relinearizations",
                before.relinearizations,
                after.relinearizations,
            ),
            ("rescales", before.rescales, after.rescales),
            ("ops", before.ops, after.ops),
        ] {
            stats.push((format!("{key}-before"), b));
            stats.push((format!("{key}-after"), a));
        }
        let cost_after = if accepted {
            opt.cost_after
        } else {
            opt.cost_before
        };
        stats.push(("ntt-cost-before".into(), opt.cost_before.round() as i64));
        stats.push(("ntt-cost-after".into(), cost_after.round() as i64));
        stats.push(("egraph-nodes".into(), opt.egraph_nodes as i64));
        stats.push(("egraph-iterations".into(), opt.iterations as i64));
        stats.push(("regions".into(), opt.regions as i64));
        stats.push(("regions-kept-by-cost".into(), opt.regions_rejected as i64));
        stats.push(("regions-kept-by-time".into(), opt.regions_skipped as i64));
        stats.push(("rewrite-rejected-by-cost".into(), (!accepted) as i64));
        Ok(stats)
    }
}
