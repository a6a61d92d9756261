//! `orion-run eval`: the server evaluates with the evaluation keys only.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use orion_runtime::{Encrypted, Program, RunOptions, Server};

use crate::io::{load, note, save, EVAL_KEYS};
use crate::report::ms;

/// Evaluate the program on encrypted inputs with the evaluation keys only
/// (every op between encryption and decryption).
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// The program (.ckks.mlir).
    file: PathBuf,
    /// Key directory (reads eval.keys only).
    #[arg(long)]
    keys: PathBuf,
    /// The input ciphertext file (from `encrypt`).
    ciphertext: PathBuf,
    /// The output ciphertext file to write.
    #[arg(long, short)]
    output: PathBuf,
    /// No progress output on stderr.
    #[arg(long, short)]
    quiet: bool,
}

pub fn eval(args: &EvalArgs) -> Result<ExitCode, String> {
    let program = Arc::new(Program::load(&args.file).map_err(|e| e.to_string())?);
    let opts = RunOptions {
        progress: !args.quiet,
        ..RunOptions::default()
    };
    let input = load(&args.ciphertext, |b| Encrypted::from_bytes(&program, b))?;
    let mut server = load(&args.keys.join(EVAL_KEYS), |b| {
        Server::from_key_bytes(program.clone(), b, &opts)
    })?;
    let prepare = server.prepare().map_err(|e| e.to_string())?;
    let start = Instant::now();
    let output = server
        .evaluate(input)
        .map_err(|e| e.in_file(&args.ciphertext).to_string())?;
    let spent = start.elapsed();
    note(args.quiet, &format!("writing {}", args.output.display()));
    save(&args.output, &output.to_bytes(&program))?;
    println!(
        "eval: {} ciphertext(s) at level(s) {:?}; plaintext encoding {}, evaluate {}",
        output.ciphertexts.len(),
        output
            .ciphertexts
            .iter()
            .map(|c| c.level)
            .collect::<Vec<_>>(),
        ms(prepare),
        ms(spent)
    );
    Ok(ExitCode::SUCCESS)
}
