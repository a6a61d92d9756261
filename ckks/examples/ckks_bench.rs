//! Timings of the CKKS primitives (medians over repeated runs).
//!
//!     cargo run -p orion-ckks --release --example ckks_bench            # MNIST set, N = 2^13
//!     cargo run -p orion-ckks --release --example ckks_bench -- 16      # N = 2^16, log_q [55, 40 x 10], log_p [61 x 3]
//!     RAYON_NUM_THREADS=1 cargo run ...                                    # single thread
//!
//! The machines are noisy: the medians are what to quote.

use std::time::Instant;

use orion_ckks::*;

mod common;
use common::{resnet_params, time_ms};

/// Median wall time of `f` in ms over `reps` runs.
fn median_ms<F: FnMut()>(reps: usize, f: F) -> f64 {
    time_ms(reps, f).0
}

fn main() -> Result<(), CkksError> {
    let big = std::env::args().nth(1).as_deref() == Some("16");
    let params = if big {
        resnet_params()
    } else {
        CkksParams::mnist_mlp()
    };
    let reps = if big { 7 } else { 51 };
    let t0 = Instant::now();
    let ctx = Context::new(params)?;
    println!(
        "N = 2^{}, log QP = {:.1}, {} Q primes, {} P primes, dnum = {}, rayon threads = {}",
        ctx.log_n(),
        ctx.log_qp(),
        ctx.moduli_q().len(),
        ctx.moduli_p().len(),
        ctx.dnum(),
        rayon::current_num_threads()
    );
    println!("context: {:.1} ms", t0.elapsed().as_secs_f64() * 1e3);
    let steps = [1i64, 2, 3, 4, 5, 6, 7, 8];
    let t0 = Instant::now();
    let kg = KeyGenerator::with_seed(&ctx, 1);
    let sk = kg.gen_secret_key();
    let pk = kg.gen_public_key(&sk)?;
    let rlk = kg.gen_relin_key(&sk)?;
    let gks = kg.gen_galois_keys(&sk, &steps)?;
    println!(
        "keygen (sk, pk, rlk, 8 Galois keys): {:.1} ms",
        t0.elapsed().as_secs_f64() * 1e3
    );

    let enc = Encoder::new(&ctx);
    let encryptor = Encryptor::new(&ctx, &pk);
    let decryptor = Decryptor::new(&ctx, &sk);
    let eval = Evaluator::new(&ctx, Some(&rlk), Some(&gks));
    let top = ctx.max_level();
    let scale = ctx.default_scale();
    let v: Vec<f64> = (0..ctx.slots())
        .map(|i| ((i * 7919) % 1000) as f64 / 1000.0 - 0.5)
        .collect();

    let pt = enc.encode(&v, top, scale)?;
    let ct = encryptor.encrypt(&pt)?;
    let ct2 = encryptor.encrypt(&pt)?;
    let d2 = eval.mul(&ct, &ct2)?;
    let prod = eval.relinearize(&d2)?;

    let rows: Vec<(&str, f64)> = vec![
        (
            "encode (top level)",
            median_ms(reps, || drop(enc.encode(&v, top, scale))),
        ),
        (
            "encrypt (pk)",
            median_ms(reps, || drop(encryptor.encrypt(&pt))),
        ),
        (
            "decrypt + decode",
            median_ms(reps, || drop(enc.decode(&decryptor.decrypt(&ct).unwrap()))),
        ),
        ("add", median_ms(reps, || drop(eval.add(&ct, &ct2)))),
        (
            "mul_plain",
            median_ms(reps, || drop(eval.mul_plain(&ct, &pt))),
        ),
        (
            "mul (tensor)",
            median_ms(reps, || drop(eval.mul(&ct, &ct2))),
        ),
        (
            "relinearize",
            median_ms(reps, || drop(eval.relinearize(&d2))),
        ),
        (
            "mul + relin",
            median_ms(reps, || drop(eval.mul_relin(&ct, &ct2))),
        ),
        ("rescale", median_ms(reps, || drop(eval.rescale(&prod)))),
        (
            "rotate (1 step)",
            median_ms(reps, || drop(eval.rotate(&ct, 1))),
        ),
        (
            "hoisted rotate, 8 steps (per step)",
            median_ms(reps, || drop(eval.hoisted_rotate(&ct, &steps))) / steps.len() as f64,
        ),
    ];
    for (name, ms) in rows {
        println!("{name:<36} {ms:9.3} ms (median of {reps})");
    }
    Ok(())
}
