//! ResNet-20 (examples/resnet20, trained on Fashion-MNIST padded to 32x32x3)
//! at 2^15 slots: the ReLU approximations keep tract's accuracy, and the
//! `pack` interpreter computes what the `nn` interpreter computes with the
//! same approximations. The full-size runs (1000 and 100 images) are
//! `--ignored`; the default run checks fewer images.

mod common;

use common::{example, fashion_images, fashion_labels, tract_logits};
use orion_compiler::{import_onnx_file, PassManager, PassOptions};
use orion_dialects::{ckks::ParamsAttr, nn, pack, Module};
use tract_onnx::prelude::*;

const ONNX: &str = "examples/resnet20/resnet20.onnx";

fn run_passes(module: &mut Module, passes: &[&str], opts: &PassOptions) {
    let mut pm = PassManager::new();
    for p in passes {
        pm.add_by_name(p, opts).unwrap();
    }
    pm.run(module, |_, _| {}).unwrap();
}

fn options() -> PassOptions {
    PassOptions {
        params: ParamsAttr::resnet_bootstrapped(),
        // Calibrated on images the accuracy is not measured on.
        calibration: fashion_images(900..1000),
        ..PassOptions::default()
    }
}

/// The network after `calibrate` and `approximate-activations`.
fn approximated() -> Module {
    let mut m = import_onnx_file(&example(ONNX)).unwrap();
    run_passes(
        &mut m,
        &["canonicalize", "calibrate", "approximate-activations"],
        &options(),
    );
    m
}

fn accuracy_with_approximations(images: usize) {
    let model = tract_onnx::onnx()
        .model_for_path(example(ONNX))
        .unwrap()
        .into_optimized()
        .unwrap()
        .into_runnable()
        .unwrap();
    let approx = approximated();
    let labels = fashion_labels();
    let (mut tract_ok, mut approx_ok, mut agree) = (0, 0, 0);
    for (i, image) in fashion_images(0..images).into_iter().enumerate() {
        let want = tract_logits(&model, &image);
        let got = &nn::interpret(&approx, std::slice::from_ref(&image)).unwrap()[0];
        tract_ok += usize::from(want.argmax() == labels[i] as usize);
        approx_ok += usize::from(got.argmax() == labels[i] as usize);
        agree += usize::from(got.argmax() == want.argmax());
    }
    let (t, a) = (
        100.0 * tract_ok as f64 / images as f64,
        100.0 * approx_ok as f64 / images as f64,
    );
    eprintln!(
        "ResNet-20 on {images} Fashion-MNIST test images: tract {t:.2}%, with the ReLU approximations {a:.2}% \
         ({agree}/{images} same class)"
    );
    assert!(
        (t - a).abs() <= 0.5,
        "accuracy with approximations {a:.2}% vs tract {t:.2}%"
    );
}

#[test]
fn approximations_keep_the_accuracy_on_200_images() {
    accuracy_with_approximations(200);
}

#[test]
#[ignore = "1000 images through the f64 nn interpreter; run with --ignored"]
fn approximations_keep_the_accuracy_on_1000_images() {
    accuracy_with_approximations(1000);
}

fn pack_agrees_with_nn(images: usize) {
    let approx = approximated();
    let mut packed = approx.clone();
    run_passes(&mut packed, &["pack"], &options());
    orion_dialects::verify::verify_module(&packed).unwrap();
    let mut worst = 0f64;
    for image in fashion_images(0..images) {
        let want = &nn::interpret(&approx, std::slice::from_ref(&image)).unwrap()[0];
        let got = &pack::interpret(&packed, std::slice::from_ref(&image)).unwrap()[0];
        worst = worst.max(got.max_rel_diff(want));
    }
    eprintln!("ResNet-20 pack vs nn (same approximations): max relative logit error {worst:.2e} over {images} images");
    assert!(worst < 1e-4, "pack vs nn: {worst:.2e}");
}

#[test]
fn pack_agrees_with_nn_on_5_images() {
    pack_agrees_with_nn(5);
}

#[test]
#[ignore = "100 images through the pack interpreter at 2^15 slots; run with --ignored"]
fn pack_agrees_with_nn_on_100_images() {
    pack_agrees_with_nn(100);
}
