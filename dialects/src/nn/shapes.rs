//! Result types of `nn` ops, shared by the verifier and the passes that
//! build ops.

use super::activations::{Activation, ACTIVATION_OPS};
use super::conv::{global_avgpool_shape, Conv2dAttrs, PoolAttrs};
use crate::ir::{Attribute, ElemType, Op, Type};
use crate::tensor::broadcast_shapes;

fn shape_of(t: &Type) -> Result<&[usize], String> {
    match t {
        Type::Tensor { shape, elem } if elem.is_float() => Ok(shape),
        other => Err(format!("expects float tensors, got {other}")),
    }
}

fn expect_operands(op: &Op, types: &[Type], allowed: &[usize]) -> Result<(), String> {
    if allowed.contains(&types.len()) {
        Ok(())
    } else {
        Err(format!(
            "expects {} operands, got {}",
            allowed
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(" or "),
            op.operands.len()
        ))
    }
}

fn bool_attr(op: &Op, key: &str) -> Result<bool, String> {
    match op.attr(key) {
        None => Ok(false),
        Some(a) => a
            .as_bool()
            .ok_or_else(|| format!("attribute '{key}' must be a bool")),
    }
}

/// A tensor of f32 of `shape`.
fn f32_tensor(shape: Vec<usize>) -> Type {
    Type::Tensor {
        shape,
        elem: ElemType::F32,
    }
}

/// `nn.gemm`: `[m, k] x [k, n] (+ c)`, either operand transposed.
fn gemm_shape(op: &Op, types: &[Type]) -> Result<Vec<Type>, String> {
    expect_operands(op, types, &[2, 3])?;
    let (a, b) = (shape_of(&types[0])?, shape_of(&types[1])?);
    if a.len() != 2 || b.len() != 2 {
        return Err(format!("operands must be 2-D, got {:?} and {:?}", a, b));
    }
    let (m, ka) = if bool_attr(op, "trans_a")? {
        (a[1], a[0])
    } else {
        (a[0], a[1])
    };
    let (kb, n) = if bool_attr(op, "trans_b")? {
        (b[1], b[0])
    } else {
        (b[0], b[1])
    };
    if ka != kb {
        return Err(format!("inner dimensions differ: {ka} vs {kb}"));
    }
    if types.len() == 3 {
        let c = shape_of(&types[2])?;
        if broadcast_shapes(c, &[m, n]).as_deref() != Some(&[m, n][..]) {
            return Err(format!(
                "bias of shape {c:?} does not broadcast to [{m}, {n}]"
            ));
        }
    }
    Ok(vec![f32_tensor(vec![m, n])])
}

/// An element-wise unary op: the operand's shape; its attributes checked.
fn unary_shape(op: &Op, types: &[Type]) -> Result<Vec<Type>, String> {
    expect_operands(op, types, &[1])?;
    let s = shape_of(&types[0])?.to_vec();
    match op.name.as_str() {
        "nn.pow" => {
            op.attr("exponent")
                .and_then(Attribute::as_float)
                .ok_or("needs a float 'exponent' attribute")?;
        }
        "nn.polynomial" => {
            op.attr("coeffs")
                .and_then(Attribute::as_f64_list)
                .filter(|c| !c.is_empty())
                .ok_or("needs a non-empty 'coeffs' list")?;
            match op.attr("basis").and_then(Attribute::as_str) {
                Some("monomial") => {}
                Some("chebyshev") => {
                    let d = op
                        .attr("domain")
                        .and_then(Attribute::as_f64_list)
                        .ok_or("in the chebyshev basis needs 'domain' = [lo, hi]")?;
                    if d.len() != 2 || d[0] >= d[1] {
                        return Err(format!("'domain' must be [lo, hi] with lo < hi, got {d:?}"));
                    }
                }
                _ => return Err("'basis' must be \"monomial\" or \"chebyshev\"".into()),
            }
        }
        _ => {
            Activation::from_op(op)?;
        }
    }
    if let Some(r) = op.attr("range") {
        let r = r
            .as_f64_list()
            .ok_or("'range' must be a list of two floats")?;
        if r.len() != 2 || r[0] > r[1] {
            return Err(format!("'range' must be [lo, hi] with lo <= hi, got {r:?}"));
        }
    }
    Ok(vec![f32_tensor(s)])
}

/// `declared` are the result types the op is written with; only ops whose
/// result shape is not a function of the operands (`nn.reshape`) read them.
pub fn infer_result_types(op: &Op, types: &[Type], declared: &[Type]) -> Result<Vec<Type>, String> {
    let name = op.name.as_str();
    let tensor = |s: Vec<usize>| Ok(vec![f32_tensor(s)]);
    match name {
        "nn.constant" => {
            expect_operands(op, types, &[0])?;
            match op.attr("value") {
                Some(Attribute::DenseResource { ty, .. }) | Some(Attribute::Dense { ty, .. }) => {
                    Ok(vec![ty.clone()])
                }
                _ => Err("needs a dense or dense_resource 'value' attribute".into()),
            }
        }
        "nn.gemm" => gemm_shape(op, types),
        "nn.matmul" => {
            expect_operands(op, types, &[2])?;
            let (a, b) = (shape_of(&types[0])?, shape_of(&types[1])?);
            if a.len() != 2 || b.len() != 2 {
                return Err(format!(
                    "supports 2-D operands only, got {:?} and {:?}",
                    a, b
                ));
            }
            if a[1] != b[0] {
                return Err(format!("inner dimensions differ: {} vs {}", a[1], b[0]));
            }
            tensor(vec![a[0], b[1]])
        }
        n if super::BINARY_OPS.contains(&n) => {
            expect_operands(op, types, &[2])?;
            let (a, b) = (shape_of(&types[0])?, shape_of(&types[1])?);
            let s = broadcast_shapes(a, b)
                .ok_or_else(|| format!("operand shapes {a:?} and {b:?} do not broadcast"))?;
            tensor(s)
        }
        "nn.pad" => {
            expect_operands(op, types, &[1])?;
            let x = shape_of(&types[0])?;
            let pads = super::pad::pads(op, x.len())?;
            tensor(super::pad::shape(x, &pads)?)
        }
        "nn.concat" => {
            let shapes = types.iter().map(shape_of).collect::<Result<Vec<_>, _>>()?;
            let rank = shapes.first().ok_or("needs at least one operand")?.len();
            let axis = super::concat::axis(op, rank)?;
            tensor(super::concat::placements(&shapes, axis)?.0)
        }
        "nn.where" => {
            expect_operands(op, types, &[3])?;
            let mut s: Vec<usize> = Vec::new();
            for t in types {
                let t = shape_of(t)?;
                s = broadcast_shapes(&s, t)
                    .ok_or_else(|| format!("operand shapes {s:?} and {t:?} do not broadcast"))?;
            }
            tensor(s)
        }
        n if super::UNARY_OPS.contains(&n) || ACTIVATION_OPS.contains(&n) => unary_shape(op, types),
        "nn.flatten" => {
            expect_operands(op, types, &[1])?;
            let s = shape_of(&types[0])?;
            let axis = op.attr("axis").and_then(Attribute::as_int).unwrap_or(1);
            let axis = if axis < 0 {
                axis + s.len() as i64
            } else {
                axis
            };
            if axis < 0 || axis as usize > s.len() {
                return Err(format!("axis {axis} out of range for rank {}", s.len()));
            }
            let (lo, hi) = s.split_at(axis as usize);
            tensor(vec![lo.iter().product(), hi.iter().product()])
        }
        "nn.reshape" => {
            expect_operands(op, types, &[1])?;
            let n: usize = shape_of(&types[0])?.iter().product();
            // The result type carries the shape; only the element count is checked.
            match declared {
                [t @ Type::Tensor { shape, .. }] if shape.iter().product::<usize>() == n => {
                    Ok(vec![t.clone()])
                }
                [t] => Err(format!("cannot reshape {} elements into {t}", n)),
                _ => Err("must have one result".into()),
            }
        }
        "nn.conv2d" => {
            expect_operands(op, types, &[2, 3])?;
            let (x, w) = (shape_of(&types[0])?, shape_of(&types[1])?);
            let bias = types.get(2).map(shape_of).transpose()?;
            let attrs = Conv2dAttrs::from_op(op)?;
            tensor(attrs.output_shape(x, w, bias)?.to_vec())
        }
        "nn.avgpool" | "nn.maxpool" => {
            expect_operands(op, types, &[1])?;
            let attrs = PoolAttrs::from_op(op)?;
            tensor(attrs.output_shape(shape_of(&types[0])?)?.to_vec())
        }
        "nn.global_avgpool" => {
            expect_operands(op, types, &[1])?;
            tensor(global_avgpool_shape(shape_of(&types[0])?)?.to_vec())
        }
        "nn.batchnorm" => {
            expect_operands(op, types, &[5])?;
            let x = shape_of(&types[0])?;
            if x.len() < 2 {
                return Err(format!("input must have rank >= 2 (N, C, ...), got {x:?}"));
            }
            for (i, t) in types[1..].iter().enumerate() {
                if shape_of(t)? != [x[1]] {
                    return Err(format!(
                        "parameter #{} must have shape [{}], got {t}",
                        i + 1,
                        x[1]
                    ));
                }
            }
            tensor(x.to_vec())
        }
        other => Err(format!("unknown op '{other}' in the nn dialect")),
    }
}
