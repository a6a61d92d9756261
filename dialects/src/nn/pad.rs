//! `nn.pad`: zero padding, `pads = [b_0, ..., b_{r-1}, e_0, ..., e_{r-1}]`
//! (ONNX's order: every axis's start, then every axis's end; none
//! negative). The packing has no layout for it alone: `canonicalize` folds
//! a pad into the convolution or average pool it feeds.

use crate::ir::{Attribute, Op};
use crate::tensor::Tensor;

/// The op's pads, checked against an input of rank `rank`.
pub fn pads(op: &Op, rank: usize) -> Result<Vec<usize>, String> {
    let p = op
        .attr("pads")
        .and_then(Attribute::as_i64_list)
        .ok_or("needs 'pads' = array<i64: ...>")?;
    if p.len() != 2 * rank || p.iter().any(|&v| v < 0) {
        return Err(format!(
            "'pads' must be {} non-negative integers for a rank-{rank} input, got {p:?}",
            2 * rank
        ));
    }
    Ok(p.iter().map(|&v| v as usize).collect())
}

/// The padded shape.
pub fn shape(input: &[usize], pads: &[usize]) -> Result<Vec<usize>, String> {
    let r = input.len();
    input
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            d.checked_add(pads[i])
                .and_then(|d| d.checked_add(pads[r + i]))
                .ok_or_else(|| "the padded size overflows".to_string())
        })
        .collect()
}

/// `x` with zeros around it.
pub fn pad(x: &Tensor, pads: &[usize]) -> Result<Tensor, String> {
    let out_shape = shape(&x.shape, pads)?;
    let r = x.shape.len();
    let out_strides = Tensor::strides(&out_shape);
    let in_strides = Tensor::strides(&x.shape);
    let mut out = vec![0.0; out_shape.iter().product()];
    for (flat, &v) in x.data.iter().enumerate() {
        let mut at = 0;
        for d in 0..r {
            let idx = flat / in_strides[d] % x.shape[d];
            at += (idx + pads[d]) * out_strides[d];
        }
        out[at] = v;
    }
    Ok(Tensor::new(out_shape, out))
}
