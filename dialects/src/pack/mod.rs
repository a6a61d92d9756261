//! The `pack` dialect: ciphertext-shaped slot vectors with a layout in their
//! type (`!pack.vec<slots = 4096, size = 784, period = 1024>`).
//!
//! | op | meaning |
//! |----|---------|
//! | `pack.pack %t : tensor<..> -> !pack.vec<..>` | client side: place a tensor into slots |
//! | `pack.unpack %v : !pack.vec<..> -> tensor<..>` | client side: read the tensor back |
//! | `pack.linear %v {weights, bias?, embedding = "hybrid", baby_steps}` | matrix-vector product by diagonals (BSGS) |
//! | `pack.square %v` | slotwise x^2 |
//! | `pack.polynomial %v {coeffs, basis, domain?}` | slotwise polynomial |
//! | `pack.add %a, %b` | slotwise sum, equal layouts |
//!
//! `pack.linear` keeps the original weights (`tensor<m x n>`, y = W x); the
//! diagonals are derived from them by `linear::LinearPlan`.

pub mod interp;
pub mod layout;
pub mod linear;

pub use interp::interpret;
pub use layout::VecLayout;
pub use linear::LinearPlan;

use crate::ir::{Attribute, Func, Module, Op, Type};

/// Weights, bias and plan of a `pack.linear` op.
pub struct LinearOp {
    pub weights: Vec<f32>,
    pub bias: Option<Vec<f32>>,
    pub plan: LinearPlan,
}

impl LinearOp {
    pub fn from_op(op: &Op, input: &VecLayout, module: &Module) -> Result<LinearOp, String> {
        let wattr = op.attr("weights").ok_or("needs a 'weights' attribute")?;
        let (rows, cols) = match wattr {
            Attribute::DenseResource { ty, .. } | Attribute::Dense { ty, .. } => match ty.shape() {
                Some(&[r, c]) => (r, c),
                _ => return Err(format!("'weights' must be a 2-D tensor, got {ty}")),
            },
            _ => return Err("'weights' must be a dense or dense_resource attribute".into()),
        };
        let weights = module.resource_f32(wattr)?;
        let bias = match op.attr("bias") {
            Some(b) => {
                let b = module.resource_f32(b)?;
                if b.len() != rows {
                    return Err(format!("'bias' has {} values for {rows} rows", b.len()));
                }
                Some(b)
            }
            None => None,
        };
        match op.attr("embedding").and_then(Attribute::as_str) {
            Some("hybrid") | None => {}
            Some(other) => {
                return Err(format!(
                    "unknown embedding '{other}' (supported: \"hybrid\")"
                ))
            }
        }
        let baby = op
            .attr("baby_steps")
            .and_then(Attribute::as_int)
            .unwrap_or(0)
            .max(0) as usize;
        let plan = LinearPlan::new(&weights, rows, cols, input, baby)?;
        Ok(LinearOp {
            weights,
            bias,
            plan,
        })
    }
}

fn layout_of(func: &Func, op: &Op, i: usize) -> Result<VecLayout, String> {
    VecLayout::from_type(func.ty(op.operands[i]))
}

fn expect_counts(op: &Op, operands: usize, results: usize) -> Result<(), String> {
    if op.operands.len() != operands || op.results.len() != results {
        return Err(format!(
            "expects {operands} operand(s) and {results} result(s), got {} and {}",
            op.operands.len(),
            op.results.len()
        ));
    }
    Ok(())
}

fn expect_type(func: &Func, op: &Op, want: &Type) -> Result<(), String> {
    let got = func.ty(op.result());
    if got != want {
        return Err(format!("result has type {got}, expected {want}"));
    }
    Ok(())
}

pub fn verify_op(op: &Op, func: &Func, module: &Module) -> Result<(), String> {
    match op.name.as_str() {
        "pack.pack" => {
            expect_counts(op, 1, 1)?;
            let n = func
                .ty(op.operands[0])
                .num_elements()
                .ok_or("operand must be a tensor")?;
            let out = VecLayout::from_type(func.ty(op.result()))?;
            if out.size != n {
                return Err(format!(
                    "packs {n} elements into a layout of size {}",
                    out.size
                ));
            }
            Ok(())
        }
        "pack.unpack" => {
            expect_counts(op, 1, 1)?;
            let layout = layout_of(func, op, 0)?;
            let n = func
                .ty(op.result())
                .num_elements()
                .ok_or("result must be a tensor")?;
            if layout.size != n {
                return Err(format!(
                    "unpacks a layout of size {} into {n} elements",
                    layout.size
                ));
            }
            Ok(())
        }
        "pack.linear" => {
            expect_counts(op, 1, 1)?;
            let input = layout_of(func, op, 0)?;
            let lin = LinearOp::from_op(op, &input, module)?;
            expect_type(func, op, &lin.plan.output_layout().to_type())
        }
        "pack.square" | "pack.polynomial" => {
            expect_counts(op, 1, 1)?;
            layout_of(func, op, 0)?;
            if op.name == "pack.polynomial" {
                crate::nn::interp::Polynomial::from_op(op)?;
            }
            expect_type(func, op, func.ty(op.operands[0]))
        }
        "pack.add" => {
            expect_counts(op, 2, 1)?;
            let (a, b) = (layout_of(func, op, 0)?, layout_of(func, op, 1)?);
            if a != b {
                return Err(format!(
                    "operand layouts differ: {} vs {}",
                    a.to_type(),
                    b.to_type()
                ));
            }
            expect_type(func, op, &a.to_type())
        }
        other => Err(format!("unknown op '{other}' in the pack dialect")),
    }
}
