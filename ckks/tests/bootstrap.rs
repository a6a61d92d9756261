//! Bootstrapping at small, insecure parameters (N = 2^12, flagged
//! `insecure_ok`): precision of full and sparse slots against the input
//! values, and the error paths.
//!
//! Precision floors. With values uniform in the unit square, a folded
//! coefficient of the message is about `0.8 / sqrt(N/2)` of the scale, so
//! after ScaleDown (message ratio 2^8) EvalMod sees `x = m / q_0 ≈ 2^-13.8`
//! at N = 2^12. Its sine has a cubic error `(2 pi)^2 x^3 / 6 ≈ 2^-38.7`,
//! which SlotsToCoeffs amplifies by `2^8 sqrt(N/2)`: about 2^-25 per slot,
//! the dominant term here (at N = 2^16 the coefficients are 4x smaller and
//! this term drops to about 2^-29). The asserted floors leave 1.5 bits of
//! margin on the mean and allow the maximum over 4096 values to be ~4
//! standard deviations out.

use std::sync::Arc;

use orion_ckks::bootstrap::*;
use orion_ckks::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

struct Fixture {
    ctx: Arc<Context>,
    sk: SecretKey,
    encoder: Encoder,
    encryptor: Encryptor,
    decryptor: Decryptor,
    boot: Bootstrapper,
}

fn fixture(bp: &BootstrapParams, seed: u64) -> Fixture {
    let ctx = Context::new(bp.ckks_params()).unwrap();
    let sk = KeyGenerator::with_seed(&ctx, seed).gen_secret_key();
    let keys = BootstrapKeys::generate(&ctx, bp, &sk, &quiet(seed)).unwrap();
    Fixture {
        encoder: Encoder::new(&ctx),
        encryptor: Encryptor::with_secret_key(&ctx, &sk).seeded(seed + 1),
        decryptor: Decryptor::new(&ctx, &sk),
        boot: Bootstrapper::new(&ctx, bp, &keys).unwrap(),
        sk,
        ctx,
    }
}

fn quiet(seed: u64) -> KeyGenOptions {
    KeyGenOptions {
        seed: Some(seed),
        ..KeyGenOptions::default()
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
    assert_eq!(want.len(), got.len());
    let errs: Vec<f64> = want
        .iter()
        .zip(got)
        .flat_map(|(w, g)| [(w.re - g.re).abs(), (w.im - g.im).abs()])
        .collect();
    let mean = errs.iter().sum::<f64>() / errs.len() as f64;
    let max = errs.iter().fold(0.0f64, |a, &b| a.max(b));
    (-mean.log2(), -max.log2())
}

impl Fixture {
    /// Encrypts `values` at `level`, bootstraps, checks the output level
    /// and scale, returns the precision.
    fn roundtrip(&self, values: &[Complex], level: usize) -> (f64, f64) {
        let pt = self
            .encoder
            .encode_complex(values, level, self.ctx.default_scale())
            .unwrap();
        let ct = self.encryptor.encrypt(&pt).unwrap();
        let t = std::time::Instant::now();
        let out = self.boot.bootstrap(&ct).unwrap();
        let elapsed = t.elapsed();
        assert_eq!(out.level, self.boot.levels().residual);
        assert_eq!(out.scale, self.ctx.default_scale());
        let got = self
            .encoder
            .decode_complex(&self.decryptor.decrypt(&out).unwrap())
            .unwrap();
        let p = precision(values, &got);
        eprintln!(
            "{} slots from level {level}: mean {:.1} bits, min {:.1} bits, {elapsed:?}",
            self.boot.params().slots(),
            p.0,
            p.1
        );
        p
    }
}

#[test]
fn full_slots() {
    let f = fixture(&BootstrapParams::test_n12(), 1);
    let slots = f.ctx.slots();
    // Complex values, from level 0.
    let (mean, min) = f.roundtrip(&random_complex(slots, 2), 0);
    assert!(mean >= 23.5 && min >= 19.0, "{mean:.1} / {min:.1} bits");
    // Real values, from the top residual level (dropped to 0 inside).
    let real: Vec<Complex> = random_complex(slots, 3)
        .iter()
        .map(|z| Complex::new(z.re, 0.0))
        .collect();
    let (mean, min) = f.roundtrip(&real, f.boot.levels().residual);
    assert!(mean >= 23.5 && min >= 19.0, "{mean:.1} / {min:.1} bits");
}

/// 2^7 sparse slots: the message is 128-periodic over the 2048 slots.
#[test]
fn sparse_slots() {
    let bp = BootstrapParams::test_n12().with_log_slots(7);
    let f = fixture(&bp, 4);
    let n = bp.slots();
    let v = random_complex(n, 5);
    let periodic: Vec<Complex> = (0..f.ctx.slots()).map(|j| v[j % n]).collect();
    // Fewer, larger coefficients (x ≈ 2^-12.3): the sine error is ~2^-21.
    let (mean, min) = f.roundtrip(&periodic, 1);
    assert!(mean >= 19.5 && min >= 16.0, "{mean:.1} / {min:.1} bits");
}

#[test]
fn bad_inputs_are_clear_errors() {
    let bp = BootstrapParams::test_n12();
    let f = fixture(&bp, 6);
    let res = f.boot.levels().residual;
    let values = random_complex(8, 7);
    let enc = |level: usize, scale: f64| {
        f.encryptor
            .encrypt(&f.encoder.encode_complex(&values, level, scale).unwrap())
            .unwrap()
    };
    // Above the residual chain: a ciphertext from the bootstrapping levels.
    let err = f.boot.bootstrap(&enc(res + 1, 2f64.powi(40))).unwrap_err();
    assert!(
        matches!(err, CkksError::InvalidLevel { level, max, .. } if level == res + 1 && max == res)
    );
    assert!(err.to_string().contains("bootstrap"), "{err}");
    // A scale that leaves q_0 / scale < 2^8: the values cannot fit.
    let err = f.boot.bootstrap(&enc(0, 2f64.powi(50))).unwrap_err();
    assert!(matches!(err, CkksError::ValueOutOfRange { .. }), "{err}");
    assert!(err.to_string().contains("message ratio"), "{err}");
    // Degree 2 (not relinearized).
    let ct = enc(1, 2f64.powi(20));
    let kg = KeyGenerator::with_seed(&f.ctx, 6);
    let rlk = kg.gen_relin_key(&f.sk).unwrap();
    let sq = Evaluator::new(&f.ctx, Some(&rlk), None)
        .mul(&ct, &ct)
        .unwrap();
    let err = f.boot.bootstrap(&sq).unwrap_err();
    assert!(
        matches!(
            err,
            CkksError::DegreeMismatch {
                op: "bootstrap",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn missing_or_mismatched_keys_are_clear_errors() {
    let full = BootstrapParams::test_n12();
    let ctx = Context::new(full.ckks_params()).unwrap();
    let sk = KeyGenerator::with_seed(&ctx, 8).gen_secret_key();
    // Keys for 2^7 sparse slots lack the full-slot DFT rotations.
    let sparse = full.clone().with_log_slots(7);
    let keys = BootstrapKeys::generate(&ctx, &sparse, &sk, &quiet(8)).unwrap();
    let err = Bootstrapper::new(&ctx, &full, &keys).unwrap_err();
    assert!(matches!(err, CkksError::MissingGaloisKey(_)), "{err}");
    // Parameters with encapsulation, keys without.
    let plain = BootstrapParams {
        ephemeral_hamming_weight: None,
        mod1: Mod1Params {
            k: 34,
            double_angle: 4,
            ..Mod1Params::default()
        },
        ..full.clone()
    };
    let ctx2 = Context::new(plain.ckks_params()).unwrap();
    let sk2 = KeyGenerator::with_seed(&ctx2, 9).gen_secret_key();
    let keys2 = BootstrapKeys::generate(&ctx2, &plain, &sk2, &quiet(9)).unwrap();
    let wanting = BootstrapParams {
        ephemeral_hamming_weight: Some(32),
        ..plain.clone()
    };
    let err = Bootstrapper::new(&ctx2, &wanting, &keys2).unwrap_err();
    assert!(err.to_string().contains("encapsulation"), "{err}");
    // A context of another chain.
    let err = Bootstrapper::new(&ctx, &plain, &keys2).unwrap_err();
    assert!(matches!(err, CkksError::ContextMismatch(_)), "{err}");
}

/// Without encapsulation the secret's weight (192) sets the range: K = 34
/// and one more double angle.
#[test]
fn without_encapsulation() {
    let bp = BootstrapParams {
        ephemeral_hamming_weight: None,
        mod1: Mod1Params {
            k: 34,
            double_angle: 4,
            ..Mod1Params::default()
        },
        ..BootstrapParams::test_n12()
    };
    let f = fixture(&bp, 10);
    let (mean, min) = f.roundtrip(&random_complex(f.ctx.slots(), 11), 0);
    assert!(mean >= 22.0 && min >= 18.0, "{mean:.1} / {min:.1} bits");
}

/// Encoding the DFT matrices on use gives the same ciphertext as keeping
/// them encoded.
#[test]
fn lazy_matrices_give_the_same_result() {
    let bp = BootstrapParams::test_n12().with_log_slots(5);
    let ctx = Context::new(bp.ckks_params()).unwrap();
    let sk = KeyGenerator::with_seed(&ctx, 12).gen_secret_key();
    let keys = BootstrapKeys::generate(&ctx, &bp, &sk, &quiet(12)).unwrap();
    let eager = Bootstrapper::new(&ctx, &bp, &keys).unwrap();
    let lazy_opts = BootstrapOptions {
        lazy_matrices: true,
    };
    let lazy = Bootstrapper::with_options(&ctx, &bp, &keys, &lazy_opts).unwrap();
    let v = random_complex(bp.slots(), 13);
    let periodic: Vec<Complex> = (0..ctx.slots()).map(|j| v[j % v.len()]).collect();
    let pt = Encoder::new(&ctx)
        .encode_complex(&periodic, 0, ctx.default_scale())
        .unwrap();
    let ct = Encryptor::with_secret_key(&ctx, &sk)
        .seeded(14)
        .encrypt(&pt)
        .unwrap();
    assert_eq!(eager.bootstrap(&ct).unwrap(), lazy.bootstrap(&ct).unwrap());
}

/// The memory-lean DFT (chained rotations, keys at their level) computes
/// the same function: same precision floors.
#[test]
fn chained_dft_rotations() {
    let bp = BootstrapParams::test_n12().with_dft(DftStrategy::Chained);
    let f = fixture(&bp, 15);
    let (mean, min) = f.roundtrip(&random_complex(f.ctx.slots(), 16), 0);
    assert!(mean >= 23.5 && min >= 19.0, "{mean:.1} / {min:.1} bits");

    let sparse = bp.clone().with_log_slots(7);
    let f = fixture(&sparse, 17);
    let v = random_complex(sparse.slots(), 18);
    let periodic: Vec<Complex> = (0..f.ctx.slots()).map(|j| v[j % v.len()]).collect();
    let (mean, min) = f.roundtrip(&periodic, 2);
    assert!(mean >= 19.5 && min >= 16.0, "{mean:.1} / {min:.1} bits");

    // BSGS keys do not serve the chained circuit.
    let ctx = &f.ctx;
    let bsgs = sparse.clone().with_dft(DftStrategy::Bsgs);
    let keys = BootstrapKeys::generate(ctx, &bsgs, &f.sk, &quiet(19)).unwrap();
    let err = Bootstrapper::new(ctx, &sparse, &keys).unwrap_err();
    assert!(err.to_string().contains("chained"), "{err}");
}

/// Counts what key generation reports through [`Progress`].
#[derive(Default)]
struct Counter {
    total: std::sync::atomic::AtomicU64,
    steps: std::sync::atomic::AtomicU64,
    finished: std::sync::atomic::AtomicBool,
}

impl Progress for Counter {
    fn start(&self, total: u64) {
        self.total.store(total, std::sync::atomic::Ordering::SeqCst);
    }
    fn step(&self) {
        self.steps.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    fn finish(&self) {
        self.finished
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn key_generation_reports_its_progress() {
    use std::sync::atomic::Ordering;
    for dft in [DftStrategy::Bsgs, DftStrategy::Chained] {
        let bp = BootstrapParams::test_n12().with_dft(dft);
        let ctx = Context::new(bp.ckks_params()).unwrap();
        let sk = KeyGenerator::with_seed(&ctx, 9).gen_secret_key();
        let counter = Arc::new(Counter::default());
        let opts = KeyGenOptions {
            seed: Some(9),
            progress: orion_ckks::progress::ProgressSink::new(counter.clone()),
        };
        BootstrapKeys::generate(&ctx, &bp, &sk, &opts).unwrap();
        let (total, steps) = (
            counter.total.load(Ordering::SeqCst),
            counter.steps.load(Ordering::SeqCst),
        );
        assert!(total > 2, "{dft:?}: total {total}");
        // One step per key, the two encapsulation keys included.
        assert_eq!(steps, total, "{dft:?}");
        assert!(counter.finished.load(Ordering::SeqCst), "{dft:?}");
    }
}

#[test]
fn matrix_memory_is_estimated_exactly_before_encoding() {
    let bp = BootstrapParams::test_n12();
    let f = fixture(&bp, 21);
    let estimate =
        Bootstrapper::matrices_bytes_estimate(&f.ctx, &bp, &BootstrapOptions::default()).unwrap();
    assert!(estimate > 0);
    assert_eq!(estimate, f.boot.matrices_bytes());
    let lazy = BootstrapOptions {
        lazy_matrices: true,
    };
    assert_eq!(
        Bootstrapper::matrices_bytes_estimate(&f.ctx, &bp, &lazy).unwrap(),
        0
    );
}
