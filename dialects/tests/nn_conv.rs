//! `nn.conv2d`, `nn.avgpool` and `nn.global_avgpool`: the interpreter against
//! a naive reference written here from the ONNX definitions, hand-computed
//! examples, printing round trips, and the verifier's messages for bad
//! attributes.

use orion_dialects::nn::interpret;
use orion_dialects::tensor::Tensor;
use orion_dialects::verify::verify_module;
use orion_dialects::{parse_module, print_module, Module, PrintOptions};

fn ty(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("tensor<{}xf32>", dims.join("x"))
}

/// A module whose `@main` applies one op to its arguments.
fn one_op_module(op: &str, args: &[&[usize]], attrs: &str, out: &[usize]) -> String {
    let names: Vec<String> = (0..args.len()).map(|i| format!("%a{i}")).collect();
    let params: Vec<String> = names
        .iter()
        .zip(args)
        .map(|(n, s)| format!("{n}: {}", ty(s)))
        .collect();
    let arg_types: Vec<String> = args.iter().map(|s| ty(s)).collect();
    format!(
        "func.func @main({}) -> {out} {{\n  %0 = \"{op}\"({}) {{{attrs}}} : ({}) -> {out}\n  return %0 : {out}\n}}\n",
        params.join(", "),
        names.join(", "),
        arg_types.join(", "),
        out = ty(out),
    )
}

fn parse_verified(src: &str) -> Module {
    let m = parse_module(src, "t.mlir").unwrap_or_else(|d| panic!("{d}\n{src}"));
    verify_module(&m).unwrap_or_else(|d| panic!("{d}\n{src}"));
    m
}

fn verify_error(src: &str) -> String {
    let m = parse_module(src, "t.mlir").unwrap_or_else(|d| panic!("{d}\n{src}"));
    match verify_module(&m) {
        Ok(()) => panic!("verified without error:\n{src}"),
        Err(d) => d.to_string(),
    }
}

/// Deterministic values in [-1, 1) (a small LCG; no dependency needed).
fn values(seed: u64, shape: &[usize]) -> Tensor {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let n = shape.iter().product();
    let data = (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect();
    Tensor::new(shape.to_vec(), data)
}

fn assert_close(got: &Tensor, want: &Tensor, what: &str) {
    assert_eq!(got.shape, want.shape, "{what}: shape");
    let d = got.max_rel_diff(want);
    assert!(d < 1e-12, "{what}: max relative difference {d}");
}

struct Conv {
    strides: [usize; 2],
    pads: [usize; 4],
    dilations: [usize; 2],
    groups: usize,
}

impl Conv {
    fn attrs(&self) -> String {
        format!(
            "strides = array<i64: {}, {}>, pads = array<i64: {}, {}, {}, {}>, dilations = array<i64: {}, {}>, groups = {}",
            self.strides[0],
            self.strides[1],
            self.pads[0],
            self.pads[1],
            self.pads[2],
            self.pads[3],
            self.dilations[0],
            self.dilations[1],
            self.groups
        )
    }

    fn out_shape(&self, x: &[usize], w: &[usize]) -> Vec<usize> {
        let o = |i: usize, p0: usize, p1: usize, k: usize| {
            (x[2 + i] + p0 + p1 - self.dilations[i] * (k - 1) - 1) / self.strides[i] + 1
        };
        vec![
            x[0],
            w[0],
            o(0, self.pads[0], self.pads[2], w[2]),
            o(1, self.pads[1], self.pads[3], w[3]),
        ]
    }

    /// out[n][m][oy][ox] = b[m] + sum over the input channels of m's group
    /// and the kernel taps of w[m][c][ky][kx] * x_padded[n][c][oy*s + ky*d][ox*s + kx*d].
    fn naive(&self, x: &Tensor, w: &Tensor, b: Option<&Tensor>) -> Tensor {
        let out = self.out_shape(&x.shape, &w.shape);
        let (cin, h, wd) = (x.shape[1], x.shape[2] as i64, x.shape[3] as i64);
        let (cpg, kh, kw) = (w.shape[1], w.shape[2], w.shape[3]);
        let mpg = w.shape[0] / self.groups;
        let mut t = Tensor::zeros(&out);
        let mut i = 0;
        for n in 0..out[0] {
            for m in 0..out[1] {
                for oy in 0..out[2] {
                    for ox in 0..out[3] {
                        let mut acc = b.map_or(0.0, |b| b.data[m]);
                        for cg in 0..cpg {
                            let c = (m / mpg) * cpg + cg;
                            for ky in 0..kh {
                                for kx in 0..kw {
                                    let iy = (oy * self.strides[0] + ky * self.dilations[0]) as i64
                                        - self.pads[0] as i64;
                                    let ix = (ox * self.strides[1] + kx * self.dilations[1]) as i64
                                        - self.pads[1] as i64;
                                    if (0..h).contains(&iy) && (0..wd).contains(&ix) {
                                        let xv = x.data[((n * cin + c) * h as usize + iy as usize)
                                            * wd as usize
                                            + ix as usize];
                                        acc += w.data[((m * cpg + cg) * kh + ky) * kw + kx] * xv;
                                    }
                                }
                            }
                        }
                        t.data[i] = acc;
                        i += 1;
                    }
                }
            }
        }
        t
    }

    fn check(&self, what: &str, x_shape: &[usize], w_shape: &[usize], bias: bool) {
        let out = self.out_shape(x_shape, w_shape);
        let m = w_shape[0];
        let mut args: Vec<&[usize]> = vec![x_shape, w_shape];
        let bshape = [m];
        if bias {
            args.push(&bshape);
        }
        let src = one_op_module("nn.conv2d", &args, &self.attrs(), &out);
        let module = parse_verified(&src);
        let (x, w, b) = (values(1, x_shape), values(2, w_shape), values(3, &[m]));
        let mut inputs = vec![x.clone(), w.clone()];
        if bias {
            inputs.push(b.clone());
        }
        let got = &interpret(&module, &inputs).unwrap()[0];
        assert_close(got, &self.naive(&x, &w, bias.then_some(&b)), what);
        // Both printed forms read back to the same module.
        for generic in [false, true] {
            let text = print_module(&module, &PrintOptions { generic });
            let again = parse_verified(&text);
            assert_eq!(
                print_module(&again, &PrintOptions { generic }),
                text,
                "{what}: print round trip"
            );
        }
    }
}

#[test]
fn conv_matches_naive_reference() {
    let c = |strides, pads, dilations, groups| Conv {
        strides,
        pads,
        dilations,
        groups,
    };
    c([2, 2], [1, 1, 1, 1], [1, 1], 1).check("stride 2", &[1, 3, 9, 8], &[4, 3, 3, 3], true);
    c([1, 1], [0, 2, 1, 1], [1, 1], 1).check("asymmetric pads", &[2, 2, 7, 6], &[3, 2, 3, 2], true);
    c([1, 2], [2, 0, 1, 3], [1, 1], 1).check(
        "asymmetric pads, non-square stride",
        &[1, 2, 6, 9],
        &[2, 2, 3, 3],
        false,
    );
    c([1, 1], [2, 1, 2, 0], [2, 2], 1).check("dilation 2", &[1, 2, 10, 9], &[2, 2, 3, 3], true);
    c([2, 1], [1, 1, 1, 1], [2, 1], 1).check(
        "dilation 2 with stride 2",
        &[1, 1, 11, 7],
        &[3, 1, 3, 3],
        true,
    );
    c([1, 1], [1, 1, 1, 1], [1, 1], 2).check("groups 2", &[1, 4, 6, 6], &[6, 2, 3, 3], true);
    c([2, 2], [1, 1, 1, 1], [1, 1], 5).check("depthwise", &[1, 5, 7, 7], &[5, 1, 3, 3], true);
    c([1, 1], [1, 0, 1, 0], [1, 1], 3).check(
        "depthwise, multiplier 2",
        &[2, 3, 5, 4],
        &[6, 1, 3, 3],
        false,
    );
    c([1, 1], [0, 0, 0, 0], [1, 1], 1).check("1x1", &[1, 4, 3, 3], &[2, 4, 1, 1], true);
}

#[test]
fn conv_hand_example() {
    // 3x3 input 1..9, 2x2 kernel [[1, 0], [0, -1]], stride 1, pad 1 on the
    // bottom and right only: out[i][j] = x[i][j] - x[i+1][j+1] (0 outside).
    let src = one_op_module(
        "nn.conv2d",
        &[&[1, 1, 3, 3], &[1, 1, 2, 2]],
        "pads = array<i64: 0, 0, 1, 1>",
        &[1, 1, 3, 3],
    );
    let m = parse_verified(&src);
    let x = Tensor::new(vec![1, 1, 3, 3], (1..=9).map(f64::from).collect());
    let w = Tensor::new(vec![1, 1, 2, 2], vec![1.0, 0.0, 0.0, -1.0]);
    let got = &interpret(&m, &[x, w]).unwrap()[0];
    assert_eq!(
        got.data,
        vec![-4.0, -4.0, 3.0, -4.0, -4.0, 6.0, 7.0, 8.0, 9.0]
    );
}

/// out = mean over the window of the zero-padded input, divided by the
/// window size (count_include_pad) or by the number of real elements in it.
fn naive_avgpool(
    x: &Tensor,
    k: [usize; 2],
    s: [usize; 2],
    p: [usize; 4],
    include_pad: bool,
) -> Tensor {
    let (h, w) = (x.shape[2], x.shape[3]);
    let oh = (h + p[0] + p[2] - k[0]) / s[0] + 1;
    let ow = (w + p[1] + p[3] - k[1]) / s[1] + 1;
    let mut out = Tensor::zeros(&[x.shape[0], x.shape[1], oh, ow]);
    let mut i = 0;
    for plane in 0..x.shape[0] * x.shape[1] {
        for oy in 0..oh {
            for ox in 0..ow {
                let (mut sum, mut n) = (0.0, 0.0);
                for ky in 0..k[0] {
                    for kx in 0..k[1] {
                        let (iy, ix) = (
                            (oy * s[0] + ky) as i64 - p[0] as i64,
                            (ox * s[1] + kx) as i64 - p[1] as i64,
                        );
                        if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w {
                            sum += x.data[plane * h * w + iy as usize * w + ix as usize];
                            n += 1.0;
                        }
                    }
                }
                out.data[i] = sum / if include_pad { (k[0] * k[1]) as f64 } else { n };
                i += 1;
            }
        }
    }
    out
}

#[test]
fn avgpool_matches_naive_reference() {
    // (input shape, kernel, strides, pads, count_include_pad)
    type Case = ([usize; 4], [usize; 2], [usize; 2], [usize; 4], bool);
    let cases: &[Case] = &[
        ([1, 2, 8, 8], [2, 2], [2, 2], [0, 0, 0, 0], true),
        ([1, 3, 7, 7], [3, 3], [2, 2], [1, 1, 1, 1], true),
        ([1, 3, 7, 7], [3, 3], [2, 2], [1, 1, 1, 1], false),
        ([2, 2, 6, 5], [3, 2], [1, 2], [0, 1, 2, 0], false),
        ([2, 2, 6, 5], [3, 2], [1, 2], [0, 1, 2, 0], true),
    ];
    for &(xs, k, s, p, include) in cases {
        let want = naive_avgpool(&values(7, &xs), k, s, p, include);
        let attrs = format!(
            "kernel = array<i64: {}, {}>, strides = array<i64: {}, {}>, pads = array<i64: {}, {}, {}, {}>, count_include_pad = {include}",
            k[0], k[1], s[0], s[1], p[0], p[1], p[2], p[3]
        );
        let m = parse_verified(&one_op_module("nn.avgpool", &[&xs], &attrs, &want.shape));
        let got = &interpret(&m, &[values(7, &xs)]).unwrap()[0];
        assert_close(got, &want, &format!("avgpool {attrs}"));
    }
}

#[test]
fn avgpool_and_global_avgpool_hand_examples() {
    let x = Tensor::new(vec![1, 1, 4, 4], (0..16).map(f64::from).collect());
    let m = parse_verified(&one_op_module(
        "nn.avgpool",
        &[&[1, 1, 4, 4]],
        "kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>",
        &[1, 1, 2, 2],
    ));
    assert_eq!(
        interpret(&m, std::slice::from_ref(&x)).unwrap()[0].data,
        vec![2.5, 4.5, 10.5, 12.5]
    );
    // Top-left window with pad 1: one real element (0) out of 4.
    let m = parse_verified(&one_op_module(
        "nn.avgpool",
        &[&[1, 1, 4, 4]],
        "kernel = array<i64: 2, 2>, strides = array<i64: 3, 3>, pads = array<i64: 1, 1, 0, 0>",
        &[1, 1, 2, 2],
    ));
    assert_eq!(
        interpret(&m, std::slice::from_ref(&x)).unwrap()[0].data,
        vec![0.0, 2.5, 10.0, 12.5]
    );
    let m = parse_verified(&one_op_module(
        "nn.global_avgpool",
        &[&[1, 2, 2, 2]],
        "",
        &[1, 2, 1, 1],
    ));
    let x = Tensor::new(
        vec![1, 2, 2, 2],
        vec![1.0, 2.0, 3.0, 4.0, -1.0, -1.0, 0.0, 6.0],
    );
    assert_eq!(interpret(&m, &[x]).unwrap()[0].data, vec![2.5, 1.0]);
}

#[test]
fn bad_conv_attributes_are_named() {
    let conv = |x: &[usize], w: &[usize], attrs: &str, out: &[usize]| {
        verify_error(&one_op_module("nn.conv2d", &[x, w], attrs, out))
    };
    let e = conv(&[1, 6, 8, 8], &[8, 1, 3, 3], "groups = 4", &[1, 8, 6, 6]);
    assert!(
        e.contains("t.mlir:2:")
            && e.contains("attribute 'groups' = 4 does not divide the 6 input channels"),
        "{e}"
    );
    let e = conv(&[1, 6, 8, 8], &[9, 3, 3, 3], "groups = 2", &[1, 9, 6, 6]);
    assert!(
        e.contains("attribute 'groups' = 2 does not divide the 9 output channels"),
        "{e}"
    );
    let e = conv(&[1, 6, 8, 8], &[4, 2, 3, 3], "groups = 2", &[1, 4, 6, 6]);
    assert!(e.contains("weight shape [4, 2, 3, 3] has 2 input channels per group, but the input has 6 channels and 'groups' = 2 (expected 3)"), "{e}");
    let e = conv(&[1, 1, 8, 8], &[1, 1, 3, 3], "groups = 0", &[1, 1, 6, 6]);
    assert!(
        e.contains("attribute 'groups' must be a positive integer, got 0"),
        "{e}"
    );
    let e = conv(
        &[1, 1, 8, 8],
        &[1, 1, 3, 3],
        "pads = array<i64: 1, 1>",
        &[1, 1, 8, 8],
    );
    assert!(
        e.contains("attribute 'pads' must have 4 entries, got 2"),
        "{e}"
    );
    let e = conv(
        &[1, 1, 8, 8],
        &[1, 1, 3, 3],
        "strides = array<i64: 0, 1>",
        &[1, 1, 6, 6],
    );
    assert!(
        e.contains("attribute 'strides' = [0, 1] has entry 0; entries must be >= 1"),
        "{e}"
    );
    let e = conv(
        &[1, 1, 8, 8],
        &[1, 1, 3, 3],
        "pads = array<i64: 1, -1, 1, 1>",
        &[1, 1, 8, 8],
    );
    assert!(
        e.contains("attribute 'pads' = [1, -1, 1, 1] has entry -1; entries must be >= 0"),
        "{e}"
    );
    let e = conv(
        &[1, 1, 4, 4],
        &[1, 1, 3, 3],
        "dilations = array<i64: 2, 2>",
        &[1, 1, 1, 1],
    );
    assert!(
        e.contains(
            "kernel window of extent 5 along H does not fit the padded input (4 + 0 + 0 = 4)"
        ),
        "{e}"
    );
    let e = conv(
        &[1, 1, 8, 8],
        &[1, 1, 3, 3],
        "strides = array<i64: 2, 2>",
        &[1, 1, 6, 6],
    );
    assert!(
        e.contains(
            "result #0 has type tensor<1x1x6x6xf32>, but its operands give tensor<1x1x3x3xf32>"
        ),
        "{e}"
    );
    let e = conv(&[1, 8, 8], &[1, 1, 3], "", &[1, 1, 6]);
    assert!(
        e.contains("input must be 4-D (N, C, H, W), got shape [1, 8, 8]"),
        "{e}"
    );
    let e = verify_error(&one_op_module(
        "nn.conv2d",
        &[&[1, 2, 5, 5], &[3, 2, 3, 3], &[2]],
        "",
        &[1, 3, 3, 3],
    ));
    assert!(
        e.contains("bias must have shape [3] (one per output channel), got [2]"),
        "{e}"
    );
}

#[test]
fn bad_pool_attributes_are_named() {
    let pool = |attrs: &str, out: &[usize]| {
        verify_error(&one_op_module("nn.avgpool", &[&[1, 1, 6, 6]], attrs, out))
    };
    let e = pool("strides = array<i64: 2, 2>", &[1, 1, 3, 3]);
    assert!(
        e.contains("needs attribute 'kernel' = array<i64: kh, kw>"),
        "{e}"
    );
    let e = pool(
        "kernel = array<i64: 2, 2>, pads = array<i64: 0, 2, 0, 0>",
        &[1, 1, 5, 7],
    );
    assert!(e.contains("attribute 'pads' = [0, 2, 0, 0]: the left pad 2 must be smaller than the kernel extent 2"), "{e}");
    let e = pool(
        "kernel = array<i64: 2, 2>, count_include_pad = 1.5",
        &[1, 1, 5, 5],
    );
    assert!(
        e.contains("attribute 'count_include_pad' must be a bool"),
        "{e}"
    );
    let e = pool("kernel = array<i64: 7, 2>", &[1, 1, 1, 5]);
    assert!(
        e.contains("pooling window of extent 7 along H does not fit"),
        "{e}"
    );
    let e = verify_error(&one_op_module(
        "nn.global_avgpool",
        &[&[1, 4]],
        "",
        &[1, 4, 1, 1],
    ));
    assert!(e.contains("input must be 4-D"), "{e}");
}
