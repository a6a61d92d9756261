//! End to end on the MNIST MLP: ONNX -> `--lower-to-ckks` -> encrypted run on
//! 100 real test images, against tract's cleartext inference of the same file.
//!
//! Bounds: the encrypted logits stay within 1e-2 of the largest |logit|
//! (relative), and every predicted class equals tract's. Scale 2^26 leaves
//! about 12 bits after the five levels, so 1e-2 has a wide margin.

use orion_compiler::passes::LOWER_TO_CKKS;
use orion_compiler::{import_onnx_file, PassManager, PassOptions};
use orion_dialects::tensor::Tensor;
use orion_runtime::interp::{RunOptions, Session};
use std::path::PathBuf;
use std::sync::Arc;
use tract_onnx::prelude::*;

const IMAGES: usize = 100;

fn example(path: &str) -> PathBuf {
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

#[test]
fn encrypted_mlp_matches_tract_on_100_images() {
    let onnx = example("examples/mnist-mlp/mlp.onnx");
    let mut module = import_onnx_file(&onnx).unwrap();
    let mut pm = PassManager::new();
    for pass in LOWER_TO_CKKS {
        pm.add_by_name(pass, &PassOptions::default()).unwrap();
    }
    pm.run(&mut module, |_, _| {}).unwrap();

    let tract: Arc<TypedRunnableModel> = tract_onnx::onnx()
        .model_for_path(&onnx)
        .unwrap()
        .into_optimized()
        .unwrap()
        .into_runnable()
        .unwrap();
    let pixels = idx_payload("examples/data/mnist-test-1000-images-idx3-ubyte", 3, 16);
    let labels = idx_payload("examples/data/mnist-test-1000-labels-idx1-ubyte", 1, 8);

    let mut session = Session::new(
        &module,
        &RunOptions {
            seed: Some(7),
            progress: false,
        },
    )
    .unwrap();
    let (mut worst, mut correct_clear, mut correct_enc) = (0f64, 0, 0);
    for i in 0..IMAGES {
        let data: Vec<f32> = pixels[i * 784..(i + 1) * 784]
            .iter()
            .map(|&p| (p as f32 / 255.0 - 0.1307) / 0.3081)
            .collect();
        let input = tract_ndarray::Array4::from_shape_vec((1, 1, 28, 28), data.clone()).unwrap();
        let out = tract.run(tvec!(input.into_tensor().into())).unwrap();
        let clear = Tensor::new(
            vec![1, 10],
            out[0]
                .to_plain_array_view::<f32>()
                .unwrap()
                .iter()
                .map(|&v| v as f64)
                .collect(),
        );
        let image = Tensor::new(vec![1, 1, 28, 28], data.iter().map(|&v| v as f64).collect());
        let (outs, _) = session.run(&module, &[image]).unwrap();
        let enc = &outs[0];
        let err = enc.max_rel_diff(&clear);
        worst = worst.max(err);
        assert_eq!(
            enc.argmax(),
            clear.argmax(),
            "image {i}: encrypted class differs from tract's (rel err {err:.2e})"
        );
        correct_clear += (clear.argmax() == labels[i] as usize) as usize;
        correct_enc += (enc.argmax() == labels[i] as usize) as usize;
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
