//! canonicalize folds `nn.batchnorm` into a preceding `nn.conv2d` with
//! constant weights (per output channel, with or without a conv bias), and
//! leaves it alone when the conv result has another use or the batchnorm's
//! parameters are not constants.

use orion_compiler::{PassManager, PassOptions};
use orion_dialects::tensor::Tensor;
use orion_dialects::{nn, parse_module, Module};

fn ty(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("tensor<{}xf32>", dims.join("x"))
}

/// `dense<...>` with nested brackets, values from a small LCG.
fn dense(shape: &[usize], seed: u64, lo: f64, hi: f64) -> String {
    fn nest(shape: &[usize], vals: &mut impl Iterator<Item = f64>) -> String {
        match shape {
            [] => format!("{:?}", vals.next().unwrap()),
            [n, rest @ ..] => {
                let items: Vec<String> = (0..*n).map(|_| nest(rest, vals)).collect();
                format!("[{}]", items.join(", "))
            }
        }
    }
    let mut s = seed * 2654435761 + 1;
    let mut vals = std::iter::from_fn(move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        Some(lo + (hi - lo) * ((s >> 40) as f64 / (1u64 << 24) as f64))
    });
    format!("dense<{}> : {}", nest(shape, &mut vals), ty(shape))
}

fn constant(name: &str, shape: &[usize], seed: u64, lo: f64, hi: f64) -> String {
    format!(
        "  %{name} = \"nn.constant\"() {{value = {}}} : () -> {}\n",
        dense(shape, seed, lo, hi),
        ty(shape)
    )
}

/// x [1,4,6,6] -> conv (3x3, groups 2, stride 2, pads [1,0,1,1], bias if
/// `bias`) -> batchnorm; returns the batchnorm result, and the conv result
/// too if `return_conv`. With `bn_params_as_args` the batchnorm's scale is an
/// argument of @main.
fn module(bias: bool, return_conv: bool, bn_params_as_args: bool) -> Module {
    let (x, w, y) = ([1, 4, 6, 6], [6, 2, 3, 3], [1, 6, 3, 3]);
    let mut body = constant("w", &w, 1, -1.0, 1.0);
    if bias {
        body += &constant("b", &[6], 2, -1.0, 1.0);
    }
    if !bn_params_as_args {
        body += &constant("scale", &[6], 3, 0.5, 2.0);
    }
    body += &constant("shift", &[6], 4, -1.0, 1.0);
    body += &constant("mean", &[6], 5, -0.5, 0.5);
    body += &constant("var", &[6], 6, 0.1, 3.0);
    let (operands, types) = if bias {
        (
            "%x, %w, %b",
            format!("{}, {}, {}", ty(&x), ty(&w), ty(&[6])),
        )
    } else {
        ("%x, %w", format!("{}, {}", ty(&x), ty(&w)))
    };
    body += &format!(
        "  %c = \"nn.conv2d\"({operands}) {{strides = array<i64: 2, 2>, pads = array<i64: 1, 0, 1, 1>, groups = 2}} : ({types}) -> {}\n",
        ty(&y)
    );
    let p = ty(&[6]);
    body += &format!(
        "  %n = \"nn.batchnorm\"(%c, %scale, %shift, %mean, %var) {{epsilon = 1.0e-5}} : ({}, {p}, {p}, {p}, {p}) -> {}\n",
        ty(&y),
        ty(&y)
    );
    let (rets, rtys) = if return_conv {
        ("%n, %c".to_string(), format!("{}, {}", ty(&y), ty(&y)))
    } else {
        ("%n".to_string(), ty(&y))
    };
    let args = if bn_params_as_args {
        format!("%x: {}, %scale: {p}", ty(&x))
    } else {
        format!("%x: {}", ty(&x))
    };
    let src =
        format!("func.func @main({args}) -> ({rtys}) {{\n{body}  return {rets} : {rtys}\n}}\n");
    let m = parse_module(&src, "t.mlir").unwrap_or_else(|d| panic!("{d}\n{src}"));
    orion_dialects::verify::verify_module(&m).unwrap_or_else(|d| panic!("{d}\n{src}"));
    m
}

fn canonicalize(m: &Module) -> Module {
    let mut out = m.clone();
    let mut pm = PassManager::new();
    pm.add_by_name("canonicalize", &PassOptions::default())
        .unwrap();
    pm.run(&mut out, |_, _| {}).unwrap();
    orion_dialects::verify::verify_module(&out).unwrap();
    out
}

fn count(m: &Module, name: &str) -> usize {
    m.main()
        .unwrap()
        .body
        .iter()
        .filter(|o| o.name == name)
        .count()
}

fn inputs(m: &Module) -> Vec<Tensor> {
    m.main()
        .unwrap()
        .arg_types()
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let s = t.shape().unwrap();
            let n: usize = s.iter().product();
            Tensor::new(
                s.to_vec(),
                (0..n)
                    .map(|k| ((k * 7 + i * 3) % 11) as f64 / 5.0 - 1.0 + i as f64)
                    .collect(),
            )
        })
        .collect()
}

fn max_diff(a: &Module, b: &Module) -> f64 {
    let ins = inputs(a);
    let (ra, rb) = (
        nn::interpret(a, &ins).unwrap(),
        nn::interpret(b, &ins).unwrap(),
    );
    ra.iter()
        .zip(&rb)
        .map(|(x, y)| y.max_rel_diff(x))
        .fold(0.0, f64::max)
}

#[test]
fn batchnorm_folds_into_conv_with_and_without_bias() {
    for bias in [true, false] {
        let m = module(bias, false, false);
        let c = canonicalize(&m);
        assert_eq!(count(&c, "nn.batchnorm"), 0, "bias {bias}");
        assert_eq!(count(&c, "nn.conv2d"), 1);
        let conv = c
            .main()
            .unwrap()
            .body
            .iter()
            .find(|o| o.name == "nn.conv2d")
            .unwrap();
        assert_eq!(conv.operands.len(), 3, "the folded conv has a bias");
        assert_eq!(
            conv.attr("groups").and_then(|a| a.as_int()),
            Some(2),
            "attributes are kept"
        );
        let d = max_diff(&m, &c);
        eprintln!("conv+bn folded (bias {bias}): max relative difference {d:.2e}");
        // The folded weights are rounded to f32.
        assert!(d < 1e-6, "bias {bias}: {d}");
    }
}

#[test]
fn batchnorm_stays_when_the_conv_result_has_another_use() {
    let m = module(true, true, false);
    let c = canonicalize(&m);
    assert_eq!(count(&c, "nn.batchnorm"), 1);
    assert_eq!(max_diff(&m, &c), 0.0);
}

#[test]
fn batchnorm_stays_when_its_parameters_are_not_constants() {
    let m = module(false, false, true);
    let c = canonicalize(&m);
    assert_eq!(count(&c, "nn.batchnorm"), 1);
    assert_eq!(max_diff(&m, &c), 0.0);
}
