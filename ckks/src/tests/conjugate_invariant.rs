//! Tests of the conjugate-invariant ring (N real slots): the twisted
//! transform against schoolbook products in `Z_p[X]/(X^2N + 1)`, the
//! automorphisms against the coefficient map, and every operation's
//! precision in bits against a float reference.
//!
//! Floors: an element of the subring is a degree-2N polynomial with twice
//! the nonzero noise coefficients of a standard-ring element of degree N
//! (and the secret, expanded, has twice the weight), and there are twice
//! the slots to take the maximum over: measured ~1.5 bits below the
//! standard ring at the same N and Δ (fresh public-key encryption 26.4 bits
//! at N = 2^12, Δ = 2^40, against 28.0). The floors are ~1 bit below the
//! measured figures (printed by each test).

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use tfhe_ntt::prime64::Plan;

use crate::math::arith::Modulus;
use crate::math::primes::generate_primes;
use crate::ring::conjugate_invariant::{self as ci, CiTwist};
use crate::tests::scheme::{check, random_values, rotated, setup_ring, Setup};
use crate::*;

/// The degree-2N polynomial of an element given by `c_0 .. c_(N-1)`.
fn expand(c: &[u64], m: &Modulus) -> Vec<u64> {
    let n = c.len();
    let mut a = vec![0u64; 2 * n];
    a[..n].copy_from_slice(c);
    for k in 1..n {
        a[n + k] = m.neg(c[n - k]);
    }
    a
}

/// Schoolbook product in `Z_p[X]/(X^2N + 1)`.
fn negacyclic_mul(a: &[u64], b: &[u64], m: &Modulus) -> Vec<u64> {
    let n2 = a.len();
    let mut out = vec![0u64; n2];
    for i in 0..n2 {
        for j in 0..n2 {
            let t = m.mul(a[i], b[j]);
            if i + j < n2 {
                out[i + j] = m.add(out[i + j], t);
            } else {
                out[i + j - n2] = m.sub(out[i + j - n2], t);
            }
        }
    }
    out
}

#[test]
fn twisted_ntt_multiplies_in_the_subring() {
    let n = 64;
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    for bits in [40u32, 55, 61] {
        let p = generate_primes(7, &[bits], &[]).unwrap()[0]; // p = 1 mod 4N
        let m = Modulus::new(p);
        let plan = Plan::try_new(n, p).unwrap();
        let mut x = vec![0u64; n];
        x[1] = 1;
        plan.fwd(&mut x);
        let tw = CiTwist::new(&m, x[0], n);
        let fwd = |c: &[u64]| {
            let mut v = c.to_vec();
            tw.twist(&m, &mut v);
            plan.fwd(&mut v);
            v
        };
        let inv = |v: &[u64]| {
            let mut c = v.to_vec();
            plan.inv(&mut c);
            tw.untwist(&m, &mut c);
            c
        };
        let a: Vec<u64> = (0..n).map(|_| rng.random::<u64>() % p).collect();
        let b: Vec<u64> = (0..n).map(|_| rng.random::<u64>() % p).collect();
        assert_eq!(inv(&fwd(&a)), a, "{bits}-bit prime: round trip");
        let (fa, fb) = (fwd(&a), fwd(&b));
        let prod: Vec<u64> = fa.iter().zip(&fb).map(|(&x, &y)| m.mul(x, y)).collect();
        let got = inv(&prod);
        let want = negacyclic_mul(&expand(&a, &m), &expand(&b, &m), &m);
        // The product stays in the subring, and its first N coefficients are the element.
        assert_eq!(expand(&want[..n], &m), want, "{bits}-bit prime: closed");
        assert_eq!(got, want[..n], "{bits}-bit prime: product");
    }
}

#[test]
fn automorphisms_match_the_coefficient_map() {
    let params = CkksParams {
        log_n: 10,
        log_q: vec![50, 30],
        log_p: vec![61],
        log_scale: 30,
        secret: SecretDist::default(),
        insecure_ok: true,
    };
    let ctx = Context::with_ring(params, Ring::ConjugateInvariant).unwrap();
    let n = ctx.n();
    assert_eq!(ctx.slots(), n);
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    for step in [1i64, 2, 7, -1, 300] {
        let g = ctx.galois_element(step);
        assert_eq!(g, ci::galois_element(step, n));
        assert_eq!(ctx.galois_inverse(g) * g % (4 * n as u64), 1);
        let perm = ctx.galois_permutation(g);
        for t in &ctx.primes {
            let m = &t.m;
            let c: Vec<u64> = (0..n).map(|_| rng.random::<u64>() % m.value()).collect();
            // a(X^g) in Z_p[X]/(X^2N + 1), back to the subring's N integers.
            let a = expand(&c, m);
            let mut ag = vec![0u64; 2 * n];
            for (i, &v) in a.iter().enumerate() {
                let e = (i as u64 * g) % (4 * n as u64);
                if e < 2 * n as u64 {
                    ag[e as usize] = m.add(ag[e as usize], v);
                } else {
                    let e = (e - 2 * n as u64) as usize;
                    ag[e] = m.sub(ag[e], v);
                }
            }
            assert_eq!(expand(&ag[..n], m), ag);
            let mut want = ag[..n].to_vec();
            t.fwd(&mut want);
            let mut c_ntt = c.clone();
            t.fwd(&mut c_ntt);
            let got: Vec<u64> = perm.iter().map(|&j| c_ntt[j as usize]).collect();
            assert_eq!(got, want, "step {step}, p = {}", m.value());
        }
    }
}

fn ci_params() -> CkksParams {
    CkksParams {
        log_n: 12,
        log_q: std::iter::once(60).chain([40; 6]).collect(),
        log_p: vec![60, 60],
        log_scale: 40,
        secret: SecretDist::default(),
        insecure_ok: true,
    }
}

fn ci_setup(steps: &[i64], seed: u64) -> Setup {
    setup_ring(ci_params(), Ring::ConjugateInvariant, steps, seed)
}

#[test]
fn real_slots_encode_encrypt_arithmetic() {
    let s = ci_setup(&[1, -1, 5, 1000], 41);
    let slots = s.ctx.slots();
    assert_eq!(slots, s.ctx.n(), "N real slots");
    let top = s.top();
    let a = random_values(slots, 30);
    let b = random_values(slots, 31);
    // Encoding alone: rounding of N coefficients at Δ = 2^40.
    let pt = s.encoder.encode(&a, top, s.scale()).unwrap();
    let dec = s.encoder.decode(&pt).unwrap();
    check("CI encode/decode", &a, &dec, 32.5);
    assert!(s
        .encoder
        .decode_complex(&pt)
        .unwrap()
        .iter()
        .all(|z| z.im == 0.0));
    assert!(matches!(
        s.encoder
            .encode_complex(&[Complex::new(1.0, 0.5)], top, s.scale()),
        Err(CkksError::ValueOutOfRange { .. })
    ));

    let ca = s.encrypt(&a, top, s.scale());
    let cb = s.encrypt(&b, top, s.scale());
    check("CI fresh pk encryption", &a, &s.decrypt(&ca), 25.0);
    let sk_ct = s
        .sk_encryptor
        .encrypt(&s.encoder.encode(&a, top, s.scale()).unwrap())
        .unwrap();
    check("CI fresh sk encryption", &a, &s.decrypt(&sk_ct), 28.5);

    let sum: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
    check(
        "CI add",
        &sum,
        &s.decrypt(&s.eval.add(&ca, &cb).unwrap()),
        24.5,
    );
    let prod: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x * y).collect();
    let m = s
        .eval
        .rescale(&s.eval.mul_relin(&ca, &cb).unwrap())
        .unwrap();
    check("CI mul + relin + rescale", &prod, &s.decrypt(&m), 24.0);
    let w = s.encoder.encode(&b, top, s.ctx.q(top) as f64).unwrap();
    let mp = s.eval.rescale(&s.eval.mul_plain(&ca, &w).unwrap()).unwrap();
    check("CI mul_plain + rescale", &prod, &s.decrypt(&mp), 24.5);
    let sq: Vec<f64> = a.iter().map(|x| x * x).collect();
    let sq_ct = s.eval.rescale(&s.eval.square_relin(&ca).unwrap()).unwrap();
    check("CI square + relin + rescale", &sq, &s.decrypt(&sq_ct), 24.0);
    // Conjugation is the identity on real slots (no key needed).
    let cj = Evaluator::new(&s.ctx, None, None).conjugate(&ca).unwrap();
    check("CI conjugate", &a, &s.decrypt(&cj), 25.0);

    for step in [1i64, -1, 5, 1000] {
        let r = s.eval.rotate(&ca, step).unwrap();
        check(
            &format!("CI rotate {step}"),
            &rotated(&a, step),
            &s.decrypt(&r),
            24.5,
        );
    }
    let hoisted = s.eval.hoisted_rotate(&ca, &[1, 5, 0]).unwrap();
    for (r, step) in hoisted.iter().zip([1i64, 5, 0]) {
        check(
            &format!("CI hoisted rotate {step}"),
            &rotated(&a, step),
            &s.decrypt(r),
            24.5,
        );
    }
    assert_eq!(
        s.eval.rotate(&ca, 2).unwrap_err(),
        CkksError::MissingGaloisKey(2)
    );
}

#[test]
fn real_slots_composite_ops() {
    let s = ci_setup(&[], 42);
    let slots = s.ctx.slots();
    let top = s.top();
    let x = random_values(slots, 32);
    let ct = s.encrypt(&x, top, s.scale());

    // Linear transform with real diagonals (complex ones are refused at encoding).
    let mut diags = BTreeMap::new();
    for (k, d) in (0..12).chain([600, slots - 3]).enumerate() {
        let v: Vec<Complex> = random_values(slots, 300 + k as u64)
            .iter()
            .map(|&r| Complex::new(r / 4.0, 0.0))
            .collect();
        diags.insert(d, v);
    }
    let lt = LinearTransform::new(&s.encoder, &diags, top, s.ctx.q(top) as f64, None).unwrap();
    let mut steps = lt.rotation_steps();
    steps.extend([1, 2, 4, 8]);
    let kg = KeyGenerator::with_seed(&s.ctx, 43);
    let ev = Evaluator::new(
        &s.ctx,
        Some(&kg.gen_relin_key(&s.sk).unwrap()),
        Some(&kg.gen_galois_keys(&s.sk, &steps).unwrap()),
    );
    let out = ev.rescale(&ev.linear_transform(&ct, &lt).unwrap()).unwrap();
    let want: Vec<f64> = (0..slots)
        .map(|k| {
            diags
                .iter()
                .map(|(&d, v)| v[k].re * x[(k + d) % slots])
                .sum()
        })
        .collect();
    check("CI linear transform 14 diag", &want, &s.decrypt(&out), 24.5);
    let complex_diag = BTreeMap::from([(0usize, vec![Complex::new(0.0, 1.0); slots])]);
    assert!(LinearTransform::new(&s.encoder, &complex_diag, top, s.scale(), None).is_err());

    let sums = ev.rotate_and_sum(&ct, 1, 16).unwrap();
    let want: Vec<f64> = (0..slots)
        .map(|k| (0..16).map(|i| x[(k + i) % slots]).sum())
        .collect();
    check("CI rotate_and_sum n 16", &want, &s.decrypt(&sums), 22.5);

    let p = Polynomial::chebyshev(
        (0..=31).map(|i| 1.0 / (1.0 + i as f64).powi(2)).collect(),
        -1.0,
        1.0,
    );
    let y = ev.evaluate_polynomial(&ct, &p, s.scale()).unwrap();
    assert_eq!((y.level, y.scale), (top - 5, s.scale()));
    let want: Vec<f64> = x.iter().map(|&v| p.evaluate_f64(v)).collect();
    check("CI Chebyshev deg 31", &want, &s.decrypt(&y), 22.0);
}

#[test]
fn rings_have_distinct_primes_and_fingerprints() {
    let std_ctx = Context::new(ci_params()).unwrap();
    let ci_ctx = Context::with_ring(ci_params(), Ring::ConjugateInvariant).unwrap();
    for &q in ci_ctx.moduli_q().iter().chain(ci_ctx.moduli_p()) {
        assert_eq!(q % (4 * ci_ctx.n() as u64), 1);
    }
    assert_ne!(
        serialize::params_fingerprint(&std_ctx),
        serialize::params_fingerprint(&ci_ctx)
    );
}
