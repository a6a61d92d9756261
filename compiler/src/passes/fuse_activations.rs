//! `fuse-activations` (nn -> nn): an element-wise subgraph that computes a
//! known activation of one value, as exporters spell them, becomes that
//! activation's single op, which is then approximated as one polynomial
//! (fewer levels, smaller error) instead of one per piece.
//!
//! Exporters write the same function many ways: GELU as
//! `0.5 * (x * (1 + erf(x / 1.4142)))` (TorchScript) or with `x * 0.7071`,
//! its tanh form with `x * x * x` or `pow(x, 3)`, Mish as
//! `x * tanh(softplus(x))`, SiLU as `x * sigmoid(x)`, softplus behind a
//! `where(x > 20, x, softplus(x))` guard. Rather than one pattern per
//! spelling, the pass identifies functions numerically: for each op whose
//! result is an element-wise function of a single value `x` through ops
//! whose intermediate results are used nowhere else (scalar constants
//! aside), it evaluates that subgraph on sample points and compares it with
//! each known activation; the largest subgraph that matches is replaced.
//!
//! ```text
//! %d = nn.div %x, %c1414 : tensor<1x8xf32>       (%c1414 = 1.4142135)
//! %e = nn.erf %d : tensor<1x8xf32>
//! %a = nn.add %e, %c1 : tensor<1x8xf32>
//! %m = nn.mul %x, %a : tensor<1x8xf32>
//! %y = nn.mul %m, %c05 : tensor<1x8xf32> loc("/act/Mul_1")
//!   =>
//! %y = nn.gelu %x : tensor<1x8xf32> loc("/act/Mul_1")
//! ```
//!
//! Matching is exact up to 1e-6 relative on [-10, 10] and at +-20, +-40,
//! which separates every pair of candidates by orders of magnitude.

use super::{Pass, Statistics};
use orion_dialects::ir::{Attribute, Func, Location, Module, Op, Type, ValueId};
use orion_dialects::nn::activations::{Activation, ACTIVATION_OPS};
use orion_dialects::nn::interp::eval_op;
use orion_dialects::tensor::Tensor;
use orion_dialects::Diagnostic;
use std::collections::HashSet;

pub struct FuseActivations;

/// The activations a subgraph may turn out to be.
const CANDIDATES: &[Activation] = &[
    Activation::Silu,
    Activation::Gelu { tanh: false },
    Activation::Gelu { tanh: true },
    Activation::Mish,
    Activation::Softplus,
    Activation::Sigmoid,
    Activation::Tanh,
    Activation::HardSwish,
    Activation::HardSigmoid {
        alpha: 1.0 / 6.0,
        beta: 0.5,
    },
    Activation::Relu,
    Activation::Elu { alpha: 1.0 },
];

/// Subgraphs larger than this are not considered (exported activations
/// take at most a dozen ops).
const MAX_REGION_OPS: usize = 24;

/// The op and attributes that compute `act`.
fn activation_op(act: Activation) -> (&'static str, Vec<(String, Attribute)>) {
    match act {
        Activation::Silu => ("nn.silu", vec![]),
        Activation::Gelu { tanh } => (
            "nn.gelu",
            if tanh {
                vec![("approximate".into(), Attribute::String("tanh".into()))]
            } else {
                vec![]
            },
        ),
        Activation::Mish => ("nn.mish", vec![]),
        Activation::Softplus => ("nn.softplus", vec![]),
        Activation::Sigmoid => ("nn.sigmoid", vec![]),
        Activation::Tanh => ("nn.tanh", vec![]),
        Activation::HardSwish => ("nn.hard_swish", vec![]),
        Activation::HardSigmoid { alpha, beta } => (
            "nn.hard_sigmoid",
            vec![
                ("alpha".into(), Attribute::Float(alpha)),
                ("beta".into(), Attribute::Float(beta)),
            ],
        ),
        Activation::Relu => ("nn.relu", vec![]),
        Activation::Elu { alpha } => ("nn.elu", vec![("alpha".into(), Attribute::Float(alpha))]),
        other => unreachable!("{other:?} is not a fusion candidate"),
    }
}

/// Sample points: dense on [-10, 10], and far out where guards switch.
fn samples() -> Vec<f64> {
    let mut xs: Vec<f64> = (0..=400).map(|i| -10.0 + 0.05 * i as f64).collect();
    xs.extend([-40.0, -20.0, 20.0, 40.0]);
    xs
}

struct Graph<'a> {
    module: &'a Module,
    func: &'a Func,
    /// The op defining each value, if any.
    def: Vec<Option<usize>>,
    uses: Vec<usize>,
}

impl Graph<'_> {
    fn def_op(&self, v: ValueId) -> Option<&Op> {
        self.def[v.0 as usize].map(|i| &self.func.body[i])
    }

    /// A one-element `nn.constant`'s value.
    fn scalar(&self, v: ValueId) -> Option<f64> {
        // The type says whether it is one element, without decoding a
        // large constant's data.
        if self.func.ty(v).num_elements() != Some(1) {
            return None;
        }
        let op = self.def_op(v).filter(|o| o.name == "nn.constant")?;
        match self.module.resource_f32(op.attr("value")?).ok()?[..] {
            [c] => Some(c as f64),
            _ => None,
        }
    }

    /// Whether `op` computes its result element by element from operands
    /// of its result's type or scalar constants.
    fn elementwise(&self, op: &Op) -> bool {
        let name = op.name.as_str();
        let kind = ACTIVATION_OPS.contains(&name)
            || orion_dialects::nn::BINARY_OPS.contains(&name)
            || orion_dialects::nn::UNARY_OPS.contains(&name)
            || name == "nn.where";
        kind && op.results.len() == 1 && {
            let ty = self.func.ty(op.result());
            op.operands
                .iter()
                .all(|&v| self.func.ty(v) == ty || self.scalar(v).is_some())
        }
    }

    /// The ops of the subgraph from `root` back to `x`, in program order,
    /// if `root` depends on nothing but `x` and scalar constants through
    /// element-wise ops whose results only that subgraph uses.
    fn region(&self, root: usize, x: ValueId) -> Option<Vec<usize>> {
        let mut ops = HashSet::new();
        let mut stack = vec![root];
        while let Some(i) = stack.pop() {
            if !ops.insert(i) || ops.len() > MAX_REGION_OPS {
                if ops.len() > MAX_REGION_OPS {
                    return None;
                }
                continue;
            }
            let op = &self.func.body[i];
            if !self.elementwise(op) {
                return None;
            }
            for &v in &op.operands {
                if v == x || self.scalar(v).is_some() {
                    continue;
                }
                stack.push(self.def[v.0 as usize]?);
            }
        }
        if ops.len() < 2 {
            return None;
        }
        // Every intermediate result is used inside the region only.
        for &i in &ops {
            if i == root {
                continue;
            }
            let v = self.func.body[i].result();
            let inside = ops
                .iter()
                .flat_map(|&j| &self.func.body[j].operands)
                .filter(|&&o| o == v)
                .count();
            if inside != self.uses[v.0 as usize] {
                return None;
            }
        }
        let mut ops: Vec<usize> = ops.into_iter().collect();
        ops.sort_unstable();
        Some(ops)
    }

    /// The region's function at each sample point.
    fn evaluate(&self, ops: &[usize], x: ValueId, xs: &[f64]) -> Option<Vec<f64>> {
        let n = xs.len();
        let ty = Type::f32_tensor(&[n]);
        let mut env: std::collections::HashMap<ValueId, Tensor> = Default::default();
        env.insert(x, Tensor::new(vec![n], xs.to_vec()));
        for &i in ops {
            let op = &self.func.body[i];
            let operands: Vec<Tensor> = op
                .operands
                .iter()
                .map(|&v| {
                    env.get(&v)
                        .cloned()
                        .or_else(|| self.scalar(v).map(|c| Tensor::new(vec![1], vec![c])))
                })
                .collect::<Option<_>>()?;
            let refs: Vec<&Tensor> = operands.iter().collect();
            let out = eval_op(op, &refs, &ty, self.module).ok()?;
            env.insert(op.result(), out);
        }
        let out = env.remove(&self.func.body[*ops.last()?].result())?;
        (out.data.len() == n).then_some(out.data)
    }
}

/// The candidate `ys` computes at `xs`, if any.
fn identify(xs: &[f64], ys: &[f64]) -> Option<Activation> {
    CANDIDATES.iter().copied().find(|act| {
        xs.iter().zip(ys).all(|(&x, &y)| {
            let want = act.eval(x);
            (y - want).abs() <= 1e-6 * want.abs().max(1.0)
        })
    })
}

impl Pass for FuseActivations {
    fn name(&self) -> &'static str {
        "fuse-activations"
    }

    fn run(&self, module: &mut Module) -> Result<Statistics, Diagnostic> {
        let mut func = module
            .main()
            .cloned()
            .ok_or_else(|| Diagnostic::new(Location::Unknown, "module has no func.func @main"))?;
        let def = func.defining_ops();
        let graph = Graph {
            module,
            func: &func,
            def,
            uses: func.use_counts(),
        };
        let xs = samples();
        // (root, region, x, activation), roots from the last op back, so
        // that the outermost op of an activation is found first.
        let mut fused: Vec<(usize, Vec<usize>, ValueId, Activation)> = Vec::new();
        let mut taken: HashSet<usize> = HashSet::new();
        for root in (0..func.body.len()).rev() {
            if taken.contains(&root) || !graph.elementwise(&func.body[root]) {
                continue;
            }
            // Candidate inputs: the operands of the ops above the root,
            // earliest first (the largest region first).
            let mut inputs: Vec<ValueId> = Vec::new();
            let mut stack = vec![root];
            let mut seen = HashSet::new();
            while let Some(i) = stack.pop() {
                if !seen.insert(i) || seen.len() > MAX_REGION_OPS {
                    continue;
                }
                for &v in &func.body[i].operands {
                    if graph.scalar(v).is_some() {
                        continue;
                    }
                    inputs.push(v);
                    if let Some(j) = graph.def[v.0 as usize] {
                        if graph.elementwise(&func.body[j]) {
                            stack.push(j);
                        }
                    }
                }
            }
            inputs.sort_by_key(|v| graph.def[v.0 as usize].map_or(-1, |i| i as i64));
            inputs.dedup();
            let found = inputs.iter().find_map(|&x| {
                let ops = graph.region(root, x)?;
                if ops.iter().any(|i| taken.contains(i)) {
                    return None;
                }
                let ys = graph.evaluate(&ops, x, &xs)?;
                identify(&xs, &ys).map(|act| (ops, x, act))
            });
            if let Some((ops, x, act)) = found {
                taken.extend(ops.iter().copied());
                fused.push((root, ops, x, act));
            }
        }
        let mut stats: Statistics = vec![("activations-fused".into(), fused.len() as i64)];
        let mut remove: HashSet<usize> = HashSet::new();
        let mut replace: Vec<(usize, Op)> = Vec::new();
        for (root, ops, x, act) in fused {
            let (name, attrs) = activation_op(act);
            let old = &func.body[root];
            replace.push((
                root,
                Op {
                    name: name.into(),
                    operands: vec![x],
                    results: old.results.clone(),
                    attrs,
                    loc: old.loc.clone(),
                },
            ));
            remove.extend(ops.into_iter().filter(|&i| i != root));
            let key = format!("fused {name}");
            match stats.iter_mut().find(|(k, _)| *k == key) {
                Some((_, n)) => *n += 1,
                None => stats.push((key, 1)),
            }
        }
        for (i, op) in replace {
            func.body[i] = op;
        }
        let old_body = std::mem::take(&mut func.body);
        func.body = old_body
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !remove.contains(i))
            .map(|(_, op)| op)
            .collect();
        // Constants only the fused ops read.
        let uses = func.use_counts();
        func.body
            .retain(|op| op.name != "nn.constant" || uses[op.result().0 as usize] > 0);
        super::canonicalize::drop_unused_resources(module, &func);
        *module.main_mut().expect("main exists") = func;
        Ok(stats)
    }
}
