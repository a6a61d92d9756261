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
use egg::{Extractor, Id, Language, Runner, SimpleScheduler, Symbol};
use orion_dialects::ckks::params::ROTATIONS_ATTR;
use orion_dialects::ckks::{CtType, ParamsAttr};
use orion_dialects::{Attribute, Diagnostic, Func, Location, Module, Op, ValueId};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

mod cost;
mod emit;
mod lang;
mod rules;

use cost::{enode_cost, CostModel, NttCost};
use emit::Emitter;
use lang::{CkksAnalysis, CkksEGraph, CkksLang, Info};
use rules::rules;

/// The pass. Limits bound the equality saturation.
#[derive(Clone, Debug)]
pub struct OptimizeCkks {
    pub iter_limit: usize,
    pub node_limit: usize,
    pub time_limit: Duration,
}

impl Default for OptimizeCkks {
    fn default() -> Self {
        OptimizeCkks {
            iter_limit: 30,
            node_limit: 200_000,
            time_limit: Duration::from_secs(10),
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
}

fn optimize_func(
    func: &Func,
    params: &ParamsAttr,
    limits: &OptimizeCkks,
) -> Result<Optimized, Diagnostic> {
    let slots = params.slots() as i64;
    let model = CostModel::new(params);
    let mut eg = CkksEGraph::new(CkksAnalysis {
        log_q: params.log_q.clone(),
        leaves: HashMap::new(),
    });

    // Value -> e-class of the arithmetic op defining it.
    let mut arith: Vec<Option<Id>> = vec![None; func.values.len()];
    // Opaque ops' operands that the arithmetic computes.
    let mut roots: Vec<Id> = Vec::new();
    // Original (result, class, op index) of each arithmetic op.
    let mut originals: Vec<(ValueId, Id, usize, &'static str)> = Vec::new();
    let mut is_arith_op = vec![false; func.body.len()];
    for (i, op) in func.body.iter().enumerate() {
        let Some(name) = arith_name(op) else {
            roots.extend(op.operands.iter().filter_map(|v| arith[v.0 as usize]));
            continue;
        };
        let mut classes = Vec::with_capacity(op.operands.len());
        for &v in &op.operands {
            let id = match arith[v.0 as usize] {
                Some(id) => id,
                None => {
                    let sym = leaf_symbol(v);
                    eg.analysis.leaves.insert(sym, Info::of_type(func.ty(v)));
                    eg.add(CkksLang::Leaf(sym))
                }
            };
            classes.push(id);
        }
        let node = arith_node(op, name, slots, &mut eg, &classes);
        let id = eg.add(node);
        arith[op.result().0 as usize] = Some(id);
        originals.push((op.result(), id, i, name));
        is_arith_op[i] = true;
    }

    // Cost of the live part of the input, as a DAG.
    let mut live = vec![false; func.values.len()];
    let mut cost_before = 0.0;
    for (i, op) in func.body.iter().enumerate().rev() {
        if is_arith_op[i] && !live[op.result().0 as usize] {
            continue;
        }
        if is_arith_op[i] {
            if let Ok(t) = CtType::from_type(func.ty(op.operands[0])) {
                cost_before += model.op_cost(&op.name["ckks.".len()..], t);
            }
        }
        for v in &op.operands {
            live[v.0 as usize] = true;
        }
    }

    let runner = Runner::default()
        .with_egraph(eg)
        .with_iter_limit(limits.iter_limit)
        .with_node_limit(limits.node_limit)
        .with_time_limit(limits.time_limit)
        .with_scheduler(SimpleScheduler)
        .run(&rules(slots));
    let iterations = runner.iterations.len();
    let eg = runner.egraph;
    let extractor = Extractor::new(
        &eg,
        NttCost {
            egraph: &eg,
            model: model.clone(),
        },
    );

    // Classes the extracted program needs, and its DAG cost.
    let mut needed: HashSet<Id> = HashSet::new();
    let mut stack: Vec<Id> = roots.iter().map(|&r| eg.find(r)).collect();
    let mut cost_after = 0.0;
    while let Some(c) = stack.pop() {
        if !needed.insert(c) {
            continue;
        }
        let node = extractor.find_best_node(c);
        cost_after += enode_cost(&eg, &model, node);
        stack.extend(node.children().iter().map(|&k| eg.find(k)));
    }

    // Where each (class, op) came from: its value and location are reused.
    let mut origin: HashMap<(Id, &'static str), (ValueId, Location)> = HashMap::new();
    let mut class_loc: HashMap<Id, Location> = HashMap::new();
    for &(v, id, i, name) in &originals {
        let loc = &func.body[i].loc;
        let c = eg.find(id);
        origin.entry((c, name)).or_insert((v, loc.clone()));
        class_loc.entry(c).or_insert(loc.clone());
    }

    let out = Func {
        name: func.name.clone(),
        args: func.args.clone(),
        body: Vec::new(),
        values: func.values.clone(),
        loc: func.loc.clone(),
    };
    let mut defined = vec![false; func.values.len()];
    for a in &func.args {
        defined[a.0 as usize] = true;
    }
    let mut emitter = Emitter {
        eg: &eg,
        extractor: &extractor,
        origin: &origin,
        class_loc: &class_loc,
        log_q: &params.log_q,
        out,
        defined,
        emitted: HashMap::new(),
    };
    for (i, op) in func.body.iter().enumerate() {
        if is_arith_op[i] {
            let c = eg.find(arith[op.result().0 as usize].expect("arith class"));
            if needed.contains(&c) {
                emitter.emit(c)?;
            }
            continue;
        }
        let mut new_op = op.clone();
        for o in &mut new_op.operands {
            if let Some(id) = arith[o.0 as usize] {
                *o = emitter.emit(eg.find(id))?;
            }
        }
        for r in &new_op.results {
            emitter.mark_defined(*r);
        }
        emitter.out.body.push(new_op);
    }
    let mut out = emitter.out;
    out.remove_dead_ops();
    Ok(Optimized {
        func: out,
        cost_before,
        cost_after,
        egraph_nodes: eg.total_number_of_nodes(),
        iterations,
    })
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
        stats.push(("rewrite-rejected-by-cost".into(), (!accepted) as i64));
        Ok(stats)
    }
}
