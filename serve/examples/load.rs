//! A bounded load test of orion-serve on loopback, MNIST MLP: requests per
//! second and p50 / p99 latency at 1, 2 and 4 concurrent clients, and the
//! overhead of the service against evaluating the same ciphertexts in
//! process from their bytes to the result's bytes (what `orion-run eval`
//! does between reading and writing its files).
//!
//!     cargo run --release -p orion-serve --example load -- [--requests 200] [--max-concurrent 1]
//!
//! Everything runs in this process: the server on an ephemeral port, the
//! clients as tasks. Latency is from sending the first chunk to receiving
//! the last.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use orion_compiler::compile::{compile_onnx, CompileOptions, Preset};
use orion_dialects::tensor::Tensor;
use orion_runtime::{Client, Program, RunOptions, Server};
use orion_serve::admission::Limits;
use orion_serve::client::RemoteClient;
use orion_serve::server::Running;
use orion_serve::service::ServeConfig;
use orion_serve::store::KeyStore;

#[derive(Parser)]
struct Args {
    /// Requests per concurrency level.
    #[arg(long, default_value_t = 200)]
    requests: usize,
    /// Evaluations the server runs at once.
    #[arg(long, default_value_t = 1)]
    max_concurrent: usize,
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn images(count: usize) -> Vec<Tensor> {
    let raw = std::fs::read("examples/data/mnist-test-1000-images-idx3-ubyte")
        .or_else(|_| std::fs::read("../examples/data/mnist-test-1000-images-idx3-ubyte"))
        .expect("run from the repository (examples/data)");
    (0..count)
        .map(|i| {
            let px = &raw[16 + (i % 1000) * 784..16 + (i % 1000 + 1) * 784];
            Tensor::new(
                vec![1, 1, 28, 28],
                px.iter()
                    .map(|&p| (p as f64 / 255.0 - 0.1307) / 0.3081)
                    .collect(),
            )
        })
        .collect()
}

#[tokio::main]
async fn main() {
    orion_ckks::alloc_tuning::keep_freed_memory();
    let args = Args::parse();
    let onnx = std::fs::read("examples/mnist-mlp/mlp.onnx")
        .or_else(|_| std::fs::read("../examples/mnist-mlp/mlp.onnx"))
        .expect("run from the repository (examples/mnist-mlp)");
    let compiled =
        compile_onnx(&onnx, None, &CompileOptions::for_preset(Preset::MnistMlp)).unwrap();
    let program = Arc::new(Program::from_module(compiled.ckks, "mlp").unwrap());
    let opts = RunOptions {
        seed: Some(1),
        ..RunOptions::default()
    };
    let mut client = Client::keygen(program.clone(), &opts).unwrap();
    let keys = client.evaluation_key_bytes().unwrap();
    let cts: Vec<Vec<u8>> = images(args.requests)
        .iter()
        .map(|x| client.encrypt(x).unwrap().to_bytes(&program))
        .collect();

    // In process: the same ciphertexts through the runtime's Server.
    let mut local =
        Server::from_key_bytes(program.clone(), keys.clone(), &RunOptions::default()).unwrap();
    local.prepare().unwrap();
    let mut local_times: Vec<Duration> = cts
        .iter()
        .map(|b| {
            // As `orion-run eval` does, from the ciphertext's bytes to the
            // result's (less the file system).
            let t = Instant::now();
            let input = orion_runtime::Encrypted::from_bytes(&program, b.as_slice()).unwrap();
            let out = local.evaluate(input).unwrap().to_bytes(&program);
            std::hint::black_box(out);
            t.elapsed()
        })
        .collect();
    local_times.sort();
    let local_p50 = percentile(&local_times, 0.5);
    println!(
        "in process: p50 {:.1} ms, p99 {:.1} ms over {} evaluations",
        ms(local_p50),
        ms(percentile(&local_times, 0.99)),
        local_times.len()
    );

    let config = ServeConfig {
        models: vec![("mlp".into(), program.clone())],
        store: KeyStore::in_memory(),
        key_cache_bytes: 4 << 30,
        plaintext_cache_bytes: 2 << 30,
        limits: Limits {
            max_concurrent: args.max_concurrent,
            max_queue: 64,
            memory_budget: 8 << 30,
        },
        max_key_bytes: 1 << 30,
        max_ciphertext_bytes: 64 << 20,
    };
    let server = Running::start(config, None).await.unwrap();
    let mut remote = RemoteClient::connect(&server.url(), None).await.unwrap();
    let key_id = remote.upload_keys("mlp", &keys).await.unwrap().key_id;
    // Warm-up: the session's plaintexts are encoded at its first request.
    remote.infer("mlp", &key_id, &cts[0]).await.unwrap();
    let cts = Arc::new(cts);
    println!(
        "server: loopback, max_concurrent {}, {} requests per level",
        args.max_concurrent, args.requests
    );
    for clients in [1usize, 2, 4] {
        let start = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..clients {
            let (mut remote, key_id, cts) = (remote.clone(), key_id.clone(), cts.clone());
            tasks.push(tokio::spawn(async move {
                let mut times = Vec::new();
                for i in (c..cts.len()).step_by(clients) {
                    let t = Instant::now();
                    remote.infer("mlp", &key_id, &cts[i]).await.unwrap();
                    times.push(t.elapsed());
                }
                times
            }));
        }
        let mut times = Vec::new();
        for t in tasks {
            times.extend(t.await.unwrap());
        }
        let wall = start.elapsed();
        times.sort();
        let p50 = percentile(&times, 0.5);
        println!(
            "clients {clients}: {:.1} requests/s, p50 {:.1} ms, p99 {:.1} ms; p50 / in-process p50 = {:.3}",
            times.len() as f64 / wall.as_secs_f64(),
            ms(p50),
            ms(percentile(&times, 0.99)),
            p50.as_secs_f64() / local_p50.as_secs_f64()
        );
    }
    server.shutdown().await.unwrap();
}
