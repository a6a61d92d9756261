//! `orion-serve`: encrypted inference over gRPC.
//!
//! ```text
//! orion-serve --model mlp=mlp.ckks.mlir --key-store keys/ [--listen 127.0.0.1:50051]
//!     [--key-cache-mib 4096] [--memory-budget-mib N] [--max-concurrent 1] [--max-queue 16]
//!     [--tls-cert server.pem --tls-key server.key]
//! ```
//!
//! Loads each compiled program at start, then serves until SIGINT or
//! SIGTERM; running requests finish before it exits.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use orion_runtime::Program;
use orion_serve::admission::Limits;
use orion_serve::server::{serve, TlsIdentity};
use orion_serve::service::{InferenceService, ServeConfig};
use orion_serve::store::KeyStore;

#[derive(Parser, Debug)]
#[command(
    name = "orion-serve",
    version,
    about = "Serve encrypted inference over gRPC; the server never holds a secret key"
)]
struct Args {
    /// A program to serve, as NAME=PATH (a .ckks.mlir from orion-opt); repeatable.
    #[arg(long = "model", value_name = "NAME=PATH", required = true)]
    models: Vec<String>,
    /// Where uploaded evaluation keys are kept: a directory, or
    /// s3://bucket/prefix (AWS_* variables for credentials and endpoint).
    /// Replicas that share it share the keys.
    #[arg(long, value_name = "DIR|URL", default_value = "orion-keys")]
    key_store: String,
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1:50051")]
    listen: String,
    /// Memory for decoded key sets (LRU beyond it), in MiB.
    #[arg(long, default_value_t = 4096)]
    key_cache_mib: usize,
    /// Memory the running evaluations may take, in MiB (default: half of
    /// the memory available at start).
    #[arg(long)]
    memory_budget_mib: Option<usize>,
    /// Evaluations at once (each already uses every core).
    #[arg(long, default_value_t = 1)]
    max_concurrent: usize,
    /// Requests that may wait for a turn; more are refused.
    #[arg(long, default_value_t = 16)]
    max_queue: usize,
    /// Per key set: memory for encoded plaintexts cached across requests, in MiB.
    #[arg(long, default_value_t = 256)]
    plaintext_cache_mib: usize,
    /// Largest key upload accepted, in MiB.
    #[arg(long, default_value_t = 32 * 1024)]
    max_key_mib: u64,
    /// Largest ciphertext accepted, in MiB.
    #[arg(long, default_value_t = 1024)]
    max_ciphertext_mib: u64,
    /// TLS: the server's certificate chain (PEM); with --tls-key.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS: the server's private key (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Worker threads of the CKKS library (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// No messages on stderr but errors.
    #[arg(long, short)]
    quiet: bool,
}

/// Half of MemAvailable, where the OS reports it.
fn default_memory_budget() -> usize {
    let available = std::fs::read_to_string("/proc/meminfo").ok().and_then(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("MemAvailable:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
    });
    available.map_or(4 << 30, |kb| kb * 1024 / 2)
}

fn load_models(specs: &[String]) -> Result<Vec<(String, Arc<Program>)>, String> {
    specs
        .iter()
        .map(|spec| {
            let (name, path) = spec
                .split_once('=')
                .filter(|(n, p)| !n.is_empty() && !p.is_empty())
                .ok_or_else(|| format!("error: --model {spec}: expected NAME=PATH"))?;
            let program = Program::load(path.as_ref()).map_err(|e| e.to_string())?;
            Ok((name.to_string(), Arc::new(program)))
        })
        .collect()
}

fn read(path: &std::path::Path) -> Result<Vec<u8>, String> {
    // Key and ciphertext files (evaluation keys at LogN 16 are ~6 GB).
    orion_dialects::files::read_regular(path, 64 << 30).map_err(|e| format!("error: {e}"))
}

async fn shutdown_signal(service: InferenceService, quiet: bool) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    service.begin_shutdown();
    if !quiet {
        eprintln!("orion-serve: shutting down after the running requests");
    }
}

async fn run(args: Args) -> Result<(), String> {
    let models = load_models(&args.models)?;
    let store = KeyStore::open(&args.key_store).map_err(|e| format!("error: {e}"))?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(c), Some(k)) => Some(TlsIdentity {
            cert_pem: read(c)?,
            key_pem: read(k)?,
        }),
        _ => None,
    };
    let config = ServeConfig {
        models,
        store,
        key_cache_bytes: args.key_cache_mib << 20,
        plaintext_cache_bytes: args.plaintext_cache_mib << 20,
        limits: Limits {
            max_concurrent: args.max_concurrent.max(1),
            max_queue: args.max_queue,
            memory_budget: args
                .memory_budget_mib
                .map_or_else(default_memory_budget, |m| m << 20),
        },
        max_key_bytes: args.max_key_mib << 20,
        max_ciphertext_bytes: args.max_ciphertext_mib << 20,
    };
    let names: Vec<String> = config.models.iter().map(|(n, _)| n.clone()).collect();
    let service = InferenceService::new(config);
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|e| format!("error: --listen {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    if !args.quiet {
        eprintln!(
            "orion-serve: listening on {addr}{} with {}; keys in {}",
            if tls.is_some() { " (TLS)" } else { "" },
            names.join(", "),
            args.key_store
        );
    }
    let signal = shutdown_signal(service.clone(), args.quiet);
    serve(service, listener, tls, signal)
        .await
        .map_err(|e| format!("error: {e}"))
}

fn main() -> ExitCode {
    orion_dialects::install_panic_hook("orion-serve");
    orion_ckks::alloc_tuning::keep_freed_memory();
    let args = Args::parse();
    if let Some(n) = args.threads {
        if let Err(e) = rayon_pool(n) {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    }
    orion_serve::server::run_tool(true, run(args))
}

/// Sizes the CKKS library's thread pool.
fn rayon_pool(n: usize) -> Result<(), String> {
    if n == 0 {
        return Err("error: --threads must be at least 1".into());
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global()
        .map_err(|e| format!("error: --threads {n}: {e}"))
}
