//! Bootstrapping benchmark (issue 5): one bootstrap at LogN 16 with 2^15
//! slots on Orion's ResNet chain extended for bootstrapping
//! (`BootstrapParams::resnet_n16`).
//!
//!     cargo run --release -p orion-ckks --example bootstrap_bench -- \
//!         [--threads N] [--reps 3] [--log-slots 15] [--small] [--quiet] [--lazy] [--chained] [--real]
//!
//! Prints the bootstrapping key generation time, the setup time (encoding
//! the DFT matrices), the median / min / max time of one bootstrap over
//! `--reps` runs, the mean and minimum precision in bits (-log2 of the mean
//! and of the max absolute error, real and imaginary parts, values uniform
//! in [-1, 1] + i [-1, 1] as in Lattigo's benchmarks), the peak resident
//! memory (VmHWM) and the 1-minute load average. `--small` runs the
//! insecure N = 2^12 test set instead (seconds, for a smoke test).
//! `--lazy` encodes each DFT level's matrices on use (less memory);
//! `--chained` uses the memory-lean DFT (`DftStrategy::Chained`);
//! `--real` uses real values in [-1, 1] (as Orion's tensors, and as
//! `examples/bench/lattigo_bootstrap.py` must through Orion's bindings).

use std::sync::Arc;
use std::time::Instant;

use clap::Parser;

use orion_ckks::bootstrap::*;
use orion_ckks::progress::ProgressSink;
use orion_ckks::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

mod common;
use common::load1;

/// Key generation's stages, one line each on stderr.
struct StageLog;

impl Progress for StageLog {
    fn message(&self, text: &str) {
        eprintln!("bootstrapping keys: {text}");
    }
}

/// One bootstrap at LogN 16: key generation, setup, time, precision, memory.
#[derive(Parser)]
struct Args {
    /// rayon threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Bootstraps to time (after key generation and setup).
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// log2 of the slots (default: all N/2).
    #[arg(long)]
    log_slots: Option<u32>,
    /// The insecure N = 2^12 test set (a smoke test).
    #[arg(long)]
    small: bool,
    /// No progress on stderr.
    #[arg(long)]
    quiet: bool,
    /// Encode each DFT level's matrices on use.
    #[arg(long)]
    lazy: bool,
    /// The memory-lean chained DFT.
    #[arg(long)]
    chained: bool,
    /// Real inputs in [-1, 1] instead of complex ones.
    #[arg(long)]
    real: bool,
}

/// Peak resident memory in MB (VmHWM of /proc/self/status).
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))?
                .split_whitespace()
                .nth(1)?
                .parse::<f64>()
                .ok()
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() -> Result<(), CkksError> {
    orion_ckks::alloc_tuning::keep_freed_memory();
    let args = Args::parse();
    if let Some(n) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .expect("rayon pool");
    }
    let mut bp = if args.small {
        BootstrapParams::test_n12()
    } else {
        BootstrapParams::resnet_n16()
    };
    if let Some(l) = args.log_slots {
        bp = bp.with_log_slots(l);
    }
    if args.chained {
        bp = bp.with_dft(DftStrategy::Chained);
    }
    let ctx = Context::new(bp.ckks_params())?;
    let lv = bp.levels();
    println!(
        "params: {:?} LogN {} slots 2^{} log QP {:.1} Q primes {} P primes {} dnum {} levels: residual {} StC {}..{} EvalMod {}..{} CtS {}..{} threads {}",
        bp.dft,
        bp.log_n,
        bp.log_slots,
        ctx.log_qp(),
        ctx.moduli_q().len(),
        ctx.moduli_p().len(),
        ctx.dnum(),
        lv.residual,
        lv.stc_start,
        lv.residual + 1,
        lv.evalmod_start,
        lv.stc_start + 1,
        lv.top,
        lv.evalmod_start + 1,
        rayon::current_num_threads()
    );

    let kg = KeyGenerator::new(&ctx);
    let sk = kg.gen_secret_key();
    let load = load1();
    let t = Instant::now();
    let opts = KeyGenOptions {
        seed: None,
        progress: if args.quiet {
            ProgressSink::default()
        } else {
            ProgressSink::new(Arc::new(StageLog))
        },
    };
    let keys = BootstrapKeys::generate(&ctx, &bp, &sk, &opts)?;
    let keygen_s = t.elapsed().as_secs_f64();
    println!(
        "keygen: {keygen_s:.2} s ({} rotation keys + conjugation + relinearization{}, {} MB) load {load:.2}",
        keys.num_rotation_keys(),
        if keys.has_encapsulation() { " + 2 encapsulation" } else { "" },
        keys.size_bytes() >> 20
    );
    let t = Instant::now();
    let options = BootstrapOptions {
        lazy_matrices: args.lazy,
    };
    let boot = Bootstrapper::with_options(&ctx, &bp, &keys, &options)?;
    println!(
        "setup: {:.2} s (DFT matrices{}, {} MB) peak RSS so far {:.0} MB",
        t.elapsed().as_secs_f64(),
        if args.lazy { ", lazy" } else { "" },
        boot.matrices_bytes() >> 20,
        peak_rss_mb()
    );

    let slots = ctx.slots();
    let n = bp.slots();
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let v: Vec<Complex> = (0..n)
        .map(|_| {
            let re = rng.random_range(-1.0..1.0);
            let im = if args.real {
                0.0
            } else {
                rng.random_range(-1.0..1.0)
            };
            Complex::new(re, im)
        })
        .collect();
    let values: Vec<Complex> = (0..slots).map(|j| v[j % n]).collect();
    let encoder = Encoder::new(&ctx);
    let pt = encoder.encode_complex(&values, 0, ctx.default_scale())?;
    let ct = Encryptor::with_secret_key(&ctx, &sk).encrypt(&pt)?;

    let mut times = Vec::new();
    let mut out = None;
    for r in 0..args.reps.max(1) {
        let load = load1();
        let t = Instant::now();
        let (o, phases) = boot.bootstrap_profiled(&ct)?;
        let s = t.elapsed().as_secs_f64();
        let phases: Vec<String> = phases.iter().map(|(p, t)| format!("{p} {t:.2}")).collect();
        println!(
            "bootstrap {r}: {s:.3} s load {load:.2} [{}]",
            phases.join(", ")
        );
        times.push(s);
        out = Some(o);
    }
    let out = out.expect("at least one run");
    times.sort_by(f64::total_cmp);
    let got = encoder.decode_complex(&Decryptor::new(&ctx, &sk).decrypt(&out)?)?;
    let errs: Vec<f64> = values
        .iter()
        .zip(&got)
        .flat_map(|(w, g)| {
            let re = (w.re - g.re).abs();
            // Real inputs: the real parts are the values (as Lattigo decodes them).
            if args.real {
                vec![re]
            } else {
                vec![re, (w.im - g.im).abs()]
            }
        })
        .collect();
    let mean = errs.iter().sum::<f64>() / errs.len() as f64;
    let max = errs.iter().fold(0.0f64, |a, &b| a.max(b));
    println!(
        "summary: bootstrap median {:.3} s (min {:.3} max {:.3}, {} reps) keygen {keygen_s:.2} s \
         precision mean {:.2} bits min {:.2} bits peak RSS {:.0} MB output level {} scale 2^{:.2}",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        times.len(),
        -mean.log2(),
        -max.log2(),
        peak_rss_mb(),
        out.level,
        out.scale.log2()
    );
    Ok(())
}
