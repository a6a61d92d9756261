//! The `pack` dialect: ciphertext-shaped slot vectors with a layout in their
//! type (`!pack.vec<slots = 4096, size = 784, period = 1024>`, or a
//! multiplexed one with `shape = [C, H, W], gap = G`; see `layout`).
//!
//! | op | meaning |
//! |----|---------|
//! | `pack.pack %t : tensor<..> -> !pack.vec<..>` | client side: place a tensor into slots |
//! | `pack.unpack %v : !pack.vec<..> -> tensor<..>` | client side: read the tensor back |
//! | `pack.linear %v {map?, weights?, bias?, input_shape?, conv/pool attrs, embedding = "hybrid" \| "square", baby_steps}` | linear map by diagonals (BSGS) |
//! | `pack.square %v` | slotwise x^2 |
//! | `pack.polynomial %v {coeffs, basis, domain?}` | slotwise polynomial |
//! | `pack.add %a, %b` | slotwise sum, equal layouts |
//! | `pack.mul %a, %b` | slotwise product, equal layouts (e.g. ReLU = x * sign(x)) |
//! | `pack.bootstrap %v {bound}` | refreshes the levels; every \|slot\| <= bound (calibrated) |
//!
//! `pack.linear` keeps the original weights: a `tensor<m x n>` matrix (y = W x),
//! or with `map = "conv2d"` a conv kernel and its attributes, or with
//! `map = "avgpool"` a pool's attributes (see `linear_map`); the diagonals are
//! derived from them by `linear::LinearPlan`, for the operand's layout and
//! the layout of the result type (which the `pack` pass chooses). A 1-D
//! layout larger than the slots spans several ciphertexts (`layout`), and
//! every op on it applies per ciphertext; a linear map between such layouts
//! is a block matrix (`linear::BlockedPlan`).

pub mod interp;
pub mod layout;
pub mod linear;
pub mod linear_map;

pub use interp::interpret;
pub use layout::{Multiplexed, VecLayout};
pub use linear::{apply_blocked, BlockedPlan, LinearPlan, PlanCounts};
pub use linear_map::LinearMap;

use crate::ir::{Attribute, Func, Module, Op, Type};

/// Map, bias and plan of a `pack.linear` op.
pub struct LinearOp {
    pub map: LinearMap,
    /// One value per output element (a conv's per-channel bias expanded).
    pub bias: Option<Vec<f64>>,
    /// One plan per nonzero block (a single block within one ciphertext).
    pub plan: BlockedPlan,
}

impl LinearOp {
    /// The op's map and bias, planned from `input` to `output` (the layouts
    /// of its operand and result types).
    pub fn from_op(
        op: &Op,
        input: &VecLayout,
        output: &VecLayout,
        module: &Module,
    ) -> Result<LinearOp, String> {
        let (map, bias, baby) = Self::checked_parts(op, input, output, module)?;
        let plan = BlockedPlan::new(&map, input, output, baby)?;
        Ok(LinearOp { map, bias, plan })
    }

    /// The op's map and bias, checked as [`LinearOp::from_op`] checks
    /// them, without the plan (see [`linear::apply_entries`]).
    pub fn map_and_bias(
        op: &Op,
        input: &VecLayout,
        output: &VecLayout,
        module: &Module,
    ) -> Result<(LinearMap, Option<Vec<f64>>), String> {
        Self::checked_parts(op, input, output, module).map(|(m, b, _)| (m, b))
    }

    /// Everything [`LinearOp::from_op`] checks except the plan itself,
    /// which costs O(nnz) (116 million entries for one of ImageNet
    /// ResNet-18's convs): the verifier's view.
    pub fn check(
        op: &Op,
        input: &VecLayout,
        output: &VecLayout,
        module: &Module,
    ) -> Result<(), String> {
        Self::checked_parts(op, input, output, module).map(|_| ())
    }

    /// The map, the bias (one value per output element) and the baby
    /// steps, checked against each other and the layouts.
    fn checked_parts(
        op: &Op,
        input: &VecLayout,
        output: &VecLayout,
        module: &Module,
    ) -> Result<(LinearMap, Option<Vec<f64>>, usize), String> {
        let map = LinearMap::from_attrs(&op.attrs, module)?;
        let bias = match op.attr("bias") {
            Some(b) => {
                let b = module.resource_f32(b)?;
                if b.len() != map.bias_len() {
                    return Err(format!(
                        "'bias' has {} values, expected {}",
                        b.len(),
                        map.bias_len()
                    ));
                }
                let repeat = map.bias_repeat();
                Some(
                    b.iter()
                        .flat_map(|&v| std::iter::repeat_n(v as f64, repeat))
                        .collect(),
                )
            }
            None => None,
        };
        let square = match op.attr("embedding").and_then(Attribute::as_str) {
            Some("hybrid") | None => false,
            Some("square") => true,
            Some(other) => {
                return Err(format!(
                    "unknown embedding '{other}' (supported: \"hybrid\", \"square\")"
                ))
            }
        };
        let baby = op
            .attr("baby_steps")
            .and_then(Attribute::as_int)
            .unwrap_or(0)
            .max(0) as usize;
        linear::check_layouts(&map, input, output)?;
        linear::check_baby_steps(baby, input.period.min(output.period))?;
        // The plan folds the products with rotate-and-sum exactly when the
        // result's period is below the input's.
        if square && output.period < input.period {
            return Err(format!(
                "the \"square\" embedding needs the result's period ({}) to be at least the \
                 input's ({}): no rotate-and-sum",
                output.period, input.period
            ));
        }
        Ok((map, bias, baby))
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

/// `pack.bootstrap`'s `bound`: the largest |slot| it is calibrated for.
pub fn bootstrap_bound(op: &Op) -> Result<f64, String> {
    op.attr("bound")
        .and_then(Attribute::as_float)
        .filter(|b| b.is_finite() && *b > 0.0)
        .ok_or_else(|| "needs a positive 'bound' (the largest |value| it is calibrated for)".into())
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
            let output = VecLayout::from_type(func.ty(op.result()))?;
            LinearOp::check(op, &input, &output, module)
        }
        "pack.square" | "pack.polynomial" => {
            expect_counts(op, 1, 1)?;
            layout_of(func, op, 0)?;
            if op.name == "pack.polynomial" {
                crate::nn::interp::Polynomial::from_op(op)?;
            }
            expect_type(func, op, func.ty(op.operands[0]))
        }
        "pack.add" | "pack.mul" => {
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
        "pack.bootstrap" => {
            expect_counts(op, 1, 1)?;
            layout_of(func, op, 0)?;
            bootstrap_bound(op)?;
            expect_type(func, op, func.ty(op.operands[0]))
        }
        other => Err(format!("unknown op '{other}' in the pack dialect")),
    }
}
