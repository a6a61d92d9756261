//! `orion-client`: talks to an orion-serve. Keys and ciphertexts are the
//! files of `orion-run keygen | encrypt | decrypt`:
//!
//! ```text
//! orion-run keygen  mlp.ckks.mlir --out-dir keys/
//! orion-client upload --server http://127.0.0.1:50051 --model mlp --keys keys/eval.keys   # prints the key id
//! orion-run encrypt mlp.ckks.mlir --keys keys/ --input x.npy -o in.ct
//! orion-client infer  --server http://127.0.0.1:50051 --model mlp --key-id ID in.ct -o out.ct
//! orion-run decrypt mlp.ckks.mlir --keys keys/ out.ct
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use orion_serve::client::RemoteClient;

#[derive(Parser, Debug)]
#[command(
    name = "orion-client",
    version,
    about = "Upload evaluation keys to an orion-serve and run encrypted inferences"
)]
struct Args {
    /// The server, http://host:port (https:// with --tls-ca).
    #[arg(long, global = true, default_value = "http://127.0.0.1:50051")]
    server: String,
    /// TLS: the PEM certificate of the authority that signed the server's.
    #[arg(long, global = true)]
    tls_ca: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Upload an eval.keys file for a model; prints the key id.
    Upload {
        #[arg(long)]
        model: String,
        /// The eval.keys file (from `orion-run keygen`).
        #[arg(long)]
        keys: PathBuf,
    },
    /// Evaluate a model on a ciphertext file; writes the result's.
    Infer {
        #[arg(long)]
        model: String,
        /// The key id `upload` printed.
        #[arg(long)]
        key_id: String,
        /// The input ciphertext (from `orion-run encrypt`).
        ciphertext: PathBuf,
        /// The result ciphertext to write (for `orion-run decrypt`).
        #[arg(long, short)]
        output: PathBuf,
    },
    /// The server's status and models.
    Health,
    /// The server's counters, latencies and memory (Prometheus text).
    Stats,
}

fn read(path: &std::path::Path) -> Result<Vec<u8>, String> {
    // Key and ciphertext files (evaluation keys at LogN 16 are ~6 GB).
    orion_dialects::files::read_regular(path, 64 << 30).map_err(|e| format!("error: {e}"))
}

async fn run(args: Args) -> Result<(), String> {
    let ca = args.tls_ca.as_deref().map(read).transpose()?;
    let mut client = RemoteClient::connect(&args.server, ca.as_deref())
        .await
        .map_err(|e| format!("error: {e}"))?;
    let fail = |e: orion_serve::client::ClientError| format!("error: {e}");
    match args.cmd {
        Cmd::Upload { model, keys } => {
            let reply = client
                .upload_keys(&model, &read(&keys)?)
                .await
                .map_err(fail)?;
            println!(
                "key id {} (parameters {}, {:.1} MB)",
                reply.key_id,
                reply.params_fingerprint,
                reply.bytes as f64 / 1e6
            );
        }
        Cmd::Infer {
            model,
            key_id,
            ciphertext,
            output,
        } => {
            let out = client
                .infer(&model, &key_id, &read(&ciphertext)?)
                .await
                .map_err(fail)?;
            std::fs::write(&output, &out)
                .map_err(|e| format!("error: {}: {e}", output.display()))?;
            println!("infer: {} bytes -> {}", out.len(), output.display());
        }
        Cmd::Health => {
            let h = client.health().await.map_err(fail)?;
            println!("{}", h.status);
            for m in h.models {
                println!(
                    "model {} input {:?} parameters {} bootstraps {}",
                    m.name, m.input_shape, m.params_fingerprint, m.bootstraps
                );
            }
        }
        Cmd::Stats => {
            print!("{}", client.stats().await.map_err(fail)?.prometheus);
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    orion_dialects::install_panic_hook("orion-client");
    orion_serve::server::run_tool(false, run(Args::parse()))
}
