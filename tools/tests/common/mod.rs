//! Shared by the end-to-end tests: compile an example network with the
//! `--lower-to-ckks` pipeline, and pair real test images with tract's
//! cleartext logits of the same ONNX file.

// Each test uses one of the datasets.
#![allow(dead_code)]

use orion_compiler::passes::LOWER_TO_CKKS;
use orion_compiler::{import_onnx_file, PassManager, PassOptions};
use orion_dialects::tensor::Tensor;
use orion_dialects::Module;
use orion_tools::input_files::{read_values, IdxShape};
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

/// Number of `ckks.bootstrap` ops in `@main`.
pub fn bootstraps(module: &Module) -> usize {
    module
        .main()
        .unwrap()
        .body
        .iter()
        .filter(|o| o.name == "ckks.bootstrap")
        .count()
}

/// tract's inference of an ONNX example on committed test images (MNIST,
/// or Fashion-MNIST shaped for ResNet-20).
pub struct Reference {
    tract: Arc<TypedRunnableModel>,
    /// Normalised and shaped images, one input each.
    images: Vec<Vec<f64>>,
    shape: Vec<usize>,
    labels: Vec<u8>,
}

/// One test image: the normalised input, tract's logits and the label.
pub struct Sample {
    pub image: Tensor,
    pub clear: Tensor,
    pub label: usize,
}

impl Reference {
    /// On the MNIST test images (1x1x28x28).
    pub fn new(onnx: &str) -> Reference {
        Reference::on(onnx, "mnist", IdxShape::default(), vec![1, 1, 28, 28])
    }

    /// On the Fashion-MNIST test images padded and repeated into 1x3x32x32.
    pub fn fashion_resnet(onnx: &str) -> Reference {
        let shape = IdxShape {
            pad: 2,
            channels: 3,
        };
        Reference::on(onnx, "fashion", shape, vec![1, 3, 32, 32])
    }

    fn on(onnx: &str, set: &str, idx: IdxShape, shape: Vec<usize>) -> Reference {
        let images = format!("examples/data/{set}-test-1000-images-idx3-ubyte");
        let bytes = std::fs::read(example(&images)).unwrap();
        let (per, data) = read_values(&bytes, idx).unwrap();
        assert_eq!(per, Some(shape.iter().product()));
        Reference {
            tract: tract_onnx::onnx()
                .model_for_path(example(onnx))
                .unwrap()
                .into_optimized()
                .unwrap()
                .into_runnable()
                .unwrap(),
            images: data.chunks(per.unwrap()).map(<[f64]>::to_vec).collect(),
            shape,
            labels: idx_payload(
                &format!("examples/data/{set}-test-1000-labels-idx1-ubyte"),
                1,
                8,
            ),
        }
    }

    pub fn sample(&self, i: usize) -> Sample {
        let data: Vec<f32> = self.images[i].iter().map(|&v| v as f32).collect();
        let input =
            tract_ndarray::ArrayD::from_shape_vec(self.shape.clone(), data.clone()).unwrap();
        let out = self.tract.run(tvec!(input.into_tensor().into())).unwrap();
        let logits: Vec<f64> = out[0]
            .to_plain_array_view::<f32>()
            .unwrap()
            .iter()
            .map(|&v| v as f64)
            .collect();
        Sample {
            image: Tensor::new(self.shape.clone(), self.images[i].clone()),
            clear: Tensor::new(vec![1, logits.len()], logits),
            label: self.labels[i] as usize,
        }
    }
}
