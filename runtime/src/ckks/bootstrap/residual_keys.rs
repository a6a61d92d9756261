//! The program's own evaluation keys when it bootstraps, restricted to the
//! residual chain.
//!
//! A bootstrapping context's modulus chain is the residual levels the
//! program computes on plus the CoeffsToSlots/EvalMod/SlotsToCoeffs levels
//! above them, which only the bootstrapper (with its own keys) ever uses.
//! A network Galois key over the whole chain is mostly dead weight (at
//! LogN 16, 11 residual primes out of 24): generating it at the residual
//! top with the bootstrapper's level-key machinery ([`LevelKeys`],
//! [`CompactKey`]) and handing it to the evaluator in the library's layout
//! keeps hoisting and the evaluator's checks, at a fraction of the memory.

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::ckks::context::Context;
use crate::ckks::keys::{GaloisKeys, RelinearizationKey, SecretKey};

use super::chained::LevelKeys;
use super::encapsulation::CompactKey;
use std::sync::Arc;

/// The relinearization key restricted to levels `0..=top`.
pub fn residual_relin_key(
    ctx: &Context,
    sk: &SecretKey,
    top: usize,
    seed: Option<u64>,
) -> RelinearizationKey {
    let mut rng = match seed {
        Some(s) => ChaCha20Rng::seed_from_u64(s ^ 0x2E11_9A7B),
        None => ChaCha20Rng::from_os_rng(),
    };
    let s2 = ctx.poly_mul(&sk.ntt, &sk.ntt, &ctx.basis_all());
    let key = CompactKey::generate(ctx, &mut rng, &s2, &sk.ntt, top);
    RelinearizationKey {
        key: Arc::new(key.into_switching_key(ctx)),
    }
}

/// Galois keys for `steps` (rotations by a multiple of the slot count need
/// none), restricted to levels `0..=top`.
pub fn residual_galois_keys(
    ctx: &Context,
    sk: &SecretKey,
    steps: &[i64],
    top: usize,
    seed: Option<u64>,
) -> GaloisKeys {
    let slots = ctx.slots() as i64;
    let at_top: BTreeMap<i64, usize> = steps
        .iter()
        .filter(|s| s.rem_euclid(slots) != 0)
        .map(|&s| (s, top))
        .collect();
    let level_keys = LevelKeys::generate(ctx, sk, &at_top, None, seed, &|| {});
    let rotations = level_keys
        .rotations
        .into_iter()
        .map(|(step, (g, key))| (step, (g, Arc::new(key.into_switching_key(ctx)))))
        .collect();
    GaloisKeys {
        rotations,
        conjugation: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ckks::bootstrap::BootstrapParams;
    use crate::ckks::{CkksError, Context, Decryptor, Encoder, Encryptor, Evaluator, KeyGenerator};

    /// Residual keys rotate and relinearize like whole-chain keys at the
    /// residual levels, take less memory, and refuse a ciphertext above
    /// their top with an error.
    #[test]
    fn residual_keys_match_whole_chain_keys_below_their_top() {
        let bp = BootstrapParams::test_n12();
        let ctx = Context::new(bp.ckks_params()).unwrap();
        let top = bp.levels().residual;
        assert!(top < ctx.max_level());
        let kg = KeyGenerator::with_seed(&ctx, 3);
        let sk = kg.gen_secret_key();
        let pk = kg.gen_public_key(&sk).unwrap();
        let steps = [1i64, -5, 300];
        let full_gk = kg.gen_galois_keys(&sk, &steps).unwrap();
        let full_rlk = kg.gen_relin_key(&sk).unwrap();
        let res_gk = residual_galois_keys(&ctx, &sk, &steps, top, Some(4));
        let res_rlk = residual_relin_key(&ctx, &sk, top, Some(5));
        eprintln!(
            "galois keys: {} B whole chain, {} B residual; relin: {} B, {} B",
            full_gk.size_bytes(),
            res_gk.size_bytes(),
            full_rlk.size_bytes(),
            res_rlk.size_bytes()
        );
        // Residual primes 3 + P 4 of 3 + 13 + P 4 here.
        assert!(2 * res_gk.size_bytes() < full_gk.size_bytes());
        assert!(2 * res_rlk.size_bytes() < full_rlk.size_bytes());

        let enc = Encoder::new(&ctx);
        let encryptor = Encryptor::new(&ctx, &pk);
        let dec = Decryptor::new(&ctx, &sk);
        let full = Evaluator::new(&ctx, Some(&full_rlk), Some(&full_gk));
        let res = Evaluator::new(&ctx, Some(&res_rlk), Some(&res_gk));
        let slots = ctx.slots();
        let x: Vec<f64> = (0..slots)
            .map(|i| ((i * 37 % 101) as f64) / 101.0 - 0.5)
            .collect();
        let scale = ctx.default_scale();
        let ct = encryptor
            .encrypt(&enc.encode(&x, top, scale).unwrap())
            .unwrap();
        let read = |c: &crate::ckks::Ciphertext| enc.decode(&dec.decrypt(c).unwrap()).unwrap();
        let max_diff = |a: &[f64], b: &[f64]| {
            a.iter()
                .zip(b)
                .map(|(u, v)| (u - v).abs())
                .fold(0f64, f64::max)
        };
        for &s in &steps {
            let want: Vec<f64> = (0..slots)
                .map(|i| x[(i as i64 + s).rem_euclid(slots as i64) as usize])
                .collect();
            let a = read(&full.rotate(&ct, s).unwrap());
            let hoisted = res.hoisted_rotate(&ct, &[s]).unwrap();
            let b = read(&hoisted[0]);
            // Fresh encryption at 2^40: both within 1e-6 of the rotated input.
            assert!(max_diff(&a, &want) < 1e-6, "whole chain, step {s}");
            assert!(max_diff(&b, &want) < 1e-6, "residual, step {s}");
        }
        let sq_full = read(&full.square_relin(&ct).unwrap());
        let sq_res = read(&res.square_relin(&ct).unwrap());
        let want: Vec<f64> = x.iter().map(|v| v * v).collect();
        // At scale 2^80 before rescaling: products within 1e-6 too.
        assert!(max_diff(&sq_full, &want) < 1e-6, "whole-chain relin");
        assert!(max_diff(&sq_res, &want) < 1e-6, "residual relin");

        let above = encryptor
            .encrypt(&enc.encode(&x, top + 1, scale).unwrap())
            .unwrap();
        assert!(matches!(
            res.rotate(&above, 1),
            Err(CkksError::InvalidLevel { .. })
        ));
        assert!(matches!(
            res.square_relin(&above),
            Err(CkksError::InvalidLevel { .. })
        ));
    }
}
