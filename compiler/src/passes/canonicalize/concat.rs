//! Concatenations in the form that packs cheapest.
//!
//! An activation applied to every operand sinks below the concat (one
//! approximation of one packed value instead of one per branch, its range
//! the union of theirs). Then a concat on channels whose operands include
//! single-use convolutions becomes a sum: each such conv gets the concat's
//! channel count with zeros outside its own channels (so it writes its
//! result straight into the concatenated layout, at the cost it had), and
//! every other operand is zero-padded (a placement, one level, when
//! packed):
//!
//! ```text
//! %a = nn.conv2d %x, %w1, %b1 : (...) -> tensor<1x2x8x8xf32>
//! %b = nn.conv2d %x, %w2, %b2 : (...) -> tensor<1x3x8x8xf32>
//! %ra = nn.relu %a
//! %rb = nn.relu %b
//! %y = nn.concat %ra, %rb {axis = 1} : (...) -> tensor<1x5x8x8xf32>
//!   =>
//! %a5 = nn.conv2d %x, %w1_concat, %b1_concat : (...) -> tensor<1x5x8x8xf32>   channels 0..2
//! %b5 = nn.conv2d %x, %w2_concat, %b2_concat : (...) -> tensor<1x5x8x8xf32>   channels 2..5
//! %s = nn.add %a5, %b5 : tensor<1x5x8x8xf32>
//! %y = nn.relu %s
//! ```

use super::{conv_parts, emit_conv};
use orion_dialects::ir::{Attribute, Func, Module, Op, ValueId};
use orion_dialects::nn::activations::ACTIVATION_OPS;
use orion_dialects::nn::conv::Conv2dAttrs;
use orion_dialects::tensor::Tensor;

fn def(body: &[Op], v: ValueId) -> Option<&Op> {
    body.iter().rev().find(|o| o.results.contains(&v))
}

/// `concat(act(a), act(b), ...)` as `concat(a, b, ...)` and the `act` op
/// that defines the old result, when every operand is the same activation
/// (name and attributes) read only by the concat.
pub(super) fn sink_activation(
    func: &mut Func,
    body: &[Op],
    op: &Op,
    uses: &[usize],
) -> Option<(Op, Op)> {
    let defs: Vec<&Op> = op
        .operands
        .iter()
        .map(|&v| def(body, v).filter(|_| uses[v.0 as usize] == 1))
        .collect::<Option<_>>()?;
    let first = defs.first()?;
    if !ACTIVATION_OPS.contains(&first.name.as_str())
        || defs
            .iter()
            .any(|d| d.name != first.name || d.attrs != first.attrs || d.operands.len() != 1)
    {
        return None;
    }
    let joined = func.new_value(func.ty(op.result()).clone(), None);
    let concat = Op {
        operands: defs.iter().map(|d| d.operands[0]).collect(),
        results: vec![joined],
        ..op.clone()
    };
    let act = Op {
        name: first.name.clone(),
        operands: vec![joined],
        results: op.results.clone(),
        attrs: first.attrs.clone(),
        loc: op.loc.clone(),
    };
    Some((concat, act))
}

/// A concat on the channels of NCHW operands, at least one of them a
/// single-use conv of groups 1 with constant weights, as the sum above;
/// the ops replacing `op` (the last defines its result).
pub(super) fn concat_as_sum(
    module: &mut Module,
    func: &mut Func,
    body: &[Op],
    op: &Op,
    uses: &[usize],
) -> Option<Vec<Op>> {
    let out_ty = func.ty(op.result()).clone();
    let &[1, total, _, _] = out_ty.shape()? else {
        return None;
    };
    if op.attr("axis").and_then(Attribute::as_int) != Some(1) || op.operands.len() < 2 {
        return None;
    }
    let fusable = |v: ValueId| {
        def(body, v)
            .filter(|d| d.name == "nn.conv2d" && uses[v.0 as usize] == 1)
            .filter(|d| Conv2dAttrs::from_op(d).is_ok_and(|a| a.groups == 1))
            .and_then(|d| Some((d.clone(), conv_parts(module, func, body, d)?)))
    };
    let convs: Vec<_> = op.operands.iter().map(|&v| fusable(v)).collect();
    if convs.iter().all(Option::is_none) {
        return None;
    }
    let channels: Vec<usize> = op
        .operands
        .iter()
        .map(|&v| func.ty(v).shape().map(|s| s[1]))
        .collect::<Option<_>>()?;
    let mut ops = Vec::new();
    let mut terms = Vec::new();
    let mut offset = 0;
    for ((&v, conv), channels) in op.operands.iter().zip(convs).zip(channels) {
        let term = func.new_value(out_ty.clone(), None);
        match conv {
            Some((conv, (w, bias))) => {
                let per_channel = w.len() / channels;
                let mut shape = w.shape.clone();
                shape[0] = total;
                let mut wide = Tensor::zeros(&shape);
                wide.data[offset * per_channel..(offset + channels) * per_channel]
                    .copy_from_slice(&w.data);
                let mut wide_bias = vec![0.0; total];
                wide_bias[offset..offset + channels].copy_from_slice(&bias);
                let widened = Op {
                    results: vec![term],
                    ..conv
                };
                ops.extend(emit_conv(
                    module, func, &widened, &wide, &wide_bias, "_concat",
                ));
            }
            None => {
                let pads = [0, offset, 0, 0, 0, total - offset - channels, 0, 0];
                ops.push(Op {
                    name: "nn.pad".into(),
                    operands: vec![v],
                    results: vec![term],
                    attrs: vec![(
                        "pads".into(),
                        Attribute::I64Array(pads.iter().map(|&p| p as i64).collect()),
                    )],
                    loc: op.loc.clone(),
                });
            }
        }
        terms.push(term);
        offset += channels;
    }
    let mut acc = terms[0];
    for (i, &t) in terms.iter().enumerate().skip(1) {
        let sum = if i + 1 == terms.len() {
            op.result()
        } else {
            func.new_value(out_ty.clone(), None)
        };
        ops.push(Op {
            name: "nn.add".into(),
            operands: vec![acc, t],
            results: vec![sum],
            attrs: vec![],
            loc: op.loc.clone(),
        });
        acc = sum;
    }
    Some(ops)
}
