//! `orion-run encrypt`: the client encrypts one input with the public key.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use orion_dialects::tensor::Tensor;
use orion_runtime::{Client, Program, RunOptions};

use crate::io::{load, note, read_image, save, IdxArgs, PUBLIC_KEY};

/// Encrypt an input with the public key (the program's ckks.encrypt ops).
#[derive(clap::Args, Debug)]
pub struct EncryptArgs {
    /// The program (.ckks.mlir).
    file: PathBuf,
    /// Key directory (reads public.key only).
    #[arg(long)]
    keys: PathBuf,
    /// Input: .npy or MNIST IDX3 images (as in the one-shot mode).
    #[arg(long)]
    input: PathBuf,
    /// Which image of the input (default 0).
    #[arg(long)]
    index: Option<usize>,
    /// The ciphertext file to write.
    #[arg(long, short)]
    output: PathBuf,
    /// Seed of the encryption randomness (tests only).
    #[arg(long)]
    seed: Option<u64>,
    /// No progress output on stderr.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    idx: IdxArgs,
}

pub fn encrypt(args: &EncryptArgs) -> Result<ExitCode, String> {
    let program = Arc::new(Program::load(&args.file).map_err(|e| e.to_string())?);
    let shape = program.input_shape().to_vec();
    let (i, image) = read_image(&args.input, &shape, args.index, args.idx.shape())?;
    let opts = RunOptions {
        seed: args.seed,
        ..RunOptions::default()
    };
    let mut client = load(&args.keys.join(PUBLIC_KEY), |pk| {
        Client::from_key_bytes(program.clone(), None::<Vec<u8>>, Some(pk), &opts)
    })?;
    let ct = client
        .encrypt(&Tensor::new(shape, image))
        .map_err(|e| e.to_string())?;
    note(args.quiet, &format!("writing {}", args.output.display()));
    save(&args.output, &ct.to_bytes(&program))?;
    println!(
        "encrypt: image {i} -> {} ciphertext(s) under key {}",
        ct.ciphertexts.len(),
        ct.key_id
    );
    Ok(ExitCode::SUCCESS)
}
