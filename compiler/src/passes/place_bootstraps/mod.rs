//! `place-bootstraps` (pack -> pack): when the network is deeper than the
//! CKKS parameters' levels, inserts `pack.bootstrap` ops where they cost the
//! least, as Orion does: a shortest path over (layer, level) states.
//!
//! Every op consumes a fixed number of levels (`lower-to-ckks`'s rule) and
//! costs what its CKKS expansion costs at the level it runs at
//! ([`CostModel`], measured): lower levels are cheaper, so the search trades
//! the bootstrap's cost against running layers at high levels. A bootstrap
//! may sit in front of any op, or of a whole residual block (then both
//! branches share it), or on the skip branch alone; its output is at the top
//! level.
//!
//! The network is decomposed into stages ([`graph`]): ops in a chain,
//! blocks (a fork value whose two branches, each a chain of stages or the
//! fork value itself, meet at one binary op: `pack.add` for a residual,
//! `pack.mul` for ReLU's `x * sign`), and regions (any other sub-DAG
//! between a fork and the op where all its paths meet again, found from
//! post-dominators). Each stage maps an entry level to the cheapest cost
//! per exit level ([`search`]); a block combines its branches' tables at
//! the join, which is exact: these tables are the shortest path over the
//! explicit (layer, level) graph (Orion's formulation), computed stage by
//! stage, linear in the network's size. A region is not series-parallel
//! (ReLU6's two signs share their input and meet in one sum; DenseNet's
//! concatenations) and follows a stated rule: a set of its values is
//! bootstrapped, each for all its users; every set is tried in regions of
//! up to 14 values, larger ones bootstrap lazily (an operand where it is
//! too low for its op), or the fork on entry if cheaper. `tests.rs` checks
//! both against brute force on small random DAGs (measured: within 0.3% of
//! the optimum exhaustively, 1.96x lazily).
//!
//! Each bootstrap's `bound` is the largest |slot| its input takes on the
//! calibration samples (`--calibration`), times 1 + margin.
//!
//! ```text
//! %5 = pack.polynomial %4 {...}                 // the input of a ReLU at level 1
//! %6 = pack.polynomial %5 {...}                 // (needs 4 levels)
//!   =>
//! %b = pack.bootstrap %4 {bound = 12.7} : !pack.vec<...>
//! %5 = pack.polynomial %b {...}
//! ```

mod graph;
mod search;
#[cfg(test)]
mod tests;

use super::{Pass, PassOptions, Statistics};
use crate::cost_model::CostModel;
use graph::Graph;
use orion_dialects::ir::{Attribute, Func, Location, Module, ValueId};
use orion_dialects::pack;
use orion_dialects::tensor::Tensor;
use orion_dialects::Diagnostic;
use search::{linear_counts, Boot, Search, EXHAUSTIVE_VALUES};
use std::collections::BTreeSet;

pub struct PlaceBootstraps {
    pub max_level: usize,
    pub cost: CostModel,
    pub calibration: Vec<Tensor>,
    pub margin: f64,
}

impl PlaceBootstraps {
    pub fn new(opts: &PassOptions) -> PlaceBootstraps {
        PlaceBootstraps {
            max_level: opts.params.max_level(),
            cost: CostModel::for_log_n(opts.params.log_n),
            calibration: opts.calibration.clone(),
            margin: opts.calibration_margin,
        }
    }
}

fn err(msg: impl std::fmt::Display) -> Diagnostic {
    Diagnostic::new(Location::Unknown, msg.to_string())
}

impl Pass for PlaceBootstraps {
    fn name(&self) -> &'static str {
        "place-bootstraps"
    }

    fn run(&self, module: &mut Module) -> Result<Statistics, Diagnostic> {
        let func = module
            .main()
            .cloned()
            .ok_or_else(|| err("module has no func.func @main"))?;
        if let Some(op) = func.body.iter().find(|o| o.name == "pack.bootstrap") {
            return Err(Diagnostic::new(
                op.loc.clone(),
                format!(
                    "{} is already placed; run place-bootstraps once",
                    op.label()
                ),
            ));
        }
        let depth = super::lower_to_ckks::network_depth(&func)?;
        if depth <= self.max_level {
            return Ok(vec![("bootstraps".into(), 0)]);
        }
        let graph = Graph::new(&func);
        let packs: Vec<usize> = (0..func.body.len())
            .filter(|&i| func.body[i].name == "pack.pack")
            .collect();
        let unpacks: Vec<usize> = (0..func.body.len())
            .filter(|&i| func.body[i].name == "pack.unpack")
            .collect();
        let (&[input], &[output]) = (&packs[..], &unpacks[..]) else {
            return Err(Diagnostic::new(
                func.loc.clone(),
                format!(
                    "the network needs {depth} levels, the parameters give {}: bootstraps are placed only in networks with one packed input and one output ({} and {})",
                    self.max_level,
                    packs.len(),
                    unpacks.len()
                ),
            ));
        };
        let region: BTreeSet<usize> = (input + 1..output).collect();
        let from = func.body[input].result();
        let to = func.body[output].operands[0];
        let stages = graph.chain(from, to, &region).map_err(|m| {
            Diagnostic::new(func.loc.clone(), format!("cannot place bootstraps: {m}"))
        })?;
        let search = Search {
            graph: &graph,
            cost: self.cost,
            top: self.max_level,
            linear: linear_counts(&graph, module)
                .map_err(|m| Diagnostic::new(func.loc.clone(), m))?,
            exhaustive_values: EXHAUSTIVE_VALUES,
        };
        let table = search
            .chain(&stages, self.max_level)
            .map_err(|m| Diagnostic::new(func.loc.clone(), m))?;
        let (cost, boots) = table
            .into_iter()
            .flatten()
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .ok_or_else(|| {
                Diagnostic::new(
                    func.loc.clone(),
                    format!(
                        "no placement fits: some op needs more than the {} levels a bootstrap gives",
                        self.max_level
                    ),
                )
            })?;
        let boots = merge_same_values(boots);
        let bounds = self.bounds(module, &boots)?;
        let regions = stages.iter().map(graph::Stage::regions).sum::<usize>();
        let mut stats: Statistics = vec![
            ("bootstraps".into(), boots.len() as i64),
            ("regions-not-series-parallel".into(), regions as i64),
            ("estimated-cost-ms".into(), cost.round() as i64),
        ];
        for (b, bound) in boots.iter().zip(&bounds) {
            let first = graph.op(*b.users.iter().min().expect("a bootstrap has users"));
            let layer = first
                .loc
                .name()
                .map_or_else(|| first.name.clone(), str::to_string);
            stats.push((
                format!("bootstrap-before {layer}: bound-x1000"),
                (bound * 1000.0).round() as i64,
            ));
        }
        let placed = insert(&func, &boots, &bounds);
        *module.main_mut().expect("main exists") = placed;
        Ok(stats)
    }
}

impl PlaceBootstraps {
    /// Each bootstrapped value's largest |slot| on the calibration samples,
    /// widened by the margin.
    fn bounds(&self, module: &Module, boots: &[Boot]) -> Result<Vec<f64>, Diagnostic> {
        if self.calibration.is_empty() {
            return Err(err(format!(
                "the network needs bootstraps ({}), and their input ranges come from calibration: give sample inputs (--calibration)",
                boots.len()
            )));
        }
        let func = module.main().expect("main exists");
        let args = func.args.len().max(1);
        let samples: Vec<Vec<Tensor>> = self.calibration.chunks(args).map(<[_]>::to_vec).collect();
        // Linear ops applied from their maps' entries, one pass per op for
        // the whole batch (no plan: it had been half of this pass on
        // ImageNet ResNet-18); one batch unless its values would not fit.
        let per_batch = CALIBRATION_BATCH.min(samples.len()).max(1);
        let mut max = vec![0f64; func.values.len()];
        for batch in samples.chunks(per_batch) {
            pack::interp::interpret_batch_values(module, batch, |op, slots| {
                let m = slots.iter().fold(0f64, |m, v| m.max(v.abs()));
                let r = op.result().0 as usize;
                max[r] = max[r].max(m);
            })?;
        }
        Ok(boots
            .iter()
            .map(|b| (max[b.value.0 as usize] * (1.0 + self.margin)).max(1e-6))
            .collect())
    }
}

/// Samples interpreted together for bootstrap bounds: each map's entries
/// are enumerated once per batch, and the batch's live values are held at
/// once (100 CIFAR ResNet-18 samples: about 0.5 GB).
const CALIBRATION_BATCH: usize = 128;

/// One bootstrap per value: stages that bootstrap the same value for
/// different users (branches of one fork) share it.
fn merge_same_values(boots: Vec<Boot>) -> Vec<Boot> {
    let mut out: Vec<Boot> = Vec::with_capacity(boots.len());
    for b in boots {
        match out.iter_mut().find(|o| o.value == b.value) {
            Some(o) => {
                o.users.extend(b.users);
                o.users.sort_unstable();
                o.users.dedup();
            }
            None => out.push(b),
        }
    }
    out
}

/// The function with each `pack.bootstrap` right after the op that defines
/// its input (so that everything after it, e.g. a polynomial that lands at
/// the product's level prime, sees the refreshed value's level).
fn insert(func: &Func, boots: &[Boot], bounds: &[f64]) -> Func {
    let mut out = func.clone();
    out.body.clear();
    let mut renamed: Vec<(usize, ValueId, ValueId)> = Vec::new();
    for (i, op) in func.body.iter().enumerate() {
        let mut op = op.clone();
        for (u, from, to) in &renamed {
            if *u == i {
                op.operands
                    .iter_mut()
                    .filter(|v| *v == from)
                    .for_each(|v| *v = *to);
            }
        }
        let results = op.results.clone();
        let loc = op.loc.clone();
        out.body.push(op);
        for (b, &bound) in boots.iter().zip(bounds) {
            if results.contains(&b.value) {
                let ty = func.ty(b.value).clone();
                let v = out.push_op(
                    "pack.bootstrap",
                    vec![b.value],
                    vec![("bound".into(), Attribute::Float(bound))],
                    vec![ty],
                    loc.clone(),
                )[0];
                renamed.extend(b.users.iter().map(|&u| (u, b.value, v)));
            }
        }
    }
    out
}
