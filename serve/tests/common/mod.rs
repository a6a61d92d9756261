//! What the serving tests share: the two example programs (compiled once),
//! MNIST test images, key sets, and servers on loopback.

#![allow(dead_code)]

use std::path::Path;
use std::sync::{Arc, OnceLock};

use orion_compiler::compile::{compile_onnx, CompileOptions, Preset};
use orion_dialects::tensor::Tensor;
use orion_runtime::{Client, Program, RunOptions};
use orion_serve::admission::Limits;
use orion_serve::service::ServeConfig;
use orion_serve::store::KeyStore;

pub const MLP: &str = "mlp";
pub const RELU: &str = "relu-mlp";

fn repo(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// MNIST test images `first..first+count`, normalised as the examples
/// were trained: (p / 255 - 0.1307) / 0.3081, shaped [1, 1, 28, 28].
pub fn images(first: usize, count: usize) -> Vec<Tensor> {
    let raw = std::fs::read(repo("examples/data/mnist-test-1000-images-idx3-ubyte")).unwrap();
    (first..first + count)
        .map(|i| {
            let px = &raw[16 + i * 784..16 + (i + 1) * 784];
            Tensor::new(
                vec![1, 1, 28, 28],
                px.iter()
                    .map(|&p| (p as f64 / 255.0 - 0.1307) / 0.3081)
                    .collect(),
            )
        })
        .collect()
}

fn compile(onnx: &str, opts: CompileOptions, name: &str) -> Arc<Program> {
    let bytes = std::fs::read(repo(onnx)).unwrap();
    let out = compile_onnx(&bytes, None, &opts).unwrap();
    Arc::new(Program::from_module(out.ckks, name).unwrap())
}

/// The MNIST MLP (x^2 activations) at the mnist-mlp parameters.
pub fn mlp() -> Arc<Program> {
    static P: OnceLock<Arc<Program>> = OnceLock::new();
    P.get_or_init(|| {
        compile(
            "examples/mnist-mlp/mlp.onnx",
            CompileOptions::for_preset(Preset::MnistMlp),
            MLP,
        )
    })
    .clone()
}

/// The ReLU MLP with one bootstrap, at the small insecure test parameters.
pub fn relu_mlp() -> Arc<Program> {
    static P: OnceLock<Arc<Program>> = OnceLock::new();
    P.get_or_init(|| {
        let opts =
            CompileOptions::for_preset(Preset::BootstrapTest).with_calibration(images(100, 50));
        compile("examples/mnist-relu-mlp/mlp.onnx", opts, RELU)
    })
    .clone()
}

/// A key set for `program`, seeded.
pub fn client(program: &Arc<Program>, seed: u64) -> Client {
    let opts = RunOptions {
        seed: Some(seed),
        ..RunOptions::default()
    };
    Client::keygen(program.clone(), &opts).unwrap()
}

/// Uploads `client`'s evaluation keys for `model`; the key id.
pub async fn upload(
    remote: &mut orion_serve::client::RemoteClient,
    model: &str,
    client: &Client,
) -> String {
    remote
        .upload_keys(model, &client.evaluation_key_bytes().unwrap())
        .await
        .unwrap()
        .key_id
}

/// A server configuration with both programs, generous limits.
pub fn config(store: KeyStore) -> ServeConfig {
    ServeConfig {
        models: vec![(MLP.into(), mlp()), (RELU.into(), relu_mlp())],
        store,
        key_cache_bytes: 4 << 30,
        plaintext_cache_bytes: 64 << 20,
        limits: Limits {
            max_concurrent: 2,
            max_queue: 16,
            memory_budget: 8 << 30,
        },
        max_key_bytes: 1 << 30,
        max_ciphertext_bytes: 64 << 20,
    }
}
