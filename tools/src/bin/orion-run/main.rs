//! `orion-run`: runs a program of any level on an input.
//!
//! ```text
//! orion-run net.ckks.mlir --input examples/data/mnist-test-1000-images-idx3-ubyte \
//!     --labels examples/data/mnist-test-1000-labels-idx1-ubyte --range 0..10 --compare
//! ```
//!
//! Client and server apart (keys and ciphertexts in files, see
//! `orion_ckks::serialize`):
//!
//! ```text
//! orion-run keygen  net.ckks.mlir --out-dir keys/            # secret.key public.key eval.keys
//! orion-run encrypt net.ckks.mlir --keys keys/ --input x.npy -o in.ct   # public.key
//! orion-run eval    net.ckks.mlir --keys keys/ in.ct -o out.ct          # eval.keys only
//! orion-run decrypt net.ckks.mlir --keys keys/ out.ct [-o y.npy]        # secret.key
//! ```
//!
//! Each subcommand is a module over `orion_runtime`'s client/server API;
//! `run` is the one-shot mode, `io` and `report` what they share.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod decrypt;
mod encrypt;
mod eval;
mod io;
mod keygen;
mod report;
mod run;

/// The subcommands that split a ckks program between client and server.
const SUBCOMMANDS: [&str; 4] = ["keygen", "encrypt", "eval", "decrypt"];

#[derive(Parser, Debug)]
#[command(
    name = "orion-run",
    version,
    about = "Run a ckks program with the client (keygen, encrypt, decrypt) and the server (eval) apart"
)]
struct SplitArgs {
    #[command(subcommand)]
    cmd: Cmd,
    /// Worker threads of the CKKS library (rayon pool; default: one per core).
    #[arg(long, global = true)]
    threads: Option<usize>,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    Keygen(keygen::KeygenArgs),
    Encrypt(encrypt::EncryptArgs),
    Eval(eval::EvalArgs),
    Decrypt(decrypt::DecryptArgs),
}

/// Sizes rayon's global pool, which the CKKS library's parallel loops use.
fn set_threads(threads: Option<usize>) -> Result<(), String> {
    match threads {
        None => Ok(()),
        Some(0) => Err("--threads must be at least 1".into()),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(|e| format!("--threads {n}: {e}")),
    }
}

fn main() -> ExitCode {
    orion_dialects::install_panic_hook("orion-run");
    orion_ckks::alloc_tuning::keep_freed_memory();
    let split = std::env::args()
        .nth(1)
        .is_some_and(|a| SUBCOMMANDS.contains(&a.as_str()));
    let result = if split {
        let args = SplitArgs::parse();
        set_threads(args.threads).and_then(|()| match &args.cmd {
            Cmd::Keygen(a) => keygen::keygen(a),
            Cmd::Encrypt(a) => encrypt::encrypt(a),
            Cmd::Eval(a) => eval::eval(a),
            Cmd::Decrypt(a) => decrypt::decrypt(a),
        })
    } else {
        let args = run::RunArgs::parse();
        set_threads(args.threads).and_then(|()| run::run(&args))
    };
    match result {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("{msg}");
            ExitCode::FAILURE
        }
    }
}
