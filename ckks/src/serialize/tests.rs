//! Round trips and every refusal of a malformed or foreign file.

use super::*;
use std::sync::Arc;

use prost::bytes::Bytes;
use prost::Message;

use super::ciphertexts::ct_to_msg;
use super::format::{open, payload, seal};
use crate::{
    Ciphertext, CkksParams, Context, Decryptor, Encoder, Encryptor, Evaluator, KeyGenerator,
    PublicKey, SecretDist, SecretKey,
};

fn params(log_q: Vec<u32>) -> CkksParams {
    CkksParams {
        log_n: 12,
        log_q,
        log_p: vec![40],
        log_scale: 30,
        secret: SecretDist::default(),
        insecure_ok: true,
    }
}

struct Set {
    ctx: Arc<Context>,
    sk: SecretKey,
    pk: PublicKey,
    ek: EvaluationKeys,
}

fn set(log_q: Vec<u32>, seed: u64) -> Set {
    let ctx = Context::new(params(log_q)).unwrap();
    let kg = KeyGenerator::with_seed(&ctx, seed);
    let sk = kg.gen_secret_key();
    let pk = kg.gen_public_key(&sk).unwrap();
    let ek = EvaluationKeys {
        relin: Some(kg.gen_relin_key(&sk).unwrap()),
        galois: kg
            .gen_galois_keys_with_conjugation(&sk, &[1, -3], true)
            .unwrap(),
        encapsulation: None,
    };
    Set { ctx, sk, pk, ek }
}

fn encrypt(s: &Set, v: &[f64]) -> Ciphertext {
    let enc = Encoder::new(&s.ctx);
    let pt = enc
        .encode(v, s.ctx.max_level(), s.ctx.default_scale())
        .unwrap();
    Encryptor::new(&s.ctx, &s.pk).encrypt(&pt).unwrap()
}

fn decrypt(s: &Set, sk: &SecretKey, ct: &Ciphertext) -> Vec<f64> {
    let pt = Decryptor::new(&s.ctx, sk).decrypt(ct).unwrap();
    Encoder::new(&s.ctx).decode(&pt).unwrap()
}

#[test]
fn round_trips() {
    let s = set(vec![40, 30, 30], 1);
    let id = key_id(&s.pk);
    // Secret key.
    let (sk, sid) = decode_secret_key(&s.ctx, encode_secret_key(&s.ctx, &s.sk, id)).unwrap();
    assert_eq!(sid, id);
    assert_eq!(sk.coeffs, s.sk.coeffs);
    assert_eq!(sk.ntt, s.sk.ntt);
    // Public key.
    let (pk, pid) = decode_public_key(&s.ctx, encode_public_key(&s.ctx, &s.pk)).unwrap();
    assert_eq!(pid, id);
    assert_eq!((&pk.a, &pk.b), (&s.pk.a, &s.pk.b));
    // Evaluation keys.
    let bytes = encode_eval_keys(&s.ctx, &s.ek, id);
    let (ek, eid) = decode_eval_keys(&s.ctx, &bytes).unwrap();
    assert_eq!(eid, id);
    assert_eq!(ek.galois.steps(), vec![-3, 1]);
    assert!(ek.galois.has_conjugation());
    assert_eq!(
        ek.relin.as_ref().unwrap().key.digits,
        s.ek.relin.as_ref().unwrap().key.digits
    );
    // Ciphertexts, at two levels and exact scales.
    let x = encrypt(&s, &[0.5, -0.25, 1.0]);
    let ev = Evaluator::new(&s.ctx, ek.relin.as_ref(), Some(&ek.galois));
    let y = ev.rescale(&ev.mul_relin(&x, &x).unwrap()).unwrap();
    let bytes = encode_ciphertexts(&s.ctx, &[x.clone(), y.clone()], id);
    let (cts, cid) = decode_ciphertexts(&s.ctx, &bytes).unwrap();
    assert_eq!(cid, id);
    assert_eq!(cts, vec![x, y.clone()]);
    assert_eq!(cts[1].scale.to_bits(), y.scale.to_bits());
    // Evaluate with the loaded keys, decrypt with the loaded secret key.
    let z = ev.rotate(&cts[1], 1).unwrap();
    let out = decrypt(&s, &sk, &z);
    assert!((out[0] - 0.0625).abs() < 1e-3, "{}", out[0]);
    assert!((out[1] - 1.0).abs() < 1e-3, "{}", out[1]);
    // Plaintexts.
    let enc = Encoder::new(&s.ctx);
    let pts = vec![
        enc.encode(&[1.0, 2.0], 2, s.ctx.default_scale()).unwrap(),
        enc.encode(&[3.0], 0, s.ctx.q(1) as f64).unwrap(),
    ];
    let back = decode_plaintexts(&s.ctx, encode_plaintexts(&s.ctx, &pts)).unwrap();
    assert_eq!(back, pts);
    // Packed limbs: the file is about the size of its coefficients.
    let ct_bytes = encode_ciphertexts(&s.ctx, &cts[..1], id).len();
    assert!(ct_bytes < 2 * 3 * 4096 * 8 + 1024, "{ct_bytes} bytes");
}

/// The relinearization and Galois keys `need` asks for, from `seed`.
fn generated(s: &Set, need: &crate::KeyLevels, seed: u64) -> EvaluationKeys {
    let (relin, galois) = need.generate(&s.ctx, &s.sk, Some(seed), &|| {}).unwrap();
    EvaluationKeys {
        relin,
        galois,
        encapsulation: None,
    }
}

/// Keys stored up to their level of use (`KeyLevels`) keep their level
/// through a file, take only their limbs' bytes, and a level above the
/// chain or a digit count that does not match it is refused.
#[test]
fn leveled_keys_round_trip() {
    let s = set(vec![40, 30, 30, 30, 30], 6);
    let id = key_id(&s.pk);
    let slots = s.ctx.slots();
    let mut need = crate::KeyLevels::default();
    need.rotate(1, 1, slots);
    need.rotate(-3, 3, slots);
    need.relinearize(2);
    let ek = generated(&s, &need, 7);
    let bytes = encode_eval_keys(&s.ctx, &ek, id);
    assert!(
        bytes.len() < need.size_bytes(&s.ctx) + 4096,
        "{} bytes",
        bytes.len()
    );
    let (back, _) = decode_eval_keys(&s.ctx, &bytes).unwrap();
    assert_eq!(back.galois.top_level(1, slots), Some(Some(1)));
    assert_eq!(back.galois.top_level(-3, slots), Some(Some(3)));
    let (a, b) = (
        &ek.relin.as_ref().unwrap().key,
        &back.relin.as_ref().unwrap().key,
    );
    assert_eq!((a.top, &a.digits), (b.top, &b.digits));
    // A rotation at its level works with the loaded key, above it is refused.
    let ev = Evaluator::new(&s.ctx, back.relin.as_ref(), Some(&back.galois));
    let x = encrypt(&s, &[0.5, -0.25, 1.0]);
    let x1 = ev.level_down(&x, 1).unwrap();
    let out = decrypt(&s, &s.sk, &ev.rotate(&x1, 1).unwrap());
    assert!((out[0] + 0.25).abs() < 1e-3, "{}", out[0]);
    assert!(ev.rotate(&x, 1).is_err());

    let corrupt = |f: &dyn Fn(&mut EvalKeysMsg)| {
        let mut m = EvalKeysMsg::decode(
            open(&s.ctx, FileKind::EvalKeys, Bytes::from(bytes.clone()))
                .unwrap()
                .1,
        )
        .unwrap();
        f(&mut m);
        let err =
            decode_eval_keys(&s.ctx, seal(&s.ctx, FileKind::EvalKeys, id, payload(m))).unwrap_err();
        err.to_string()
    };
    let e = corrupt(&|m| m.relin.as_mut().unwrap().top = Some(9));
    assert!(e.contains("above the top level 4"), "{e}");
    let e = corrupt(&|m| m.relin.as_mut().unwrap().top = Some(4));
    assert!(e.contains("3/3 digits, 5 expected"), "{e}");
}

/// Seeded keys are written as their seeds (about half the file), come
/// back identical, and a seed of the wrong size is refused.
#[test]
fn seeded_keys_round_trip() {
    let s = set(vec![40, 30, 30, 30, 30], 6);
    let id = key_id(&s.pk);
    let slots = s.ctx.slots();
    let mut need = crate::KeyLevels::default();
    need.rotate(2, 3, slots);
    need.relinearize(3);
    let held_bytes = encode_eval_keys(&s.ctx, &generated(&s, &need, 8), id).len();
    need.seeded = true;
    let ek = generated(&s, &need, 8);
    let bytes = encode_eval_keys(&s.ctx, &ek, id);
    assert!(
        2 * bytes.len() < held_bytes + 4096,
        "{} of {held_bytes}",
        bytes.len()
    );
    let (back, _) = decode_eval_keys(&s.ctx, &bytes).unwrap();
    let (a, b) = (
        &ek.relin.as_ref().unwrap().key,
        &back.relin.as_ref().unwrap().key,
    );
    assert_eq!((a.top, &a.digits), (b.top, &b.digits));
    let ev = Evaluator::new(&s.ctx, back.relin.as_ref(), Some(&back.galois));
    let x = ev.level_down(&encrypt(&s, &[0.5, -0.25, 1.0]), 3).unwrap();
    let out = decrypt(&s, &s.sk, &ev.rotate(&x, 2).unwrap());
    assert!((out[0] - 1.0).abs() < 1e-3, "{}", out[0]);

    let mut m = EvalKeysMsg::decode(
        open(&s.ctx, FileKind::EvalKeys, Bytes::from(bytes.clone()))
            .unwrap()
            .1,
    )
    .unwrap();
    m.relin.as_mut().unwrap().a_seeds[0].pop();
    let err =
        decode_eval_keys(&s.ctx, seal(&s.ctx, FileKind::EvalKeys, id, payload(m))).unwrap_err();
    assert!(
        err.to_string().contains("a seed of 31 bytes, 32 expected"),
        "{err}"
    );
}

#[test]
fn other_params_are_refused() {
    let a = set(vec![40, 30, 30], 1);
    let b = set(vec![40, 30], 1);
    let id = key_id(&a.pk);
    let ct = encode_ciphertexts(&a.ctx, &[encrypt(&a, &[1.0])], id);
    let e = decode_ciphertexts(&b.ctx, &ct).unwrap_err().to_string();
    assert!(
        e.starts_with("ciphertext file was made for different CKKS parameters (fingerprint"),
        "{e}"
    );
    let e = decode_eval_keys(&b.ctx, encode_eval_keys(&a.ctx, &a.ek, id))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("evaluation keys file was made for different"),
        "{e}"
    );
    let e = decode_secret_key(&b.ctx, encode_secret_key(&a.ctx, &a.sk, id))
        .unwrap_err()
        .to_string();
    assert!(e.contains("secret key file was made for different"), "{e}");
    // A secret key file is not a public key file.
    let e = decode_public_key(&a.ctx, encode_secret_key(&a.ctx, &a.sk, id))
        .unwrap_err()
        .to_string();
    assert_eq!(e, "expected a public key file, found a secret key file");
    // Hamming weight changes the fingerprint.
    let mut p = params(vec![40, 30, 30]);
    p.secret = SecretDist::Ternary {
        hamming_weight: Some(64),
    };
    let ctx_h = Context::new(p).unwrap();
    assert_ne!(params_fingerprint(&ctx_h), params_fingerprint(&a.ctx));
}

#[test]
fn truncated_and_flipped_files() {
    let s = set(vec![40, 30, 30], 2);
    let id = key_id(&s.pk);
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("sk", encode_secret_key(&s.ctx, &s.sk, id)),
        ("pk", encode_public_key(&s.ctx, &s.pk)),
        ("ek", encode_eval_keys(&s.ctx, &s.ek, id)),
        ("ct", encode_ciphertexts(&s.ctx, &[encrypt(&s, &[1.0])], id)),
    ];
    for (name, bytes) in &files {
        let try_all = |b: &[u8]| -> Result<(), FileError> {
            match *name {
                "sk" => decode_secret_key(&s.ctx, b).map(|_| ()),
                "pk" => decode_public_key(&s.ctx, b).map(|_| ()),
                "ek" => decode_eval_keys(&s.ctx, b).map(|_| ()),
                _ => decode_ciphertexts(&s.ctx, b).map(|_| ()),
            }
        };
        try_all(bytes).unwrap();
        for cut in [0, 1, 10, bytes.len() / 2, bytes.len() - 1] {
            let e = try_all(&bytes[..cut]).unwrap_err();
            assert!(
                matches!(e, FileError::Corrupt(_) | FileError::Checksum { .. }),
                "{name} cut at {cut}: {e}"
            );
        }
        for at in [3, 20, bytes.len() / 3, bytes.len() - 5] {
            let mut b = bytes.clone();
            b[at] ^= 0x10;
            assert!(try_all(&b).is_err(), "{name}: flip at {at} undetected");
        }
        let e = try_all(b"garbage file").unwrap_err();
        assert!(matches!(e, FileError::Corrupt(_)), "{e}");
    }
}

#[test]
fn invalid_payloads() {
    let s = set(vec![40, 30, 30], 3);
    let id = key_id(&s.pk);
    let x = encrypt(&s, &[1.0]);
    // A coefficient above its modulus, with a valid checksum.
    let m = CiphertextsMsg {
        items: vec![ct_to_msg(
            &x.parts.iter().collect::<Vec<_>>(),
            x.level,
            x.scale,
        )],
    };
    let set_first = |m: &mut CiphertextsMsg, v: u64| {
        let mut l = m.items[0].parts[0].limbs[1].to_vec();
        l[..8].copy_from_slice(&v.to_le_bytes());
        m.items[0].parts[0].limbs[1] = Bytes::from(l);
    };
    let mut m1 = m.clone();
    set_first(&mut m1, u64::MAX);
    let b = seal(&s.ctx, FileKind::Ciphertexts, id, payload(m1));
    let e = decode_ciphertexts(&s.ctx, &b).unwrap_err().to_string();
    assert!(e.contains(">= its modulus"), "{e}");
    // A level that disagrees with the limb count.
    let mut m2 = m.clone();
    m2.items[0].level = 1;
    let b = seal(&s.ctx, FileKind::Ciphertexts, id, payload(m2));
    let e = decode_ciphertexts(&s.ctx, &b).unwrap_err().to_string();
    assert!(e.contains("has 3 limbs, 2 expected"), "{e}");
    // A short limb (wrong N).
    let mut m3 = m.clone();
    m3.items[0].parts[0].limbs[1].truncate(8 * 1024);
    let b = seal(&s.ctx, FileKind::Ciphertexts, id, payload(m3));
    let e = decode_ciphertexts(&s.ctx, &b).unwrap_err().to_string();
    assert!(e.contains("N = 4096"), "{e}");
    // A non-ternary secret key.
    let mut sm = SecretKeyMsg {
        coeffs: vec![0; 4096],
    };
    sm.coeffs[7] = 5;
    let b = seal(&s.ctx, FileKind::SecretKey, id, payload(sm));
    let e = decode_secret_key(&s.ctx, &b).unwrap_err().to_string();
    assert!(e.contains("not ternary"), "{e}");
    // A secret key of the wrong Hamming weight.
    let mut p = params(vec![40, 30, 30]);
    p.secret = SecretDist::Ternary {
        hamming_weight: Some(64),
    };
    let ctx_h = Context::new(p).unwrap();
    let sk_h = KeyGenerator::with_seed(&ctx_h, 1).gen_secret_key();
    let good = encode_secret_key(&ctx_h, &sk_h, id);
    decode_secret_key(&ctx_h, &good).unwrap();
    let mut sm = SecretKeyMsg {
        coeffs: vec![0; 4096],
    };
    sm.coeffs[..10].fill(1);
    let bh = seal(&ctx_h, FileKind::SecretKey, id, payload(sm));
    let e = decode_secret_key(&ctx_h, bh).unwrap_err().to_string();
    assert!(
        e.contains("10 non-zero coefficients, the parameters set H = 64"),
        "{e}"
    );
    // A wrong format version.
    let mut env = Envelope::decode(&b[..]).unwrap();
    env.header.as_mut().unwrap().version = 9;
    let e = decode_secret_key(&s.ctx, env.encode_to_vec()).unwrap_err();
    assert!(matches!(e, FileError::Version { found: 9 }), "{e}");
}

#[test]
fn wrong_keys_are_detected() {
    let a = set(vec![40, 30, 30], 4);
    let b = set(vec![40, 30, 30], 5);
    let (ida, idb) = (key_id(&a.pk), key_id(&b.pk));
    assert_ne!(ida, idb);
    let ct = encode_ciphertexts(&a.ctx, &[encrypt(&a, &[1.0])], ida);
    let (_, cid) = decode_ciphertexts(&a.ctx, &ct).unwrap();
    // Wrong secret key.
    let (_, sid) = decode_secret_key(&b.ctx, encode_secret_key(&b.ctx, &b.sk, idb)).unwrap();
    let e = check_key(cid, "secret key", sid).unwrap_err().to_string();
    assert_eq!(
        e,
        format!("ciphertext was encrypted under key {ida}, this secret key is {idb}")
    );
    // Wrong evaluation keys.
    let (_, eid) = decode_eval_keys(&b.ctx, encode_eval_keys(&b.ctx, &b.ek, idb)).unwrap();
    let e = check_key(cid, "evaluation key set", eid)
        .unwrap_err()
        .to_string();
    assert!(e.contains("this evaluation key set is"), "{e}");
    // The right ones pass.
    check_key(cid, "secret key", ida).unwrap();
}
