//! The evaluation keys of bootstrapping, and their generation.
//!
//! Exactly what the circuit uses: the relinearization key (EvalMod), the
//! Galois keys of the rotation steps of SubSum, CoeffsToSlots and
//! SlotsToCoeffs (from the cleartext plan, not a generic power-of-two
//! set), the conjugation key, and the two compact keys of sparse-secret
//! encapsulation. Galois keys are generated in parallel (one key
//! generator per key, seeded from the OS, or from `seed` for tests).

use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;

use crate::ckks::context::Context;
use crate::ckks::error::CkksError;
use crate::ckks::keygen::KeyGenerator;
use crate::ckks::keys::{GaloisKeys, RelinearizationKey, SecretKey};
use crate::ckks::sampler;

use super::chained::LevelKeys;
use super::encapsulation::{CompactKey, EncapsulationKeys};
use super::params::{BootstrapParams, DftStrategy};
use super::plan::Plan;

/// Options of [`BootstrapKeys::generate`].
#[derive(Clone, Debug, Default)]
pub struct KeyGenOptions {
    /// Deterministic keys from this seed (tests and benchmarks only).
    pub seed: Option<u64>,
    /// No progress bar on stderr.
    pub quiet: bool,
}

/// Evaluation keys for one bootstrapping parameter set.
#[derive(Clone, Debug)]
pub struct BootstrapKeys {
    /// Relinearization key (EvalMod's products).
    pub relin: RelinearizationKey,
    /// Galois keys over the whole chain: the circuit's rotation steps and
    /// conjugation ([`DftStrategy::Bsgs`]; empty with `Chained`).
    pub galois: GaloisKeys,
    /// Galois keys stored at their level of use ([`DftStrategy::Chained`]).
    pub(crate) level_keys: Option<Arc<LevelKeys>>,
    pub(crate) encapsulation: Option<Arc<EncapsulationKeys>>,
}

impl BootstrapKeys {
    /// The rotation steps bootstrapping with `params` needs keys for
    /// (conjugation apart).
    pub fn rotation_steps(ctx: &Context, params: &BootstrapParams) -> Result<Vec<i64>, CkksError> {
        params.validate()?;
        super::check_context(ctx, params)?;
        let plan = Plan::new(ctx, params);
        Ok(match params.dft {
            DftStrategy::Bsgs => plan.rotation_steps(ctx.slots()),
            DftStrategy::Chained => plan.chained_steps(ctx.slots()).into_keys().collect(),
        })
    }

    /// Generates every key bootstrapping with `params` needs for `sk`.
    pub fn generate(
        ctx: &Arc<Context>,
        params: &BootstrapParams,
        sk: &SecretKey,
        opts: &KeyGenOptions,
    ) -> Result<Self, CkksError> {
        let steps = Self::rotation_steps(ctx, params)?;
        let encapsulate = params.ephemeral_hamming_weight.is_some();
        let total = steps.len() as u64 + 2 + if encapsulate { 2 } else { 0 };
        let bar = if opts.quiet {
            ProgressBar::hidden()
        } else {
            let b = ProgressBar::new(total);
            b.set_style(
                ProgressStyle::with_template(
                    "bootstrapping keys {bar:30} {pos}/{len} [{elapsed_precise}] {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b
        };
        let keygen = |i: u64| match opts.seed {
            Some(s) => KeyGenerator::with_seed(ctx, s.wrapping_add(i.wrapping_mul(0x9E37_79B9))),
            None => KeyGenerator::new(ctx),
        };
        bar.set_message("relinearization");
        let relin = keygen(0).gen_relin_key(sk)?;
        bar.inc(1);
        let (galois, level_keys) = match params.dft {
            DftStrategy::Bsgs => {
                bar.set_message("conjugation");
                let mut galois = keygen(1).gen_galois_keys_with_conjugation(sk, &[], true)?;
                bar.inc(1);
                bar.set_message(format!("{} rotations", steps.len()));
                let parts = steps
                    .par_iter()
                    .enumerate()
                    .map(|(i, &s)| {
                        let k = keygen(2 + i as u64).gen_galois_keys(sk, &[s]);
                        bar.inc(1);
                        k
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                for p in parts {
                    galois.extend(p);
                }
                (galois, None)
            }
            DftStrategy::Chained => {
                bar.set_message(format!("{} rotations at their levels", steps.len()));
                let plan = Plan::new(ctx, params);
                let with_levels = plan.chained_steps(ctx.slots());
                let lk = LevelKeys::generate(
                    ctx,
                    sk,
                    &with_levels,
                    Some(params.levels().evalmod_start),
                    opts.seed,
                    &|| bar.inc(1),
                );
                (GaloisKeys::default(), Some(Arc::new(lk)))
            }
        };
        let encapsulation = match params.ephemeral_hamming_weight {
            None => None,
            Some(h) => {
                bar.set_message("encapsulation");
                let mut rng = match opts.seed {
                    Some(s) => ChaCha20Rng::seed_from_u64(s ^ 0x5EC2_E7E4),
                    None => ChaCha20Rng::from_os_rng(),
                };
                let coeffs = sampler::ternary(&mut rng, ctx.n(), Some(h));
                let eph = ctx.poly_from_small(&coeffs, &ctx.basis_all());
                let top = params.levels().top;
                let to_sparse = CompactKey::generate(ctx, &mut rng, &sk.ntt, &eph, 0);
                bar.inc(1);
                let to_dense = CompactKey::generate(ctx, &mut rng, &eph, &sk.ntt, top);
                bar.inc(1);
                Some(Arc::new(EncapsulationKeys {
                    to_sparse,
                    to_dense,
                }))
            }
        };
        bar.finish_with_message("done");
        Ok(Self {
            relin,
            galois,
            level_keys,
            encapsulation,
        })
    }

    /// Number of rotation keys (over the chain or at their level).
    pub fn num_rotation_keys(&self) -> usize {
        self.galois.steps().len() + self.level_keys.as_ref().map_or(0, |k| k.rotations.len())
    }

    /// Whether the keys of sparse-secret encapsulation are present.
    pub fn has_encapsulation(&self) -> bool {
        self.encapsulation.is_some()
    }
}
