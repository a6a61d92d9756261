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

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use super::ciphertext::{Ciphertext, Plaintext};
use super::context::Context;
use super::error::CkksError;
use super::keys::{PublicKey, SecretKey};
use super::poly::RnsPoly;
use super::sampler;

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
                let u = sampler::ternary(&mut *rng, ctx.n(), None);
                let e0 = sampler::gaussian(&mut *rng, ctx.n());
                let e1 = sampler::gaussian(&mut *rng, ctx.n());
                drop(rng);
                let u = ctx.poly_from_small(&u, &basis);
                let select = |p: &RnsPoly| RnsPoly {
                    limbs: basis.iter().map(|&g| p.limbs[g].clone()).collect(),
                    ntt: true,
                };
                let (pb, pa) = (select(&pk.b), select(&pk.a));
                let mut c0 = ctx.poly_from_small(&e0, &basis);
                let mut c1 = ctx.poly_from_small(&e1, &basis);
                ctx.poly_mul_acc(&mut c0, &u, &pb, &basis);
                ctx.poly_mul_acc(&mut c1, &u, &pa, &basis);
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
