//! Every activation encrypted end to end: the committed PyTorch exports
//! (tests/lit/inputs/activations, x[1,8] -> Linear -> act -> Linear, the
//! TorchScript spelling, whose GELU, Mish and SiLU `fuse-activations`
//! fuses) through `--lower-to-ckks` on the small bootstrapping parameters
//! (N = 2^12, INSECURE, for CI), calibrated on 32 random inputs in [-1, 1],
//! then run encrypted on 3 others.
//!
//! HardTanh's two kinks make a region that is not series-parallel (both
//! signs read x and meet in one sum), deeper than the levels: it is placed
//! with a bootstrap and runs encrypted like the others.
//!
//! Bounds: the encrypted outputs are within 1e-3 (relative to the largest
//! |output|) of the cleartext `ckks` interpreter of the same program, and
//! within 2e-2 of the exact network (the approximations' own error; each
//! layer's is in `approximate-activations`' statistics).

use orion_compiler::passes::LOWER_TO_CKKS;
use orion_compiler::{import_onnx_file, PassManager, PassOptions};
use orion_dialects::ckks::{self, ParamsAttr};
use orion_dialects::nn;
use orion_dialects::tensor::Tensor;
use orion_runtime::interp::{RunOptions, Session};

mod common;
use common::{bootstraps, example};

const ACTIVATIONS: &[&str] = &[
    "relu6",
    "hardtanh",
    "leaky_relu",
    "prelu",
    "prelu_channels",
    "hardsigmoid",
    "hardswish",
    "elu",
    "softplus",
    "tanh",
    "gelu",
    "gelu_tanh",
    "mish",
    "silu",
];

/// Inputs in [-1, 1] from a small LCG.
fn inputs(n: usize, seed: u64) -> Vec<Tensor> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            let data = (0..8)
                .map(|_| {
                    s = s
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
                })
                .collect();
            Tensor::new(vec![1, 8], data)
        })
        .collect()
}

#[test]
fn every_activation_runs_encrypted() {
    let opts = PassOptions {
        params: ParamsAttr::bootstrap_test(),
        calibration: inputs(32, 1),
        ..PassOptions::default()
    };
    for act in ACTIVATIONS {
        let path = example(&format!("tests/lit/inputs/activations/{act}.ts.onnx"));
        let exact = import_onnx_file(&path).unwrap();
        let mut module = exact.clone();
        let mut pm = PassManager::new();
        for pass in LOWER_TO_CKKS {
            pm.add_by_name(pass, &opts).unwrap();
        }
        pm.run(&mut module, |_, _| {})
            .unwrap_or_else(|d| panic!("{act}: {d}"));
        let stat = |key: &str| {
            pm.statistics
                .iter()
                .flat_map(|(_, s)| s)
                .find(|(k, _)| k == key)
                .map_or(0, |(_, v)| *v)
        };
        let regions = stat("regions-not-series-parallel");
        if *act == "hardtanh" {
            // Two signs read x and meet in one sum: not series-parallel,
            // and deeper than the 16 levels, so placed in a region.
            assert!(
                regions > 0 && bootstraps(&module) > 0,
                "{act}: {regions} regions"
            );
        }
        let run_opts = RunOptions {
            seed: Some(5),
            progress: false,
            ..RunOptions::default()
        };
        let mut session = Session::new(&module, &run_opts).unwrap();
        let (mut vs_clear, mut vs_exact) = (0f64, 0f64);
        for x in inputs(3, 2) {
            let x = std::slice::from_ref(&x);
            let clear = &ckks::interp::interpret(&module, x).unwrap()[0];
            let want = &nn::interpret(&exact, x).unwrap()[0];
            let (outs, _) = session.run(&module, x).unwrap();
            vs_clear = vs_clear.max(outs[0].max_rel_diff(clear));
            vs_exact = vs_exact.max(outs[0].max_rel_diff(want));
        }
        eprintln!(
            "{act:>12}: {} bootstraps, {regions} regions not series-parallel; encrypted vs \
             cleartext ckks {vs_clear:.1e}, vs exact {vs_exact:.1e}",
            bootstraps(&module)
        );
        assert!(vs_clear < 1e-3, "{act}: vs cleartext ckks {vs_clear:.2e}");
        assert!(vs_exact < 2e-2, "{act}: vs exact {vs_exact:.2e}");
    }
}
