//! Bootstrapping at small, insecure parameters (N = 2^12): precision of
//! full and sparse slots, and the error paths.

use std::sync::Arc;

use orion_runtime::ckks::bootstrap::*;
use orion_runtime::ckks::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

struct Fixture {
    ctx: Arc<Context>,
    encoder: Encoder,
    encryptor: Encryptor,
    decryptor: Decryptor,
    boot: Bootstrapper,
}

fn fixture(bp: &BootstrapParams, seed: u64) -> Fixture {
    let ctx = Context::new(bp.ckks_params()).unwrap();
    let sk = KeyGenerator::with_seed(&ctx, seed).gen_secret_key();
    let opts = KeyGenOptions {
        seed: Some(seed),
        quiet: true,
    };
    let keys = BootstrapKeys::generate(&ctx, bp, &sk, &opts).unwrap();
    Fixture {
        encoder: Encoder::new(&ctx),
        encryptor: Encryptor::with_secret_key(&ctx, &sk).seeded(seed + 1),
        decryptor: Decryptor::new(&ctx, &sk),
        boot: Bootstrapper::new(&ctx, bp, &keys).unwrap(),
        ctx,
    }
}

fn random_complex(n: usize, seed: u64) -> Vec<Complex> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| Complex::new(rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)))
        .collect()
}

/// (-log2 mean |err|, -log2 max |err|) over real and imaginary parts.
fn precision(want: &[Complex], got: &[Complex]) -> (f64, f64) {
    let errs: Vec<f64> = want
        .iter()
        .zip(got)
        .flat_map(|(w, g)| [(w.re - g.re).abs(), (w.im - g.im).abs()])
        .collect();
    let mean = errs.iter().sum::<f64>() / errs.len() as f64;
    let max = errs.iter().fold(0.0f64, |a, &b| a.max(b));
    (-mean.log2(), -max.log2())
}

#[test]
fn full_slots() {
    let bp = BootstrapParams::test_n12();
    let f = fixture(&bp, 1);
    let slots = f.ctx.slots();
    let values = random_complex(slots, 2);
    let pt = f.encoder.encode_complex(&values, 0, f.ctx.default_scale()).unwrap();
    let ct = f.encryptor.encrypt(&pt).unwrap();
    let t = std::time::Instant::now();
    let out = f.boot.bootstrap(&ct).unwrap();
    eprintln!("bootstrap: {:?}", t.elapsed());
    assert_eq!(out.level, f.boot.levels().residual);
    let got = f.encoder.decode_complex(&f.decryptor.decrypt(&out).unwrap()).unwrap();
    let (mean, min) = precision(&values, &got);
    eprintln!("full slots: mean {mean:.1} bits, min {min:.1} bits");
    assert!(mean >= 20.0, "mean precision {mean:.1} bits");
}
