//! The ReLU MLP (784-32-32-10, two approximated ReLUs of 14 levels each) on
//! the small bootstrapping parameters (N = 2^12, 16 levels between
//! bootstraps, INSECURE, for CI): `--lower-to-ckks` places bootstraps, the
//! runtime bootstraps, and the encrypted logits match the cleartext `ckks`
//! interpreter and tract's class on every image.

use orion_compiler::PassOptions;
use orion_dialects::ckks::{self, ParamsAttr};
use orion_runtime::interp::{RunOptions, Session};

mod common;
use common::{compile, Reference};

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
    let boots = module
        .main()
        .unwrap()
        .body
        .iter()
        .filter(|o| o.name == "ckks.bootstrap")
        .count();
    // The ReLUs' 1/B scalings fold into fc1 and fc2, so each ReLU takes 14
    // levels: fc1 + ReLU (15), then fc2 + ReLU + fc3 (16) after one refresh.
    assert_eq!(boots, 1, "bootstraps placed");
    let mut session = Session::new(
        &module,
        &RunOptions {
            seed: Some(11),
            progress: false,
        },
    )
    .unwrap();
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
