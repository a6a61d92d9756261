//! Kernel timings at Orion's ResNet parameters (N = 2^16, 11 + 3 primes),
//! not tests: `cargo test --release -p orion-ckks --lib tests::kernels_bench --
//! --ignored --nocapture --test-threads 1`. Each figure is the minimum over
//! the repetitions, which is robust to a loaded machine (a run that got a
//! whole core); the CKKS library runs on one thread here.

use std::sync::Arc;
use std::time::Instant;

use crate::ring::basis::BasisConverter;
use crate::*;

fn resnet_context() -> Arc<Context> {
    Context::new(CkksParams {
        log_n: 16,
        log_q: std::iter::once(55).chain([40; 10]).collect(),
        log_p: vec![61, 61, 61],
        log_scale: 40,
        secret: SecretDist::Ternary {
            hamming_weight: Some(192),
        },
        insecure_ok: false,
    })
    .unwrap()
}

/// Minimum wall time of `f` in ms over `reps` runs (after one warm-up).
fn min_ms(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .fold(f64::MAX, f64::min)
}

fn one_thread<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(f)
}

#[test]
#[ignore]
fn bench_conversion() {
    let ctx = resnet_context();
    let n = ctx.n();
    let primes = &ctx.primes;
    for (name, src) in [
        ("moddown 3 P -> 11 Q", vec![11usize, 12, 13]),
        ("modup 3 Q -> 11", vec![3, 4, 5]),
    ] {
        let conv = BasisConverter::new(primes, src.clone());
        let x: Vec<Vec<u64>> = src
            .iter()
            .map(|&i| {
                (0..n as u64)
                    .map(|k| (k * 0x9E37_79B9 + i as u64) % primes[i].m.value())
                    .collect()
            })
            .collect();
        let xs: Vec<&[u64]> = x.iter().map(|v| v.as_slice()).collect();
        let mut y = vec![vec![0u64; n]; src.len()];
        let mut u = vec![0u64; n];
        let targets: Vec<usize> = (0..14).filter(|t| !src.contains(t)).collect();
        let mut out = vec![0u64; n];
        let prep = min_ms(15, || conv.prepare(primes, &xs, &mut y, &mut u));
        let conv_ms = min_ms(15, || {
            for &t in &targets {
                conv.convert(t, &primes[t].m, &y, &u, &mut out);
            }
        });
        eprintln!(
            "{name}: prepare {prep:.2} ms, convert to {} targets {conv_ms:.2} ms",
            targets.len()
        );
    }
}

#[test]
#[ignore]
fn bench_key_switch() {
    let ctx = resnet_context();
    let kg = KeyGenerator::with_seed(&ctx, 1);
    let sk = kg.gen_secret_key();
    let rlk = kg.gen_relin_key(&sk).unwrap();
    let gks = kg.gen_galois_keys(&sk, &[1]).unwrap();
    let ev = Evaluator::new(&ctx, Some(&rlk), Some(&gks));
    let enc = Encoder::new(&ctx);
    let encryptor = Encryptor::with_secret_key(&ctx, &sk);
    let v: Vec<f64> = (0..ctx.slots()).map(|i| (i % 7) as f64 / 7.0).collect();
    let top = ctx.max_level();
    let ct = encryptor
        .encrypt(&enc.encode(&v, top, ctx.default_scale()).unwrap())
        .unwrap();
    one_thread(|| {
        let reps = 9;
        let dec_ms = min_ms(reps, || {
            ctx.recycle_decomposed(ctx.decompose(top, &ct.parts[1]))
        });
        let dec = ctx.decompose(top, &ct.parts[1]);
        let key = &gks.rotations[&1].1;
        let ip_ms = min_ms(reps, || drop(ctx.key_inner_product(&dec, key)));
        let (a0, _) = ctx.key_inner_product(&dec, key);
        let md_ms = min_ms(reps, || drop(ctx.mod_down(top, ctx.poly_copy(&a0))));
        let rot_ms = min_ms(reps, || drop(ev.rotate(&ct, 1).unwrap()));
        let mul_ms = min_ms(reps, || drop(ev.mul_relin(&ct, &ct).unwrap()));
        let d2 = ev.mul(&ct, &ct).unwrap();
        let resc_ms = min_ms(reps, || drop(ev.rescale(&d2).unwrap()));
        eprintln!(
            "top level, 1 thread, min of {reps}: decompose {dec_ms:.2} ms, key inner product \
             {ip_ms:.2} ms, mod_down (one poly) {md_ms:.2} ms | rotate {rot_ms:.2} ms, \
             mul+relin {mul_ms:.2} ms, rescale (degree 2) {resc_ms:.2} ms"
        );
    });
}
