//! ResNet-20 (examples/resnet20, trained on Fashion-MNIST padded to 32x32x3)
//! at 2^15 slots: the ReLU approximations keep tract's accuracy (within 0.5
//! points), and the `pack` interpreter computes what the `nn` interpreter
//! computes with the same approximations. The full-size runs (1000 and 100
//! images) are `--ignored`; the default run checks fewer images.

mod common;

use common::trained::Trained;
use common::{fashion_images, fashion_labels};

const RESNET20: Trained = Trained {
    name: "ResNet-20",
    onnx: "examples/resnet20/resnet20.onnx",
    images: fashion_images,
    labels: fashion_labels,
};

#[test]
fn approximations_keep_the_accuracy_on_200_images() {
    RESNET20.check_accuracy(200, 0.5);
}

#[test]
#[ignore = "1000 images through the f64 nn interpreter; run with --ignored"]
fn approximations_keep_the_accuracy_on_1000_images() {
    RESNET20.check_accuracy(1000, 0.5);
}

#[test]
fn pack_agrees_with_nn_on_5_images() {
    RESNET20.check_pack(5);
}

#[test]
#[ignore = "100 images through the pack interpreter at 2^15 slots; run with --ignored"]
fn pack_agrees_with_nn_on_100_images() {
    RESNET20.check_pack(100);
}
