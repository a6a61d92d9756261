//! Tests of the composite operations (linear transform, inner sum,
//! polynomial evaluation): precision in bits against a float reference,
//! levels and scales of the outputs, and the error paths.
//!
//! Floors: at Δ = 2^40 and N = 2^12 a fresh public-key encryption carries
//! about 28 bits (max error over the 2048 slots; ~30.5 bits mean error). A
//! linear transform sums products of that noise by the diagonals and adds
//! one ModDown rounding: measured 27.7-28.0 bits. A polynomial multiplies
//! the input noise by its derivative (|p'| up to ~10 on [-1, 1] for the
//! series used, 63^2 for T_63 at the ends) and adds rounding noise at each
//! level: measured 24-27.8 bits against the exact reference, 27-29 bits
//! against `p(decrypted input)` (the evaluation's own error). The floors are
//! ~1.5 bits below the measured figures (printed by each test).

use std::collections::BTreeMap;

use crate::tests::scheme::{check, precision, random_values, setup, wide, Setup};
use crate::*;

/// Complex-valued version of [`check`]: max error over real and imaginary parts.
fn check_complex(label: &str, want: &[Complex], got: &[Complex], floor: f64) {
    let flat = |v: &[Complex]| -> Vec<f64> { v.iter().flat_map(|z| [z.re, z.im]).collect() };
    check(label, &flat(want), &flat(&got[..want.len()]), floor);
}

fn random_complex(n: usize, seed: u64, amp: f64) -> Vec<Complex> {
    let re = random_values(n, seed);
    let im = random_values(n, seed + 1000);
    re.iter()
        .zip(&im)
        .map(|(&a, &b)| Complex::new(a * amp, b * amp))
        .collect()
}

/// `Σ_d diag_d ⊙ rot_d(x)` on an `n`-periodic vector of `slots` entries.
fn apply_diagonals(diags: &BTreeMap<usize, Vec<Complex>>, x: &[Complex]) -> Vec<Complex> {
    let slots = x.len();
    let n = diags.values().next().unwrap().len();
    (0..slots)
        .map(|k| {
            diags.iter().fold(Complex::default(), |acc, (&d, v)| {
                acc + v[k % n] * x[(k + d) % slots]
            })
        })
        .collect()
}

/// Key set for a transform: Galois keys generated for its steps.
fn evaluator_for(s: &Setup, steps: &[i64]) -> Evaluator {
    let kg = KeyGenerator::with_seed(&s.ctx, 77);
    let gks = kg.gen_galois_keys(&s.sk, steps).unwrap();
    let rlk = kg.gen_relin_key(&s.sk).unwrap();
    Evaluator::new(&s.ctx, Some(&rlk), Some(&gks))
}

fn encrypt_complex(s: &Setup, v: &[Complex], level: usize) -> Ciphertext {
    let pt = s.encoder.encode_complex(v, level, s.scale()).unwrap();
    s.encryptor.encrypt(&pt).unwrap()
}

fn decrypt_complex(s: &Setup, ct: &Ciphertext) -> Vec<Complex> {
    s.encoder
        .decode_complex(&s.decryptor.decrypt(ct).unwrap())
        .unwrap()
}

#[test]
fn linear_transform_complex_diagonals() {
    let s = setup(wide(), &[], 31);
    let slots = s.ctx.slots();
    let top = s.top();
    // A band of 20 diagonals plus scattered ones (giant steps with a single
    // baby step, the last diagonal = a rotation by -1).
    let mut diags = BTreeMap::new();
    for (k, d) in (0..20).chain([100, 777, 1500, slots - 1]).enumerate() {
        diags.insert(d, random_complex(slots, 100 + k as u64, 0.25));
    }
    let x = random_complex(slots, 7, 1.0);
    let want = apply_diagonals(&diags, &x);
    for level in [top, top - 1] {
        let lt =
            LinearTransform::new(&s.encoder, &diags, top, s.ctx.q(level) as f64, None).unwrap();
        let ev = evaluator_for(&s, &lt.rotation_steps());
        let ct = encrypt_complex(&s, &x, level);
        let out = ev.linear_transform(&ct, &lt).unwrap();
        assert_eq!(out.level, level);
        assert_eq!(out.scale, ct.scale * lt.scale());
        let out = ev.rescale(&out).unwrap();
        let label = format!(
            "linear transform {} diag, n1 {}, {} rotations, level {level}",
            lt.num_diagonals(),
            lt.baby_step(),
            lt.rotation_steps().len()
        );
        check_complex(&label, &want, &decrypt_complex(&s, &out), 26.5);
    }
}

/// A dense 64 x 64 matrix on a vector replicated with period 64, with the
/// automatic and two explicit baby steps.
#[test]
fn linear_transform_sparse_period() {
    let s = setup(wide(), &[], 32);
    let slots = s.ctx.slots();
    let n = 64;
    let diags: BTreeMap<usize, Vec<Complex>> = (0..n)
        .map(|d| (d, random_complex(n, 200 + d as u64, 1.0 / 16.0)))
        .collect();
    let x_small = random_complex(n, 8, 1.0);
    let x: Vec<Complex> = (0..slots).map(|k| x_small[k % n]).collect();
    let want = apply_diagonals(&diags, &x);
    let level = s.top();
    for baby in [None, Some(1), Some(16), Some(64)] {
        let lt =
            LinearTransform::new(&s.encoder, &diags, level, s.ctx.q(level) as f64, baby).unwrap();
        if baby.is_none() {
            assert_eq!(
                lt.baby_step(),
                8,
                "8 + 7 rotations is the minimum for 64 diagonals"
            );
            assert_eq!(lt.rotation_steps().len(), 14);
        }
        let ev = evaluator_for(&s, &lt.rotation_steps());
        let ct = encrypt_complex(&s, &x, level);
        let out = ev.rescale(&ev.linear_transform(&ct, &lt).unwrap()).unwrap();
        let label = format!(
            "linear transform dense 64x64 periodic, n1 {}",
            lt.baby_step()
        );
        check_complex(&label, &want, &decrypt_complex(&s, &out), 26.5);
    }
}

#[test]
fn linear_transform_rotation_steps_and_errors() {
    let s = setup(wide(), &[1], 33);
    let slots = s.ctx.slots();
    let top = s.top();
    let band: BTreeMap<usize, Vec<Complex>> = (0..144)
        .map(|d| (d, vec![Complex::new(1.0, 0.0); slots]))
        .collect();
    let lt = LinearTransform::new(&s.encoder, &band, top, s.scale(), None).unwrap();
    assert_eq!(lt.baby_step(), 12);
    let mut want: Vec<i64> = (1..12).collect();
    want.extend((1..12).map(|j| 12 * j));
    want.sort();
    assert_eq!(lt.rotation_steps(), want);

    // Missing Galois key: named, and nothing is computed.
    let ct = s.encrypt(&random_values(slots, 3), top, s.scale());
    let err = s.eval.linear_transform(&ct, &lt).unwrap_err();
    assert_eq!(err, CkksError::MissingGaloisKey(2));
    // Above the transform's level; degree 2; foreign ciphertext.
    let lt_low = LinearTransform::new(&s.encoder, &band, top - 1, s.scale(), None).unwrap();
    assert!(matches!(
        s.eval.linear_transform(&ct, &lt_low),
        Err(CkksError::LevelMismatch {
            op: "linear_transform",
            ..
        })
    ));
    let d2 = s.eval.mul(&ct, &ct).unwrap();
    assert!(matches!(
        s.eval.linear_transform(&d2, &lt),
        Err(CkksError::DegreeMismatch { .. })
    ));
    // Malformed diagonal sets.
    let bad = |diags: BTreeMap<usize, Vec<Complex>>, baby: Option<usize>| {
        let err = LinearTransform::new(&s.encoder, &diags, top, s.scale(), baby).unwrap_err();
        eprintln!("refused: {err}");
        assert!(matches!(err, CkksError::InvalidArgument { .. }), "{err}");
    };
    bad(BTreeMap::new(), None);
    bad(BTreeMap::from([(0, vec![Complex::default(); 3])]), None);
    bad(
        BTreeMap::from([
            (0, vec![Complex::default(); 8]),
            (1, vec![Complex::default(); 4]),
        ]),
        None,
    );
    bad(BTreeMap::from([(8, vec![Complex::default(); 8])]), None);
    bad(BTreeMap::from([(0, vec![Complex::default(); 8])]), Some(0));
    bad(
        BTreeMap::from([(0, vec![Complex::default(); 2 * slots])]),
        None,
    );
    assert!(matches!(
        LinearTransform::new(&s.encoder, &band, top + 1, s.scale(), None),
        Err(CkksError::InvalidLevel { .. })
    ));
}

#[test]
fn rotate_and_sum_inner_sums() {
    let s = setup(wide(), &[], 34);
    let slots = s.ctx.slots();
    let v = random_values(slots, 9);
    for (stride, n) in [(1usize, 16usize), (8, 4), (1, slots)] {
        let steps: Vec<i64> = (0..n.trailing_zeros())
            .map(|k| (stride << k) as i64)
            .collect();
        let ev = evaluator_for(&s, &steps);
        let ct = s.encrypt(&v, s.top(), s.scale());
        let out = ev.rotate_and_sum(&ct, stride, n).unwrap();
        let want: Vec<f64> = (0..slots)
            .map(|k| (0..n).map(|i| v[(k + i * stride) % slots]).sum())
            .collect();
        // The noise grows with sqrt(n) (sums of rotations of the same noise: n).
        let floor = 25.5 - 0.5 * (n as f64).log2();
        check(
            &format!("rotate_and_sum stride {stride} n {n}"),
            &want,
            &s.decrypt(&out),
            floor,
        );
    }
    let ct = s.encrypt(&v, s.top(), s.scale());
    let ev = evaluator_for(&s, &[1, 2]);
    assert_eq!(
        ev.rotate_and_sum(&ct, 1, 8).unwrap_err(),
        CkksError::MissingGaloisKey(4)
    );
    assert!(matches!(
        ev.rotate_and_sum(&ct, 1, 6),
        Err(CkksError::InvalidArgument { .. })
    ));
}

/// Enough levels for degree 63 after a change of variable.
fn deep() -> CkksParams {
    CkksParams {
        log_n: 12,
        log_q: std::iter::once(60).chain([40; 8]).collect(),
        log_p: vec![60, 60],
        log_scale: 40,
        secret: SecretDist::default(),
        insecure_ok: true,
    }
}

/// Coefficients of a bounded, slowly decaying series.
fn series(deg: usize) -> Vec<f64> {
    (0..=deg)
        .map(|i| (if i % 3 == 0 { -1.0 } else { 1.0 }) / (1.0 + i as f64).powf(1.5))
        .collect()
}

#[test]
fn polynomial_precision_and_depth() {
    let s = setup(deep(), &[], 35);
    let slots = s.ctx.slots();
    let top = s.top();
    let x = random_values(slots, 10);
    let ct = s.encrypt(&x, top, s.scale());
    let x_dec = s.decrypt(&ct);
    // Second floors: what the evaluation itself adds (rescale and
    // key-switch rounding at each level, constants quantised at scale ≈ q).
    let cases = [
        (Polynomial::chebyshev(series(7), -1.0, 1.0), 25.0, 25.5),
        (Polynomial::chebyshev(series(15), -1.0, 1.0), 25.0, 25.5),
        (Polynomial::chebyshev(series(27), -1.0, 1.0), 24.0, 25.5),
        (Polynomial::chebyshev(series(31), -1.0, 1.0), 23.5, 25.5),
        (Polynomial::chebyshev(series(63), -1.0, 1.0), 23.0, 25.5),
        (Polynomial::monomial(series(7)), 25.5, 25.5),
        (Polynomial::monomial(series(15)), 25.0, 25.5),
        (Polynomial::monomial(series(31)), 25.0, 25.5),
        // Odd polynomial (zero even coefficients), and a sparse one.
        (
            Polynomial::monomial(
                (0..=27)
                    .map(|i| if i % 2 == 1 { 0.5 / i as f64 } else { 0.0 })
                    .collect(),
            ),
            24.0,
            25.5,
        ),
        (
            Polynomial::chebyshev(
                {
                    let mut c = vec![0.0; 64];
                    c[63] = 0.5;
                    c[1] = 0.25;
                    c
                },
                -1.0,
                1.0,
            ),
            // |T_63'| reaches 63^2 at the ends: the input noise is amplified 2^11 x.
            19.0,
            20.0,
        ),
    ];
    for (p, floor, eval_floor) in &cases {
        let deg = p.degree();
        let d = (usize::BITS - deg.leading_zeros()) as usize; // ceil(log2(deg + 1))
        assert_eq!(p.depth(), d);
        for target in [s.scale(), ct.scale * 0.75] {
            let out = s.eval.evaluate_polynomial(&ct, p, target).unwrap();
            assert_eq!(out.level, top - d, "degree {deg}: depth");
            assert_eq!(out.scale, target, "degree {deg}: exact output scale");
            assert_eq!(out.degree(), 1);
            let want: Vec<f64> = x.iter().map(|&v| p.evaluate_f64(v)).collect();
            let label = format!(
                "polynomial {} deg {deg} (depth {d}) target 2^{:.2}",
                if matches!(p.basis, PolyBasis::Monomial) {
                    "monomial"
                } else {
                    "Chebyshev"
                },
                target.log2()
            );
            let got = s.decrypt(&out);
            check(&label, &want, &got, *floor);
            // The evaluation's own error: against p(decrypted input).
            let want_dec: Vec<f64> = x_dec.iter().map(|&v| p.evaluate_f64(v)).collect();
            check(
                &format!("{label} vs p(dec x)"),
                &want_dec,
                &got,
                *eval_floor,
            );
        }
    }
}

#[test]
fn polynomial_on_an_interval() {
    let s = setup(deep(), &[], 36);
    let slots = s.ctx.slots();
    let top = s.top();
    // Inputs in [-4, 4] for the interval [-4, 4] (change of variable: one
    // more level), and in [0, 2] for [0, 2] (width 2: an addition).
    let wide_x: Vec<f64> = random_values(slots, 11).iter().map(|v| 4.0 * v).collect();
    let unit_x: Vec<f64> = random_values(slots, 12).iter().map(|v| 1.0 + v).collect();
    for (x, a, b, extra, floor) in [(&wide_x, -4.0, 4.0, 1, 22.5), (&unit_x, 0.0, 2.0, 0, 24.0)] {
        let p = Polynomial::chebyshev(series(31), a, b);
        assert_eq!(p.depth(), 5 + extra);
        let ct = s.encrypt(x, top, s.scale());
        let out = s.eval.evaluate_polynomial(&ct, &p, s.scale()).unwrap();
        assert_eq!(out.level, top - p.depth());
        assert_eq!(out.scale, s.scale());
        let want: Vec<f64> = x.iter().map(|&v| p.evaluate_f64(v)).collect();
        check(
            &format!("Chebyshev deg 31 on [{a}, {b}] (depth {})", p.depth()),
            &want,
            &s.decrypt(&out),
            floor,
        );
    }
    // A constant and a linear polynomial.
    let ct = s.encrypt(&unit_x, top, s.scale());
    let c = s
        .eval
        .evaluate_polynomial(&ct, &Polynomial::monomial(vec![0.5, 0.0]), s.scale())
        .unwrap();
    assert_eq!((c.level, c.scale), (top, s.scale()));
    check(
        "constant polynomial",
        &vec![0.5; slots],
        &s.decrypt(&c),
        30.0,
    );
    let l = s
        .eval
        .evaluate_polynomial(&ct, &Polynomial::monomial(vec![0.5, -3.0]), s.scale())
        .unwrap();
    assert_eq!(l.level, top - 1);
    let want: Vec<f64> = unit_x.iter().map(|v| 0.5 - 3.0 * v).collect();
    check("linear polynomial", &want, &s.decrypt(&l), 25.0);
}

#[test]
fn polynomial_errors() {
    let s = setup(deep(), &[], 37);
    let x = random_values(16, 13);
    let p = Polynomial::chebyshev(series(31), -1.0, 1.0);
    let low = s.encrypt(&x, 4, s.scale());
    assert_eq!(
        s.eval.evaluate_polynomial(&low, &p, s.scale()).unwrap_err(),
        CkksError::NotEnoughLevels {
            op: "evaluate_polynomial",
            needed: 5,
            available: 4
        }
    );
    let ct = s.encrypt(&x, s.top(), s.scale());
    for bad in [
        Polynomial::monomial(vec![]),
        Polynomial::monomial(vec![1.0, f64::NAN]),
        Polynomial::chebyshev(vec![1.0, 2.0], 1.0, 1.0),
        Polynomial::chebyshev(vec![1.0, 2.0], 0.0, f64::INFINITY),
    ] {
        let err = s
            .eval
            .evaluate_polynomial(&ct, &bad, s.scale())
            .unwrap_err();
        eprintln!("refused: {err}");
        assert!(matches!(err, CkksError::InvalidArgument { .. }), "{err}");
    }
    assert!(matches!(
        s.eval.evaluate_polynomial(&ct, &p, f64::NAN),
        Err(CkksError::InvalidScale(_))
    ));
    let no_rlk = Evaluator::new(&s.ctx, None, None);
    assert_eq!(
        no_rlk.evaluate_polynomial(&ct, &p, s.scale()).unwrap_err(),
        CkksError::MissingRelinKey
    );
    let d2 = s.eval.mul(&ct, &ct).unwrap();
    assert!(matches!(
        s.eval.evaluate_polynomial(&d2, &p, s.scale()),
        Err(CkksError::DegreeMismatch { .. })
    ));
    let _ = precision(&x, &x);
}
