//! `orion-run keygen`: the client makes a key set and writes it to a
//! directory (secret.key, public.key, eval.keys).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use orion_runtime::interp::MemoryEstimate;
use orion_runtime::{Client, Program, RunOptions};

use crate::io::{note, save, EVAL_KEYS, PUBLIC_KEY, SECRET_KEY};
use crate::report::ms;

/// Generate the keys of a ckks program: secret.key, public.key and
/// eval.keys (relinearization key if needed, Galois keys for exactly the
/// module's ckks.rotations).
#[derive(clap::Args, Debug)]
pub struct KeygenArgs {
    /// The program (.ckks.mlir).
    file: PathBuf,
    /// Directory to write the key files to (created if needed).
    #[arg(long)]
    out_dir: PathBuf,
    /// Seed of key generation (reproducible keys; tests only).
    #[arg(long)]
    seed: Option<u64>,
    /// Seeded evaluation keys: each key's uniform half written (and held by
    /// the server) as a 32-byte seed, expanded at every key switch. Half
    /// the size of eval.keys; key switches slower.
    #[arg(long)]
    seeded_keys: bool,
    /// No progress output on stderr.
    #[arg(long, short)]
    quiet: bool,
}

pub fn keygen(args: &KeygenArgs) -> Result<ExitCode, String> {
    let program = Arc::new(Program::load(&args.file).map_err(|e| e.to_string())?);
    let opts = RunOptions {
        seed: args.seed,
        progress: !args.quiet,
        seeded_keys: args.seeded_keys,
        ..RunOptions::default()
    };
    // The keys, then their file bytes: the prost message holds a copy and
    // its encoding another, so writing eval.keys takes three times the keys.
    let (_, estimate) = program
        .fit_memory(&opts, "key generation and the key files", |e| {
            MemoryEstimate {
                keys: e.keys.saturating_mul(3),
                ..MemoryEstimate::default()
            }
        })
        .map_err(|e| e.to_string())?;
    note(
        args.quiet,
        &format!("memory estimate: {:.0} MB", estimate.total() as f64 / 1e6),
    );
    let start = Instant::now();
    let client = Client::keygen(program, &opts).map_err(|e| e.to_string())?;
    // Every file's bytes before the first is written: a key set that cannot
    // be exported leaves no partial directory.
    let files = [
        (SECRET_KEY, client.secret_key_bytes()),
        (PUBLIC_KEY, client.public_key_bytes()),
        (EVAL_KEYS, client.evaluation_key_bytes()),
    ]
    .map(|(name, bytes)| bytes.map(|b| (name, b)));
    let files = files
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&args.out_dir)
        .map_err(|e| format!("error: {}: {e}", args.out_dir.display()))?;
    let mut sizes = Vec::new();
    for (name, bytes) in &files {
        let path = args.out_dir.join(name);
        note(args.quiet, &format!("writing {}", path.display()));
        save(&path, bytes)?;
        sizes.push(format!("{name} {:.1} MB", bytes.len() as f64 / 1e6));
    }
    let ek = client.evaluation_keys().map_err(|e| e.to_string())?;
    println!(
        "keygen: key id {}; {} Galois key(s), relinearization key {}; wrote {} in {}",
        client.key_id(),
        ek.galois.steps().len(),
        if ek.relin.is_some() { "yes" } else { "no" },
        sizes.join(", "),
        ms(start.elapsed()),
    );
    Ok(ExitCode::SUCCESS)
}
