//! A dense network over several ciphertexts per layer (1600 -> 700 -> 300
//! -> 600 at 512 slots: the input in 4 ciphertexts, the output in 2) runs
//! encrypted: one encryption per input block, block-matrix products, and a
//! decryption that gathers the output's blocks. The encrypted result
//! matches the `nn` interpreter. LogN 10 with LeNet-5's 11 levels is INSECURE: a test
//! of the mechanism only.

#[path = "../../compiler/tests/conv_nets/mod.rs"]
mod conv_nets;

use conv_nets::{block_test_params, wide_mlp, Lcg};
use orion_compiler::passes::LOWER_TO_CKKS;
use orion_compiler::{PassManager, PassOptions};
use orion_dialects::nn;
use orion_runtime::interp::{RunOptions, Session};

#[test]
fn a_network_over_several_ciphertexts_per_layer_runs_encrypted() {
    let model = wide_mlp();
    let opts = PassOptions {
        params: block_test_params(),
        ..PassOptions::default()
    };
    let mut module = model.clone();
    let mut pm = PassManager::new();
    for p in LOWER_TO_CKKS {
        pm.add_by_name(p, &opts).unwrap();
    }
    pm.run(&mut module, |_, _| {}).unwrap();
    let mut session = Session::new(
        &module,
        &RunOptions {
            seed: Some(3),
            ..RunOptions::default()
        },
    )
    .unwrap();
    for seed in 0..2 {
        let x = Lcg::new(100 + seed).tensor(&[1, 1, 40, 40]);
        let want = &nn::interpret(&model, std::slice::from_ref(&x)).unwrap()[0];
        let (outs, _) = session.run(&module, std::slice::from_ref(&x)).unwrap();
        let rel = outs[0].max_rel_diff(want);
        eprintln!("input {seed}: encrypted vs nn, max relative error {rel:.2e}");
        // Scale 2^28, 7 levels down: measured 1.6e-5 of the largest output.
        assert!(rel < 1e-3, "input {seed}: {rel}");
    }
}
