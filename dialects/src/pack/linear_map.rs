//! Linear maps `y = A x` that `pack.linear` evaluates, described compactly:
//! a dense matrix, a 2-D convolution (its kernel and attributes), or an
//! average pool. The nonzeros of A are enumerated straight from the
//! definition in O(nnz), never by probing with unit vectors and never by
//! materialising the rows x cols matrix of a convolution.
//!
//! Tensors are flattened row-major (NCHW, batch 1), which is the order the
//! 1-D replicated layout keeps, so row `(oc * oh + oy) * ow + ox` of a conv is
//! its output element (oc, oy, ox) and column `(ic * h + iy) * w + ix` its
//! input element (ic, iy, ix).
//!
//! The op (and the `ckks.encode` values derived from it) carry the map as
//! attributes: `map = "dense" | "conv2d" | "avgpool" | "pad"` (absent means
//! dense), `weights`, `input_shape = array<i64: 1, C, H, W>` and the conv or
//! pool attributes of `nn.conv2d` / `nn.avgpool`. A `"pad"` map places a
//! tensor of any `input_shape` inside a larger one, zeros around it, with
//! the `pads` of `nn.pad`: one term of a concatenation, or a padding that
//! no convolution absorbed.

use crate::ir::{Attribute, Location, Module, Op};
use crate::nn::conv::{Conv2dAttrs, PoolAttrs};

/// Attribute keys that describe a linear map (everything else on a
/// `pack.linear` op is about the plan or the bias).
pub const MAP_KEYS: &[&str] = &[
    "map",
    "weights",
    "input_shape",
    "kernel",
    "strides",
    "pads",
    "dilations",
    "groups",
    "count_include_pad",
];

#[derive(Clone, Debug, PartialEq)]
pub enum LinearMap {
    /// Row-major `rows x cols` matrix.
    Dense {
        rows: usize,
        cols: usize,
        weights: Vec<f32>,
    },
    /// Convolution of a `[1, C, H, W]` input by a `[M, C/groups, kh, kw]` kernel.
    Conv2d {
        input: [usize; 4],
        kernel: [usize; 4],
        weights: Vec<f32>,
        attrs: Conv2dAttrs,
        output: [usize; 4],
    },
    /// Average pool of a `[1, C, H, W]` input, each channel on its own.
    AvgPool {
        input: [usize; 4],
        attrs: PoolAttrs,
        output: [usize; 4],
    },
    /// Zero padding of an input of any shape (`nn.pad`'s `pads`): a 0/1
    /// matrix with one 1 per column.
    Pad {
        input: Vec<usize>,
        pads: Vec<usize>,
        output: Vec<usize>,
    },
}

fn batch1(what: &str, shape: [usize; 4]) -> Result<[usize; 4], String> {
    if shape[0] != 1 {
        return Err(format!(
            "{what} packs batch-1 inputs only, got shape {shape:?}"
        ));
    }
    Ok(shape)
}

impl LinearMap {
    pub fn dense(rows: usize, cols: usize, weights: Vec<f32>) -> Result<LinearMap, String> {
        if weights.len() != rows * cols {
            return Err(format!(
                "weights hold {} values, expected {rows}x{cols}",
                weights.len()
            ));
        }
        Ok(LinearMap::Dense {
            rows,
            cols,
            weights,
        })
    }

    pub fn conv2d(
        input: [usize; 4],
        kernel: [usize; 4],
        weights: Vec<f32>,
        attrs: Conv2dAttrs,
    ) -> Result<LinearMap, String> {
        let input = batch1("a convolution", input)?;
        let output = attrs.output_shape(&input, &kernel, None)?;
        if weights.len() != kernel.iter().product::<usize>() {
            return Err(format!(
                "weights hold {} values, expected {kernel:?}",
                weights.len()
            ));
        }
        Ok(LinearMap::Conv2d {
            input,
            kernel,
            weights,
            attrs,
            output,
        })
    }

    pub fn avgpool(input: [usize; 4], attrs: PoolAttrs) -> Result<LinearMap, String> {
        let input = batch1("an average pool", input)?;
        let output = attrs.output_shape(&input)?;
        Ok(LinearMap::AvgPool {
            input,
            attrs,
            output,
        })
    }

    pub fn pad(input: Vec<usize>, pads: Vec<usize>) -> Result<LinearMap, String> {
        if pads.len() != 2 * input.len() {
            return Err(format!(
                "'pads' must hold {} values for input shape {input:?}, got {pads:?}",
                2 * input.len()
            ));
        }
        let output = crate::nn::pad::shape(&input, &pads)?;
        crate::ir::limits::checked_product(&output)
            .filter(|&n| n <= crate::ir::limits::MAX_TENSOR_ELEMENTS)
            .ok_or_else(|| format!("the padded shape {output:?} is too large"))?;
        Ok(LinearMap::Pad {
            input,
            pads,
            output,
        })
    }

    /// The map the attributes (of a `pack.linear` op or an encode value)
    /// describe; weights are read from the module's resources.
    pub fn from_attrs(attrs: &[(String, Attribute)], module: &Module) -> Result<LinearMap, String> {
        // Reuse the `nn` attribute parsers, which read from an op.
        let op = Op {
            name: "pack.linear".into(),
            operands: vec![],
            results: vec![],
            attrs: attrs.to_vec(),
            loc: Location::Unknown,
        };
        let weights = |rank: usize| -> Result<(Vec<usize>, Vec<f32>), String> {
            let w = op.attr("weights").ok_or("needs a 'weights' attribute")?;
            let shape = match w {
                Attribute::DenseResource { ty, .. } | Attribute::Dense { ty, .. } => {
                    ty.shape().map(<[usize]>::to_vec)
                }
                _ => return Err("'weights' must be a dense or dense_resource attribute".into()),
            };
            match shape {
                Some(s) if s.len() == rank => Ok((s, module.resource_f32(w)?)),
                _ => Err(format!("'weights' must be a {rank}-D tensor, got {w}")),
            }
        };
        let input_shape = || -> Result<[usize; 4], String> {
            let a = op
                .attr("input_shape")
                .ok_or("needs 'input_shape' = array<i64: 1, C, H, W>")?;
            match a.as_i64_list().as_deref() {
                Some(&[n, c, h, w]) if [n, c, h, w].iter().all(|&v| v > 0) => {
                    Ok([n as usize, c as usize, h as usize, w as usize])
                }
                _ => Err(format!(
                    "'input_shape' must be array<i64: 1, C, H, W> with positive entries, got {a}"
                )),
            }
        };
        match op.attr("map").map(|a| a.as_str()) {
            None | Some(Some("dense")) => {
                let (s, w) = weights(2)?;
                LinearMap::dense(s[0], s[1], w)
            }
            Some(Some("conv2d")) => {
                let (s, w) = weights(4)?;
                let attrs = Conv2dAttrs::from_op(&op)?;
                LinearMap::conv2d(input_shape()?, [s[0], s[1], s[2], s[3]], w, attrs)
            }
            Some(Some("avgpool")) => {
                if op.attr("weights").is_some() {
                    return Err("an avgpool map takes no 'weights'".into());
                }
                LinearMap::avgpool(input_shape()?, PoolAttrs::from_op(&op)?)
            }
            Some(Some("pad")) => {
                let dims = |k: &str| -> Result<Vec<usize>, String> {
                    op.attr(k)
                        .and_then(Attribute::as_i64_list)
                        .filter(|v| v.iter().all(|&d| d >= 0))
                        .map(|v| v.iter().map(|&d| d as usize).collect())
                        .ok_or_else(|| {
                            format!("a pad map needs '{k}' = array<i64: ...>, none negative")
                        })
                };
                let input = dims("input_shape")?;
                crate::ir::limits::checked_product(&input)
                    .filter(|&n| n > 0 && n <= crate::ir::limits::MAX_TENSOR_ELEMENTS)
                    .ok_or_else(|| format!("'input_shape' {input:?} is empty or too large"))?;
                LinearMap::pad(input, dims("pads")?)
            }
            _ => Err(format!(
                "'map' must be \"dense\", \"conv2d\", \"avgpool\" or \"pad\", got {}",
                op.attr("map").expect("present")
            )),
        }
    }

    /// The attributes of `attrs` that describe the map, in their order.
    pub fn descriptor(attrs: &[(String, Attribute)]) -> Vec<(String, Attribute)> {
        attrs
            .iter()
            .filter(|(k, _)| MAP_KEYS.contains(&k.as_str()))
            .cloned()
            .collect()
    }

    pub fn rows(&self) -> usize {
        match self {
            LinearMap::Dense { rows, .. } => *rows,
            LinearMap::Conv2d { output, .. } | LinearMap::AvgPool { output, .. } => {
                output.iter().product()
            }
            LinearMap::Pad { output, .. } => output.iter().product(),
        }
    }

    pub fn cols(&self) -> usize {
        match self {
            LinearMap::Dense { cols, .. } => *cols,
            LinearMap::Conv2d { input, .. } | LinearMap::AvgPool { input, .. } => {
                input.iter().product()
            }
            LinearMap::Pad { input, .. } => input.iter().product(),
        }
    }

    /// How many consecutive rows share one bias value: a conv's bias is per
    /// output channel, a dense bias per row.
    pub fn bias_repeat(&self) -> usize {
        match self {
            LinearMap::Conv2d { output, .. } | LinearMap::AvgPool { output, .. } => {
                output[2] * output[3]
            }
            LinearMap::Dense { .. } | LinearMap::Pad { .. } => 1,
        }
    }

    /// Number of bias values the map takes.
    pub fn bias_len(&self) -> usize {
        self.rows() / self.bias_repeat().max(1)
    }

    /// The distinct values of the matrix's entries, indexed by the ids
    /// [`LinearMap::for_each_entry`] reports: the weights (dense, conv),
    /// 1/n at n for a pool window of n inputs, 1 for a pad. A plan keeps
    /// an id per entry (4 bytes, not 8) and these values once.
    pub fn coefficients(&self) -> Vec<f64> {
        match self {
            LinearMap::Dense { weights, .. } | LinearMap::Conv2d { weights, .. } => {
                weights.iter().map(|&w| w as f64).collect()
            }
            LinearMap::AvgPool { attrs, .. } => {
                let n = attrs.kernel[0] * attrs.kernel[1];
                (0..=n)
                    .map(|d| if d == 0 { 0.0 } else { 1.0 / d as f64 })
                    .collect()
            }
            LinearMap::Pad { .. } => vec![1.0],
        }
    }

    /// Calls `f(row, col, value)` once for every nonzero entry of the matrix.
    pub fn for_each_nonzero(&self, mut f: impl FnMut(usize, usize, f64)) {
        let values = self.coefficients();
        self.for_each_entry(|r, c, id| f(r, c, values[id as usize]));
    }

    /// Calls `f(row, col, id)` once for every nonzero entry of the matrix,
    /// whose value is `coefficients()[id]`.
    pub fn for_each_entry(&self, mut f: impl FnMut(usize, usize, u32)) {
        match self {
            LinearMap::Dense {
                rows,
                cols,
                weights,
            } => {
                for r in 0..*rows {
                    for c in 0..*cols {
                        let id = r * cols + c;
                        if weights[id] != 0.0 {
                            f(r, c, id as u32);
                        }
                    }
                }
            }
            LinearMap::Conv2d {
                input,
                kernel,
                weights,
                attrs,
                output,
            } => {
                let [_, _, h, wd] = *input;
                let [m, cg, kh, kw] = *kernel;
                let [_, _, oh, ow] = *output;
                let mg = m / attrs.groups;
                let (pt, pl) = (attrs.pads[0] as isize, attrs.pads[1] as isize);
                for oc in 0..m {
                    let g = oc / mg;
                    for icg in 0..cg {
                        let ic = g * cg + icg;
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let id = ((oc * cg + icg) * kh + ky) * kw + kx;
                                if weights[id] == 0.0 {
                                    continue;
                                }
                                let id = id as u32;
                                let dy = (ky * attrs.dilations[0]) as isize - pt;
                                let dx = (kx * attrs.dilations[1]) as isize - pl;
                                for oy in 0..oh {
                                    let iy = (oy * attrs.strides[0]) as isize + dy;
                                    if iy < 0 || iy >= h as isize {
                                        continue;
                                    }
                                    for ox in 0..ow {
                                        let ix = (ox * attrs.strides[1]) as isize + dx;
                                        if ix >= 0 && ix < wd as isize {
                                            f(
                                                (oc * oh + oy) * ow + ox,
                                                (ic * h + iy as usize) * wd + ix as usize,
                                                id,
                                            );
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            LinearMap::AvgPool {
                input,
                attrs,
                output,
            } => {
                let [_, c, h, w] = *input;
                let [_, _, oh, ow] = *output;
                let [kh, kw] = attrs.kernel;
                let (pt, pl) = (attrs.pads[0] as isize, attrs.pads[1] as isize);
                for ch in 0..c {
                    for oy in 0..oh {
                        for ox in 0..ow {
                            let y0 = (oy * attrs.strides[0]) as isize - pt;
                            let x0 = (ox * attrs.strides[1]) as isize - pl;
                            let ys = y0.max(0)..(y0 + kh as isize).min(h as isize);
                            let xs = x0.max(0)..(x0 + kw as isize).min(w as isize);
                            let count = ys.len() * xs.len();
                            let div = if attrs.count_include_pad {
                                kh * kw
                            } else {
                                count
                            };
                            let id = div as u32;
                            let row = (ch * oh + oy) * ow + ox;
                            for iy in ys {
                                for ix in xs.clone() {
                                    f(row, (ch * h + iy as usize) * w + ix as usize, id);
                                }
                            }
                        }
                    }
                }
            }
            LinearMap::Pad {
                input,
                pads,
                output,
            } => {
                let rank = input.len();
                let (in_strides, out_strides) = (
                    crate::tensor::Tensor::strides(input),
                    crate::tensor::Tensor::strides(output),
                );
                for col in 0..input.iter().product::<usize>() {
                    let row: usize = (0..rank)
                        .map(|d| (col / in_strides[d] % input[d] + pads[d]) * out_strides[d])
                        .sum();
                    f(row, col, 0);
                }
            }
        }
    }

    /// The matrix, row-major (tests and small maps only).
    pub fn to_dense(&self) -> Vec<f64> {
        let cols = self.cols();
        let mut out = vec![0.0; self.rows() * cols];
        self.for_each_nonzero(|r, c, v| out[r * cols + c] += v);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::conv;
    use crate::tensor::Tensor;

    /// Deterministic pseudo-random values in [-1, 1).
    fn values(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
            })
            .collect()
    }

    /// The matrix of `f` by applying it to unit vectors (the naive reference).
    fn probe(cols: usize, f: impl Fn(&Tensor) -> Tensor) -> Vec<Vec<f64>> {
        (0..cols)
            .map(|c| {
                let mut e = vec![0.0; cols];
                e[c] = 1.0;
                f(&Tensor::new(vec![cols], e)).data
            })
            .collect()
    }

    fn assert_matches(map: &LinearMap, columns: &[Vec<f64>]) {
        let (rows, cols) = (map.rows(), map.cols());
        assert_eq!(columns.len(), cols);
        let dense = map.to_dense();
        let mut count = 0;
        map.for_each_nonzero(|_, _, _| count += 1);
        for (c, col) in columns.iter().enumerate() {
            assert_eq!(col.len(), rows);
            for (r, &want) in col.iter().enumerate() {
                let got = dense[r * cols + c];
                assert!((got - want).abs() < 1e-12, "({r}, {c}): {got} vs {want}");
            }
        }
        let nonzero = columns.iter().flatten().filter(|&&v| v != 0.0).count();
        assert_eq!(count, nonzero, "each nonzero is enumerated once");
    }

    #[test]
    fn conv_nonzeros_match_the_reference_convolution() {
        let cases: &[([usize; 4], [usize; 4], Conv2dAttrs)] = &[
            ([1, 1, 6, 6], [2, 1, 3, 3], Conv2dAttrs::default()),
            (
                [1, 2, 7, 5],
                [3, 2, 3, 2],
                Conv2dAttrs {
                    strides: [2, 1],
                    pads: [1, 0, 2, 1],
                    dilations: [1, 2],
                    groups: 1,
                },
            ),
            (
                [1, 4, 5, 5],
                [4, 1, 3, 3],
                Conv2dAttrs {
                    strides: [1, 1],
                    pads: [1, 1, 1, 1],
                    dilations: [1, 1],
                    groups: 4,
                },
            ),
            (
                [1, 4, 6, 4],
                [6, 2, 2, 3],
                Conv2dAttrs {
                    strides: [2, 2],
                    pads: [0, 1, 1, 0],
                    dilations: [2, 1],
                    groups: 2,
                },
            ),
        ];
        for (i, (input, kernel, attrs)) in cases.iter().enumerate() {
            let w: Vec<f32> = values(kernel.iter().product(), i as u64)
                .iter()
                .map(|&v| v as f32)
                .collect();
            let map = LinearMap::conv2d(*input, *kernel, w.clone(), attrs.clone()).unwrap();
            let wt = Tensor::new(kernel.to_vec(), w.iter().map(|&v| v as f64).collect());
            let columns = probe(map.cols(), |e| {
                let x = Tensor::new(input.to_vec(), e.data.clone());
                conv::conv2d(&x, &wt, None, attrs).unwrap()
            });
            assert_matches(&map, &columns);
        }
    }

    #[test]
    fn avgpool_nonzeros_match_the_reference_pool() {
        let cases = [
            ([1, 2, 6, 6], [2, 2], [2, 2], [0; 4], true),
            ([1, 3, 7, 5], [3, 2], [2, 1], [1, 0, 2, 1], false),
            ([1, 3, 7, 5], [3, 2], [2, 1], [1, 0, 2, 1], true),
            ([1, 2, 4, 4], [4, 4], [1, 1], [0; 4], true),
        ];
        for (input, kernel, strides, pads, count_include_pad) in cases {
            let attrs = PoolAttrs {
                kernel,
                strides,
                pads,
                count_include_pad,
            };
            let map = LinearMap::avgpool(input, attrs.clone()).unwrap();
            let columns = probe(map.cols(), |e| {
                conv::avgpool(&Tensor::new(input.to_vec(), e.data.clone()), &attrs).unwrap()
            });
            assert_matches(&map, &columns);
        }
    }

    #[test]
    fn pad_nonzeros_match_the_reference_padding() {
        for (input, pads) in [
            (vec![1, 2, 3, 3], vec![0, 1, 0, 0, 0, 3, 0, 0]),
            (vec![2, 3], vec![1, 0, 0, 2]),
            (vec![1, 2, 2, 3], vec![0, 0, 1, 0, 0, 0, 1, 2]),
        ] {
            let map = LinearMap::pad(input.clone(), pads.clone()).unwrap();
            let columns = probe(map.cols(), |e| {
                crate::nn::pad::pad(&Tensor::new(input.clone(), e.data.clone()), &pads).unwrap()
            });
            assert_matches(&map, &columns);
        }
        assert!(LinearMap::pad(vec![2, 3], vec![1, 0]).is_err());
    }
}
