//! One region of `@main`: its arithmetic ops saturated in an e-graph of
//! their own, extracted, and emitted after the regions before it.
//!
//! Values a region uses but does not compute are leaves; values it computes
//! and a later op uses are its roots, and when their extracted form is a
//! new value, later regions read it through `rename`. A region whose
//! extraction would cost more than its input (tree extraction does not see
//! sharing) is emitted as it was.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use egg::{Extractor, Id, Language, Runner, SimpleScheduler};
use orion_dialects::ckks::{CtType, ParamsAttr};
use orion_dialects::{Diagnostic, Func, ValueId};

use super::cost::{enode_cost, CostModel, NttCost};
use super::emit::Emitter;
use super::lang::{CkksAnalysis, CkksEGraph, CkksLang, Info};
use super::rules::rules;
use super::{arith_name, arith_node, leaf_symbol, OptimizeCkks};

/// What every region reads.
pub(super) struct Shared<'a> {
    pub(super) func: &'a Func,
    pub(super) params: &'a ParamsAttr,
    pub(super) limits: &'a OptimizeCkks,
    pub(super) model: &'a CostModel,
    /// Index of the last op using each value (`usize::MAX`: none).
    pub(super) last_use: &'a [usize],
    /// Whether each value is needed by the function's result.
    pub(super) live: &'a [bool],
}

/// The function being rebuilt, region after region.
pub(super) struct Output {
    pub(super) out: Func,
    pub(super) defined: Vec<bool>,
    /// Old value -> the value that now holds it.
    pub(super) rename: HashMap<ValueId, ValueId>,
}

impl Output {
    fn renamed(&self, v: ValueId) -> ValueId {
        self.rename.get(&v).copied().unwrap_or(v)
    }
}

/// Figures of one region.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct RegionStats {
    pub(super) cost_before: f64,
    pub(super) cost_after: f64,
    pub(super) nodes: usize,
    pub(super) iterations: usize,
    pub(super) rejected: bool,
}

/// The region's e-graph: the class of each value an arithmetic op of the
/// region defines, its roots, and (result, class, op index, name) of each
/// arithmetic op.
struct Graph {
    eg: CkksEGraph,
    class_of: HashMap<ValueId, Id>,
    roots: Vec<Id>,
    originals: Vec<(ValueId, Id, usize, &'static str)>,
}

fn build(s: &Shared, range: &Range<usize>) -> Graph {
    let slots = s.params.slots() as i64;
    let mut eg = CkksEGraph::new(CkksAnalysis {
        log_q: s.params.log_q.clone(),
        leaves: HashMap::new(),
    });
    let mut class_of: HashMap<ValueId, Id> = HashMap::new();
    let mut roots = Vec::new();
    let mut originals = Vec::new();
    for i in range.clone() {
        let op = &s.func.body[i];
        let Some(name) = arith_name(op) else {
            roots.extend(op.operands.iter().filter_map(|v| class_of.get(v).copied()));
            continue;
        };
        let classes: Vec<Id> = op
            .operands
            .iter()
            .map(|&v| match class_of.get(&v) {
                Some(&id) => id,
                None => {
                    let sym = leaf_symbol(v);
                    eg.analysis.leaves.insert(sym, Info::of_type(s.func.ty(v)));
                    eg.add(CkksLang::Leaf(sym))
                }
            })
            .collect();
        let node = arith_node(op, name, slots, &mut eg, &classes);
        let id = eg.add(node);
        let r = op.result();
        class_of.insert(r, id);
        originals.push((r, id, i, name));
        if s.last_use[r.0 as usize] != usize::MAX && s.last_use[r.0 as usize] >= range.end {
            roots.push(id);
        }
    }
    Graph {
        eg,
        class_of,
        roots,
        originals,
    }
}

/// Optimizes the ops `range` of `s.func` and appends them to `o`.
pub(super) fn optimize_region(
    s: &Shared,
    range: Range<usize>,
    o: &mut Output,
) -> Result<RegionStats, Diagnostic> {
    let Graph {
        eg,
        class_of,
        roots,
        originals,
    } = build(s, &range);
    let cost_before: f64 = originals
        .iter()
        .filter(|(r, ..)| s.live[r.0 as usize])
        .filter_map(|&(_, _, i, name)| {
            let op = &s.func.body[i];
            CtType::from_type(s.func.ty(op.operands[0]))
                .ok()
                .map(|t| s.model.op_cost(name, t))
        })
        .sum();
    let runner = Runner::default()
        .with_egraph(eg)
        .with_iter_limit(s.limits.iter_limit)
        .with_node_limit(s.limits.node_limit)
        .with_time_limit(s.limits.time_limit)
        .with_scheduler(SimpleScheduler)
        .run(&rules(s.params.slots() as i64));
    let iterations = runner.iterations.len();
    let eg = runner.egraph;
    let extractor = Extractor::new(
        &eg,
        NttCost {
            egraph: &eg,
            model: s.model.clone(),
        },
    );
    // Classes the extracted region needs, and its DAG cost.
    let mut needed: HashSet<Id> = HashSet::new();
    let mut stack: Vec<Id> = roots.iter().map(|&r| eg.find(r)).collect();
    let mut cost_after = 0.0;
    while let Some(c) = stack.pop() {
        if !needed.insert(c) {
            continue;
        }
        let node = extractor.find_best_node(c);
        cost_after += enode_cost(&eg, s.model, node);
        stack.extend(node.children().iter().map(|&k| eg.find(k)));
    }
    let mut stats = RegionStats {
        cost_before,
        cost_after,
        nodes: eg.total_number_of_nodes(),
        iterations,
        rejected: false,
    };
    if cost_after > cost_before + 1e-9 {
        stats.rejected = true;
        stats.cost_after = cost_before;
        keep_region(s, range, o);
        return Ok(stats);
    }
    // Where each (class, op) came from: its value and location are reused.
    let mut origin = HashMap::new();
    let mut class_loc = HashMap::new();
    for &(v, id, i, name) in &originals {
        let loc = &s.func.body[i].loc;
        let c = eg.find(id);
        origin.entry((c, name)).or_insert((v, loc.clone()));
        class_loc.entry(c).or_insert(loc.clone());
    }
    let mut emitter = Emitter {
        eg: &eg,
        extractor: &extractor,
        origin: &origin,
        class_loc: &class_loc,
        log_q: &s.params.log_q,
        out: std::mem::replace(&mut o.out, Func::new("")),
        defined: std::mem::take(&mut o.defined),
        emitted: HashMap::new(),
        rename: &o.rename,
    };
    let mut renamed = Vec::new();
    for i in range {
        let op = &s.func.body[i];
        if let Some(&id) = op.results.first().and_then(|r| class_of.get(r)) {
            let c = eg.find(id);
            if needed.contains(&c) {
                let v = emitter.emit(c)?;
                if v != op.result() {
                    renamed.push((op.result(), v));
                }
            }
            continue;
        }
        let mut new_op = op.clone();
        for x in &mut new_op.operands {
            *x = match class_of.get(x) {
                Some(&id) => emitter.emit(eg.find(id))?,
                None => emitter.renamed(*x),
            };
        }
        for r in &new_op.results {
            emitter.mark_defined(*r);
        }
        emitter.out.body.push(new_op);
    }
    o.out = emitter.out;
    o.defined = emitter.defined;
    o.rename.extend(renamed);
    Ok(stats)
}

/// The region's ops as they were, reading renamed values.
pub(super) fn keep_region(s: &Shared, range: Range<usize>, o: &mut Output) {
    for i in range {
        let mut op = s.func.body[i].clone();
        for x in &mut op.operands {
            *x = o.renamed(*x);
        }
        for r in &op.results {
            if let Some(d) = o.defined.get_mut(r.0 as usize) {
                *d = true;
            }
        }
        o.out.body.push(op);
    }
}
