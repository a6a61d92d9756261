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
//! The network must be series-parallel from its input to its output: a chain
//! of ops and blocks, a block being a fork value whose two branches (each a
//! chain, possibly of further blocks, or the fork value itself) meet at one
//! binary op (`pack.add` for a residual, `pack.mul` for ReLU's `x * sign`).
//! Each stage maps an entry level to the cheapest cost per exit level; a
//! block combines its branches' tables at the join. The tables are
//! (levels + 1) long, so the search is linear in the network's size. These
//! tables are the shortest path over the explicit (layer, level) graph
//! (Orion's formulation), computed stage by stage; a graph library's
//! Dijkstra would need each fork/join block collapsed into composite edges
//! first, which is this same computation.
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

use super::lower_to_ckks::depth_of;
use super::{Pass, PassOptions, Statistics};
use crate::cost_model::CostModel;
use orion_dialects::ckks::polynomial as ckks_poly;
use orion_dialects::ir::{Attribute, Func, Location, Module, Op, ValueId};
use orion_dialects::pack::{self, LinearOp, VecLayout};
use orion_dialects::tensor::Tensor;
use orion_dialects::Diagnostic;
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

/// One step of the series-parallel decomposition.
#[derive(Debug)]
enum Stage {
    Op(usize),
    /// Two branches from `fork` to the operands of the op `join`; an empty
    /// branch is the fork value itself.
    Block {
        fork: ValueId,
        branches: [Vec<Stage>; 2],
        join: usize,
    },
}

/// Bootstrap `value` for the ops `users` (indices into the body).
#[derive(Clone, Debug)]
struct Boot {
    value: ValueId,
    users: Vec<usize>,
}

/// Cheapest (cost, bootstraps) per exit level.
type Table = Vec<Option<(f64, Vec<Boot>)>>;

struct Graph<'a> {
    func: &'a Func,
    users: Vec<Vec<usize>>,
    def: Vec<Option<usize>>,
}

impl<'a> Graph<'a> {
    fn new(func: &'a Func) -> Graph<'a> {
        let mut users = vec![Vec::new(); func.values.len()];
        let mut def = vec![None; func.values.len()];
        for (i, op) in func.body.iter().enumerate() {
            for v in &op.operands {
                if users[v.0 as usize].last() != Some(&i) {
                    users[v.0 as usize].push(i);
                }
            }
            for r in &op.results {
                def[r.0 as usize] = Some(i);
            }
        }
        Graph { func, users, def }
    }

    fn op(&self, i: usize) -> &Op {
        &self.func.body[i]
    }

    fn name(&self, i: usize) -> String {
        self.op(i).label()
    }

    /// The chain of stages that turns `from` into `to` using only `region`.
    fn chain(
        &self,
        from: ValueId,
        to: ValueId,
        region: &BTreeSet<usize>,
    ) -> Result<Vec<Stage>, String> {
        let mut stages = Vec::new();
        let mut cur = from;
        while cur != to {
            let users: Vec<usize> = self.users[cur.0 as usize]
                .iter()
                .copied()
                .filter(|u| region.contains(u))
                .collect();
            match users[..] {
                [] => return Err(format!("value %{} does not lead to the output", cur.0)),
                [u] if self.op(u).operands.iter().all(|&v| v == cur) => {
                    stages.push(Stage::Op(u));
                    cur = self.op(u).result();
                }
                _ => {
                    let join = self.join_of(cur, to, region)?;
                    let operands = &self.op(join).operands;
                    let [a, b] = operands[..] else {
                        return Err(format!(
                            "{} joins {} values; only two-operand joins are placed",
                            self.name(join),
                            operands.len()
                        ));
                    };
                    let (ra, rb) = (
                        self.ancestors(a, cur, region),
                        self.ancestors(b, cur, region),
                    );
                    if !ra.is_disjoint(&rb) {
                        return Err(format!(
                            "the branches that meet at {} share ops; only series-parallel networks are placed",
                            self.name(join)
                        ));
                    }
                    let branches = [self.chain(cur, a, &ra)?, self.chain(cur, b, &rb)?];
                    stages.push(Stage::Block {
                        fork: cur,
                        branches,
                        join,
                    });
                    cur = self.op(join).result();
                }
            }
        }
        Ok(stages)
    }

    /// The first op after `fork` past which only its own result is live:
    /// where every path from `fork` meets again.
    fn join_of(
        &self,
        fork: ValueId,
        to: ValueId,
        region: &BTreeSet<usize>,
    ) -> Result<usize, String> {
        let start = self.def[fork.0 as usize];
        let mut live: BTreeSet<ValueId> = BTreeSet::from([fork]);
        for &j in region.iter().filter(|&&j| start.is_none_or(|s| j > s)) {
            let op = self.op(j);
            live.extend(op.results.iter().copied());
            live.retain(|&v| {
                v == to
                    || self.users[v.0 as usize]
                        .iter()
                        .any(|&u| u > j && region.contains(&u))
            });
            if live.len() == 1 && live.contains(&op.result()) && op.operands.len() > 1 {
                return Ok(j);
            }
        }
        Err(format!(
            "the uses of %{} never meet again; only series-parallel networks are placed",
            fork.0
        ))
    }

    /// Ops of `region` on the paths from `from` to `v`.
    fn ancestors(&self, v: ValueId, from: ValueId, region: &BTreeSet<usize>) -> BTreeSet<usize> {
        let mut out = BTreeSet::new();
        let mut stack = vec![v];
        while let Some(v) = stack.pop() {
            if v == from {
                continue;
            }
            if let Some(d) = self.def[v.0 as usize].filter(|d| region.contains(d)) {
                if out.insert(d) {
                    stack.extend(self.op(d).operands.iter().copied());
                }
            }
        }
        out
    }
}

/// Rotations and plaintext products of a linear layer's plan.
#[derive(Clone, Copy, Debug)]
struct LinearCounts {
    hoisted: usize,
    rotations: usize,
    products: usize,
}

/// The search over (stage, level) with the cost of each op at each level.
struct Search<'a> {
    graph: &'a Graph<'a>,
    cost: CostModel,
    top: usize,
    /// Per op index, the counts of a `pack.linear`, planned once (a ResNet
    /// convolution's plan takes a good fraction of a second).
    linear: Vec<Option<LinearCounts>>,
}

fn linear_counts(graph: &Graph, module: &Module) -> Result<Vec<Option<LinearCounts>>, String> {
    graph
        .func
        .body
        .iter()
        .map(|op| {
            if op.name != "pack.linear" {
                return Ok(None);
            }
            let input = VecLayout::from_type(graph.func.ty(op.operands[0]))?;
            let output = VecLayout::from_type(graph.func.ty(op.result()))?;
            let counts = LinearOp::from_op(op, &input, &output, module)?
                .plan
                .counts();
            Ok(Some(LinearCounts {
                hoisted: counts.baby,
                rotations: counts.giant + counts.output,
                products: counts.diagonals,
            }))
        })
        .collect()
}

impl Search<'_> {
    fn op_cost(&self, i: usize, level: usize) -> Result<f64, String> {
        let op = self.graph.op(i);
        let c = &self.cost;
        Ok(match op.name.as_str() {
            "pack.linear" => {
                let n = self.linear[i].ok_or("internal error: a linear layer without a plan")?;
                n.hoisted as f64 * c.hoisted_rotate(level)
                    + n.rotations as f64 * c.rotate(level.saturating_sub(1))
                    + n.products as f64 * c.mul_plain_rescale(level)
            }
            // Element-wise ops run once per ciphertext of the layout.
            "pack.polynomial" => {
                let p = ckks_poly::from_op(op)?;
                self.blocks(op)? * c.polynomial(ckks_poly::degree(&p), level, ckks_poly::depth(&p))
            }
            "pack.square" | "pack.mul" => self.blocks(op)? * c.mul_relin_rescale(level),
            "pack.add" => self.blocks(op)? * c.add(level),
            _ => 0.0,
        })
    }

    fn single(&self, i: usize, level: usize) -> Result<Table, String> {
        let d = depth_of(self.graph.op(i))?;
        let mut t: Table = vec![None; self.top + 1];
        if level >= d {
            t[level - d] = Some((self.op_cost(i, level)?, Vec::new()));
        }
        Ok(t)
    }

    fn chain(&self, stages: &[Stage], level: usize) -> Result<Table, String> {
        let mut t: Table = vec![None; self.top + 1];
        t[level] = Some((0.0, Vec::new()));
        for s in stages {
            t = self.step(s, &t)?;
        }
        Ok(t)
    }

    /// Entering `stage` from each level of `t`, with or without a bootstrap
    /// of the stage's input first.
    fn step(&self, stage: &Stage, t: &Table) -> Result<Table, String> {
        let mut out: Table = vec![None; self.top + 1];
        let (input, users) = self.entry(stage);
        let refreshed = self.apply(stage, self.top)?;
        for (l, entry) in t.iter().enumerate() {
            let Some((c, plan)) = entry else { continue };
            relax(&mut out, &self.apply(stage, l)?, *c, plan, None);
            let boot = Boot {
                value: input,
                users: users.clone(),
            };
            relax(
                &mut out,
                &refreshed,
                c + self.bootstrap_cost(input)?,
                plan,
                Some(boot),
            );
        }
        Ok(out)
    }

    /// What bootstrapping `v` costs: sparse when its layout repeats within
    /// the slots (`lower-to-ckks` then gives the bootstrap `log_slots`),
    /// once per ciphertext of the layout.
    fn bootstrap_cost(&self, v: ValueId) -> Result<f64, String> {
        let layout = VecLayout::from_type(self.graph.func.ty(v))?;
        Ok(layout.blocks() as f64 * self.cost.bootstrap(layout.period, layout.slots))
    }

    /// Ciphertexts of an op's result layout.
    fn blocks(&self, op: &Op) -> Result<f64, String> {
        Ok(VecLayout::from_type(self.graph.func.ty(op.result()))?.blocks() as f64)
    }

    /// The value a stage starts from and the stage's ops that read it.
    fn entry(&self, stage: &Stage) -> (ValueId, Vec<usize>) {
        match stage {
            Stage::Op(i) => (self.graph.op(*i).operands[0], vec![*i]),
            Stage::Block { fork, .. } => {
                let mut ops = Vec::new();
                collect_ops(stage, &mut ops);
                ops.retain(|&u| self.graph.op(u).operands.contains(fork));
                (*fork, ops)
            }
        }
    }

    fn apply(&self, stage: &Stage, level: usize) -> Result<Table, String> {
        let (fork, branches, join) = match stage {
            Stage::Op(i) => return self.single(*i, level),
            Stage::Block {
                fork,
                branches,
                join,
            } => (*fork, branches, *join),
        };
        let tables = branches
            .iter()
            .map(|b| {
                if !b.is_empty() {
                    return self.chain(b, level);
                }
                // The skip branch: as it is, or bootstrapped on its own.
                let mut t: Table = vec![None; self.top + 1];
                t[level] = Some((0.0, Vec::new()));
                if self.top > level {
                    let boot = Boot {
                        value: fork,
                        users: vec![join],
                    };
                    t[self.top] = Some((self.bootstrap_cost(fork)?, vec![boot]));
                }
                Ok(t)
            })
            .collect::<Result<Vec<Table>, String>>()?;
        let d = depth_of(self.graph.op(join))?;
        let mut out: Table = vec![None; self.top + 1];
        for (la, a) in tables[0].iter().enumerate() {
            let Some((ca, pa)) = a else { continue };
            for (lb, b) in tables[1].iter().enumerate() {
                let Some((cb, pb)) = b else { continue };
                let lj = la.min(lb);
                if lj < d {
                    continue;
                }
                let c = ca + cb + self.op_cost(join, lj)?;
                if out[lj - d].as_ref().is_none_or(|(best, _)| c < *best) {
                    out[lj - d] = Some((c, pa.iter().chain(pb).cloned().collect()));
                }
            }
        }
        Ok(out)
    }
}

fn collect_ops(stage: &Stage, out: &mut Vec<usize>) {
    match stage {
        Stage::Op(i) => out.push(*i),
        Stage::Block { branches, join, .. } => {
            branches.iter().flatten().for_each(|s| collect_ops(s, out));
            out.push(*join);
        }
    }
}

/// Folds `from` (reached at cost `base` with `plan`, plus `boot`) into `out`.
fn relax(out: &mut Table, from: &Table, base: f64, plan: &[Boot], boot: Option<Boot>) {
    for (l, e) in from.iter().enumerate() {
        let Some((c, p)) = e else { continue };
        let total = base + c;
        if out[l].as_ref().is_none_or(|(best, _)| total < *best) {
            let mut all = plan.to_vec();
            all.extend(boot.clone());
            all.extend(p.iter().cloned());
            out[l] = Some((total, all));
        }
    }
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
        let bounds = self.bounds(module, &boots)?;
        let mut stats: Statistics = vec![
            ("bootstraps".into(), boots.len() as i64),
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
        use rayon::prelude::*;
        let func = module.main().expect("main exists");
        let args = func.args.len().max(1);
        let per_sample = |sample: &[Tensor]| -> Result<Vec<f64>, Diagnostic> {
            let mut max = vec![0f64; func.values.len()];
            pack::interp::interpret_observed(module, sample, |op, slots| {
                let m = slots.iter().fold(0f64, |m, v| m.max(v.abs()));
                let r = op.result().0 as usize;
                max[r] = max[r].max(m);
            })?;
            Ok(max)
        };
        let maxima = self
            .calibration
            .par_chunks(args)
            .map(per_sample)
            .collect::<Result<Vec<_>, _>>()?;
        let mut max = vec![0f64; func.values.len()];
        for m in maxima {
            max.iter_mut().zip(m).for_each(|(a, b)| *a = a.max(b));
        }
        Ok(boots
            .iter()
            .map(|b| (max[b.value.0 as usize] * (1.0 + self.margin)).max(1e-6))
            .collect())
    }
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
