//! Every element-wise activation the importer maps beyond ReLU and sigmoid
//! (LeakyRelu, PRelu with one slope or one per unit, Clip as ReLU6 and one-sided, HardSigmoid, HardSwish,
//! Tanh, Erf, Softplus, Elu, Mish, Gelu in both forms), each in a small MLP
//! built as ONNX (`x[1,16] -> Gemm -> act -> Gemm -> y[1,4]`):
//!
//! - the imported `nn` module computes what tract computes (1e-5 relative:
//!   tract is f32, our interpreter f64);
//! - after `calibrate` and `approximate-activations`, the network stays
//!   within the error the pass reports for the layer, propagated through the
//!   last Gemm (sum of |w2| per output);
//! - the `pack` level computes what the approximated `nn` level computes
//!   (1e-9 relative).

use orion_compiler::passes::{PassOptions, Statistics};
use orion_compiler::PassManager;
use orion_dialects::tensor::Tensor;
use orion_dialects::{nn, pack, Module};
use tract_onnx::pb;

mod common;
use common::onnx_builder::{import, init, model_at, node, op_names, tract_output, values, A};

/// One activation: the ONNX nodes reading `h` and writing `a`, the
/// initializers they need, the opset, and the `nn` op they become.
struct Case {
    name: &'static str,
    opset: i64,
    nodes: Vec<pb::NodeProto>,
    inits: Vec<pb::TensorProto>,
    nn_op: &'static str,
}

fn case(name: &'static str, op: &str, attrs: Vec<(&str, A)>, nn_op: &'static str) -> Case {
    Case {
        name,
        opset: 17,
        nodes: vec![node(op, &format!("/act/{op}"), &["h"], "a", attrs)],
        inits: vec![],
        nn_op,
    }
}

fn cases() -> Vec<Case> {
    let scalar = |name: &str, v: f32| init(name, &[], vec![v]);
    vec![
        case(
            "leaky_relu",
            "LeakyRelu",
            vec![("alpha", A::Float(0.1))],
            "nn.leaky_relu",
        ),
        Case {
            nodes: vec![node("PRelu", "/act/PRelu", &["h", "slope"], "a", vec![])],
            inits: vec![init("slope", &[1], vec![0.25])],
            ..case("prelu", "PRelu", vec![], "nn.leaky_relu")
        },
        // A slope per unit: a ReLU and two diagonal scalings.
        Case {
            nodes: vec![node("PRelu", "/act/PRelu", &["h", "slope"], "a", vec![])],
            inits: vec![init(
                "slope",
                &[16],
                values(5, 16).iter().map(|v| (v + 1.0) / 4.0).collect(),
            )],
            ..case("prelu_per_unit", "PRelu", vec![], "nn.relu")
        },
        Case {
            nodes: vec![node("Clip", "/act/Clip", &["h", "lo", "hi"], "a", vec![])],
            inits: vec![scalar("lo", 0.0), scalar("hi", 6.0)],
            ..case("relu6", "Clip", vec![], "nn.clip")
        },
        Case {
            nodes: vec![node("Clip", "/act/Clip", &["h", "", "hi"], "a", vec![])],
            inits: vec![scalar("hi", 1.5)],
            ..case("clip_max_only", "Clip", vec![], "nn.clip")
        },
        case("hard_sigmoid", "HardSigmoid", vec![], "nn.hard_sigmoid"),
        case("hard_swish", "HardSwish", vec![], "nn.hard_swish"),
        case("tanh", "Tanh", vec![], "nn.tanh"),
        case("erf", "Erf", vec![], "nn.erf"),
        case("softplus", "Softplus", vec![], "nn.softplus"),
        case("elu", "Elu", vec![("alpha", A::Float(0.5))], "nn.elu"),
        Case {
            opset: 18,
            ..case("mish", "Mish", vec![], "nn.mish")
        },
        Case {
            opset: 20,
            ..case("gelu", "Gelu", vec![], "nn.gelu")
        },
        Case {
            opset: 20,
            ..case(
                "gelu_tanh",
                "Gelu",
                vec![("approximate", A::Str("tanh"))],
                "nn.gelu",
            )
        },
    ]
}

/// `x[1,16] -> Gemm(w1 x 3, b1) -> act -> Gemm(w2, b2) -> y[1,4]`: the first
/// layer's outputs span about [-8, 8], across every kink of the cases.
fn mlp(c: &Case) -> pb::ModelProto {
    let w1: Vec<f32> = values(1, 256).iter().map(|v| v * 3.0).collect();
    let mut inits = vec![
        init("w1", &[16, 16], w1),
        init("b1", &[16], values(2, 16)),
        init("w2", &[4, 16], values(3, 64)),
        init("b2", &[4], values(4, 4)),
    ];
    inits.extend(c.inits.iter().cloned());
    let mut nodes = vec![node(
        "Gemm",
        "/fc1/Gemm",
        &["x", "w1", "b1"],
        "h",
        vec![("transB", A::Int(1))],
    )];
    nodes.extend(c.nodes.iter().cloned());
    nodes.push(node(
        "Gemm",
        "/fc2/Gemm",
        &["a", "w2", "b2"],
        "y",
        vec![("transB", A::Int(1))],
    ));
    model_at(c.opset, &[1, 16], inits, nodes)
}

/// Inputs in [-1, 1) from `seed`.
fn inputs(n: usize, seed: u64) -> Vec<Tensor> {
    (0..n)
        .map(|i| Tensor::from_f32(&[1, 16], &values(seed * 1000 + i as u64, 16)))
        .collect()
}

fn run(module: &mut Module, passes: &[&str], opts: &PassOptions) -> Vec<(String, Statistics)> {
    let mut pm = PassManager::new();
    for p in passes {
        pm.add_by_name(p, opts).unwrap();
    }
    pm.run(module, |_, _| {}).unwrap_or_else(|d| panic!("{d}"));
    pm.statistics
}

#[test]
fn each_activation_imports_and_agrees_with_tract() {
    for c in cases() {
        let proto = mlp(&c);
        let module = import(&proto);
        let ops = op_names(&module);
        assert!(ops.contains(&c.nn_op), "{}: {ops:?}", c.name);
        for x in inputs(4, 9) {
            let want = tract_output(&proto, &x);
            let got = &nn::interpret(&module, std::slice::from_ref(&x)).unwrap()[0];
            let err = got.max_rel_diff(&want);
            assert!(err < 1e-5, "{}: nn vs tract {err:.2e}", c.name);
        }
    }
}

#[test]
fn approximations_keep_their_reported_error_and_pack_agrees() {
    let w2 = values(3, 64);
    // How much an error of 1 in every hidden unit can move an output.
    let gain = (0..4)
        .map(|o| {
            w2[o * 16..(o + 1) * 16]
                .iter()
                .map(|w| w.abs() as f64)
                .sum::<f64>()
        })
        .fold(0.0, f64::max);
    for c in cases() {
        let exact = import(&mlp(&c));
        let opts = PassOptions {
            calibration: inputs(64, 1),
            ..PassOptions::default()
        };
        let mut approx = exact.clone();
        let stats = run(
            &mut approx,
            &["canonicalize", "calibrate", "approximate-activations"],
            &opts,
        );
        let reported = stats
            .iter()
            .flat_map(|(_, s)| s)
            .find(|(k, _)| k.starts_with("max-error-e9 /act/"))
            .map(|(_, v)| *v as f64 * 1e-9)
            .unwrap_or_else(|| panic!("{}: no max-error statistic", c.name));
        let mut packed = approx.clone();
        run(&mut packed, &["pack"], &opts);
        let (mut worst_approx, mut worst_pack) = (0f64, 0f64);
        // Inputs from the calibration distribution stay in the range.
        for x in inputs(16, 2) {
            let x = std::slice::from_ref(&x);
            let want = &nn::interpret(&exact, x).unwrap()[0];
            let got = &nn::interpret(&approx, x).unwrap()[0];
            let p = &pack::interpret(&packed, x).unwrap()[0];
            let abs = got
                .data
                .iter()
                .zip(&want.data)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            worst_approx = worst_approx.max(abs);
            worst_pack = worst_pack.max(p.max_rel_diff(got));
        }
        eprintln!(
            "{:>14}: reported max error {reported:.2e}, output error {worst_approx:.2e} \
             (bound {:.2e}), pack vs nn {worst_pack:.1e}",
            c.name,
            reported * gain
        );
        assert!(
            worst_approx <= reported * gain + 1e-9,
            "{}: output error {worst_approx:.2e} beyond the reported {reported:.2e} x {gain:.2}",
            c.name
        );
        assert!(worst_pack < 1e-9, "{}: pack vs nn {worst_pack:.2e}", c.name);
    }
}

/// Inputs up to 1% of the range's width past the calibrated range: the
/// approximation stays finite and near the exact value (the composite sign
/// grows fast past its domain; the calibration margin is what keeps real
/// inputs inside it).
#[test]
fn approximations_stay_bounded_just_past_their_range() {
    use orion_dialects::ir::{Func, Location, Type};
    use orion_dialects::nn::activations::Activation;
    for c in cases() {
        let mut calibrated = import(&mlp(&c));
        let opts = PassOptions {
            calibration: inputs(64, 1),
            ..PassOptions::default()
        };
        run(&mut calibrated, &["canonicalize", "calibrate"], &opts);
        let act_op = calibrated
            .main()
            .unwrap()
            .body
            .iter()
            .find(|o| o.attr("range").is_some())
            .unwrap()
            .clone();
        let range = act_op.attr("range").and_then(|r| r.as_f64_list()).unwrap();
        let (lo, hi) = (range[0], range[1]);
        // The activation alone on a vector of probe points.
        let probes: Vec<f64> = [-0.01, -0.005, 0.0, 0.5, 1.0, 1.005, 1.01]
            .iter()
            .map(|t| lo + t * (hi - lo))
            .collect();
        let ty = Type::f32_tensor(&[probes.len()]);
        let mut func = Func::new("main");
        let x = func.add_arg(ty.clone(), Some("x".into()));
        let y = func.push_op(
            &act_op.name,
            vec![x],
            act_op.attrs.clone(),
            vec![ty],
            Location::Unknown,
        )[0];
        func.push_op("func.return", vec![y], vec![], vec![], Location::Unknown);
        let mut module = Module::default();
        module.funcs.push(func);
        run(&mut module, &["approximate-activations"], &opts);
        let got =
            &nn::interpret(&module, &[Tensor::new(vec![probes.len()], probes.clone())]).unwrap()[0];
        let act = Activation::from_op(&act_op).unwrap().unwrap();
        let scale = act.eval(lo).abs().max(act.eval(hi).abs()).max(1.0);
        let worst = probes
            .iter()
            .zip(&got.data)
            .map(|(&x, &y)| {
                assert!(y.is_finite(), "{}: not finite at {x}", c.name);
                (y - act.eval(x)).abs()
            })
            .fold(0.0, f64::max);
        eprintln!(
            "{:>14}: range [{lo:.2}, {hi:.2}], worst error up to 1% past it {worst:.2e} (relative {:.2e})",
            c.name,
            worst / scale
        );
        assert!(
            worst <= 0.05 * scale,
            "{}: error {worst:.2e} past the range",
            c.name
        );
    }
}
