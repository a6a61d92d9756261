//! A convolutional network whose activations span two ciphertexts (issue
//! 11) runs encrypted with bootstraps: at the small bootstrapping
//! parameters (N = 2^12, 2048 slots, 16 levels, INSECURE, for CI) a
//! 4x32x32 input and the 16x16x16 activations after a stride-2 conv (gap
//! 2: four 32x32 planes, two per ciphertext) take two ciphertexts each;
//! eight conv + activation layers need more levels than there are, so
//! place-bootstraps refreshes both ciphertexts of a layer at once. The
//! decrypted logits match the cleartext `ckks` program and the `nn`
//! interpreter.

#[path = "../../compiler/tests/conv_nets/mod.rs"]
mod conv_nets;

use conv_nets::{conv_attrs, Lcg, Net};
use orion_compiler::passes::LOWER_TO_CKKS;
use orion_compiler::{PassManager, PassOptions};
use orion_dialects::ckks::ParamsAttr;
use orion_dialects::pack::VecLayout;
use orion_dialects::{ckks, nn, Module};
use orion_runtime::interp::{RunOptions, Session};

const SHAPE: [usize; 4] = [1, 4, 32, 32];

fn run(module: &mut Module, passes: &[&str], opts: &PassOptions) {
    let mut pm = PassManager::new();
    for p in passes {
        pm.add_by_name(p, opts).unwrap();
    }
    pm.run(module, |_, _| {}).unwrap_or_else(|e| panic!("{e}"));
}

fn network() -> Module {
    let (mut net, x) = Net::new(&SHAPE, 21);
    let mut h = net.conv("/down/Conv", x, 16, [3, 3], conv_attrs([2, 2], [1; 4]));
    for i in 0..8 {
        let c = net.conv(
            &format!("/conv{i}/Conv"),
            h,
            16,
            [3, 3],
            conv_attrs([1, 1], [1; 4]),
        );
        let a = net.act(&format!("/act{i}"), c);
        h = if i % 2 == 1 {
            net.add(&format!("/add{i}"), h, a)
        } else {
            a
        };
    }
    let g = net.global_avgpool("/gap/GlobalAveragePool", h);
    let f = net.flatten("/flatten", g);
    let y = net.gemm("/fc/Gemm", f, 10);
    net.finish(&[y])
}

#[test]
fn activations_over_two_ciphertexts_run_encrypted_with_bootstraps() {
    let model = network();
    let opts = PassOptions {
        params: ParamsAttr::bootstrap_test(),
        calibration: (0..8).map(|s| Lcg::new(500 + s).tensor(&SHAPE)).collect(),
        ..PassOptions::default()
    };
    // Up to place-bootstraps, to see which layouts are refreshed; then the rest.
    let split = LOWER_TO_CKKS
        .iter()
        .position(|&p| p == "lower-to-ckks")
        .unwrap();
    let mut module = model.clone();
    run(&mut module, &LOWER_TO_CKKS[..split], &opts);
    let packed = module.main().unwrap();
    let refreshed: Vec<usize> = packed
        .body
        .iter()
        .filter(|o| o.name == "pack.bootstrap")
        .map(|o| {
            VecLayout::from_type(packed.ty(o.result()))
                .unwrap()
                .blocks()
        })
        .collect();
    eprintln!("bootstraps of layouts of {refreshed:?} ciphertexts");
    assert!(
        refreshed.contains(&2),
        "a two-ciphertext layer is bootstrapped"
    );
    run(&mut module, &LOWER_TO_CKKS[split..], &opts);
    let boots = module
        .main()
        .unwrap()
        .body
        .iter()
        .filter(|o| o.name == "ckks.bootstrap")
        .count();
    assert_eq!(boots, refreshed.iter().sum::<usize>(), "one per ciphertext");
    let mut session = Session::new(
        &module,
        &RunOptions {
            seed: Some(7),
            progress: false,
            ..RunOptions::default()
        },
    )
    .unwrap();
    let mut worst = (0f64, 0f64);
    for seed in 0..2 {
        let x = Lcg::new(900 + seed).tensor(&SHAPE);
        let x = std::slice::from_ref(&x);
        let want = &nn::interpret(&model, x).unwrap()[0];
        let clear = &ckks::interp::interpret(&module, x).unwrap()[0];
        let (outs, _) = session.run(&module, x).unwrap();
        worst.0 = worst.0.max(outs[0].max_rel_diff(clear));
        worst.1 = worst.1.max(outs[0].max_rel_diff(want));
    }
    eprintln!(
        "encrypted vs cleartext ckks {:.2e}, vs nn {:.2e} (of the largest output)",
        worst.0, worst.1
    );
    // Measured 1.5e-8 of the largest output (small values, scale 2^40).
    assert!(worst.0 < 1e-5, "encrypted vs ckks: {}", worst.0);
    assert!(worst.1 < 1e-5, "encrypted vs nn: {}", worst.1);
}
