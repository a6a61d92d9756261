//! The network's dataflow graph and its decomposition into stages: a chain
//! of ops, series-parallel blocks (a fork whose two branches meet at one
//! binary op), and regions (any other sub-DAG between a fork and the op
//! where all its paths meet again).
//!
//! Where paths meet is the nearest common post-dominator of the fork's
//! users, from petgraph's dominator tree of the reversed graph (the
//! Cooper-Harvey-Kennedy algorithm), computed per region with the region's
//! last op as the root.

use orion_dialects::ir::{Func, Op, ValueId};
use petgraph::algo::dominators::{simple_fast, Dominators};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::Reversed;
use std::collections::{BTreeSet, HashMap};

/// One step of the decomposition.
#[derive(Debug)]
pub(super) enum Stage {
    Op(usize),
    /// Two branches from `fork` to the operands of the op `join`; an empty
    /// branch is the fork value itself.
    Block {
        fork: ValueId,
        branches: [Vec<Stage>; 2],
        join: usize,
    },
    /// Any other sub-DAG from `fork` to the op where its paths meet: its
    /// ops in program order (that op last).
    Region {
        fork: ValueId,
        ops: Vec<usize>,
    },
}

impl Stage {
    /// How many regions the stage holds.
    pub(super) fn regions(&self) -> usize {
        match self {
            Stage::Op(_) => 0,
            Stage::Region { .. } => 1,
            Stage::Block { branches, .. } => branches.iter().flatten().map(Stage::regions).sum(),
        }
    }

    /// Every op of the stage.
    pub(super) fn ops(&self, out: &mut Vec<usize>) {
        match self {
            Stage::Op(i) => out.push(*i),
            Stage::Block { branches, join, .. } => {
                branches.iter().flatten().for_each(|s| s.ops(out));
                out.push(*join);
            }
            Stage::Region { ops, .. } => out.extend(ops),
        }
    }
}

pub(super) struct Graph<'a> {
    pub(super) func: &'a Func,
    pub(super) users: Vec<Vec<usize>>,
    pub(super) def: Vec<Option<usize>>,
}

/// Post-dominators within one region: the dominator tree of the reversed
/// region graph rooted at its last op.
struct PostDominators {
    node: HashMap<usize, NodeIndex>,
    op: Vec<usize>,
    tree: Dominators<NodeIndex>,
}

impl PostDominators {
    /// `u`, its immediate post-dominator, and so on up to the root.
    fn chain(&self, u: usize) -> Vec<usize> {
        let mut out = vec![u];
        let mut n = self.node[&u];
        while let Some(p) = self.tree.immediate_dominator(n) {
            out.push(self.op[p.index()]);
            n = p;
        }
        out
    }

    /// The first op that every path from every one of `users` goes through.
    fn common(&self, users: &[usize]) -> Option<usize> {
        let chains: Vec<Vec<usize>> = users.iter().map(|&u| self.chain(u)).collect();
        let (first, rest) = chains.split_first()?;
        first
            .iter()
            .copied()
            .find(|p| rest.iter().all(|c| c.contains(p)))
    }
}

impl<'a> Graph<'a> {
    pub(super) fn new(func: &'a Func) -> Graph<'a> {
        let mut users = vec![Vec::new(); func.values.len()];
        for (i, op) in func.body.iter().enumerate() {
            for v in &op.operands {
                if users[v.0 as usize].last() != Some(&i) {
                    users[v.0 as usize].push(i);
                }
            }
        }
        let def = func.defining_ops();
        Graph { func, users, def }
    }

    pub(super) fn op(&self, i: usize) -> &Op {
        &self.func.body[i]
    }

    /// Post-dominators of `region`, whose ops all lead to `sink`.
    fn post_dominators(&self, region: &BTreeSet<usize>, sink: usize) -> PostDominators {
        let mut g: DiGraph<usize, ()> = DiGraph::with_capacity(region.len(), region.len());
        let mut node = HashMap::with_capacity(region.len());
        let mut op = Vec::with_capacity(region.len());
        for &i in region {
            node.insert(i, g.add_node(i));
            op.push(i);
        }
        for &i in region {
            for v in &self.op(i).operands {
                if let Some(d) = self.def[v.0 as usize].filter(|d| region.contains(d)) {
                    g.update_edge(node[&d], node[&i], ());
                }
            }
        }
        let tree = simple_fast(Reversed(&g), node[&sink]);
        PostDominators { node, op, tree }
    }

    /// The stages that turn `from` into `to` using only `region`.
    pub(super) fn chain(
        &self,
        from: ValueId,
        to: ValueId,
        region: &BTreeSet<usize>,
    ) -> Result<Vec<Stage>, String> {
        let mut stages = Vec::new();
        if from == to {
            return Ok(stages);
        }
        let sink = self.def[to.0 as usize]
            .filter(|d| region.contains(d))
            .ok_or_else(|| format!("value %{} is not computed in the region", to.0))?;
        let pdom = self.post_dominators(region, sink);
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
                    let join = pdom
                        .common(&users)
                        .ok_or_else(|| format!("the uses of %{} never meet again", cur.0))?;
                    stages.push(self.fork_to_join(cur, join, region)?);
                    cur = self.op(join).result();
                }
            }
        }
        Ok(stages)
    }

    /// The stage from `fork` to `join`: a block when the join has two
    /// operands whose ancestors are disjoint, else a region.
    fn fork_to_join(
        &self,
        fork: ValueId,
        join: usize,
        region: &BTreeSet<usize>,
    ) -> Result<Stage, String> {
        let operands = &self.op(join).operands;
        let ancestors: Vec<BTreeSet<usize>> = operands
            .iter()
            .map(|&v| self.ancestors(v, fork, region))
            .collect();
        if let ([a, b], [ra, rb]) = (&operands[..], &ancestors[..]) {
            if ra.is_disjoint(rb) {
                let branches = [self.chain(fork, *a, ra)?, self.chain(fork, *b, rb)?];
                return Ok(Stage::Block {
                    fork,
                    branches,
                    join,
                });
            }
        }
        let mut ops: Vec<usize> = ancestors.into_iter().flatten().collect();
        ops.push(join);
        ops.sort_unstable();
        ops.dedup();
        Ok(Stage::Region { fork, ops })
    }

    /// Ops of `region` on the paths from `from` to `v`.
    pub(super) fn ancestors(
        &self,
        v: ValueId,
        from: ValueId,
        region: &BTreeSet<usize>,
    ) -> BTreeSet<usize> {
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
