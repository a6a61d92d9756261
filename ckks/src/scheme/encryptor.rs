//! Encryption.
//!
//! Public-key encryption follows Lattigo's noise-reducing variant: the
//! RLWE sample `(u b + e_0, u a + e_1)` is computed modulo `Q_l P` and then
//! divided by P (ModDown). The large term `u e + e_0 + e_1 s` shrinks by P
//! and the fresh noise is just the rounding error `r_0 + r_1 s`
//! (std ≈ 0.24 sqrt(N) per coefficient instead of ≈ 3.2 sqrt(4N/3)).
//!
//! Secret-key encryption is `(-a s + e + m, a)` with `a` uniform.

use std::sync::{Arc, Mutex};

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;

use crate::error::CkksError;
use crate::ring::context::Context;
use crate::ring::poly::RnsPoly;
use crate::scheme::ciphertext::{Ciphertext, Plaintext};
use crate::scheme::keys::{PublicKey, SecretKey};
use crate::scheme::sampler;

#[derive(Debug)]
enum Key {
    Public(PublicKey),
    Secret(SecretKey),
}

/// Encrypts plaintexts under a public or a secret key.
#[derive(Debug)]
pub struct Encryptor {
    ctx: Arc<Context>,
    key: Key,
    rng: Mutex<ChaCha20Rng>,
}

impl Encryptor {
    /// A public-key encryptor, seeded from the OS.
    pub fn new(ctx: &Arc<Context>, pk: &PublicKey) -> Self {
        Self {
            ctx: ctx.clone(),
            key: Key::Public(pk.clone()),
            rng: Mutex::new(ChaCha20Rng::from_os_rng()),
        }
    }

    /// A secret-key encryptor, seeded from the OS.
    pub fn with_secret_key(ctx: &Arc<Context>, sk: &SecretKey) -> Self {
        Self {
            ctx: ctx.clone(),
            key: Key::Secret(sk.clone()),
            rng: Mutex::new(ChaCha20Rng::from_os_rng()),
        }
    }

    /// Replaces the randomness source by a seeded one (tests only).
    pub fn seeded(mut self, seed: u64) -> Self {
        self.rng = Mutex::new(ChaCha20Rng::seed_from_u64(seed));
        self
    }

    /// Encrypts `pt` at its level and scale.
    pub fn encrypt(&self, pt: &Plaintext) -> Result<Ciphertext, CkksError> {
        let ctx = &self.ctx;
        ctx.check_plaintext(pt)?;
        let level = pt.level;
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        let (mut c0, c1) = match &self.key {
            Key::Public(pk) => {
                if pk.b.num_limbs() != ctx.basis_all().len() || pk.b.n() != ctx.n() {
                    return Err(CkksError::ContextMismatch(
                        "public key was generated for another parameter set".into(),
                    ));
                }
                let basis = ctx.basis_qp(level);
                // Three independent streams, each keyed with 256 fresh bits
                // from the encryptor's CSPRNG, so that the samplers can run
                // in parallel.
                let mut seeds = [[0u8; 32]; 3];
                for s in &mut seeds {
                    rng.fill_bytes(s);
                }
                drop(rng);
                let sample = |i: usize, f: fn(&mut ChaCha20Rng, usize) -> Vec<i64>| {
                    let poly = f(&mut ChaCha20Rng::from_seed(seeds[i]), ctx.n());
                    ctx.poly_from_small(&poly, &basis)
                };
                let (u, (mut c0, mut c1)) = rayon::join(
                    || sample(0, |r, n| sampler::ternary(r, n, None)),
                    || {
                        rayon::join(
                            || sample(1, sampler::gaussian),
                            || sample(2, sampler::gaussian),
                        )
                    },
                );
                // c_0 += u b, c_1 += u a on Q_level ∪ P, reading the key's
                // limbs in place (the key holds every prime).
                let job = |(t, (o0, o1)): (usize, (&mut Vec<u64>, &mut Vec<u64>))| {
                    let g = basis[t];
                    let plan = &ctx.primes[g].plan;
                    plan.mul_accumulate(o0, &u.limbs[t], &pk.b.limbs[g]);
                    plan.mul_accumulate(o1, &u.limbs[t], &pk.a.limbs[g]);
                };
                c0.limbs
                    .par_iter_mut()
                    .zip(c1.limbs.par_iter_mut())
                    .enumerate()
                    .for_each(|(t, pair)| job((t, pair)));
                rayon::join(|| ctx.mod_down(level, c0), || ctx.mod_down(level, c1))
            }
            Key::Secret(sk) => {
                if sk.ntt.num_limbs() != ctx.basis_all().len() || sk.ntt.n() != ctx.n() {
                    return Err(CkksError::ContextMismatch(
                        "secret key was generated for another parameter set".into(),
                    ));
                }
                let basis = ctx.basis_q(level);
                let mut a = RnsPoly::zero(ctx.n(), level + 1, true);
                for (limb, &g) in a.limbs.iter_mut().zip(&basis) {
                    sampler::uniform_limb(&mut *rng, &ctx.primes[g].m, limb);
                }
                let e = sampler::gaussian(&mut *rng, ctx.n());
                drop(rng);
                let mut c0 = ctx.poly_from_small(&e, &basis);
                let s = sk.ntt.prefix(level + 1);
                let as_ = ctx.poly_mul(&a, &s, &basis);
                ctx.poly_sub_assign(&mut c0, &as_, &basis);
                (c0, a)
            }
        };
        ctx.poly_add_assign(&mut c0, &pt.poly, &ctx.basis_q(level));
        Ok(Ciphertext {
            parts: vec![c0, c1],
            level,
            scale: pt.scale,
        })
    }

    /// Encrypts a message of zeros at `level` and `scale`.
    pub fn encrypt_zero(&self, level: usize, scale: f64) -> Result<Ciphertext, CkksError> {
        if level > self.ctx.max_level() {
            return Err(CkksError::InvalidLevel {
                op: "encrypt_zero",
                level,
                max: self.ctx.max_level(),
            });
        }
        let pt = Plaintext {
            poly: RnsPoly::zero(self.ctx.n(), level + 1, true),
            level,
            scale,
        };
        self.encrypt(&pt)
    }
}
