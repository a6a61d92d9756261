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

use orion_compiler::passes::LOWER_TO_CKKS;
use orion_compiler::{import_onnx_file, PassManager, PassOptions};
use orion_dialects::ckks::params::LENET5_OUTPUT_BOUND;
use orion_dialects::ckks::ParamsAttr;
use orion_dialects::tensor::Tensor;
use orion_runtime::interp::{RunOptions, Session};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use tract_onnx::prelude::*;

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

fn encrypted_lenet5_matches_tract(images: usize) {
    let onnx = example("examples/mnist-lenet5/lenet5-square.onnx");
    let start = Instant::now();
    let mut module = import_onnx_file(&onnx).unwrap();
    let opts = PassOptions {
        params: ParamsAttr::lenet5_square(),
        output_bound: LENET5_OUTPUT_BOUND,
        ..PassOptions::default()
    };
    let mut pm = PassManager::new();
    for pass in LOWER_TO_CKKS {
        pm.add_by_name(pass, &opts).unwrap();
    }
    pm.run(&mut module, |_, _| {}).unwrap();
    let compile = start.elapsed();

    let tract: Arc<TypedRunnableModel> = tract_onnx::onnx()
        .model_for_path(&onnx)
        .unwrap()
        .into_optimized()
        .unwrap()
        .into_runnable()
        .unwrap();
    let pixels = idx_payload("examples/data/mnist-test-1000-images-idx3-ubyte", 3, 16);
    let labels = idx_payload("examples/data/mnist-test-1000-labels-idx1-ubyte", 1, 8);

    let start = Instant::now();
    let mut session = Session::new(
        &module,
        &RunOptions {
            seed: Some(7),
            progress: false,
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
            labels[i],
            session.cached_plaintexts()
        );
        worst = worst.max(err);
        assert_eq!(
            enc.argmax(),
            clear.argmax(),
            "image {i}: encrypted class differs from tract's (rel err {err:.2e})"
        );
        correct_clear += (clear.argmax() == labels[i] as usize) as usize;
        correct_enc += (enc.argmax() == labels[i] as usize) as usize;
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
