//! Sparse-secret encapsulation (Bossuat, Troncoso-Pastoriza, Hubaux 2022).
//!
//! ModRaise leaves `q_0 I` with `|I|` growing with the Hamming weight of
//! the secret (about `sqrt(h / 12)` per coefficient, so `K` ≈ 33 for
//! h = 192), and a larger `K` costs EvalMod depth. Instead, at level 0 the
//! ciphertext is switched to an *ephemeral* secret of small weight
//! (h' = 32: `|I| <= 16.5` always), raised, and switched back to the real
//! secret at the top. The dense-to-sparse key lives at level 0 (modulus
//! `q_0 P`, so its small weight is still secure); both keys are stored
//! only on the primes of the level where they are used.
//!
//! Both are [`CompactKey`]s: digits and limbs of a whole-chain key
//! restricted to one level (`Q_0..Q_l` and P).

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::ring::context::Context;
use crate::scheme::compact_key::CompactKey;
use crate::scheme::keys::SecretKey;
use crate::scheme::sampler;

use super::params::BootstrapParams;

/// The two keys of sparse-secret encapsulation.
#[derive(Debug, Clone)]
pub struct EncapsulationKeys {
    /// Secret -> ephemeral secret, at level 0.
    pub(crate) to_sparse: CompactKey,
    /// Ephemeral secret -> secret, at the top level.
    pub(crate) to_dense: CompactKey,
}

impl EncapsulationKeys {
    /// Draws an ephemeral secret of `params`' ephemeral Hamming weight and
    /// the keys to it and back, or `None` when `params` bootstrap under the
    /// secret key itself.
    pub(crate) fn generate(
        ctx: &Context,
        params: &BootstrapParams,
        sk: &SecretKey,
        seed: Option<u64>,
    ) -> Option<Self> {
        let h = params.ephemeral_hamming_weight?;
        let mut rng = match seed {
            Some(s) => ChaCha20Rng::seed_from_u64(s ^ 0x5EC2_E7E4),
            None => ChaCha20Rng::from_os_rng(),
        };
        let coeffs = sampler::ternary(&mut rng, ctx.n(), Some(h));
        let eph = ctx.poly_from_small(&coeffs, &ctx.basis_all());
        let top = params.levels().top;
        Some(Self {
            to_sparse: CompactKey::generate(ctx, &mut rng, &sk.ntt, &eph, 0, false),
            to_dense: CompactKey::generate(ctx, &mut rng, &eph, &sk.ntt, top, false),
        })
    }

    /// Bytes of key material held.
    pub fn size_bytes(&self) -> usize {
        self.to_sparse.size_bytes() + self.to_dense.size_bytes()
    }
}
