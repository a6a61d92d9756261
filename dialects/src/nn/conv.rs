//! Convolution and pooling in the `nn` dialect: attribute parsing and
//! checking (shared by shape inference, the verifier, the interpreter and
//! the passes that build or rewrite these ops) and the reference kernels.
//!
//! All ops work on NCHW tensors. Pads are `[top, left, bottom, right]`, as
//! ONNX orders them (`[x1_begin, x2_begin, x1_end, x2_end]`).
//!
//! ```text
//! %y = nn.conv2d %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>,
//!                            dilations = array<i64: 1, 1>, groups = 1}
//!        : (tensor<1x16x32x32xf32>, tensor<32x16x3x3xf32>, tensor<32xf32>) -> tensor<1x32x16x16xf32>
//! %p = nn.avgpool %y {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>,
//!                     pads = array<i64: 0, 0, 0, 0>, count_include_pad = true}
//!        : (tensor<1x32x16x16xf32>) -> tensor<1x32x8x8xf32>
//! %g = nn.global_avgpool %p : (tensor<1x32x8x8xf32>) -> tensor<1x32x1x1xf32>
//! ```

use crate::ir::{Attribute, Op};
use crate::tensor::Tensor;

/// Reads an optional integer-list attribute of a fixed length whose entries
/// must be at least `min`; `default` when the attribute is absent.
fn int_list<const K: usize>(
    op: &Op,
    key: &str,
    default: [usize; K],
    min: i64,
) -> Result<[usize; K], String> {
    let Some(a) = op.attr(key) else {
        return Ok(default);
    };
    let v = a.as_i64_list().ok_or_else(|| {
        format!("attribute '{key}' must be an array<i64: ...> of {K} integers, got {a}")
    })?;
    if v.len() != K {
        return Err(format!(
            "attribute '{key}' must have {K} entries, got {} ({v:?})",
            v.len()
        ));
    }
    if let Some(bad) = v.iter().find(|&&x| x < min) {
        return Err(format!(
            "attribute '{key}' = {v:?} has entry {bad}; entries must be >= {min}"
        ));
    }
    let mut out = [0usize; K];
    for (o, &x) in out.iter_mut().zip(&v) {
        *o = x as usize;
    }
    Ok(out)
}

/// Output length of one spatial dimension of a sliding window, or an error
/// if the window does not fit once.
fn window_out(
    what: &str,
    dim: &str,
    input: usize,
    (pad_begin, pad_end): (usize, usize),
    kernel: usize,
    stride: usize,
    dilation: usize,
) -> Result<usize, String> {
    let span = dilation * (kernel - 1) + 1;
    let padded = input + pad_begin + pad_end;
    if padded < span {
        return Err(format!(
            "{what} window of extent {span} along {dim} does not fit the padded input ({input} + {pad_begin} + {pad_end} = {padded})"
        ));
    }
    Ok((padded - span) / stride + 1)
}

fn rank4(what: &str, shape: &[usize]) -> Result<[usize; 4], String> {
    match shape {
        &[n, c, h, w] => Ok([n, c, h, w]),
        _ => Err(format!(
            "{what} must be 4-D (N, C, H, W), got shape {shape:?}"
        )),
    }
}

/// Attributes of `nn.conv2d`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conv2dAttrs {
    pub strides: [usize; 2],
    /// `[top, left, bottom, right]`.
    pub pads: [usize; 4],
    pub dilations: [usize; 2],
    pub groups: usize,
}

impl Default for Conv2dAttrs {
    fn default() -> Self {
        Conv2dAttrs {
            strides: [1, 1],
            pads: [0; 4],
            dilations: [1, 1],
            groups: 1,
        }
    }
}

impl Conv2dAttrs {
    pub fn from_op(op: &Op) -> Result<Conv2dAttrs, String> {
        let groups = match op.attr("groups") {
            None => 1,
            Some(a) => match a.as_int() {
                Some(g) if g >= 1 => g as usize,
                _ => {
                    return Err(format!(
                        "attribute 'groups' must be a positive integer, got {a}"
                    ))
                }
            },
        };
        Ok(Conv2dAttrs {
            strides: int_list(op, "strides", [1, 1], 1)?,
            pads: int_list(op, "pads", [0; 4], 0)?,
            dilations: int_list(op, "dilations", [1, 1], 1)?,
            groups,
        })
    }

    /// The attributes as the op carries them.
    pub fn to_attrs(&self) -> Vec<(String, Attribute)> {
        let arr = |v: &[usize]| Attribute::I64Array(v.iter().map(|&x| x as i64).collect());
        vec![
            ("strides".into(), arr(&self.strides)),
            ("pads".into(), arr(&self.pads)),
            ("dilations".into(), arr(&self.dilations)),
            ("groups".into(), Attribute::Int(self.groups as i64)),
        ]
    }

    /// Result shape for input `x` [N, C, H, W], weights `w` [M, C/groups,
    /// kh, kw] and an optional bias of shape `bias`, with every inconsistency
    /// reported by attribute name and values.
    pub fn output_shape(
        &self,
        x: &[usize],
        w: &[usize],
        bias: Option<&[usize]>,
    ) -> Result<[usize; 4], String> {
        let [n, c, h, wd] = rank4("input", x)?;
        let [m, cg, kh, kw] = rank4("weight", w)?;
        let g = self.groups;
        if c % g != 0 {
            return Err(format!(
                "attribute 'groups' = {g} does not divide the {c} input channels"
            ));
        }
        if m % g != 0 {
            return Err(format!(
                "attribute 'groups' = {g} does not divide the {m} output channels (weight dim 0)"
            ));
        }
        if cg != c / g {
            return Err(format!(
                "weight shape {w:?} has {cg} input channels per group, but the input has {c} channels and 'groups' = {g} (expected {})",
                c / g
            ));
        }
        if kh == 0 || kw == 0 {
            return Err(format!("weight shape {w:?} has an empty kernel"));
        }
        if let Some(b) = bias {
            if b != [m] {
                return Err(format!(
                    "bias must have shape [{m}] (one per output channel), got {b:?}"
                ));
            }
        }
        let [pt, pl, pb, pr] = self.pads;
        let oh = window_out(
            "kernel",
            "H",
            h,
            (pt, pb),
            kh,
            self.strides[0],
            self.dilations[0],
        )?;
        let ow = window_out(
            "kernel",
            "W",
            wd,
            (pl, pr),
            kw,
            self.strides[1],
            self.dilations[1],
        )?;
        Ok([n, m, oh, ow])
    }
}

/// Attributes of `nn.avgpool`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolAttrs {
    pub kernel: [usize; 2],
    pub strides: [usize; 2],
    /// `[top, left, bottom, right]`.
    pub pads: [usize; 4],
    /// Divide by the full window size (true) or by the number of input
    /// elements it covers (false), as ONNX's `count_include_pad`.
    pub count_include_pad: bool,
}

impl PoolAttrs {
    pub fn from_op(op: &Op) -> Result<PoolAttrs, String> {
        if op.attr("kernel").is_none() {
            return Err("needs attribute 'kernel' = array<i64: kh, kw>".into());
        }
        let count_include_pad = match op.attr("count_include_pad") {
            None => false,
            Some(a) => a
                .as_bool()
                .ok_or_else(|| format!("attribute 'count_include_pad' must be a bool, got {a}"))?,
        };
        Ok(PoolAttrs {
            kernel: int_list(op, "kernel", [1, 1], 1)?,
            strides: int_list(op, "strides", [1, 1], 1)?,
            pads: int_list(op, "pads", [0; 4], 0)?,
            count_include_pad,
        })
    }

    pub fn to_attrs(&self) -> Vec<(String, Attribute)> {
        let arr = |v: &[usize]| Attribute::I64Array(v.iter().map(|&x| x as i64).collect());
        vec![
            ("kernel".into(), arr(&self.kernel)),
            ("strides".into(), arr(&self.strides)),
            ("pads".into(), arr(&self.pads)),
            (
                "count_include_pad".into(),
                Attribute::Bool(self.count_include_pad),
            ),
        ]
    }

    pub fn output_shape(&self, x: &[usize]) -> Result<[usize; 4], String> {
        let [n, c, h, w] = rank4("input", x)?;
        let [pt, pl, pb, pr] = self.pads;
        let [kh, kw] = self.kernel;
        // A pad as large as the kernel would allow windows made of padding only.
        for (side, p, k) in [
            ("top", pt, kh),
            ("left", pl, kw),
            ("bottom", pb, kh),
            ("right", pr, kw),
        ] {
            if p >= k {
                return Err(format!(
                    "attribute 'pads' = {:?}: the {side} pad {p} must be smaller than the kernel extent {k} (attribute 'kernel' = {:?})",
                    self.pads, self.kernel
                ));
            }
        }
        let oh = window_out("pooling", "H", h, (pt, pb), kh, self.strides[0], 1)?;
        let ow = window_out("pooling", "W", w, (pl, pr), kw, self.strides[1], 1)?;
        Ok([n, c, oh, ow])
    }
}

/// `nn.global_avgpool`: [N, C, H, W] -> [N, C, 1, 1].
pub fn global_avgpool_shape(x: &[usize]) -> Result<[usize; 4], String> {
    let [n, c, _, _] = rank4("input", x)?;
    Ok([n, c, 1, 1])
}

/// Reference 2-D convolution (cross-correlation, as ONNX and PyTorch
/// define it) with groups, strides, dilations and asymmetric zero padding.
pub fn conv2d(
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    a: &Conv2dAttrs,
) -> Result<Tensor, String> {
    let [n, m, oh, ow] = a.output_shape(&x.shape, &w.shape, bias.map(|b| b.shape.as_slice()))?;
    let [_, c, h, wd] = rank4("input", &x.shape)?;
    let [_, cg, kh, kw] = rank4("weight", &w.shape)?;
    let mg = m / a.groups;
    let (pt, pl) = (a.pads[0] as isize, a.pads[1] as isize);
    let mut out = vec![0.0; n * m * oh * ow];
    for b in 0..n {
        for oc in 0..m {
            let g = oc / mg;
            let init = bias.map_or(0.0, |t| t.data[oc]);
            let obase = ((b * m + oc) * oh) * ow;
            out[obase..obase + oh * ow].fill(init);
            for icg in 0..cg {
                let ic = g * cg + icg;
                let xbase = (b * c + ic) * h * wd;
                let wbase = (oc * cg + icg) * kh * kw;
                for ky in 0..kh {
                    for kx in 0..kw {
                        let wv = w.data[wbase + ky * kw + kx];
                        if wv == 0.0 {
                            continue;
                        }
                        let dy = (ky * a.dilations[0]) as isize - pt;
                        let dx = (kx * a.dilations[1]) as isize - pl;
                        // The columns whose tap lands inside the row, so
                        // that the inner loop has no test (and vectorizes
                        // at stride 1).
                        let sx = a.strides[1];
                        let cols = in_bounds(dx, sx, wd, ow);
                        if cols.is_empty() {
                            continue;
                        }
                        for oy in 0..oh {
                            let iy = (oy * a.strides[0]) as isize + dy;
                            if iy < 0 || iy >= h as isize {
                                continue;
                            }
                            let xrow = xbase + iy as usize * wd;
                            let orow = obase + oy * ow;
                            let o = &mut out[orow + cols.start..orow + cols.end];
                            let x0 = (xrow as isize + (cols.start * sx) as isize + dx) as usize;
                            if sx == 1 {
                                let xs = &x.data[x0..x0 + o.len()];
                                o.iter_mut().zip(xs).for_each(|(o, &v)| *o += wv * v);
                            } else {
                                let xs = x.data[x0..].iter().step_by(sx);
                                o.iter_mut().zip(xs).for_each(|(o, &v)| *o += wv * v);
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(Tensor::new(vec![n, m, oh, ow], out))
}

/// The outputs `ox < out_len` whose input `ox * stride + offset` lies in
/// `0..len`.
fn in_bounds(offset: isize, stride: usize, len: usize, out_len: usize) -> std::ops::Range<usize> {
    let s = stride as isize;
    let lo = if offset >= 0 {
        0
    } else {
        (-offset + s - 1) / s
    };
    let last = len as isize - 1 - offset;
    let hi = if last < 0 { 0 } else { last / s + 1 };
    let (lo, hi) = (lo as usize, (hi as usize).min(out_len));
    lo.min(hi)..hi
}

/// `reduce` over each window's elements (padding is not an element).
fn pool(x: &Tensor, a: &PoolAttrs, reduce: impl Fn(&[f64]) -> f64) -> Result<Tensor, String> {
    let [n, c, oh, ow] = a.output_shape(&x.shape)?;
    let [_, _, h, w] = rank4("input", &x.shape)?;
    let [kh, kw] = a.kernel;
    let (pt, pl) = (a.pads[0] as isize, a.pads[1] as isize);
    let mut out = vec![0.0; n * c * oh * ow];
    let mut window = Vec::with_capacity(kh * kw);
    for plane in 0..n * c {
        let xs = &x.data[plane * h * w..(plane + 1) * h * w];
        for oy in 0..oh {
            for ox in 0..ow {
                let y0 = (oy * a.strides[0]) as isize - pt;
                let x0 = (ox * a.strides[1]) as isize - pl;
                window.clear();
                for iy in y0.max(0)..(y0 + kh as isize).min(h as isize) {
                    for ix in x0.max(0)..(x0 + kw as isize).min(w as isize) {
                        window.push(xs[iy as usize * w + ix as usize]);
                    }
                }
                out[(plane * oh + oy) * ow + ox] = reduce(&window);
            }
        }
    }
    Ok(Tensor::new(vec![n, c, oh, ow], out))
}

/// Reference average pooling: padding counts as zeros in the divisor only
/// with `count_include_pad`.
pub fn avgpool(x: &Tensor, a: &PoolAttrs) -> Result<Tensor, String> {
    let full = (a.kernel[0] * a.kernel[1]) as f64;
    pool(x, a, |v| {
        let div = if a.count_include_pad {
            full
        } else {
            v.len() as f64
        };
        v.iter().sum::<f64>() / div
    })
}

/// The maximum over each window; padding never wins (it is not an
/// element), as ONNX's MaxPool.
pub fn maxpool(x: &Tensor, a: &PoolAttrs) -> Result<Tensor, String> {
    pool(x, a, |v| {
        v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    })
}

pub fn global_avgpool(x: &Tensor) -> Result<Tensor, String> {
    let [n, c, _, _] = global_avgpool_shape(&x.shape)?;
    let inner = x.shape[2] * x.shape[3];
    let data = x
        .data
        .chunks(inner.max(1))
        .map(|p| p.iter().sum::<f64>() / inner as f64)
        .collect();
    Ok(Tensor::new(vec![n, c, 1, 1], data))
}

#[cfg(test)]
mod tests {
    use super::in_bounds;

    /// The column range against the per-column test it replaces, on
    /// offsets from padding, strides and rows where no tap lands.
    #[test]
    fn in_bounds_is_the_columns_whose_tap_is_inside_the_row() {
        for len in [1usize, 2, 5, 8] {
            for stride in 1..4 {
                for offset in -6isize..8 {
                    for out_len in [0usize, 1, 3, 4, 7] {
                        let want: Vec<usize> = (0..out_len)
                            .filter(|&o| {
                                let i = (o * stride) as isize + offset;
                                i >= 0 && i < len as isize
                            })
                            .collect();
                        let got: Vec<usize> = in_bounds(offset, stride, len, out_len).collect();
                        assert_eq!(got, want, "len {len} stride {stride} offset {offset}");
                    }
                }
            }
        }
    }
}
