//! End to end on LeNet-5 with x^2 activations: ONNX -> `--lower-to-ckks`
//! (preset `lenet5`: log N = 14, 11 levels, no bootstrapping) -> encrypted
//! run on real MNIST test images, against tract's cleartext inference.
//!
//! Convolutions and average pools are packed as sparse linear maps on the
//! 1-D replicated layout. Bounds: every predicted class equals tract's, and
//! the encrypted logits stay within 1e-2 of the largest |logit| (relative).
//!
//! The default test runs a few images (the encrypted network takes seconds
//! per image on two cores); the 100 images run with
//! `cargo test --release -p orion-tools --test lenet5_square_encrypted -- --ignored`.

use orion_compiler::PassOptions;
use orion_dialects::ckks::params::LENET5_OUTPUT_BOUND;
use orion_dialects::ckks::ParamsAttr;
use orion_runtime::interp::{RunOptions, Session};
use std::time::Instant;

mod common;
use common::{compile, Reference};

fn encrypted_lenet5_matches_tract(images: usize) {
    let onnx = "examples/mnist-lenet5/lenet5-square.onnx";
    let start = Instant::now();
    let opts = PassOptions {
        params: ParamsAttr::lenet5_square(),
        output_bound: LENET5_OUTPUT_BOUND,
        ..PassOptions::default()
    };
    let module = compile(onnx, &opts);
    let compile = start.elapsed();
    let reference = Reference::new(onnx);

    let start = Instant::now();
    let mut session = Session::new(
        &module,
        &RunOptions {
            seed: Some(7),
            progress: false,
            ..RunOptions::default()
        },
    )
    .unwrap();
    let keygen = start.elapsed();
    let prepare = session.prepare(&module).unwrap();
    eprintln!(
        "lenet5-square: compile {compile:.2?}, keygen {keygen:.2?}, plaintext encoding {prepare:.2?} ({} plaintexts)",
        session.cached_plaintexts()
    );
    let (mut worst, mut correct_clear, mut correct_enc) = (0f64, 0, 0);
    let mut latencies = Vec::new();
    for i in 0..images {
        let sample = reference.sample(i);
        let (image, clear, label) = (sample.image, sample.clear, sample.label);
        let start = Instant::now();
        let (outs, _) = session.run(&module, &[image]).unwrap();
        let latency = start.elapsed();
        latencies.push(latency);
        let enc = &outs[0];
        let err = enc.max_rel_diff(&clear);
        eprintln!(
            "image {i}: {latency:.2?}, class {} (tract {}, label {}), relative logit error {err:.2e}, {} cached plaintexts",
            enc.argmax(),
            clear.argmax(),
            label,
            session.cached_plaintexts()
        );
        worst = worst.max(err);
        assert_eq!(
            enc.argmax(),
            clear.argmax(),
            "image {i}: encrypted class differs from tract's (rel err {err:.2e})"
        );
        correct_clear += (clear.argmax() == label) as usize;
        correct_enc += (enc.argmax() == label) as usize;
    }
    latencies.sort();
    eprintln!(
        "{images} images: median latency {:.2?}; max logit error relative to the largest |logit| {worst:.2e}; \
         accuracy encrypted {correct_enc}/{images}, tract {correct_clear}/{images}",
        latencies[latencies.len() / 2]
    );
    assert!(
        worst < 1e-2,
        "max relative logit error {worst:.2e} exceeds 1e-2"
    );
    assert_eq!(correct_enc, correct_clear);
}

#[test]
fn encrypted_lenet5_square_matches_tract() {
    encrypted_lenet5_matches_tract(3);
}

#[test]
#[ignore = "100 encrypted LeNet-5 inferences take minutes; run with --ignored"]
fn encrypted_lenet5_square_matches_tract_on_100_images() {
    encrypted_lenet5_matches_tract(100);
}
