//! `orion-run decrypt`: the client decrypts a result with the secret key.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use orion_runtime::{Client, Encrypted, Program, RunOptions};

use crate::io::{load, note, write_npy, SECRET_KEY};
use crate::report::fmt_output;

/// Decrypt the program's results with the secret key; prints the logits
/// and the class.
#[derive(clap::Args, Debug)]
pub struct DecryptArgs {
    /// The program (.ckks.mlir).
    file: PathBuf,
    /// Key directory (reads secret.key only).
    #[arg(long)]
    keys: PathBuf,
    /// The output ciphertext file (from `eval`).
    ciphertext: PathBuf,
    /// Write the output tensor here as .npy (float32).
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// No progress output on stderr.
    #[arg(long, short)]
    quiet: bool,
}

pub fn decrypt(args: &DecryptArgs) -> Result<ExitCode, String> {
    let program = Arc::new(Program::load(&args.file).map_err(|e| e.to_string())?);
    let opts = RunOptions::default();
    let mut client = load(&args.keys.join(SECRET_KEY), |sk| {
        Client::from_key_bytes(program.clone(), Some(sk), None::<Vec<u8>>, &opts)
    })?;
    let result = load(&args.ciphertext, |b| Encrypted::from_bytes(&program, b))?;
    let y = client
        .decrypt(result)
        .map_err(|e| e.in_file(&args.ciphertext).to_string())?
        .into_iter()
        .next()
        .ok_or("error: @main returns nothing")?;
    if let Some(j) = y.data.iter().position(|v| !v.is_finite()) {
        return Err(format!(
            "error: decrypted output element {j} is {}: the run failed numerically (no class is printed)",
            y.data[j]
        ));
    }
    println!("{} class {}", fmt_output(program.module(), &y)?, y.argmax());
    if let Some(out) = &args.output {
        note(args.quiet, &format!("writing {}", out.display()));
        write_npy(out, &y.shape, &y.data).map_err(|e| format!("error: {e}"))?;
    }
    Ok(ExitCode::SUCCESS)
}
