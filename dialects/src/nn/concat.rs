//! `nn.concat`: operands joined along `axis` (ONNX Concat). Every operand
//! has the rank of the result and its sizes on the other axes.
//!
//! Concatenation is a sum of zero paddings: operand `i` padded on `axis`
//! by the sizes of the operands before it and after it. The `pack` pass
//! lays it out that way (a placement map per operand, then adds), so the
//! shape rule and the interpreter here share [`placements`].

use crate::ir::{Attribute, Op};
use crate::tensor::Tensor;

/// The op's `axis`, checked against operands of `rank`.
pub fn axis(op: &Op, rank: usize) -> Result<usize, String> {
    let a = op
        .attr("axis")
        .and_then(Attribute::as_int)
        .ok_or("needs an integer 'axis'")?;
    if a < 0 || a as usize >= rank {
        return Err(format!(
            "axis {a} out of range for rank-{rank} operands (0..{rank})"
        ));
    }
    Ok(a as usize)
}

/// The result shape, and for each operand the `nn.pad` pads (ONNX order:
/// every axis's start, then every axis's end) that put it at its place in
/// the result.
pub fn placements(
    shapes: &[&[usize]],
    axis: usize,
) -> Result<(Vec<usize>, Vec<Vec<usize>>), String> {
    let first = *shapes.first().ok_or("needs at least one operand")?;
    let rank = first.len();
    let mut total = 0usize;
    for s in shapes {
        if s.len() != rank
            || s.iter()
                .zip(first)
                .enumerate()
                .any(|(d, (a, b))| d != axis && a != b)
        {
            return Err(format!(
                "operand shapes {first:?} and {s:?} differ outside axis {axis}"
            ));
        }
        total = total
            .checked_add(s[axis])
            .ok_or("the concatenated size overflows")?;
    }
    let mut shape = first.to_vec();
    shape[axis] = total;
    let mut before = 0;
    let pads = shapes
        .iter()
        .map(|s| {
            let mut p = vec![0; 2 * rank];
            p[axis] = before;
            p[rank + axis] = total - before - s[axis];
            before += s[axis];
            p
        })
        .collect();
    Ok((shape, pads))
}

/// The operands joined along `axis`.
pub fn concat(xs: &[&Tensor], axis: usize) -> Result<Tensor, String> {
    let shapes: Vec<&[usize]> = xs.iter().map(|t| t.shape.as_slice()).collect();
    let (shape, pads) = placements(&shapes, axis)?;
    let mut out = Tensor::zeros(&shape);
    for (x, p) in xs.iter().zip(&pads) {
        let placed = super::pad::pad(x, p)?;
        for (o, v) in out.data.iter_mut().zip(&placed.data) {
            *o += v;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_along_any_axis() {
        let a = Tensor::new(vec![2, 2], vec![1.0, 2.0, 3.0, 4.0]);
        let b = Tensor::new(vec![2, 1], vec![5.0, 6.0]);
        let c = concat(&[&a, &b], 1).unwrap();
        assert_eq!(c.shape, vec![2, 3]);
        assert_eq!(c.data, vec![1.0, 2.0, 5.0, 3.0, 4.0, 6.0]);
        let d = concat(&[&a, &a], 0).unwrap();
        assert_eq!(d.data, vec![1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0]);
        let err = concat(&[&a, &b], 0).unwrap_err();
        assert!(err.contains("differ outside axis 0"), "{err}");
    }
}
