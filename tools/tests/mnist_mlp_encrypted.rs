//! End to end on the MNIST MLP: ONNX -> `--lower-to-ckks` -> encrypted run on
//! 100 real test images, against tract's cleartext inference of the same file.
//!
//! Bounds: the encrypted logits stay within 1e-2 of the largest |logit|
//! (relative), and every predicted class equals tract's. Scale 2^26 leaves
//! about 12 bits after the five levels, so 1e-2 has a wide margin.

use orion_compiler::PassOptions;
use orion_runtime::interp::{RunOptions, Session};

mod common;
use common::{compile, Reference};

const IMAGES: usize = 100;

#[test]
fn encrypted_mlp_matches_tract_on_100_images() {
    let module = compile("examples/mnist-mlp/mlp.onnx", &PassOptions::default());
    let reference = Reference::new("examples/mnist-mlp/mlp.onnx");
    let mut session = Session::new(
        &module,
        &RunOptions {
            seed: Some(7),
            progress: false,
            ..RunOptions::default()
        },
    )
    .unwrap();
    let (mut worst, mut correct_clear, mut correct_enc) = (0f64, 0, 0);
    for i in 0..IMAGES {
        let sample = reference.sample(i);
        let (outs, _) = session.run(&module, &[sample.image]).unwrap();
        let (enc, clear) = (&outs[0], &sample.clear);
        let err = enc.max_rel_diff(clear);
        worst = worst.max(err);
        assert_eq!(
            enc.argmax(),
            clear.argmax(),
            "image {i}: encrypted class differs from tract's (rel err {err:.2e})"
        );
        correct_clear += (clear.argmax() == sample.label) as usize;
        correct_enc += (enc.argmax() == sample.label) as usize;
    }
    eprintln!(
        "{IMAGES} images: max logit error relative to the largest |logit| {worst:.2e}; \
         accuracy encrypted {correct_enc}/{IMAGES}, tract {correct_clear}/{IMAGES}"
    );
    assert!(
        worst < 1e-2,
        "max relative logit error {worst:.2e} exceeds 1e-2"
    );
    assert_eq!(correct_enc, correct_clear);
}
