//! The operations that issue 3 asks to be measured, at Orion's ResNet
//! parameters: LogN 16, LogQ [55, 40 x 10], LogP [61, 61, 61], LogScale 40,
//! ternary secret with Hamming weight 192 (dnum = ceil(11 / 3) = 4).
//!
//!     cargo run --release -p orion-runtime --example ckks_ops -- [--threads 1|2] [--level top|5] [--reps R]
//!
//! Prints, per operation, the median, min and max wall time in ms over R
//! repetitions (after one warm-up; the two composite operations, BSGS and
//! the polynomial, use max(3, R / 3) repetitions) and the 1-minute load
//! average read just before the operation was measured. Then the precision
//! in bits, -log2(max |error|) over all slots, against a float reference.
//!
//! What is a library op and what is composed here:
//! - `rotate`, `hoisted_rotate`, `mul_relin`, `rescale`, `mul_plain` are
//!   `Evaluator` methods;
//! - the library has no linear-transform op: "BSGS 144 diag" is composed
//!   here from the public ops (hoisted baby steps 0..11 via
//!   `hoisted_rotate`, 144 `mul_plain`, 11 giant `rotate`s by 12 j, one
//!   `rescale`) - no double hoisting, every giant step pays its own ModUp;
//! - the library has no polynomial evaluator: "Chebyshev deg 31" is a
//!   baby-step giant-step evaluation written here (T_0..T_7 baby steps,
//!   giants T_8, T_16, one Chebyshev division per giant), with exact scale
//!   alignment by `mul_const`. Its depth is 6 (optimal is 5), so it is
//!   skipped at level 5.
//!
//! `--threads n` builds rayon's global pool with n threads (default: rayon's
//! default, the number of cores).

use std::time::Instant;

use orion_runtime::ckks::*;

struct Args {
    threads: Option<usize>,
    level: Option<usize>, // None = top
    reps: usize,
    /// `--loop OP N`: only run OP (rotate | mul_relin | rescale | hoisted16)
    /// N times after the setup, for `perf record`.
    looped: Option<(String, usize)>,
}

fn parse_args() -> Args {
    let mut a = Args {
        threads: None,
        level: None,
        reps: 21,
        looped: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_else(|| panic!("{k} needs a value"));
        match k.as_str() {
            "--threads" => a.threads = Some(v.parse().expect("--threads n")),
            "--level" => {
                a.level = match v.as_str() {
                    "top" => None,
                    l => Some(l.parse().expect("--level top|<n>")),
                }
            }
            "--reps" => a.reps = v.parse().expect("--reps R"),
            "--loop" => {
                let n = it.next().and_then(|n| n.parse().ok()).expect("--loop OP N");
                a.looped = Some((v, n));
            }
            _ => panic!("unknown option {k} (expected --threads, --level, --reps)"),
        }
    }
    a
}

fn load1() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse().ok()))
        .unwrap_or(f64::NAN)
}

/// (median, min, max) in ms over `reps` runs after one warm-up; plus the load.
fn time_ms<F: FnMut()>(reps: usize, mut f: F) -> (f64, f64, f64, f64) {
    let load = load1();
    f();
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = t.len();
    let med = if n % 2 == 1 {
        t[n / 2]
    } else {
        0.5 * (t[n / 2 - 1] + t[n / 2])
    };
    (med, t[0], t[n - 1], load)
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

/// `a` (level l, scale S, not yet rescaled) + `b` (level >= l, any scale):
/// `b` is brought to level l and multiplied by the integer round(S / s_b) so
/// that the scales are equal to within 2^-40 relative (the scale is then set
/// to the exact product so that `add` accepts it).
fn add_aligned(ev: &Evaluator, a: &Ciphertext, b: &Ciphertext, coef: f64) -> Ciphertext {
    let b = ev.level_down(b, a.level).unwrap();
    let mut b = ev.mul_const(&b, coef, a.scale / b.scale).unwrap();
    b.scale = a.scale;
    ev.add(a, &b).unwrap()
}

/// 2 a b - c, with c aligned to a*b before the rescale.
fn cheb_next(ev: &Evaluator, a: &Ciphertext, b: &Ciphertext, c: Option<&Ciphertext>) -> Ciphertext {
    let l = a.level.min(b.level);
    let a = ev.level_down(a, l).unwrap();
    let b = ev.level_down(b, l).unwrap();
    let p = ev.mul_relin(&a, &b).unwrap();
    let p2 = ev.mul_const(&p, 2.0, 1.0).unwrap();
    let r = match c {
        Some(c) => add_aligned(ev, &p2, c, -1.0),
        None => ev.add_const(&p2, -1.0).unwrap(),
    };
    ev.rescale(&r).unwrap()
}

/// sum_{i<8} c_i T_i (T_0 = 1) at one level, one rescale.
fn leaf(ev: &Evaluator, t: &[Ciphertext], c: &[f64]) -> Ciphertext {
    let l = t[1..c.len()].iter().map(|x| x.level).min().unwrap();
    let target = t[1].scale * ev.context().q(l) as f64; // pre-rescale scale
    let mut acc: Option<Ciphertext> = None;
    for i in 1..c.len() {
        let x = ev.level_down(&t[i], l).unwrap();
        let mut y = ev.mul_const(&x, c[i], target / x.scale).unwrap();
        y.scale = target;
        acc = Some(match acc {
            None => y,
            Some(a) => ev.add(&a, &y).unwrap(),
        });
    }
    let acc = ev.add_const(&acc.unwrap(), c[0]).unwrap();
    ev.rescale(&acc).unwrap()
}

/// Divides sum c_i T_i (deg < 2 m) by T_m: (q, r) with p = q T_m + r.
fn cheb_div(c: &[f64], m: usize) -> (Vec<f64>, Vec<f64>) {
    let mut q = vec![0.0; m];
    let mut r: Vec<f64> = c[..m].to_vec();
    q[0] = c[m];
    for k in 1..m {
        if m + k < c.len() {
            q[k] = 2.0 * c[m + k];
            r[m - k] -= c[m + k];
        }
    }
    (q, r)
}

/// q * g + r, q and r already evaluated; one mul_relin, one rescale.
fn combine(ev: &Evaluator, q: &Ciphertext, g: &Ciphertext, r: &Ciphertext) -> Ciphertext {
    let l = q.level.min(g.level);
    let p = ev
        .mul_relin(&ev.level_down(q, l).unwrap(), &ev.level_down(g, l).unwrap())
        .unwrap();
    let s = add_aligned(ev, &p, r, 1.0);
    ev.rescale(&s).unwrap()
}

/// Degree-31 Chebyshev series sum c_i T_i(x), x in [-1, 1], by baby-step
/// giant-step (baby T_0..T_7, giants T_8, T_16).
fn cheb31(ev: &Evaluator, x: &Ciphertext, c: &[f64]) -> Ciphertext {
    assert_eq!(c.len(), 32);
    let mut t: Vec<Ciphertext> = vec![x.clone(), x.clone()]; // t[0] unused
    t.push(cheb_next(ev, &t[1], &t[1], None)); // T2
    t.push(cheb_next(ev, &t[2], &t[1], Some(&t[1]))); // T3
    t.push(cheb_next(ev, &t[2], &t[2], None)); // T4
    t.push(cheb_next(ev, &t[4], &t[1], Some(&t[3]))); // T5
    t.push(cheb_next(ev, &t[3], &t[3], None)); // T6
    t.push(cheb_next(ev, &t[4], &t[3], Some(&t[1]))); // T7
    let t8 = cheb_next(ev, &t[4], &t[4], None);
    let t16 = cheb_next(ev, &t8, &t8, None);
    let (qh, rh) = cheb_div(c, 16);
    let (qq, qr) = cheb_div(&qh, 8);
    let (rq, rr) = cheb_div(&rh, 8);
    let q = combine(ev, &leaf(ev, &t, &qq), &t8, &leaf(ev, &t, &qr));
    let r = combine(ev, &leaf(ev, &t, &rq), &t8, &leaf(ev, &t, &rr));
    combine(ev, &q, &t16, &r)
}

fn cheb_ref(x: f64, c: &[f64]) -> f64 {
    let (mut t0, mut t1) = (1.0, x);
    let mut s = c[0] + c[1] * x;
    for &ci in &c[2..] {
        let t2 = 2.0 * x * t1 - t0;
        s += ci * t2;
        t0 = t1;
        t1 = t2;
    }
    s
}

fn main() -> Result<(), CkksError> {
    let args = parse_args();
    if let Some(n) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .expect("rayon global pool");
    }
    let reps = args.reps.max(1);
    let heavy_reps = (reps / 3).max(3);
    let params = CkksParams {
        log_n: 16,
        log_q: std::iter::once(55)
            .chain(std::iter::repeat_n(40, 10))
            .collect(),
        log_p: vec![61, 61, 61],
        log_scale: 40,
        secret: SecretDist::Ternary {
            hamming_weight: Some(192),
        },
        insecure_ok: false,
    };
    let t0 = Instant::now();
    let ctx = Context::new(params)?;
    let top = ctx.max_level();
    let level = args.level.unwrap_or(top).min(top);
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

    // Galois keys: 1..16 (rotate, hoisted, BSGS baby steps 1..11) and the
    // BSGS giant steps 12 j, j = 2..11.
    let (n1, n2) = (12usize, 12usize);
    let mut steps: Vec<i64> = (1..=16).collect();
    steps.extend((2..n2).map(|j| (n1 * j) as i64));
    let t0 = Instant::now();
    let kg = KeyGenerator::with_seed(&ctx, 1);
    let sk = kg.gen_secret_key();
    let pk = kg.gen_public_key(&sk)?;
    let rlk = kg.gen_relin_key(&sk)?;
    let gks = kg.gen_galois_keys(&sk, &steps)?;
    println!(
        "keygen (sk, pk, rlk, {} Galois keys): {:.1} ms",
        steps.len(),
        t0.elapsed().as_secs_f64() * 1e3
    );

    let enc = Encoder::new(&ctx);
    let encryptor = Encryptor::new(&ctx, &pk);
    let decryptor = Decryptor::new(&ctx, &sk);
    let ev = Evaluator::new(&ctx, Some(&rlk), Some(&gks));
    let scale = ctx.default_scale();
    let slots = ctx.slots();
    let v: Vec<f64> = (0..slots)
        .map(|i| ((i * 7919) % 1000) as f64 / 1000.0 - 0.5)
        .collect();
    let w: Vec<f64> = (0..slots)
        .map(|i| ((i * 104729) % 997) as f64 / 997.0 - 0.5)
        .collect();
    let dec = |ct: &Ciphertext| enc.decode(&decryptor.decrypt(ct).unwrap()).unwrap();

    let pt_v = enc.encode(&v, level, scale)?;
    let pt_w = enc.encode(&w, level, scale)?;
    let ct_v = encryptor.encrypt(&pt_v)?;
    let ct_w = encryptor.encrypt(&pt_w)?;
    let prod = ev.mul_relin(&ct_v, &ct_w)?;
    // mul_plain operand at scale q_level, so the rescale restores the scale.
    let pt_q = enc.encode(&w, level, ctx.q(level) as f64)?;

    if let Some((op, n)) = &args.looped {
        let t0 = Instant::now();
        for _ in 0..*n {
            match op.as_str() {
                "rotate" => drop(ev.rotate(&ct_v, 1)?),
                "mul_relin" => drop(ev.mul_relin(&ct_v, &ct_w)?),
                "rescale" => drop(ev.rescale(&prod)?),
                "hoisted16" => drop(ev.hoisted_rotate(&ct_v, &(1..=16).collect::<Vec<_>>())?),
                _ => panic!("--loop: rotate | mul_relin | rescale | hoisted16"),
            }
        }
        println!(
            "loop {op} x{n}: {:.3} ms each (mean)",
            t0.elapsed().as_secs_f64() * 1e3 / *n as f64
        );
        return Ok(());
    }

    // ---------------------------------------------------------------- NTT
    for (name, q) in [
        ("NTT fwd (q0, 55-bit)", ctx.moduli_q()[0]),
        ("NTT fwd (q1, 40-bit)", ctx.moduli_q()[1]),
        ("NTT fwd (p0, 61-bit)", ctx.moduli_p()[0]),
    ] {
        let plan = tfhe_ntt::prime64::Plan::try_new(ctx.n(), q).expect("NTT plan");
        let mut buf: Vec<u64> = (0..ctx.n() as u64).map(|i| i * 7 % q).collect();
        report(name, 201, time_ms(201, || plan.fwd(&mut buf)));
    }

    // ---------------------------------------------------------- basic ops
    report(
        "encode",
        reps,
        time_ms(reps, || drop(enc.encode(&v, level, scale))),
    );
    report(
        "encrypt (pk)",
        reps,
        time_ms(reps, || drop(encryptor.encrypt(&pt_v))),
    );
    report(
        "decrypt + decode",
        reps,
        time_ms(reps, || {
            drop(enc.decode(&decryptor.decrypt(&ct_v).unwrap()))
        }),
    );
    report("add", reps, time_ms(reps, || drop(ev.add(&ct_v, &ct_w))));
    report(
        "mul + relin",
        reps,
        time_ms(reps, || drop(ev.mul_relin(&ct_v, &ct_w))),
    );
    if level > 0 {
        report("rescale", reps, time_ms(reps, || drop(ev.rescale(&prod))));
        report(
            "mul + relin + rescale",
            reps,
            time_ms(reps, || {
                let mut p = ev.mul_relin(&ct_v, &ct_w).unwrap();
                ev.rescale_assign(&mut p).unwrap();
            }),
        );
        report(
            "mul_plain + rescale",
            reps,
            time_ms(reps, || {
                let mut p = ev.mul_plain(&ct_v, &pt_q).unwrap();
                ev.rescale_assign(&mut p).unwrap();
            }),
        );
    }
    report(
        "rotate (1 step)",
        reps,
        time_ms(reps, || drop(ev.rotate(&ct_v, 1))),
    );
    let hsteps: Vec<i64> = (1..=16).collect();
    let r = time_ms(reps, || drop(ev.hoisted_rotate(&ct_v, &hsteps)));
    report("hoisted rotate x16 (total)", reps, r);
    report(
        "hoisted rotate x16 (per rot)",
        reps,
        (r.0 / 16.0, r.1 / 16.0, r.2 / 16.0, r.3),
    );

    // ------------------------------------------------ BSGS, 144 diagonals
    // y[k] = sum_{d < 144} diag_d[k] x[k + d]; d = n1 j + i.
    let mut bsgs_bits = f64::NAN;
    if level > 0 {
        let diag = |d: usize, k: usize| (((d * 31 + k * 17) % 101) as f64 / 101.0 - 0.5) / 16.0;
        let qscale = ctx.q(level) as f64;
        let t0 = Instant::now();
        let pts: Vec<Vec<Plaintext>> = (0..n2)
            .map(|j| {
                (0..n1)
                    .map(|i| {
                        let d = n1 * j + i;
                        // rot_{-n1 j}(diag_d)[k] = diag_d[k - n1 j]
                        let vals: Vec<f64> = (0..slots)
                            .map(|k| diag(d, (k + slots - n1 * j) % slots))
                            .collect();
                        enc.encode(&vals, level, qscale).unwrap()
                    })
                    .collect()
            })
            .collect();
        println!(
            "BSGS: encoded {} diagonals at level {level} in {:.0} ms (not timed below)",
            n1 * n2,
            t0.elapsed().as_secs_f64() * 1e3
        );
        let baby: Vec<i64> = (0..n1 as i64).collect();
        let bsgs = |x: &Ciphertext| -> Ciphertext {
            let rots = ev.hoisted_rotate(x, &baby).unwrap();
            let mut acc: Option<Ciphertext> = None;
            for (j, row) in pts.iter().enumerate() {
                let mut inner = ev.mul_plain(&rots[0], &row[0]).unwrap();
                for (r, p) in rots.iter().zip(row).skip(1) {
                    ev.add_assign(&mut inner, &ev.mul_plain(r, p).unwrap())
                        .unwrap();
                }
                let g = ev.rotate(&inner, (n1 * j) as i64).unwrap();
                acc = Some(match acc {
                    None => g,
                    Some(mut a) => {
                        ev.add_assign(&mut a, &g).unwrap();
                        a
                    }
                });
            }
            let mut out = acc.unwrap();
            ev.rescale_assign(&mut out).unwrap();
            out
        };
        report(
            "BSGS lin. transform 144 diag",
            heavy_reps,
            time_ms(heavy_reps, || drop(bsgs(&ct_v))),
        );
        let y = dec(&bsgs(&ct_v));
        let want: Vec<f64> = (0..slots)
            .map(|k| (0..n1 * n2).map(|d| diag(d, k) * v[(k + d) % slots]).sum())
            .collect();
        bsgs_bits = bits(&y, &want);
    }

    // --------------------------------------------- Chebyshev, degree 31
    let cheb_c: Vec<f64> = (0..32).map(|i| 1.0 / (1.0 + i as f64).powi(2)).collect();
    let mut cheb_bits = f64::NAN;
    if level >= 6 {
        report(
            "Chebyshev deg 31 (BSGS)",
            heavy_reps,
            time_ms(heavy_reps, || drop(cheb31(&ev, &ct_v, &cheb_c))),
        );
        let out = cheb31(&ev, &ct_v, &cheb_c);
        println!(
            "Chebyshev deg 31: input level {level} -> output level {} (depth {}), scale 2^{:.3}",
            out.level,
            level - out.level,
            out.scale.log2()
        );
        let want: Vec<f64> = v.iter().map(|&x| cheb_ref(x, &cheb_c)).collect();
        cheb_bits = bits(&dec(&out), &want);
    } else {
        println!("op Chebyshev deg 31 (BSGS)      skipped: needs 6 levels (depth 6 here), level is {level}");
    }

    // ------------------------------------------------------- precision
    println!("== precision (bits = -log2 max |error| over {slots} slots)");
    let dv = dec(&ct_v);
    let fresh = bits(&dv, &v);
    println!(
        "precision fresh encryption: {fresh:.2} bits (floor 30) {}; mean-error bits {:.2}",
        ok(fresh >= 30.0),
        mean_bits(&dv, &v)
    );
    if level > 0 {
        let vw: Vec<f64> = v.iter().zip(&w).map(|(a, b)| a * b).collect();
        let dm = dec(&ev.rescale(&prod)?);
        let m = bits(&dm, &vw);
        println!(
            "precision mul + relin + rescale: {m:.2} bits (floor 25) {}; mean-error bits {:.2}",
            ok(m >= 25.0),
            mean_bits(&dm, &vw)
        );
        let mp = bits(&dec(&ev.rescale(&ev.mul_plain(&ct_v, &pt_q)?)?), &vw);
        println!("precision mul_plain + rescale: {mp:.2} bits");
        println!("precision BSGS 144 diag: {bsgs_bits:.2} bits");
    }
    let vr: Vec<f64> = (0..slots).map(|k| v[(k + 1) % slots]).collect();
    println!(
        "precision rotate 1: {:.2} bits",
        bits(&dec(&ev.rotate(&ct_v, 1)?), &vr)
    );
    if cheb_bits.is_finite() {
        println!("precision Chebyshev deg 31: {cheb_bits:.2} bits");
    }
    Ok(())
}

fn ok(b: bool) -> &'static str {
    if b {
        "OK"
    } else {
        "BELOW FLOOR"
    }
}
