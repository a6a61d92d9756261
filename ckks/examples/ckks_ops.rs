//! The operations that issue 3 asks to be measured, at Orion's ResNet
//! parameters: LogN 16, LogQ [55, 40 x 10], LogP [61, 61, 61], LogScale 40,
//! ternary secret with Hamming weight 192 (dnum = ceil(11 / 3) = 4).
//!
//!     cargo run --release -p orion-ckks --example ckks_ops -- [--threads 1|2] [--level top|5] [--reps R]
//!
//! Prints, per operation, the median, min and max wall time in ms over R
//! repetitions (after one warm-up; the two composite operations, BSGS and
//! the polynomial, use max(3, R / 3) repetitions) and the 1-minute load
//! average read just before the operation was measured. Then the precision
//! in bits, -log2(max |error|) over all slots, against a float reference.
//!
//! Every row is one library call (`Evaluator` methods):
//! - "BSGS lin. transform 144 diag" is `Evaluator::linear_transform` (double
//!   hoisted BSGS; baby step `--baby n1`, default: the library's choice, 12
//!   for 144 consecutive diagonals) followed by one `rescale`; the diagonals
//!   are encoded once (`LinearTransform::new`, timed separately);
//! - "Chebyshev deg 31" is `Evaluator::evaluate_polynomial` on [-1, 1]
//!   (depth 5, output at exactly the default scale).
//!
//! `--threads n` builds rayon's global pool with n threads (default: rayon's
//! default, the number of cores).

use std::collections::BTreeMap;
use std::time::Instant;

use clap::Parser;
use orion_ckks::*;

mod common;
use common::{resnet_params, time_ms};

/// The CKKS operations of issue 3 at Orion's ResNet parameters.
#[derive(Parser)]
struct Args {
    /// rayon threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Level of the operands: `top` or a number.
    #[arg(long, default_value = "top", value_parser = parse_level)]
    level: Level,
    /// Repetitions per operation (BSGS and the polynomial: max(3, R / 3)).
    #[arg(long, default_value_t = 21)]
    reps: usize,
    /// Only run OP (rotate | encrypt | mul_relin | rescale | hoisted16 |
    /// bsgs | cheb31) N times after the setup, for `perf record`.
    #[arg(long = "loop", num_args = 2, value_names = ["OP", "N"])]
    looped: Option<Vec<String>>,
    /// Baby step of the linear transform (default: the library's choice).
    #[arg(long)]
    baby: Option<usize>,
    /// Seeded keys (`KeyLevels::seeded`): the relinearization and Galois
    /// keys hold each digit's uniform half as a seed, expanded per use.
    #[arg(long)]
    seeded_keys: bool,
}

/// `--level`: the top of the chain or a level number.
#[derive(Clone, Copy)]
enum Level {
    Top,
    At(usize),
}

fn parse_level(s: &str) -> Result<Level, String> {
    match s {
        "top" => Ok(Level::Top),
        l => l
            .parse()
            .map(Level::At)
            .map_err(|_| format!("expected `top` or a level number, got {l:?}")),
    }
}

/// `--loop OP N` as (OP, N).
fn looped(args: &Args) -> Result<Option<(String, usize)>, String> {
    match args.looped.as_deref() {
        None => Ok(None),
        Some([op, n]) => n
            .parse()
            .map(|n| Some((op.clone(), n)))
            .map_err(|_| format!("--loop {op} {n}: N must be a count")),
        Some(_) => Err("--loop takes OP and N".into()),
    }
}

fn report(name: &str, reps: usize, r: (f64, f64, f64, f64)) {
    println!(
        "op {name:<28} median {:10.3} ms  min {:10.3}  max {:10.3}  reps {reps:3}  load {:.2}",
        r.0, r.1, r.2, r.3
    );
}

fn bits(got: &[f64], want: &[f64]) -> f64 {
    let e = got
        .iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f64, f64::max);
    -e.log2()
}

/// -log2 of the mean |error| (the statistic Lattigo's precision reports use).
fn mean_bits(got: &[f64], want: &[f64]) -> f64 {
    let e: f64 = got
        .iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .sum::<f64>()
        / got.len() as f64;
    -e.log2()
}

/// Diagonal `d` of the 144-diagonal transform at slot `k`.
fn diag(d: usize, k: usize) -> f64 {
    (((d * 31 + k * 17) % 101) as f64 / 101.0 - 0.5) / 16.0
}

/// Everything the measurements use: keys, operands, the transform and the
/// polynomial.
struct Bench {
    ctx: std::sync::Arc<Context>,
    level: usize,
    reps: usize,
    heavy_reps: usize,
    enc: Encoder,
    sk: SecretKey,
    encryptor: Encryptor,
    decryptor: Decryptor,
    ev: Evaluator,
    v: Vec<f64>,
    w: Vec<f64>,
    pt_v: Plaintext,
    /// `w` at scale q_level, so that mul_plain's rescale restores the scale.
    pt_q: Plaintext,
    ct_v: Ciphertext,
    ct_w: Ciphertext,
    prod: Ciphertext,
    lt: Option<LinearTransform>,
    cheb: Polynomial,
}

impl Bench {
    fn new(args: &Args, with_transform: bool) -> Result<Bench, CkksError> {
        let reps = args.reps.max(1);
        let t0 = Instant::now();
        let ctx = Context::new(resnet_params())?;
        let top = ctx.max_level();
        let level = match args.level {
            Level::Top => top,
            Level::At(l) => l.min(top),
        };
        println!(
            "== ckks_ops: N = 2^{}, log QP = {:.1}, {} Q primes, {} P primes, dnum = {}, H = 192, \
             rayon threads = {}, level = {level}{}, reps = {reps}, {}",
            ctx.log_n(),
            ctx.log_qp(),
            ctx.moduli_q().len(),
            ctx.moduli_p().len(),
            ctx.dnum(),
            rayon::current_num_threads(),
            if level == top { " (top)" } else { "" },
            std::process::Command::new("date")
                .arg("-u")
                .arg("+%Y-%m-%dT%H:%MZ")
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                .unwrap_or_default()
        );
        println!("context: {:.1} ms", t0.elapsed().as_secs_f64() * 1e3);
        let enc = Encoder::new(&ctx);
        let lt = if level > 0 && with_transform {
            Some(transform(&ctx, &enc, level, args.baby)?)
        } else {
            None
        };
        // Galois keys: 1..16 (rotate, hoisted) and the transform's steps.
        let mut steps: Vec<i64> = (1..=16).collect();
        steps.extend(lt.iter().flat_map(|lt| lt.rotation_steps()));
        steps.sort();
        steps.dedup();
        let t0 = Instant::now();
        let kg = KeyGenerator::with_seed(&ctx, 1);
        let sk = kg.gen_secret_key();
        let pk = kg.gen_public_key(&sk)?;
        let (rlk, gks) = if args.seeded_keys {
            let mut need = KeyLevels {
                seeded: true,
                ..KeyLevels::default()
            };
            let top = ctx.max_level();
            need.relinearize(top);
            steps.iter().for_each(|&s| need.rotate(s, top, ctx.slots()));
            let (rlk, gks) = need.generate(&ctx, &sk, Some(2), &|| {})?;
            (rlk.expect("asked for"), gks)
        } else {
            (kg.gen_relin_key(&sk)?, kg.gen_galois_keys(&sk, &steps)?)
        };
        println!(
            "keygen (sk, pk, rlk, {} Galois keys{}): {:.1} ms, {} MB of Galois keys",
            steps.len(),
            if args.seeded_keys { ", seeded" } else { "" },
            t0.elapsed().as_secs_f64() * 1e3,
            gks.size_bytes() >> 20
        );
        let encryptor = Encryptor::new(&ctx, &pk);
        let ev = Evaluator::new(&ctx, Some(&rlk), Some(&gks));
        let slots = ctx.slots();
        let v: Vec<f64> = (0..slots)
            .map(|i| ((i * 7919) % 1000) as f64 / 1000.0 - 0.5)
            .collect();
        let w: Vec<f64> = (0..slots)
            .map(|i| ((i * 104729) % 997) as f64 / 997.0 - 0.5)
            .collect();
        let scale = ctx.default_scale();
        let pt_v = enc.encode(&v, level, scale)?;
        let ct_v = encryptor.encrypt(&pt_v)?;
        let ct_w = encryptor.encrypt(&enc.encode(&w, level, scale)?)?;
        let prod = ev.mul_relin(&ct_v, &ct_w)?;
        let pt_q = enc.encode(&w, level, ctx.q(level) as f64)?;
        let cheb = Polynomial::chebyshev(
            (0..32).map(|i| 1.0 / (1.0 + i as f64).powi(2)).collect(),
            -1.0,
            1.0,
        );
        Ok(Bench {
            decryptor: Decryptor::new(&ctx, &sk),
            ctx,
            level,
            reps,
            heavy_reps: (reps / 3).max(3),
            enc,
            sk,
            encryptor,
            ev,
            v,
            w,
            pt_v,
            pt_q,
            ct_v,
            ct_w,
            prod,
            lt,
            cheb,
        })
    }

    fn dec(&self, ct: &Ciphertext) -> Vec<f64> {
        self.enc
            .decode(&self.decryptor.decrypt(ct).unwrap())
            .unwrap()
    }

    /// `--loop OP N`: only OP, N times (for `perf record`).
    fn run_loop(&self, op: &str, n: usize) -> Result<(), CkksError> {
        let (ev, ct_v, scale) = (&self.ev, &self.ct_v, self.ctx.default_scale());
        let t0 = Instant::now();
        let mut each = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            match op {
                "rotate" => drop(ev.rotate(ct_v, 1)?),
                "encrypt" => drop(self.encryptor.encrypt(&self.pt_v)?),
                "mul_relin" => drop(ev.mul_relin(ct_v, &self.ct_w)?),
                "rescale" => drop(ev.rescale(&self.prod)?),
                "hoisted16" => drop(ev.hoisted_rotate(ct_v, &(1..=16).collect::<Vec<_>>())?),
                "bsgs" => drop(ev.linear_transform(ct_v, self.lt.as_ref().expect("level > 0"))?),
                "cheb31" => drop(ev.evaluate_polynomial(ct_v, &self.cheb, scale)?),
                _ => panic!(
                    "--loop: rotate | encrypt | mul_relin | rescale | hoisted16 | bsgs | cheb31"
                ),
            }
            each.push(t.elapsed().as_secs_f64() * 1e3);
        }
        each.sort_by(f64::total_cmp);
        println!(
            "loop {op} x{n}: {:.3} ms each (mean), min {:.3}, median {:.3}",
            t0.elapsed().as_secs_f64() * 1e3 / n as f64,
            each[0],
            each[each.len() / 2]
        );
        Ok(())
    }

    /// NTTs and the single operations.
    fn time_basic_ops(&self) {
        let (ctx, ev, enc, reps) = (&self.ctx, &self.ev, &self.enc, self.reps);
        let (level, scale) = (self.level, ctx.default_scale());
        for (name, q) in [
            ("NTT fwd (q0, 55-bit)", ctx.moduli_q()[0]),
            ("NTT fwd (q1, 40-bit)", ctx.moduli_q()[1]),
            ("NTT fwd (p0, 61-bit)", ctx.moduli_p()[0]),
        ] {
            let plan = tfhe_ntt::prime64::Plan::try_new(ctx.n(), q).expect("NTT plan");
            let mut buf: Vec<u64> = (0..ctx.n() as u64).map(|i| i * 7 % q).collect();
            report(name, 201, time_ms(201, || plan.fwd(&mut buf)));
        }
        let (ct_v, ct_w) = (&self.ct_v, &self.ct_w);
        let timed = |name: &str, f: &mut dyn FnMut()| report(name, reps, time_ms(reps, f));
        timed("encode", &mut || drop(enc.encode(&self.v, level, scale)));
        timed("encrypt (pk)", &mut || {
            drop(self.encryptor.encrypt(&self.pt_v))
        });
        timed("decrypt + decode", &mut || drop(self.dec(ct_v)));
        timed("add", &mut || drop(ev.add(ct_v, ct_w)));
        timed("mul + relin", &mut || drop(ev.mul_relin(ct_v, ct_w)));
        if level > 0 {
            timed("rescale", &mut || drop(ev.rescale(&self.prod)));
            timed("mul + relin + rescale", &mut || {
                let mut p = ev.mul_relin(ct_v, ct_w).unwrap();
                ev.rescale_assign(&mut p).unwrap();
            });
            timed("mul_plain + rescale", &mut || {
                let mut p = ev.mul_plain(ct_v, &self.pt_q).unwrap();
                ev.rescale_assign(&mut p).unwrap();
            });
        }
        timed("rotate (1 step)", &mut || drop(ev.rotate(ct_v, 1)));
        let hsteps: Vec<i64> = (1..=16).collect();
        let r = time_ms(reps, || drop(ev.hoisted_rotate(ct_v, &hsteps)));
        report("hoisted rotate x16 (total)", reps, r);
        report(
            "hoisted rotate x16 (per rot)",
            reps,
            (r.0 / 16.0, r.1 / 16.0, r.2 / 16.0, r.3),
        );
    }

    /// The 144-diagonal transform and a rescale; its precision in bits.
    fn time_bsgs(&self) -> f64 {
        let Some(lt) = &self.lt else {
            return f64::NAN;
        };
        let bsgs = |x: &Ciphertext| -> Ciphertext {
            let mut out = self.ev.linear_transform(x, lt).unwrap();
            self.ev.rescale_assign(&mut out).unwrap();
            out
        };
        let n = self.heavy_reps;
        report(
            "BSGS lin. transform 144 diag",
            n,
            time_ms(n, || drop(bsgs(&self.ct_v))),
        );
        let y = self.dec(&bsgs(&self.ct_v));
        let slots = self.ctx.slots();
        let want: Vec<f64> = (0..slots)
            .map(|k| (0..144).map(|d| diag(d, k) * self.v[(k + d) % slots]).sum())
            .collect();
        bits(&y, &want)
    }

    /// The degree-31 Chebyshev series; its precision in bits.
    fn time_chebyshev(&self) -> Result<f64, CkksError> {
        let (ev, cheb, level) = (&self.ev, &self.cheb, self.level);
        if level < cheb.depth() {
            println!(
                "op Chebyshev deg 31 (BSGS)      skipped: needs {} levels, level is {level}",
                cheb.depth()
            );
            return Ok(f64::NAN);
        }
        let scale = self.ctx.default_scale();
        let n = self.heavy_reps;
        report(
            "Chebyshev deg 31 (BSGS)",
            n,
            time_ms(n, || {
                drop(ev.evaluate_polynomial(&self.ct_v, cheb, scale).unwrap())
            }),
        );
        let out = ev.evaluate_polynomial(&self.ct_v, cheb, scale)?;
        println!(
            "Chebyshev deg 31: input level {level} -> output level {} (depth {}), scale 2^{:.3}",
            out.level,
            level - out.level,
            out.scale.log2()
        );
        let want: Vec<f64> = self.v.iter().map(|&x| cheb.evaluate_f64(x)).collect();
        Ok(bits(&self.dec(&out), &want))
    }

    /// Precision of every operation against the float reference.
    fn report_precision(&self, bsgs_bits: f64, cheb_bits: f64) -> Result<(), CkksError> {
        let (ctx, ev, enc, v) = (&self.ctx, &self.ev, &self.enc, &self.v);
        let slots = ctx.slots();
        println!("== precision (bits = -log2 max |error| over {slots} slots)");
        let dv = self.dec(&self.ct_v);
        let fresh = bits(&dv, v);
        println!(
            "precision fresh encryption: {fresh:.2} bits (floor 30) {}; mean-error bits {:.2}",
            ok(fresh >= 30.0),
            mean_bits(&dv, v)
        );
        // What lifts the worst slot: secret-key encryption (error e, no
        // rounding of a ModDown times s) and a larger scale for fresh
        // ciphertexts.
        let sk_encryptor = Encryptor::with_secret_key(ctx, &self.sk);
        for (name, sk_enc, log_scale) in [
            ("pk", false, 41),
            ("pk", false, 42),
            ("pk", false, 43),
            ("sk", true, 40),
            ("sk", true, 42),
        ] {
            let pt = enc.encode(v, self.level, (log_scale as f64).exp2())?;
            let ct = if sk_enc {
                sk_encryptor.encrypt(&pt)?
            } else {
                self.encryptor.encrypt(&pt)?
            };
            let d = self.dec(&ct);
            println!(
                "precision fresh {name} encryption at scale 2^{log_scale}: {:.2} bits; mean-error bits {:.2}",
                bits(&d, v),
                mean_bits(&d, v)
            );
        }
        if self.level > 0 {
            let vw: Vec<f64> = v.iter().zip(&self.w).map(|(a, b)| a * b).collect();
            let dm = self.dec(&ev.rescale(&self.prod)?);
            let m = bits(&dm, &vw);
            println!(
                "precision mul + relin + rescale: {m:.2} bits (floor 25) {}; mean-error bits {:.2}",
                ok(m >= 25.0),
                mean_bits(&dm, &vw)
            );
            let mp = bits(
                &self.dec(&ev.rescale(&ev.mul_plain(&self.ct_v, &self.pt_q)?)?),
                &vw,
            );
            println!("precision mul_plain + rescale: {mp:.2} bits");
            println!("precision BSGS 144 diag: {bsgs_bits:.2} bits");
        }
        let vr: Vec<f64> = (0..slots).map(|k| v[(k + 1) % slots]).collect();
        println!(
            "precision rotate 1: {:.2} bits",
            bits(&self.dec(&ev.rotate(&self.ct_v, 1)?), &vr)
        );
        if cheb_bits.is_finite() {
            println!("precision Chebyshev deg 31: {cheb_bits:.2} bits");
        }
        Ok(())
    }
}

/// The 144-diagonal transform `y[k] = sum_{d < 144} diag_d[k] x[k + d]`,
/// diagonals encoded at scale q_level so that the rescale restores Δ.
fn transform(
    ctx: &Context,
    enc: &Encoder,
    level: usize,
    baby: Option<usize>,
) -> Result<LinearTransform, CkksError> {
    let slots = ctx.slots();
    let diags: BTreeMap<usize, Vec<Complex>> = (0..144)
        .map(|d| {
            (
                d,
                (0..slots).map(|k| Complex::new(diag(d, k), 0.0)).collect(),
            )
        })
        .collect();
    let t0 = Instant::now();
    let lt = LinearTransform::new(enc, &diags, level, ctx.q(level) as f64, baby)?;
    println!(
        "BSGS: encoded {} diagonals over Q_{level} ∪ P in {:.0} ms (not timed below); \
         baby step {}, {} rotations",
        lt.num_diagonals(),
        t0.elapsed().as_secs_f64() * 1e3,
        lt.baby_step(),
        lt.rotation_steps().len()
    );
    Ok(lt)
}

fn main() -> Result<(), CkksError> {
    orion_ckks::alloc_tuning::keep_freed_memory();
    let args = Args::parse();
    let looped = looped(&args).unwrap_or_else(|e| {
        eprintln!("ckks_ops: {e}");
        std::process::exit(2)
    });
    if let Some(n) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .expect("rayon global pool");
    }
    // (The transform takes seconds to encode: not built for other loops.)
    let with_transform = looped.as_ref().is_none_or(|(op, _)| op == "bsgs");
    let bench = Bench::new(&args, with_transform)?;
    if let Some((op, n)) = &looped {
        return bench.run_loop(op, *n);
    }
    bench.time_basic_ops();
    let bsgs_bits = bench.time_bsgs();
    let cheb_bits = bench.time_chebyshev()?;
    bench.report_precision(bsgs_bits, cheb_bits)
}

fn ok(b: bool) -> &'static str {
    if b {
        "OK"
    } else {
        "BELOW FLOOR"
    }
}
