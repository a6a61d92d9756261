//! The trained CIFAR ResNet-18 (examples/resnet18-cifar: 64 channels at
//! 32x32, so its stem and first stage span two ciphertexts of 2^15 slots;
//! Fashion-MNIST padded to 32x32x3): the ReLU approximations keep tract's
//! accuracy within 0.5 points on 1000 test images, and the `pack`
//! interpreter computes what the `nn` interpreter computes with the same
//! approximations (1e-4 relative) on 100. Both are `--ignored`: 11 M
//! weights through the f64 interpreters take minutes (figures in the
//! example's README); CI covers the same layouts on a random-weight
//! ResNet-18 in `pack_multi_ciphertext.rs`.

mod common;

use common::trained::Trained;
use common::{fashion_images, fashion_labels};

const RESNET18: Trained = Trained {
    name: "CIFAR ResNet-18",
    onnx: "examples/resnet18-cifar/resnet18.onnx",
    images: fashion_images,
    labels: fashion_labels,
};

#[test]
#[ignore = "1000 images of a 0.56 GFLOP network through the f64 nn interpreter; run with --ignored"]
fn resnet18_approximations_keep_the_accuracy_on_1000_images() {
    RESNET18.check_accuracy(1000, 0.5);
}

#[test]
#[ignore = "100 images through the nn and pack interpreters; run with --ignored"]
fn resnet18_pack_agrees_with_nn_on_100_images() {
    RESNET18.check_pack(100);
}
