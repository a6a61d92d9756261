//! The search over (stage, level): each stage maps an entry level to the
//! cheapest cost per exit level, with or without a bootstrap of its input
//! first; blocks combine their branches' tables at the join, regions follow
//! the lazy rule of [`Search::region`].

use super::graph::{Graph, Stage};
use crate::cost_model::CostModel;
use crate::passes::lower_to_ckks::depth_of;
use orion_dialects::ckks::polynomial as ckks_poly;
use orion_dialects::ir::{Module, Op, ValueId};
use orion_dialects::pack::{LinearOp, VecLayout};

/// Bootstrap `value` for the ops `users` (indices into the body).
#[derive(Clone, Debug)]
pub(super) struct Boot {
    pub(super) value: ValueId,
    pub(super) users: Vec<usize>,
}

/// Cheapest (cost, bootstraps) per exit level.
pub(super) type Table = Vec<Option<(f64, Vec<Boot>)>>;

/// Rotations and plaintext products of a linear layer's plan.
#[derive(Clone, Copy, Debug)]
pub(super) struct LinearCounts {
    hoisted: usize,
    rotations: usize,
    products: usize,
}

/// The search over (stage, level) with the cost of each op at each level.
/// Regions of at most this many values (the fork and every result but the
/// last) are searched exhaustively: 2^14 placements, a few milliseconds.
pub(super) const EXHAUSTIVE_VALUES: usize = 14;

pub(super) struct Search<'a> {
    pub(super) graph: &'a Graph<'a>,
    pub(super) cost: CostModel,
    pub(super) top: usize,
    /// Per op index, the counts of a `pack.linear`, planned once (a ResNet
    /// convolution's plan takes a good fraction of a second).
    pub(super) linear: Vec<Option<LinearCounts>>,
    /// Regions with at most this many values are searched exhaustively
    /// ([`EXHAUSTIVE_VALUES`]; the tests also try 0, the lazy rule alone).
    pub(super) exhaustive_values: usize,
}

pub(super) fn linear_counts(
    graph: &Graph,
    module: &Module,
) -> Result<Vec<Option<LinearCounts>>, String> {
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
    pub(super) fn op_cost(&self, i: usize, level: usize) -> Result<f64, String> {
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

    pub(super) fn chain(&self, stages: &[Stage], level: usize) -> Result<Table, String> {
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
            if self.exact_product_factor(input) {
                continue;
            }
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

    /// A region entered at `level`, by the rule for graphs that are not
    /// series-parallel: a set of its values is bootstrapped, each right
    /// after it is computed and for all its users in the region. With at
    /// most `exhaustive_values` values every set is tried (exact for this
    /// model, 2^n evaluations); beyond, the set is chosen lazily, in program
    /// order: an operand too low for the op that reads it is bootstrapped
    /// there. `step` adds the choice of bootstrapping the fork first. A
    /// product's polynomial factor is never bootstrapped
    /// ([`Search::exact_product_factor`]).
    fn region(&self, fork: ValueId, ops: &[usize], level: usize) -> Result<Table, String> {
        let mut values = vec![fork];
        values.extend(
            ops[..ops.len().saturating_sub(1)]
                .iter()
                .map(|&i| self.graph.op(i).result()),
        );
        values.retain(|&v| !self.exact_product_factor(v));
        let mut out: Table = vec![None; self.top + 1];
        let mut keep = |run: Option<(usize, f64, Vec<Boot>)>| {
            if let Some((exit, cost, boots)) = run {
                if out[exit].as_ref().is_none_or(|(best, _)| cost < *best) {
                    out[exit] = Some((cost, boots));
                }
            }
        };
        if values.len() <= self.exhaustive_values {
            for mask in 0u32..1 << values.len() {
                let set: Vec<ValueId> = (0..values.len())
                    .filter(|k| mask >> k & 1 == 1)
                    .map(|k| values[k])
                    .collect();
                keep(self.region_run(fork, ops, level, Some(&set))?);
            }
        } else {
            keep(self.region_run(fork, ops, level, None)?);
        }
        Ok(out)
    }

    /// The region with the values of `boot` bootstrapped (or, for `None`,
    /// those the lazy rule picks): exit level, cost and bootstraps, or
    /// `None` if it does not fit.
    fn region_run(
        &self,
        fork: ValueId,
        ops: &[usize],
        level: usize,
        boot: Option<&[ValueId]>,
    ) -> Result<Option<(usize, f64, Vec<Boot>)>, String> {
        let mut at: std::collections::HashMap<ValueId, usize> = [(fork, level)].into();
        let (mut cost, mut boots) = (0.0, Vec::new());
        let mut refresh = |v: ValueId,
                           from: usize,
                           at: &mut std::collections::HashMap<ValueId, usize>|
         -> Result<f64, String> {
            let users = ops[from..]
                .iter()
                .copied()
                .filter(|&u| self.graph.op(u).operands.contains(&v))
                .collect();
            boots.push(Boot { value: v, users });
            at.insert(v, self.top);
            self.bootstrap_cost(v)
        };
        if boot.is_some_and(|b| b.contains(&fork)) {
            cost += refresh(fork, 0, &mut at)?;
        }
        for (k, &i) in ops.iter().enumerate() {
            let op = self.graph.op(i);
            let d = depth_of(op)?;
            // A product's polynomial factor keeps a level for its product,
            // as it may not be bootstrapped itself (`exact_product_factor`).
            let need = d + usize::from(self.exact_product_factor(op.result()));
            for &v in &op.operands {
                let l = *at.get(&v).ok_or_else(|| {
                    format!("{} reads a value from outside its region", op.label())
                })?;
                if boot.is_none() && l < need && need <= self.top && !self.exact_product_factor(v) {
                    cost += refresh(v, k, &mut at)?;
                }
            }
            let l = op.operands.iter().map(|v| at[v]).min().unwrap_or(self.top);
            if l < d {
                return Ok(None);
            }
            cost += self.op_cost(i, l)?;
            at.insert(op.result(), l - d);
            if boot.is_some_and(|b| b.contains(&op.result())) && k + 1 < ops.len() {
                cost += refresh(op.result(), k + 1, &mut at)?;
            }
        }
        let last = ops.last().ok_or("an empty region")?;
        Ok(Some((at[&self.graph.op(*last).result()], cost, boots)))
    }

    /// Whether `v` is a polynomial whose only use is a product with another
    /// value: `lower-to-ckks` lands it at the product's prime so that the
    /// product keeps the other factor's scale exactly (ReLU's `x * sign`,
    /// a max's `d * sign(d) / 2`). A bootstrap there would reset its scale
    /// and leave the product at another scale than the values it is added
    /// to, so placement never bootstraps it (its input instead).
    pub(super) fn exact_product_factor(&self, v: ValueId) -> bool {
        let g = self.graph;
        let Some(def) = g.def[v.0 as usize] else {
            return false;
        };
        matches!(&g.users[v.0 as usize][..], [u] if g.op(*u).name == "pack.mul"
            && g.op(*u).operands.iter().any(|&o| o != v))
            && g.op(def).name == "pack.polynomial"
    }

    /// What bootstrapping `v` costs: sparse when its layout repeats within
    /// the slots (`lower-to-ckks` then gives the bootstrap `log_slots`),
    /// once per ciphertext of the layout.
    pub(super) fn bootstrap_cost(&self, v: ValueId) -> Result<f64, String> {
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
            Stage::Block { fork, .. } | Stage::Region { fork, .. } => {
                let mut ops = Vec::new();
                stage.ops(&mut ops);
                ops.retain(|&u| self.graph.op(u).operands.contains(fork));
                (*fork, ops)
            }
        }
    }

    fn apply(&self, stage: &Stage, level: usize) -> Result<Table, String> {
        let (branches, join) = match stage {
            Stage::Op(i) => return self.single(*i, level),
            Stage::Region { fork, ops, .. } => return self.region(*fork, ops, level),
            Stage::Block { branches, join, .. } => (branches, *join),
        };
        let operands = &self.graph.op(join).operands;
        let tables = branches
            .iter()
            .zip(operands)
            .map(|(b, &end)| {
                // The branch as it is (the skip branch: the fork value).
                let mut t: Table = if b.is_empty() {
                    let mut t = vec![None; self.top + 1];
                    t[level] = Some((0.0, Vec::new()));
                    t
                } else {
                    self.chain(b, level)?
                };
                // Or its end bootstrapped for the join alone.
                let cheapest = t.iter().flatten().min_by(|x, y| x.0.total_cmp(&y.0));
                if let Some((c, plan)) = cheapest
                    .cloned()
                    .filter(|_| !self.exact_product_factor(end))
                {
                    let c = c + self.bootstrap_cost(end)?;
                    if t[self.top].as_ref().is_none_or(|(best, _)| c < *best) {
                        let mut plan = plan;
                        plan.push(Boot {
                            value: end,
                            users: vec![join],
                        });
                        t[self.top] = Some((c, plan));
                    }
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
