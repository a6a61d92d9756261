//! The ReLU MLP (784-32-32-10, two approximated ReLUs of 14 levels each) on
//! the small bootstrapping parameters (N = 2^12, 16 levels between
//! bootstraps, INSECURE, for CI): `--lower-to-ckks` places bootstraps, the
//! runtime bootstraps, and the encrypted logits match the cleartext `ckks`
//! interpreter and tract's class on every image.

use orion_ckks::bootstrap::BootstrapKeys;
use orion_ckks::KeyGenerator;
use orion_compiler::PassOptions;
use orion_dialects::ckks::params::rotations_of_module;
use orion_dialects::ckks::{self, ParamsAttr};
use orion_runtime::interp::{bootstrap_params, module_context, RunOptions, Session, SessionKeys};

mod common;
use common::{bootstraps, compile, Reference};

const ONNX: &str = "examples/mnist-relu-mlp/mlp.onnx";
const IMAGES: usize = 4;

#[test]
fn relu_mlp_runs_encrypted_with_bootstraps() {
    let reference = Reference::new(ONNX);
    let opts = PassOptions {
        params: ParamsAttr::bootstrap_test(),
        calibration: (100..150).map(|i| reference.sample(i).image).collect(),
        ..PassOptions::default()
    };
    let module = compile(ONNX, &opts);
    let boots = bootstraps(&module);
    // The ReLUs' 1/B scalings fold into fc1 and fc2, so each ReLU takes 14
    // levels: fc1 + ReLU (15), then fc2 + ReLU + fc3 (16) after one refresh.
    assert_eq!(boots, 1, "bootstraps placed");
    let run_opts = RunOptions {
        seed: Some(11),
        progress: false,
        ..RunOptions::default()
    };
    let (ctx, params) = module_context(&module).unwrap();
    let keys = SessionKeys::generate(&module, &ctx, &run_opts).unwrap();
    // The program and the bootstrapper share one key per Galois element,
    // each stored up to the highest level it is used at: a step only the
    // network uses stops at the residual top, and all of them together are
    // smaller than whole-chain keys (bootstrapping's primes included).
    let galois = keys.galois.as_ref().expect("the MLP rotates");
    let steps = galois.steps();
    let (log_slots, _) = keys.bootstrap.as_ref().expect("the MLP bootstraps");
    let bp = bootstrap_params(&params)
        .unwrap()
        .with_log_slots(*log_slots);
    let circuit_steps = BootstrapKeys::rotation_steps(&ctx, &bp).unwrap();
    let slots = ctx.slots();
    let network_only: Vec<i64> = rotations_of_module(&module)
        .into_iter()
        .filter(|s| !circuit_steps.contains(&s.rem_euclid(slots as i64)))
        .collect();
    assert!(!network_only.is_empty());
    for &s in &network_only {
        let top = galois
            .top_level(s, slots)
            .expect("a key for every recorded step");
        assert!(
            top.is_some_and(|t| t <= params.max_level()),
            "step {s}: {top:?}"
        );
    }
    let sk = keys.secret.as_ref().unwrap();
    let whole_chain_key = KeyGenerator::with_seed(&ctx, 1)
        .gen_galois_keys(sk, &steps[..1])
        .unwrap()
        .size_bytes();
    let relin = keys.relin.as_ref().expect("the MLP relinearizes");
    eprintln!(
        "{} Galois keys ({} for the network alone, at levels <= {}; chain 0..={}): {} B \
         (whole chain: {} B); relinearization key {} B (whole chain {} B)",
        steps.len(),
        network_only.len(),
        params.max_level(),
        ctx.max_level(),
        galois.size_bytes(),
        whole_chain_key * steps.len(),
        relin.size_bytes(),
        whole_chain_key,
    );
    assert!(galois.size_bytes() < whole_chain_key * steps.len());
    assert!(relin.size_bytes() < whole_chain_key);
    let mut session = Session::from_keys(&module, &ctx, keys, &run_opts).unwrap();
    let mut worst_vs_clear_ckks = 0f64;
    let mut worst_vs_tract = 0f64;
    let mut correct = 0;
    for i in 0..IMAGES {
        let sample = reference.sample(i);
        let clear =
            &ckks::interp::interpret(&module, std::slice::from_ref(&sample.image)).unwrap()[0];
        let (outs, _) = session.run(&module, &[sample.image]).unwrap();
        let enc = &outs[0];
        worst_vs_clear_ckks = worst_vs_clear_ckks.max(enc.max_rel_diff(clear));
        worst_vs_tract = worst_vs_tract.max(enc.max_rel_diff(&sample.clear));
        assert_eq!(
            enc.argmax(),
            sample.clear.argmax(),
            "image {i}: class differs from tract's"
        );
        correct += usize::from(enc.argmax() == sample.label);
    }
    eprintln!(
        "{IMAGES} images, {boots} bootstraps each: max logit error relative to the largest |logit| \
         {worst_vs_clear_ckks:.2e} against the cleartext ckks program, {worst_vs_tract:.2e} against tract \
         (the ReLU approximation's own error); {correct}/{IMAGES} correct"
    );
    // Encryption and bootstrapping against the same polynomial program.
    assert!(worst_vs_clear_ckks < 1e-4, "{worst_vs_clear_ckks:.2e}");
    // The composite sign approximates ReLU to about 1e-3 of its range.
    assert!(worst_vs_tract < 2e-2, "{worst_vs_tract:.2e}");
}
