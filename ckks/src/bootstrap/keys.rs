//! The evaluation keys of bootstrapping, and their generation.
//!
//! Exactly what the circuit uses: the relinearization key (EvalMod), the
//! Galois keys of the rotation steps of SubSum, CoeffsToSlots and
//! SlotsToCoeffs (from the cleartext plan, not a generic power-of-two
//! set), the conjugation key, and the two compact keys of sparse-secret
//! encapsulation, each stored only up to the level it is used at
//! ([`KeyLevels`]). Keys are generated in parallel (one CSPRNG stream per
//! key, seeded from the OS, or from `seed` for tests).

use std::sync::Arc;

use crate::error::CkksError;
use crate::progress::ProgressSink;
use crate::ring::context::Context;
use crate::scheme::keygen::KeyGenerator;
use crate::scheme::keys::{GaloisKeys, RelinearizationKey, SecretKey};
use crate::scheme::leveled_keys::KeyLevels;

use super::chained::LevelKeys;
pub use super::encapsulation::EncapsulationKeys;
use super::params::{BootstrapParams, DftStrategy};
use super::plan::Plan;

/// Options of [`BootstrapKeys::generate`].
#[derive(Clone, Debug, Default)]
pub struct KeyGenOptions {
    /// Deterministic keys from this seed (tests and benchmarks only).
    pub seed: Option<u64>,
    /// Where progress goes (nowhere by default).
    pub progress: ProgressSink,
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
            DftStrategy::Bsgs => plan.rotation_levels(ctx.slots()).into_keys().collect(),
            DftStrategy::Chained => plan.chained_steps(ctx.slots()).into_keys().collect(),
        })
    }

    /// The relinearization, conjugation and rotation keys of the
    /// [`DftStrategy::Bsgs`] circuit, each at the highest level it is used
    /// at: CoeffsToSlots' steps at their DFT level (the top ones), SubSum's
    /// at the top, SlotsToCoeffs' at theirs, conjugation and
    /// relinearization where EvalMod starts. A program that also rotates
    /// merges its own needs in and generates one key per Galois element.
    pub fn key_levels(ctx: &Context, params: &BootstrapParams) -> Result<KeyLevels, CkksError> {
        params.validate()?;
        super::check_context(ctx, params)?;
        if params.dft != DftStrategy::Bsgs {
            return Err(CkksError::InvalidParams(
                "bootstrapping: leveled shared keys are for the BSGS DFT; chained DFT \
                 rotations have keys of their own (BootstrapKeys::generate)"
                    .into(),
            ));
        }
        let plan = Plan::new(ctx, params);
        let evalmod = plan.levels.evalmod_start;
        Ok(KeyLevels {
            rotations: plan.rotation_levels(ctx.slots()),
            conjugation: Some(evalmod),
            relinearization: Some(evalmod),
            seeded: false,
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
        let bar = &opts.progress;
        bar.start(total);
        // Independent streams per part; from the OS unless a test seeds them.
        let seed = |salt: u64| {
            opts.seed
                .map(|s| s.wrapping_add(salt.wrapping_mul(0x9E37_79B9)))
        };
        let (relin, galois, level_keys) = match params.dft {
            DftStrategy::Bsgs => {
                bar.message(&format!("{} keys at their levels", steps.len() + 2));
                let levels = Self::key_levels(ctx, params)?;
                let (relin, galois) = levels.generate(ctx, sk, seed(1), &|| bar.step())?;
                let relin = relin.ok_or_else(|| {
                    CkksError::InvalidParams("bootstrapping needs a relinearization key".into())
                })?;
                (relin, galois, None)
            }
            DftStrategy::Chained => {
                bar.message("relinearization");
                let kg = match seed(2) {
                    Some(s) => KeyGenerator::with_seed(ctx, s),
                    None => KeyGenerator::new(ctx),
                };
                let relin = kg.gen_relin_key(sk)?;
                bar.step();
                bar.message(&format!("{} rotations at their levels", steps.len()));
                let plan = Plan::new(ctx, params);
                let lk = LevelKeys::generate(
                    ctx,
                    sk,
                    &plan.chained_steps(ctx.slots()),
                    Some(params.levels().evalmod_start),
                    seed(3),
                    &|| bar.step(),
                );
                (relin, GaloisKeys::default(), Some(Arc::new(lk)))
            }
        };
        bar.message("encapsulation");
        let encapsulation = EncapsulationKeys::generate(ctx, params, sk, seed(4)).map(Arc::new);
        if encapsulation.is_some() {
            // Its two keys, counted in the total.
            bar.step();
            bar.step();
        }
        bar.finish();
        Ok(Self {
            relin,
            galois,
            level_keys,
            encapsulation,
        })
    }

    /// Bootstrapping keys from keys a program shares with the circuit
    /// (generated from [`Self::key_levels`] merged with its own needs) and
    /// the encapsulation keys of [`Self::generate_encapsulation`].
    pub fn from_shared(
        relin: RelinearizationKey,
        galois: GaloisKeys,
        encapsulation: Option<Arc<EncapsulationKeys>>,
    ) -> Self {
        Self {
            relin,
            galois,
            level_keys: None,
            encapsulation,
        }
    }

    /// The encapsulation keys, if the parameters use encapsulation.
    pub fn encapsulation(&self) -> Option<&Arc<EncapsulationKeys>> {
        self.encapsulation.as_ref()
    }

    /// Whether the DFT rotations have keys of their own (the chained DFT),
    /// which evaluation-key files do not carry.
    pub fn has_chained_keys(&self) -> bool {
        self.level_keys.is_some()
    }

    /// The two keys of sparse-secret encapsulation (`None` when `params`
    /// bootstrap under the secret key itself); they do not depend on the
    /// slot count.
    pub fn generate_encapsulation(
        ctx: &Context,
        params: &BootstrapParams,
        sk: &SecretKey,
        seed: Option<u64>,
    ) -> Option<Arc<EncapsulationKeys>> {
        EncapsulationKeys::generate(ctx, params, sk, seed).map(Arc::new)
    }

    /// Number of rotation keys (over the chain or at their level).
    pub fn num_rotation_keys(&self) -> usize {
        self.galois.steps().len() + self.level_keys.as_ref().map_or(0, |k| k.rotations.len())
    }

    /// Bytes of key material held.
    pub fn size_bytes(&self) -> usize {
        self.relin.size_bytes()
            + self.galois.size_bytes()
            + self.level_keys.as_ref().map_or(0, |k| k.size_bytes())
            + self.encapsulation.as_ref().map_or(0, |e| e.size_bytes())
    }

    /// Bytes of the keys a program does not share with the circuit: the
    /// chained DFT's and encapsulation's (with [`Self::from_shared`] the
    /// relinearization and Galois keys are the program's own).
    pub fn own_size_bytes(&self) -> usize {
        self.level_keys.as_ref().map_or(0, |k| k.size_bytes())
            + self.encapsulation.as_ref().map_or(0, |e| e.size_bytes())
            + if self.level_keys.is_some() {
                self.relin.size_bytes()
            } else {
                0
            }
    }

    /// Whether the keys of sparse-secret encapsulation are present.
    pub fn has_encapsulation(&self) -> bool {
        self.encapsulation.is_some()
    }
}
