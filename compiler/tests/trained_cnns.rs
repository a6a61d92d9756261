//! MobileNetV2 (examples/mobilenetv2: inverted residuals, depthwise convs,
//! ReLU6; Fashion-MNIST padded to 32x32x3) and a small Inception-style
//! network (examples/inception: Concat of 1x1, 3x3, double-3x3 and max-pool
//! branches, MaxPool between blocks; MNIST) at 2^15 slots: the activation
//! and max approximations keep tract's accuracy within 1 point, and the
//! `pack` interpreter computes what the `nn` interpreter computes with the
//! same approximations. The 1000-image runs are `--ignored` (the figures
//! are in the examples' READMEs); the default run checks 100 images.

mod common;

use common::trained::Trained;
use common::{fashion_images, fashion_labels, mnist_images, mnist_labels};

const MOBILENETV2: Trained = Trained {
    name: "MobileNetV2",
    onnx: "examples/mobilenetv2/mobilenetv2.onnx",
    images: fashion_images,
    labels: fashion_labels,
};

const INCEPTION: Trained = Trained {
    name: "Inception",
    onnx: "examples/inception/inception.onnx",
    images: mnist_images,
    labels: mnist_labels,
};

#[test]
fn mobilenetv2_approximations_keep_the_accuracy_on_100_images() {
    MOBILENETV2.check_accuracy(100, 1.0);
}

#[test]
#[ignore = "1000 images through the f64 nn interpreter; run with --ignored"]
fn mobilenetv2_approximations_keep_the_accuracy_on_1000_images() {
    MOBILENETV2.check_accuracy(1000, 1.0);
}

#[test]
fn mobilenetv2_pack_agrees_with_nn_on_2_images() {
    MOBILENETV2.check_pack(2);
}

#[test]
fn inception_approximations_keep_the_accuracy_on_100_images() {
    INCEPTION.check_accuracy(100, 1.0);
}

#[test]
#[ignore = "1000 images through the f64 nn interpreter; run with --ignored"]
fn inception_approximations_keep_the_accuracy_on_1000_images() {
    INCEPTION.check_accuracy(1000, 1.0);
}

#[test]
fn inception_pack_agrees_with_nn_on_2_images() {
    INCEPTION.check_pack(2);
}
