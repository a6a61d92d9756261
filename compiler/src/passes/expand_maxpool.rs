//! `expand-maxpool` (nn -> nn): a max pool as what CKKS can evaluate, Lee
//! et al.'s way: each of the kh x kw window positions is one strided view of
//! the input (a depthwise convolution by a one-hot kernel, which packs as
//! any convolution), and the views are reduced by a balanced tree of
//! `nn.max`, which `calibrate` gives the range of `a - b` and
//! `approximate-activations` turns into `(a + b) / 2 + (a - b) sign(a - b) / 2`.
//! A 2x2 pool costs two maxima deep (two composite signs, about 30 levels),
//! a 3x3 pool four.
//!
//! ```text
//! %y = nn.maxpool %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32>
//!   =>
//! %v0 = nn.conv2d %x, %onehot00 {strides = array<i64: 2, 2>, groups = 4, ...} : (...) -> tensor<1x4x4x4xf32>
//! ...                                                   (%v1, %v2, %v3: the other positions)
//! %m0 = nn.max %v0, %v1 : tensor<1x4x4x4xf32>
//! %m1 = nn.max %v2, %v3 : tensor<1x4x4x4xf32>
//! %y = nn.max %m0, %m1 : tensor<1x4x4x4xf32>
//! ```
//!
//! Padding never wins an ONNX max pool; a view reads it as 0. That is the
//! same only when the input is never negative, so a padded pool is expanded
//! only after an op whose output is not negative (ReLU, ReLU6, sigmoid, ...,
//! or a pool or concatenation of such values, as in an Inception block's
//! pool branch) and refused, naming the layer, otherwise.

use super::canonicalize::make_constant;
use super::{Pass, Statistics};
use orion_dialects::ir::{Func, Location, Module, Op, ValueId};
use orion_dialects::nn::activations::Activation;
use orion_dialects::nn::conv::{Conv2dAttrs, PoolAttrs};
use orion_dialects::tensor::Tensor;
use orion_dialects::Diagnostic;
use std::collections::HashSet;

pub struct ExpandMaxpool;

/// The values of `func` that are never negative, in one forward pass:
/// results of ReLU, ReLU6 and other non-negative activations, and what
/// keeps that (a max pool, zero padding or concatenation of such values,
/// a max of which one operand is one).
fn non_negative_values(func: &Func) -> HashSet<ValueId> {
    let mut known = HashSet::new();
    for op in &func.body {
        let from = |i: usize| op.operands.get(i).is_some_and(|v| known.contains(v));
        let yes = match Activation::from_op(op) {
            Ok(Some(
                Activation::Relu
                | Activation::Sigmoid
                | Activation::Softplus
                | Activation::HardSigmoid { .. },
            )) => true,
            Ok(Some(Activation::Clip { min, .. })) => min >= 0.0,
            _ => match op.name.as_str() {
                "nn.maxpool" | "nn.pad" => from(0),
                "nn.concat" => (0..op.operands.len()).all(from),
                "nn.max" => from(0) || from(1),
                _ => false,
            },
        };
        if yes {
            known.extend(op.results.iter().copied());
        }
    }
    known
}

impl Pass for ExpandMaxpool {
    fn name(&self) -> &'static str {
        "expand-maxpool"
    }

    fn run(&self, module: &mut Module) -> Result<Statistics, Diagnostic> {
        let mut func = module
            .main()
            .cloned()
            .ok_or_else(|| Diagnostic::new(Location::Unknown, "module has no func.func @main"))?;
        let non_negative = non_negative_values(&func);
        let (mut pools, mut maxima) = (0i64, 0i64);
        let mut body = Vec::with_capacity(func.body.len());
        for op in std::mem::take(&mut func.body) {
            if op.name != "nn.maxpool" {
                body.push(op);
                continue;
            }
            let err = |m: String| Diagnostic::new(op.loc.clone(), format!("{} {m}", op.label()));
            let attrs = PoolAttrs::from_op(&op).map_err(err)?;
            let x = op.operands[0];
            if attrs.pads.iter().any(|&p| p > 0) && !non_negative.contains(&x) {
                return Err(err(
                    "pads an input that may be negative: the encrypted max reads padding as 0, \
                     which is exact only after a ReLU (or another non-negative op); pool after \
                     one, or without padding"
                        .into(),
                ));
            }
            let x_shape = func.ty(x).shape().unwrap_or(&[]).to_vec();
            let channels = *x_shape
                .get(1)
                .ok_or_else(|| err("needs an NCHW input".into()))?;
            let out_ty = func.ty(op.result()).clone();
            let [kh, kw] = attrs.kernel;
            let mut views = Vec::with_capacity(kh * kw);
            for i in 0..kh {
                for j in 0..kw {
                    let w = one_hot(module, &mut func, &op, channels, [kh, kw], [i, j]);
                    let weight = w.result();
                    body.push(w);
                    let conv = Conv2dAttrs {
                        strides: attrs.strides,
                        pads: attrs.pads,
                        dilations: [1, 1],
                        groups: channels,
                    };
                    let v = func.new_value(out_ty.clone(), None);
                    body.push(Op {
                        name: "nn.conv2d".into(),
                        operands: vec![x, weight],
                        results: vec![v],
                        attrs: conv.to_attrs(),
                        loc: op.loc.clone(),
                    });
                    views.push(v);
                }
            }
            // A balanced tree, so that the depth is log2 of the window.
            while views.len() > 1 {
                let mut next = Vec::with_capacity(views.len().div_ceil(2));
                for pair in views.chunks(2) {
                    match pair {
                        [a, b] => {
                            let m = func.new_value(out_ty.clone(), None);
                            body.push(Op {
                                name: "nn.max".into(),
                                operands: vec![*a, *b],
                                results: vec![m],
                                attrs: vec![],
                                loc: op.loc.clone(),
                            });
                            maxima += 1;
                            next.push(m);
                        }
                        [a] => next.push(*a),
                        _ => unreachable!("chunks of two"),
                    }
                }
                views = next;
            }
            // The last op defines the pool's result.
            let last = body.last_mut().expect("a view at least");
            last.results = op.results.clone();
            pools += 1;
        }
        func.body = body;
        *module.main_mut().expect("main exists") = func;
        Ok(vec![
            ("maxpools-expanded".into(), pools),
            ("maxima".into(), maxima),
        ])
    }
}

/// The depthwise weight `[C, 1, kh, kw]` that picks window position `at`.
fn one_hot(
    module: &mut Module,
    func: &mut Func,
    op: &Op,
    channels: usize,
    [kh, kw]: [usize; 2],
    [i, j]: [usize; 2],
) -> Op {
    let mut data = vec![0.0; channels * kh * kw];
    for c in 0..channels {
        data[c * kh * kw + i * kw + j] = 1.0;
    }
    let hint = format!("{}_window_{i}_{j}", op.loc.name().unwrap_or("maxpool"));
    let t = Tensor::new(vec![channels, 1, kh, kw], data);
    make_constant(module, func, &op.loc, &hint, &t)
}
