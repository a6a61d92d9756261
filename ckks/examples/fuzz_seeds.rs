//! Writes the seed corpus of the file-decoding fuzz targets (`fuzz/`): one
//! valid file of each kind at the fuzz targets' small parameters (N = 2^10,
//! insecure), and the same wrapped in orion-serve's request messages.
//!
//!     cargo run -p orion-ckks --example fuzz_seeds -- fuzz/corpus

use std::path::{Path, PathBuf};

use orion_ckks::serialize::*;
use orion_ckks::*;

/// Protobuf's varint.
fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A length-delimited field `tag` of `bytes`.
fn field(tag: u64, bytes: &[u8], out: &mut Vec<u8>) {
    varint(tag << 3 | 2, out);
    varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

/// orion-serve's InferChunk (model = 1, key_id = 2, total_bytes = 3,
/// data = 4) or KeyChunk (model = 1, total_bytes = 2, data = 3).
fn chunk(infer: bool, key_id: &str, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    field(1, b"mlp", &mut out);
    if infer {
        field(2, key_id.as_bytes(), &mut out);
    }
    varint(if infer { 3 } else { 2 } << 3, &mut out);
    varint(data.len() as u64, &mut out);
    field(if infer { 4 } else { 3 }, data, &mut out);
    out
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn main() -> Result<(), CkksError> {
    let root = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "fuzz/corpus".into()),
    );
    let ctx = Context::new(CkksParams {
        log_n: 10,
        log_q: vec![30, 25],
        log_p: vec![30],
        log_scale: 25,
        secret: SecretDist::default(),
        insecure_ok: true,
    })?;
    let kg = KeyGenerator::with_seed(&ctx, 7);
    let sk = kg.gen_secret_key();
    let pk = kg.gen_public_key(&sk)?;
    let id = key_id(&pk);
    let eval = EvaluationKeys {
        relin: Some(kg.gen_relin_key(&sk)?),
        galois: kg.gen_galois_keys(&sk, &[1])?,
        encapsulation: None,
    };
    let encoder = Encoder::new(&ctx);
    let pt = encoder.encode(&[0.5, -0.25], ctx.max_level(), ctx.default_scale())?;
    let ct = Encryptor::new(&ctx, &pk).seeded(8).encrypt(&pt)?;
    let files = root.join("key_files");
    let cts = encode_ciphertexts(&ctx, &[ct], id);
    let keys = encode_eval_keys(&ctx, &eval, id);
    write(&files, "secret.key", &encode_secret_key(&ctx, &sk, id));
    write(&files, "public.key", &encode_public_key(&ctx, &pk));
    write(&files, "eval.keys", &keys);
    write(&files, "ciphertext.ct", &cts);
    write(&files, "plaintext.pt", &encode_plaintexts(&ctx, &[pt]));
    let requests = root.join("serve_requests");
    write(&requests, "infer.bin", &chunk(true, &id.to_string(), &cts));
    write(&requests, "keys.bin", &chunk(false, "", &keys));
    println!("seeds written under {}", root.display());
    Ok(())
}
