//! Shared by the end-to-end tests: compile an example network with the
//! `--lower-to-ckks` pipeline, and pair real MNIST test images with tract's
//! cleartext logits of the same ONNX file.

use orion_compiler::passes::LOWER_TO_CKKS;
use orion_compiler::{import_onnx_file, PassManager, PassOptions};
use orion_dialects::tensor::Tensor;
use orion_dialects::Module;
use std::path::PathBuf;
use std::sync::Arc;
use tract_onnx::prelude::*;

pub fn example(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
}

fn idx_payload(path: &str, magic: u8, header: usize) -> Vec<u8> {
    let bytes = std::fs::read(example(path)).unwrap();
    assert_eq!(
        bytes[3], magic,
        "{path} is not an IDX file of the expected kind"
    );
    bytes[header..].to_vec()
}

/// The example at `onnx` (a path under the repo) through `--lower-to-ckks`.
pub fn compile(onnx: &str, opts: &PassOptions) -> Module {
    let mut module = import_onnx_file(&example(onnx)).unwrap();
    let mut pm = PassManager::new();
    for pass in LOWER_TO_CKKS {
        pm.add_by_name(pass, opts).unwrap();
    }
    pm.run(&mut module, |_, _| {}).unwrap();
    module
}

/// tract's inference of an ONNX example on the committed MNIST test images.
pub struct Reference {
    tract: Arc<TypedRunnableModel>,
    pixels: Vec<u8>,
    labels: Vec<u8>,
}

/// One test image: the normalised input, tract's logits and the label.
pub struct Sample {
    pub image: Tensor,
    pub clear: Tensor,
    pub label: usize,
}

impl Reference {
    pub fn new(onnx: &str) -> Reference {
        Reference {
            tract: tract_onnx::onnx()
                .model_for_path(example(onnx))
                .unwrap()
                .into_optimized()
                .unwrap()
                .into_runnable()
                .unwrap(),
            pixels: idx_payload("examples/data/mnist-test-1000-images-idx3-ubyte", 3, 16),
            labels: idx_payload("examples/data/mnist-test-1000-labels-idx1-ubyte", 1, 8),
        }
    }

    pub fn sample(&self, i: usize) -> Sample {
        let data: Vec<f32> = self.pixels[i * 784..(i + 1) * 784]
            .iter()
            .map(|&p| (p as f32 / 255.0 - 0.1307) / 0.3081)
            .collect();
        let input = tract_ndarray::Array4::from_shape_vec((1, 1, 28, 28), data.clone()).unwrap();
        let out = self.tract.run(tvec!(input.into_tensor().into())).unwrap();
        let logits: Vec<f64> = out[0]
            .to_plain_array_view::<f32>()
            .unwrap()
            .iter()
            .map(|&v| v as f64)
            .collect();
        Sample {
            image: Tensor::new(vec![1, 1, 28, 28], data.iter().map(|&v| v as f64).collect()),
            clear: Tensor::new(vec![1, logits.len()], logits),
            label: self.labels[i] as usize,
        }
    }
}
