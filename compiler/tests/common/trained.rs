//! Checks shared by the trained example networks (ResNet-20, MobileNetV2,
//! the Inception-style net): the activation approximations keep tract's
//! accuracy, and the `pack` interpreter computes what the `nn` interpreter
//! computes with the same approximations.

use super::{example, tract_logits};
use orion_compiler::{import_onnx_file, PassManager, PassOptions};
use orion_dialects::tensor::Tensor;
use orion_dialects::{ckks::ParamsAttr, nn, pack, Module};
use tract_onnx::prelude::*;

/// A trained example: its ONNX file, and test images with their labels.
pub struct Trained {
    pub name: &'static str,
    pub onnx: &'static str,
    pub images: fn(std::ops::Range<usize>) -> Vec<Tensor>,
    pub labels: fn() -> Vec<u8>,
}

fn run_passes(module: &mut Module, passes: &[&str], opts: &PassOptions) {
    let mut pm = PassManager::new();
    for p in passes {
        pm.add_by_name(p, opts).unwrap();
    }
    pm.run(module, |_, _| {}).unwrap();
}

impl Trained {
    /// 2^15 slots, calibrated on images 900..1000, which no check measures.
    fn options(&self) -> PassOptions {
        PassOptions {
            params: ParamsAttr::resnet_bootstrapped(),
            calibration: (self.images)(900..1000),
            ..PassOptions::default()
        }
    }

    /// The network after the nn passes: activations approximated.
    pub fn approximated(&self) -> Module {
        let mut m = import_onnx_file(&example(self.onnx)).unwrap();
        run_passes(
            &mut m,
            &[
                "fuse-activations",
                "canonicalize",
                "expand-maxpool",
                "calibrate",
                "approximate-activations",
            ],
            &self.options(),
        );
        m
    }

    /// Accuracy of tract and of the approximated network on the first
    /// `images` test images, which must differ by at most `points`.
    pub fn check_accuracy(&self, images: usize, points: f64) {
        let model = tract_onnx::onnx()
            .model_for_path(example(self.onnx))
            .unwrap()
            .into_optimized()
            .unwrap()
            .into_runnable()
            .unwrap();
        let approx = self.approximated();
        let labels = (self.labels)();
        let (mut tract_ok, mut approx_ok, mut agree) = (0, 0, 0);
        for (i, image) in (self.images)(0..images).into_iter().enumerate() {
            let want = tract_logits(&model, &image);
            let got = &nn::interpret(&approx, std::slice::from_ref(&image)).unwrap()[0];
            tract_ok += usize::from(want.argmax() == labels[i] as usize);
            approx_ok += usize::from(got.argmax() == labels[i] as usize);
            agree += usize::from(got.argmax() == want.argmax());
        }
        let percent = |n: usize| 100.0 * n as f64 / images as f64;
        let (t, a) = (percent(tract_ok), percent(approx_ok));
        eprintln!(
            "{} on {images} test images: tract {t:.2}%, with the approximations {a:.2}% \
             ({agree}/{images} same class)",
            self.name
        );
        assert!(
            (t - a).abs() <= points,
            "{}: accuracy with approximations {a:.2}% vs tract {t:.2}% (bound {points} points)",
            self.name
        );
    }

    /// The pack interpreter against the nn one on the first `images` test
    /// images: relative logit error below 1e-4.
    pub fn check_pack(&self, images: usize) {
        let approx = self.approximated();
        let mut packed = approx.clone();
        run_passes(&mut packed, &["pack"], &self.options());
        orion_dialects::verify::verify_module(&packed).unwrap();
        let images_in: Vec<Vec<Tensor>> = (self.images)(0..images)
            .into_iter()
            .map(|x| vec![x])
            .collect();
        // One batch: each layer's plan is built once for all the images.
        let packed_out = pack::interp::interpret_batch(&packed, &images_in).unwrap();
        let mut worst = 0f64;
        for (image, got) in images_in.iter().zip(&packed_out) {
            let want = &nn::interpret(&approx, image).unwrap()[0];
            worst = worst.max(got[0].max_rel_diff(want));
        }
        eprintln!(
            "{} pack vs nn (same approximations): max relative logit error {worst:.2e} over {images} images",
            self.name
        );
        assert!(worst < 1e-4, "{}: pack vs nn {worst:.2e}", self.name);
    }
}
