//! The `nn` dialect: one op per network operation on `tensor<...xf32>` values.
//!
//! | op | operands | attributes |
//! |----|----------|------------|
//! | `nn.constant` | - | `value` (dense / dense_resource) |
//! | `nn.gemm` | a, b, [c] | `alpha`, `beta`, `trans_a`, `trans_b` (ONNX Gemm) |
//! | `nn.matmul` | a, b | - (2-D) |
//! | `nn.add` `nn.sub` `nn.mul` `nn.div` | a, b | - (NumPy broadcasting) |
//! | `nn.greater` `nn.less` | a, b | - (1.0 where true, else 0.0; broadcasting) |
//! | `nn.max` | a, b | - (element-wise; may carry `range`, that of a - b) |
//! | `nn.maxpool` | x [N,C,H,W] | `kernel`, `strides`, `pads` as `nn.avgpool` (padding never wins) |
//! | `nn.where` | cond, a, b | - (a where cond != 0, else b; broadcasting) |
//! | activations (`nn.relu`, `nn.clip`, `nn.gelu`, ...; see [`activations`]) | x | per activation |
//! | `nn.square` `nn.neg` | x | - |
//! | `nn.pow` | x | `exponent` |
//! | `nn.polynomial` | x | `coeffs`, `basis` ("monomial" / "chebyshev"), `domain` [lo, hi] |
//! | `nn.flatten` | x | `axis` |
//! | `nn.reshape` | x | - (shape from the result type) |
//! | `nn.batchnorm` | x, scale, bias, mean, var | `epsilon` |
//! | `nn.conv2d` | x [N,C,H,W], w [M,C/groups,kh,kw], [bias [M]] | `strides` [sh, sw], `pads` [top, left, bottom, right], `dilations` [dh, dw], `groups` (defaults 1, 0, 1, 1) |
//! | `nn.avgpool` | x [N,C,H,W] | `kernel` [kh, kw], `strides` (default 1), `pads` [top, left, bottom, right] (each < kernel), `count_include_pad` (default false) |
//! | `nn.global_avgpool` | x [N,C,H,W] | - (result [N,C,1,1]) |
//! | `nn.pad` | x | `pads` (zeros; ONNX order, see [`pad`]) |
//! | `nn.concat` | x0, x1, ... | `axis` (see [`concat`]) |
//!
//! List attributes are `array<i64: ...>`, `groups` an integer; see [`conv`].
//!
//! Activations may carry `range = array<f64: lo, hi>`, the calibrated input
//! range, which approximation passes need.

pub mod activations;
pub mod client_output;
pub mod concat;
pub mod conv;
pub mod interp;
pub mod pad;
mod shapes;

pub use interp::{eval_polynomial, interpret};
pub use shapes::infer_result_types;

use crate::ir::{Func, Module, Op};

/// Ops applied elementwise to a single operand, besides the activations.
pub const UNARY_OPS: &[&str] = &["nn.square", "nn.neg", "nn.pow", "nn.polynomial"];

/// Binary ops with NumPy broadcasting; the comparisons give 1.0 or 0.0.
pub const BINARY_OPS: &[&str] = &[
    "nn.add",
    "nn.sub",
    "nn.mul",
    "nn.div",
    "nn.greater",
    "nn.less",
    "nn.max",
];

/// Checks one `nn` op: operand count, attributes and that the declared result
/// types are the ones its semantics give.
pub fn verify_op(op: &Op, func: &Func, module: &Module) -> Result<(), String> {
    let operand_types: Vec<_> = op.operands.iter().map(|&v| func.ty(v).clone()).collect();
    let declared: Vec<_> = op.results.iter().map(|&v| func.ty(v).clone()).collect();
    let expected = infer_result_types(op, &operand_types, &declared)?;
    if expected.len() != declared.len() {
        return Err(format!(
            "has {} results, expected {}",
            declared.len(),
            expected.len()
        ));
    }
    for (i, (e, d)) in expected.iter().zip(&declared).enumerate() {
        if e != d {
            return Err(format!(
                "result #{i} has type {d}, but its operands give {e}"
            ));
        }
    }
    if op.name == "nn.constant" {
        let value = op.attr("value").ok_or("needs a 'value' attribute")?;
        module.resource_f32(value)?;
    }
    Ok(())
}
