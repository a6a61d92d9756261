//! `canonicalize` (nn -> nn): puts the network in the normal form the packing
//! pass expects.
//!
//! - `nn.mul %x, %x` and `nn.pow %x {exponent = 2.0}` become `nn.square %x`;
//! - `nn.gemm` with constant weights becomes `y = x W^T + b` (trans_b = true,
//!   alpha = beta = 1, bias materialised);
//! - an `nn.batchnorm` after such a gemm, or after an `nn.conv2d` with
//!   constant weights, is folded into its weights and bias (per output
//!   channel; the gemm / conv result must have no other use);
//! - a zero `nn.pad` feeding a conv or an average pool becomes their pads;
//! - an `nn.concat` of the same activation of every operand sinks below
//!   it, and a concat on channels of convolutions becomes a sum of them
//!   with zero-padded output channels (see `concat`);
//! - any op whose operands are all constants is evaluated at compile time.
//!
//! ```text
//! %0 = nn.gemm %x, %w, %b {trans_b = true} : (...) -> tensor<1x128xf32>
//! %1 = nn.batchnorm %0, %s, %t, %m, %v {epsilon = 1.0e-5} : (...) -> tensor<1x128xf32>
//! %2 = nn.mul %1, %1 : tensor<1x128xf32>
//!   =>
//! %w2 = nn.constant {value = dense_resource<fc1_weight_bn> : tensor<128x784xf32>} : tensor<128x784xf32>
//! %b2 = nn.constant {value = dense_resource<fc1_bias_bn> : tensor<128xf32>} : tensor<128xf32>
//! %1 = nn.gemm %x, %w2, %b2 {trans_b = true} : (...) -> tensor<1x128xf32>
//! %2 = nn.square %1 : tensor<1x128xf32>
//!
//! %0 = nn.conv2d %x, %w, %b {pads = array<i64: 2, 2, 2, 2>, ...} : (...) -> tensor<1x6x28x28xf32>
//! %1 = nn.batchnorm %0, %s, %t, %m, %v {epsilon = 1.0e-5} : (...) -> tensor<1x6x28x28xf32>
//!   =>
//! %w2 = nn.constant {value = dense_resource<conv1_weight_bn> : tensor<6x1x5x5xf32>} : tensor<6x1x5x5xf32>
//! %b2 = nn.constant {value = dense_resource<conv1_bias_bn> : tensor<6xf32>} : tensor<6xf32>
//! %1 = nn.conv2d %x, %w2, %b2 {pads = array<i64: 2, 2, 2, 2>, ...} : (...) -> tensor<1x6x28x28xf32>
//! ```

use super::{Pass, Statistics};
use orion_dialects::ir::{Attribute, Func, Location, Module, Op, Type, ValueId};
use orion_dialects::nn::interp::eval_op;
use orion_dialects::tensor::Tensor;
use orion_dialects::Diagnostic;

mod concat;

pub struct Canonicalize;

impl Pass for Canonicalize {
    fn name(&self) -> &'static str {
        "canonicalize"
    }

    fn run(&self, module: &mut Module) -> Result<Statistics, Diagnostic> {
        let mut func = module
            .main()
            .cloned()
            .ok_or_else(|| Diagnostic::new(Location::Unknown, "module has no func.func @main"))?;
        let mut stats = Stats::default();
        let mut body = Vec::with_capacity(func.body.len());
        let uses = func.use_counts();
        let old_body = std::mem::take(&mut func.body);
        // Values replaced by others (folded batchnorms forward to their gemm).
        let mut forward: Vec<Option<ValueId>> = vec![None; func.values.len()];
        for mut op in old_body {
            for o in &mut op.operands {
                while let Some(to) = forward[o.0 as usize] {
                    *o = to;
                }
            }
            let ctx = Ctx {
                module,
                body: &body,
                func: &func,
            };
            let err = |m: String| Diagnostic::new(op.loc.clone(), format!("{} {m}", op.label()));
            if op.name != "nn.constant" && op.name != "func.return" && !op.operands.is_empty() {
                if let Some(values) = op
                    .operands
                    .iter()
                    .map(|&v| ctx.constant(v))
                    .collect::<Option<Vec<_>>>()
                {
                    let refs: Vec<&Tensor> = values.iter().collect();
                    let ty = func.ty(op.result()).clone();
                    let t = eval_op(&op, &refs, &ty, module).map_err(err)?;
                    let c = make_constant(
                        module,
                        &mut func,
                        &op.loc,
                        &format!("{}_folded", op_hint(&op)),
                        &t,
                    );
                    forward[op.result().0 as usize] = Some(c.result());
                    body.push(c);
                    stats.folded += 1;
                    continue;
                }
            }
            match op.name.as_str() {
                "nn.mul" if op.operands[0] == op.operands[1] => {
                    op.name = "nn.square".into();
                    op.operands.truncate(1);
                    stats.squares += 1;
                }
                "nn.pow" if op.attr("exponent").and_then(Attribute::as_float) == Some(2.0) => {
                    op.name = "nn.square".into();
                    op.attrs.clear();
                    stats.squares += 1;
                }
                "nn.gemm" => {
                    if let Some(ops) = normalize_gemm(module, &mut func, &body, &op).map_err(err)? {
                        body.extend(ops);
                        stats.gemms += 1;
                        continue;
                    }
                }
                "nn.conv2d" | "nn.avgpool" => {
                    if let Some(pad) = ctx
                        .def(op.operands[0])
                        .filter(|p| p.name == "nn.pad" && uses[op.operands[0].0 as usize] == 1)
                    {
                        let pad = pad.clone();
                        let (loc, label) = (op.loc.clone(), op.label());
                        let folded = fold_pad(&mut op, &pad)
                            .map_err(|m| Diagnostic::new(loc, format!("{label} {m}")))?;
                        if folded {
                            stats.pads += 1;
                        }
                    }
                }
                "nn.concat" => {
                    let (op, act) = match concat::sink_activation(&mut func, &body, &op, &uses) {
                        Some((concat, act)) => {
                            stats.activations_sunk += 1;
                            (concat, Some(act))
                        }
                        None => (op, None),
                    };
                    match concat::concat_as_sum(module, &mut func, &body, &op, &uses) {
                        Some(ops) => {
                            body.extend(ops);
                            stats.concats_fused += 1;
                        }
                        None => body.push(op),
                    }
                    body.extend(act);
                    continue;
                }
                "nn.batchnorm" => {
                    if let Some(ops) =
                        fold_batchnorm(module, &mut func, &body, &op, &uses).map_err(err)?
                    {
                        // The new gemm defines the batchnorm's result; the old
                        // one stays in `body` until dead-code removal.
                        body.extend(ops);
                        stats.batchnorms += 1;
                        continue;
                    }
                }
                _ => {}
            }
            body.push(op);
        }
        func.body = body;
        func.remove_dead_ops();
        drop_unused_resources(module, &func);
        *module.main_mut().expect("main") = func;
        Ok(vec![
            ("batchnorms-folded".into(), stats.batchnorms),
            ("gemms-normalized".into(), stats.gemms),
            ("squares".into(), stats.squares),
            ("constants-folded".into(), stats.folded),
            ("pads-folded".into(), stats.pads),
            (
                "activations-sunk-below-concat".into(),
                stats.activations_sunk,
            ),
            ("concats-fused-into-convs".into(), stats.concats_fused),
        ])
    }
}

#[derive(Default)]
struct Stats {
    batchnorms: i64,
    gemms: i64,
    squares: i64,
    folded: i64,
    pads: i64,
    activations_sunk: i64,
    concats_fused: i64,
}

struct Ctx<'a> {
    module: &'a Module,
    body: &'a [Op],
    func: &'a Func,
}

impl Ctx<'_> {
    fn def(&self, v: ValueId) -> Option<&Op> {
        self.body.iter().rev().find(|op| op.results.contains(&v))
    }

    fn constant(&self, v: ValueId) -> Option<Tensor> {
        let op = self.def(v).filter(|op| op.name == "nn.constant")?;
        let data = self.module.resource_f32(op.attr("value")?).ok()?;
        Some(Tensor::from_f32(self.func.ty(v).shape()?, &data))
    }
}

fn op_hint(op: &Op) -> String {
    op.loc.name().unwrap_or(&op.name).to_string()
}

/// An `nn.constant` op holding `t` in a new resource named after `hint`.
pub(crate) fn make_constant(
    module: &mut Module,
    func: &mut Func,
    loc: &Location,
    hint: &str,
    t: &Tensor,
) -> Op {
    let data: Vec<f32> = t.data.iter().map(|&v| v as f32).collect();
    let name = module.add_f32_resource(hint, &data);
    let ty = Type::f32_tensor(&t.shape);
    let v = func.new_value(ty.clone(), None);
    Op {
        name: "nn.constant".into(),
        operands: vec![],
        results: vec![v],
        attrs: vec![("value".into(), Attribute::DenseResource { name, ty })],
        loc: loc.clone(),
    }
}

/// Weights [m, n] (rows are outputs) and bias [m] of a gemm with constant
/// operands, or None if they are not constants.
fn gemm_parts(
    module: &Module,
    func: &Func,
    body: &[Op],
    op: &Op,
) -> Result<Option<(Tensor, Vec<f64>)>, String> {
    let ctx = Ctx { module, body, func };
    let Some(b) = ctx.constant(op.operands[1]) else {
        return Ok(None);
    };
    let flag = |k: &str| op.attr(k).and_then(Attribute::as_bool).unwrap_or(false);
    if flag("trans_a") {
        return Ok(None);
    }
    let alpha = op
        .attr("alpha")
        .and_then(Attribute::as_float)
        .unwrap_or(1.0);
    let beta = op.attr("beta").and_then(Attribute::as_float).unwrap_or(1.0);
    let (r, c) = (b.shape[0], b.shape[1]);
    let (m, n) = if flag("trans_b") { (r, c) } else { (c, r) };
    let mut w = Tensor::zeros(&[m, n]);
    for i in 0..m {
        for j in 0..n {
            let v = if flag("trans_b") {
                b.data[i * c + j]
            } else {
                b.data[j * c + i]
            };
            w.data[i * n + j] = alpha * v;
        }
    }
    let bias = match op.operands.get(2) {
        None => vec![0.0; m],
        Some(&cv) => {
            let Some(ct) = ctx.constant(cv) else {
                return Ok(None);
            };
            if ct.len() == m {
                ct.data.iter().map(|v| beta * v).collect()
            } else if ct.len() == 1 {
                vec![beta * ct.data[0]; m]
            } else {
                return Ok(None);
            }
        }
    };
    Ok(Some((w, bias)))
}

fn is_normal_gemm(op: &Op) -> bool {
    let flag = |k: &str, d: bool| op.attr(k).and_then(Attribute::as_bool).unwrap_or(d);
    let num = |k: &str| op.attr(k).and_then(Attribute::as_float).unwrap_or(1.0);
    op.operands.len() == 3
        && flag("trans_b", false)
        && !flag("trans_a", false)
        && num("alpha") == 1.0
        && num("beta") == 1.0
}

/// New constant + gemm ops computing `x W^T + bias`, reusing `op`'s result.
fn emit_gemm(
    module: &mut Module,
    func: &mut Func,
    op: &Op,
    w: &Tensor,
    bias: &[f64],
    tag: &str,
) -> Vec<Op> {
    let hint = op_hint(op);
    let wc = make_constant(module, func, &op.loc, &format!("{hint}_weight{tag}"), w);
    let bc = make_constant(
        module,
        func,
        &op.loc,
        &format!("{hint}_bias{tag}"),
        &Tensor::new(vec![bias.len()], bias.to_vec()),
    );
    let gemm = Op {
        name: "nn.gemm".into(),
        operands: vec![op.operands[0], wc.result(), bc.result()],
        results: op.results.clone(),
        attrs: vec![("trans_b".into(), Attribute::Bool(true))],
        loc: op.loc.clone(),
    };
    vec![wc, bc, gemm]
}

fn normalize_gemm(
    module: &mut Module,
    func: &mut Func,
    body: &[Op],
    op: &Op,
) -> Result<Option<Vec<Op>>, String> {
    if is_normal_gemm(op) {
        return Ok(None);
    }
    let Some((w, bias)) = gemm_parts(module, func, body, op)? else {
        return Ok(None);
    };
    Ok(Some(emit_gemm(module, func, op, &w, &bias, "")))
}

/// Weights [M, C/groups, kh, kw] and bias [M] (zeros when absent) of a
/// conv with constant operands, or None if they are not constants.
pub(super) fn conv_parts(
    module: &Module,
    func: &Func,
    body: &[Op],
    op: &Op,
) -> Option<(Tensor, Vec<f64>)> {
    let ctx = Ctx { module, body, func };
    let w = ctx.constant(op.operands[1])?;
    let bias = match op.operands.get(2) {
        None => vec![0.0; w.shape[0]],
        Some(&b) => ctx.constant(b)?.data,
    };
    Some((w, bias))
}

/// New constant ops for `w` and `bias` and a copy of `op` (a conv) that uses
/// them, reusing `op`'s result and attributes.
pub(super) fn emit_conv(
    module: &mut Module,
    func: &mut Func,
    op: &Op,
    w: &Tensor,
    bias: &[f64],
    tag: &str,
) -> Vec<Op> {
    let hint = op_hint(op);
    let wc = make_constant(module, func, &op.loc, &format!("{hint}_weight{tag}"), w);
    let bias = Tensor::new(vec![bias.len()], bias.to_vec());
    let bc = make_constant(module, func, &op.loc, &format!("{hint}_bias{tag}"), &bias);
    let mut conv = op.clone();
    conv.operands = vec![op.operands[0], wc.result(), bc.result()];
    vec![wc, bc, conv]
}

/// A zero `nn.pad` of the height and width only, read by nothing else,
/// into the conv or average pool `op` that reads it: its pads grow by the
/// pad's (an average pool then counts the padding, as the zeros were real
/// elements; refused if the pool had pads it did not count, or if a pad
/// would reach the kernel's size). Returns whether it folded.
fn fold_pad(op: &mut Op, pad: &Op) -> Result<bool, String> {
    use orion_dialects::nn::conv::{Conv2dAttrs, PoolAttrs};
    let p = orion_dialects::nn::pad::pads(pad, 4).ok();
    let Some([0, 0, top, left, 0, 0, bottom, right]) = p.as_deref().map(|p| {
        let mut a = [0usize; 8];
        a.copy_from_slice(p);
        a
    }) else {
        return Ok(false);
    };
    let extra = [top, left, bottom, right];
    let attrs = if op.name == "nn.conv2d" {
        let mut c = Conv2dAttrs::from_op(op)?;
        c.pads.iter_mut().zip(extra).for_each(|(a, b)| *a += b);
        c.to_attrs()
    } else {
        let mut c = PoolAttrs::from_op(op)?;
        if c.pads.iter().any(|&v| v > 0) && !c.count_include_pad {
            return Ok(false);
        }
        c.pads.iter_mut().zip(extra).for_each(|(a, b)| *a += b);
        if (0..4).any(|i| c.pads[i] >= c.kernel[i % 2]) {
            return Ok(false);
        }
        c.count_include_pad = true;
        c.to_attrs()
    };
    for (k, v) in attrs {
        op.set_attr(&k, v);
    }
    op.operands[0] = pad.operands[0];
    Ok(true)
}

/// `batchnorm(gemm(x, W, b))` or `batchnorm(conv2d(x, W, b))` with constant
/// parameters, when the gemm / conv result has no other use, as one gemm /
/// conv: output channel `c` scales its weights by `k = scale / sqrt(var +
/// eps)` and its bias becomes `(b - mean) k + shift`.
fn fold_batchnorm(
    module: &mut Module,
    func: &mut Func,
    body: &[Op],
    bn: &Op,
    uses: &[usize],
) -> Result<Option<Vec<Op>>, String> {
    let ctx = Ctx { module, body, func };
    let Some(producer) = ctx
        .def(bn.operands[0])
        .filter(|o| o.name == "nn.gemm" || o.name == "nn.conv2d")
        .cloned()
    else {
        return Ok(None);
    };
    let params: Option<Vec<Tensor>> = bn.operands[1..].iter().map(|&v| ctx.constant(v)).collect();
    let Some(params) = params else {
        return Ok(None);
    };
    if uses.get(producer.result().0 as usize).copied().unwrap_or(0) != 1 {
        return Ok(None);
    }
    let is_conv = producer.name == "nn.conv2d";
    let parts = if is_conv {
        conv_parts(module, func, body, &producer)
    } else {
        gemm_parts(module, func, body, &producer)?
    };
    let Some((mut w, mut bias)) = parts else {
        return Ok(None);
    };
    let eps = bn
        .attr("epsilon")
        .and_then(Attribute::as_float)
        .unwrap_or(1e-5);
    let (scale, shift, mean, var) = (&params[0], &params[1], &params[2], &params[3]);
    if scale.len() != bias.len() {
        return Err(format!(
            "has {} channels but the {} before it has {} outputs",
            scale.len(),
            producer.label(),
            bias.len()
        ));
    }
    // Weights are row-major with the output channel outermost, for both.
    let n = w.len() / bias.len();
    for (ch, b) in bias.iter_mut().enumerate() {
        let k = scale.data[ch] / (var.data[ch] + eps).sqrt();
        for v in &mut w.data[ch * n..(ch + 1) * n] {
            *v *= k;
        }
        *b = (*b - mean.data[ch]) * k + shift.data[ch];
    }
    let mut folded = producer.clone();
    folded.results = bn.results.clone();
    Ok(Some(if is_conv {
        emit_conv(module, func, &folded, &w, &bias, "_bn")
    } else {
        emit_gemm(module, func, &folded, &w, &bias, "_bn")
    }))
}

/// Removes resources no op refers to any more (replaced weights).
pub(crate) fn drop_unused_resources(module: &mut Module, func: &Func) {
    fn collect(a: &Attribute, out: &mut Vec<String>) {
        match a {
            Attribute::DenseResource { name, .. } => out.push(name.clone()),
            Attribute::Array(items) => items.iter().for_each(|i| collect(i, out)),
            Attribute::Dict(d) => d.iter().for_each(|(_, v)| collect(v, out)),
            _ => {}
        }
    }
    let mut used = Vec::new();
    for op in &func.body {
        for (_, a) in &op.attrs {
            collect(a, &mut used);
        }
    }
    module.resources.retain(|r| used.contains(&r.name));
}
