//! `pack` (nn -> pack): chooses a slot layout for every activation and turns
//! linear layers into diagonal matrix-vector products.
//!
//! Expects canonical `nn` (see `canonicalize`): gemms as `x W^T + b` with
//! constant W and b, activations already polynomial (`nn.square`,
//! `nn.polynomial`). Flatten and reshape keep the row-major order, so they
//! cost nothing on a 1-D replicated layout.
//!
//! Convolutions (batch 1, any strides, pads, dilations, groups), average
//! pools and global average pools become `pack.linear` ops with a sparse
//! map (`map = "conv2d"` with the kernel as `weights`, the conv bias and
//! attributes, `input_shape`; `map = "avgpool"` with the pool attributes; a
//! global pool is an avgpool whose kernel is the whole plane). They act on
//! the same 1-D replicated layout as a dense layer; Orion's multiplexed
//! layout with gaps is a later step. A tensor larger than the slots is an
//! error naming the layer.
//!
//! ```text
//! func.func @main(%input: tensor<1x1x28x28xf32>) -> tensor<1x10xf32> {
//!   %0 = nn.flatten %input {axis = 1} : (tensor<1x1x28x28xf32>) -> tensor<1x784xf32>
//!   %1 = nn.gemm %0, %w, %b {trans_b = true} : (...) -> tensor<1x128xf32>
//!   %2 = nn.square %1 : tensor<1x128xf32>
//!   =>
//!   %0 = pack.pack %input : (tensor<1x1x28x28xf32>) -> !pack.vec<slots = 4096, size = 784, period = 1024>
//!   %1 = pack.linear %0 {weights = dense_resource<fc1_weight> : tensor<128x784xf32>,
//!          bias = dense_resource<fc1_bias> : tensor<128xf32>, embedding = "hybrid", baby_steps = 16}
//!          : (!pack.vec<slots = 4096, size = 784, period = 1024>) -> !pack.vec<slots = 4096, size = 128, period = 128>
//!   %2 = pack.square %1 : !pack.vec<slots = 4096, size = 128, period = 128>
//! ```

use super::{Pass, PassOptions, Statistics};
use orion_dialects::ir::{Attribute, Func, Location, Module, Op, ValueId};
use orion_dialects::nn::conv::{Conv2dAttrs, PoolAttrs};
use orion_dialects::pack::{LinearOp, VecLayout};
use orion_dialects::Diagnostic;

pub struct Pack {
    pub slots: usize,
}

impl Pack {
    pub fn new(opts: &PassOptions) -> Pack {
        Pack {
            slots: opts.params.slots(),
        }
    }
}

fn op_err(op: &Op, msg: impl std::fmt::Display) -> Diagnostic {
    Diagnostic::new(op.loc.clone(), format!("{} {msg}", op.label()))
}

impl Pass for Pack {
    fn name(&self) -> &'static str {
        "pack"
    }

    fn run(&self, module: &mut Module) -> Result<Statistics, Diagnostic> {
        let old = module
            .main()
            .cloned()
            .ok_or_else(|| Diagnostic::new(Location::Unknown, "module has no func.func @main"))?;
        let mut new = Func::new("main");
        new.loc = old.loc.clone();
        // Packed value of each old value (None for constants and unpacked tensors).
        let mut packed: Vec<Option<ValueId>> = vec![None; old.values.len()];
        let mut tensor_of: Vec<Option<ValueId>> = vec![None; old.values.len()];
        let mut constants: Vec<Option<Attribute>> = vec![None; old.values.len()];
        let mut stats = LinearStats::default();
        for &a in &old.args {
            let v = new.add_arg(old.ty(a).clone(), old.values[a.0 as usize].name.clone());
            tensor_of[a.0 as usize] = Some(v);
        }
        for op in &old.body {
            // The packed operand #i, packing a function argument on first use.
            let mut operand = |new: &mut Func, i: usize| -> Result<ValueId, Diagnostic> {
                let v = op.operands[i];
                if let Some(p) = packed[v.0 as usize] {
                    return Ok(p);
                }
                let t = tensor_of[v.0 as usize].ok_or_else(|| {
                    op_err(
                        op,
                        format!("operand #{i} must be a computed tensor, not a constant"),
                    )
                })?;
                let n = new.ty(t).num_elements().unwrap_or(0);
                fits(n, self.slots).map_err(|m| op_err(op, format!("input: {m}")))?;
                let layout = VecLayout::replicated(self.slots, n)
                    .map_err(|m| op_err(op, format!("input does not fit: {m}")))?;
                let p = new.push_op(
                    "pack.pack",
                    vec![t],
                    vec![],
                    vec![layout.to_type()],
                    Location::Unknown,
                )[0];
                packed[v.0 as usize] = Some(p);
                Ok(p)
            };
            let result = op.results.first().copied();
            match op.name.as_str() {
                "nn.constant" => {
                    constants[op.result().0 as usize] = op.attr("value").cloned();
                }
                "nn.flatten" | "nn.reshape" => {
                    let p = operand(&mut new, 0)?;
                    packed[op.result().0 as usize] = Some(p);
                }
                "nn.gemm" | "nn.matmul" => {
                    let x = operand(&mut new, 0)?;
                    let in_shape = old.ty(op.operands[0]).shape().unwrap_or(&[]).to_vec();
                    if in_shape.len() != 2 || in_shape[0] != 1 {
                        return Err(op_err(
                            op,
                            format!("packs batch-1 inputs of shape [1, n] only, got {in_shape:?}"),
                        ));
                    }
                    let (weights, bias) = linear_operands(module, op, &constants)?;
                    let mut attrs = vec![("weights".to_string(), weights)];
                    if let Some(b) = bias {
                        attrs.push(("bias".to_string(), b));
                    }
                    if let Some(n) = old.ty(op.result()).num_elements() {
                        fits(n, self.slots).map_err(|m| op_err(op, format!("result: {m}")))?;
                    }
                    let r = self.linear(&mut new, module, op, x, attrs, &mut stats)?;
                    packed[op.result().0 as usize] = Some(r);
                }
                "nn.conv2d" | "nn.avgpool" | "nn.global_avgpool" => {
                    let x = operand(&mut new, 0)?;
                    let shape = old.ty(op.operands[0]).shape().unwrap_or(&[]).to_vec();
                    if shape.len() != 4 || shape[0] != 1 {
                        return Err(op_err(
                            op,
                            format!("packs batch-1 NCHW inputs only, got shape {shape:?}"),
                        ));
                    }
                    let input_shape = (
                        "input_shape".to_string(),
                        Attribute::I64Array(shape.iter().map(|&v| v as i64).collect()),
                    );
                    let mut attrs = Vec::new();
                    match op.name.as_str() {
                        "nn.conv2d" => {
                            let conv = Conv2dAttrs::from_op(op).map_err(|m| op_err(op, m))?;
                            attrs.push(("map".to_string(), Attribute::String("conv2d".into())));
                            attrs.push((
                                "weights".to_string(),
                                constant_operand(op, 1, &constants)?,
                            ));
                            if op.operands.len() > 2 {
                                attrs.push((
                                    "bias".to_string(),
                                    constant_operand(op, 2, &constants)?,
                                ));
                            }
                            attrs.push(input_shape);
                            attrs.extend(conv.to_attrs());
                        }
                        _ => {
                            let pool = if op.name == "nn.avgpool" {
                                PoolAttrs::from_op(op).map_err(|m| op_err(op, m))?
                            } else {
                                PoolAttrs {
                                    kernel: [shape[2], shape[3]],
                                    strides: [1, 1],
                                    pads: [0; 4],
                                    count_include_pad: true,
                                }
                            };
                            attrs.push(("map".to_string(), Attribute::String("avgpool".into())));
                            attrs.push(input_shape);
                            attrs.extend(pool.to_attrs());
                        }
                    }
                    if let Some(n) = old.ty(op.result()).num_elements() {
                        fits(n, self.slots).map_err(|m| op_err(op, format!("result: {m}")))?;
                    }
                    let r = self.linear(&mut new, module, op, x, attrs, &mut stats)?;
                    packed[op.result().0 as usize] = Some(r);
                }
                "nn.square" | "nn.polynomial" => {
                    let x = operand(&mut new, 0)?;
                    let name = if op.name == "nn.square" {
                        "pack.square"
                    } else {
                        "pack.polynomial"
                    };
                    let attrs: Vec<_> = op
                        .attrs
                        .iter()
                        .filter(|(k, _)| k != "range")
                        .cloned()
                        .collect();
                    let ty = new.ty(x).clone();
                    let r = new.push_op(name, vec![x], attrs, vec![ty], op.loc.clone())[0];
                    packed[op.result().0 as usize] = Some(r);
                }
                "nn.mul"
                    if op
                        .operands
                        .iter()
                        .any(|v| constants[v.0 as usize].is_some()) =>
                {
                    // A product by a scalar constant (the 1/B of an activation
                    // approximation): the polynomial c * x.
                    let (xi, ci) = if constants[op.operands[1].0 as usize].is_some() {
                        (0, 1)
                    } else {
                        (1, 0)
                    };
                    let c = constant_operand(op, ci, &constants)?;
                    let c = match module.resource_f32(&c).map_err(|m| op_err(op, m))?[..] {
                        [c] => c as f64,
                        _ => {
                            return Err(op_err(
                                op,
                                "multiplies by a constant tensor; only a scalar (one element) can be packed",
                            ))
                        }
                    };
                    let x = operand(&mut new, xi)?;
                    let ty = new.ty(x).clone();
                    let attrs = vec![("coeffs".to_string(), Attribute::F64Array(vec![0.0, c]))];
                    let r =
                        new.push_op("pack.polynomial", vec![x], attrs, vec![ty], op.loc.clone())[0];
                    packed[op.result().0 as usize] = Some(r);
                }
                "nn.add" | "nn.mul" => {
                    let (a, b) = (operand(&mut new, 0)?, operand(&mut new, 1)?);
                    if new.ty(a) != new.ty(b) {
                        return Err(op_err(
                            op,
                            format!(
                                "combines values of different layouts ({} and {})",
                                new.ty(a),
                                new.ty(b)
                            ),
                        ));
                    }
                    let ty = new.ty(a).clone();
                    let name = if op.name == "nn.add" {
                        "pack.add"
                    } else {
                        "pack.mul"
                    };
                    let r = new.push_op(name, vec![a, b], vec![], vec![ty], op.loc.clone())[0];
                    packed[op.result().0 as usize] = Some(r);
                }
                "nn.relu" | "nn.sigmoid" | "nn.silu" | "nn.gelu" => {
                    return Err(op_err(op, "must be approximated by a polynomial before packing (run approximate-activations)"));
                }
                "func.return" => {
                    let mut outs = Vec::new();
                    for (i, &v) in op.operands.iter().enumerate() {
                        let p = operand(&mut new, i)?;
                        let ty = old.ty(v).clone();
                        outs.push(
                            new.push_op(
                                "pack.unpack",
                                vec![p],
                                vec![],
                                vec![ty],
                                Location::Unknown,
                            )[0],
                        );
                    }
                    new.push_op("func.return", outs, vec![], vec![], Location::Unknown);
                }
                other => {
                    return Err(op_err(
                        op,
                        format!("cannot be packed yet ('{other}' has no pack lowering)"),
                    ))
                }
            }
            let _ = result;
        }
        *module.main_mut().expect("main") = new;
        Ok(vec![
            ("linear-layers".into(), stats.linears),
            ("diagonals".into(), stats.diagonals),
            ("rotations".into(), stats.rotations),
        ])
    }
}

#[derive(Default)]
struct LinearStats {
    linears: i64,
    diagonals: i64,
    rotations: i64,
}

/// A tensor of `n` elements must fit the slots of one ciphertext.
fn fits(n: usize, slots: usize) -> Result<(), String> {
    if n > slots {
        let log_n = n.next_power_of_two().trailing_zeros() + 1;
        return Err(format!(
            "tensor of {n} elements does not fit {slots} slots; use --params with log_n >= {log_n}"
        ));
    }
    Ok(())
}

impl Pack {
    /// Appends `pack.linear` of `x` with the map and bias `attrs` (the plan's
    /// embedding and baby steps are added here).
    fn linear(
        &self,
        new: &mut Func,
        module: &Module,
        op: &Op,
        x: ValueId,
        mut attrs: Vec<(String, Attribute)>,
        stats: &mut LinearStats,
    ) -> Result<ValueId, Diagnostic> {
        let input = VecLayout::from_type(new.ty(x)).map_err(|m| op_err(op, m))?;
        attrs.push(("embedding".to_string(), Attribute::String("hybrid".into())));
        let mut lin_op = Op {
            name: "pack.linear".into(),
            operands: vec![x],
            results: vec![],
            attrs,
            loc: op.loc.clone(),
        };
        let lin = LinearOp::from_op(&lin_op, &input, module).map_err(|m| op_err(op, m))?;
        lin_op.set_attr("baby_steps", Attribute::Int(lin.plan.baby_steps as i64));
        stats.linears += 1;
        stats.diagonals += lin.plan.diagonals.len() as i64;
        stats.rotations += lin.plan.rotation_offsets().len() as i64;
        Ok(new.push_op(
            "pack.linear",
            vec![x],
            lin_op.attrs,
            vec![lin.plan.output_layout().to_type()],
            op.loc.clone(),
        )[0])
    }
}

fn constant_operand(
    op: &Op,
    i: usize,
    constants: &[Option<Attribute>],
) -> Result<Attribute, Diagnostic> {
    op.operands
        .get(i)
        .and_then(|v| constants[v.0 as usize].clone())
        .ok_or_else(|| op_err(op, format!("operand #{i} must be a constant")))
}

/// Weights [m, n] and optional bias of a canonical gemm (or a matmul by a
/// constant, whose weights are transposed into a new resource).
fn linear_operands(
    module: &mut Module,
    op: &Op,
    constants: &[Option<Attribute>],
) -> Result<(Attribute, Option<Attribute>), Diagnostic> {
    let constant = |i: usize| -> Result<Attribute, Diagnostic> {
        op.operands
            .get(i)
            .and_then(|v| constants[v.0 as usize].clone())
            .ok_or_else(|| op_err(op, format!("operand #{i} must be a constant")))
    };
    if op.name == "nn.gemm" {
        let flag = |k: &str| op.attr(k).and_then(Attribute::as_bool).unwrap_or(false);
        let num = |k: &str| op.attr(k).and_then(Attribute::as_float).unwrap_or(1.0);
        if !flag("trans_b") || flag("trans_a") || num("alpha") != 1.0 || num("beta") != 1.0 {
            return Err(op_err(
                op,
                "is not in canonical form (run canonicalize first)",
            ));
        }
        let bias = if op.operands.len() == 3 {
            Some(constant(2)?)
        } else {
            None
        };
        return Ok((constant(1)?, bias));
    }
    // matmul: x [1, n] * B [n, m] = W x with W = B^T.
    let b = constant(1)?;
    let ty = match &b {
        Attribute::DenseResource { ty, .. } | Attribute::Dense { ty, .. } => ty.clone(),
        _ => return Err(op_err(op, "weights must be dense")),
    };
    let data = module.resource_f32(&b).map_err(|m| op_err(op, m))?;
    let (n, m) = match ty.shape() {
        Some(&[n, m]) => (n, m),
        _ => return Err(op_err(op, "weights must be 2-D")),
    };
    let mut w = vec![0f32; n * m];
    for i in 0..n {
        for j in 0..m {
            w[j * n + i] = data[i * m + j];
        }
    }
    let name = module.add_f32_resource(
        &format!("{}_weight_t", op.loc.name().unwrap_or("matmul")),
        &w,
    );
    Ok((
        Attribute::DenseResource {
            name,
            ty: orion_dialects::Type::f32_tensor(&[m, n]),
        },
        None,
    ))
}
