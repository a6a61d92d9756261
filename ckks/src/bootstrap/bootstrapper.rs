//! The bootstrapping circuit: ScaleDown, (encapsulation,) ModRaise,
//! SubSum, CoeffsToSlots, EvalMod, SlotsToCoeffs.

use std::sync::Arc;

use crate::error::CkksError;
use crate::math::fft::Complex;
use crate::ring::context::Context;
use crate::scheme::ciphertext::{Ciphertext, Plaintext};
use crate::scheme::encoder::Encoder;
use crate::scheme::evaluator::Evaluator;

use crate::circuits::linear_transform::LinearTransform;

use super::chained::{ChainedLevel, LevelKeys};
use super::encapsulation::EncapsulationKeys;
use super::keys::BootstrapKeys;
use super::modraise::{mod_raise, sub_sum_steps};
use super::params::{BootstrapParams, DftStrategy, Levels};
use super::plan::{DftLevel, Plan, Scales};

/// Run-time choices that trade time for memory.
#[derive(Clone, Debug, Default)]
pub struct BootstrapOptions {
    /// Encode each DFT level's diagonals right before it is applied and
    /// drop them after, instead of keeping all of them encoded (at N = 2^16
    /// about 3 GB of plaintexts over `Q ∪ P`, against roughly a second of
    /// encoding per bootstrap).
    pub lazy_matrices: bool,
}

/// The DFT matrices of one direction, encoded or to be encoded on use.
#[derive(Debug)]
enum Matrices {
    Encoded(Vec<LinearTransform>),
    Lazy(Vec<DftLevel>),
    Chained(Vec<ChainedLevel>),
}

impl Matrices {
    fn new(encoder: &Encoder, levels: Vec<DftLevel>, lazy: bool) -> Result<Self, CkksError> {
        if lazy {
            return Ok(Matrices::Lazy(levels));
        }
        let lts = levels
            .iter()
            .map(|l| l.encode(encoder))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Matrices::Encoded(lts))
    }

    /// `rescale(M_i ... M_1 ct)`, one level per matrix.
    fn apply(
        &self,
        eval: &Evaluator,
        encoder: &Encoder,
        level_keys: Option<&LevelKeys>,
        mut ct: Ciphertext,
        timer: &mut Timer,
        name: &'static str,
    ) -> Result<Ciphertext, CkksError> {
        match self {
            Matrices::Chained(levels) => {
                let keys = level_keys.ok_or(CkksError::MissingGaloisKey(0))?;
                for l in levels {
                    ct = eval.rescale(&l.apply(eval, encoder, keys, &ct)?)?;
                    timer.mark(name);
                }
            }
            Matrices::Encoded(lts) => {
                for lt in lts {
                    ct = eval.rescale(&eval.linear_transform(&ct, lt)?)?;
                    timer.mark(name);
                }
            }
            Matrices::Lazy(levels) => {
                for l in levels {
                    let lt = l.encode(encoder)?;
                    timer.mark("encode matrices");
                    ct = eval.rescale(&eval.linear_transform(&ct, &lt)?)?;
                    timer.mark(name);
                }
            }
        }
        Ok(ct)
    }

    fn size_bytes(&self) -> usize {
        match self {
            Matrices::Encoded(lts) => lts.iter().map(LinearTransform::size_bytes).sum(),
            Matrices::Lazy(_) | Matrices::Chained(_) => 0,
        }
    }

    fn rotation_steps(&self) -> Vec<i64> {
        match self {
            Matrices::Encoded(lts) => lts.iter().flat_map(|l| l.rotation_steps()).collect(),
            Matrices::Lazy(_) | Matrices::Chained(_) => Vec::new(),
        }
    }
}

/// Bootstraps ciphertexts of one parameter set (see the module documentation).
#[derive(Debug)]
pub struct Bootstrapper {
    ctx: Arc<Context>,
    params: BootstrapParams,
    levels: Levels,
    scales: Scales,
    eval: Evaluator,
    encoder: Encoder,
    cts: Matrices,
    stc: Matrices,
    encapsulation: Option<Arc<EncapsulationKeys>>,
    level_keys: Option<Arc<LevelKeys>>,
    /// `-i` in every slot at the EvalMod input level and `+i` at the
    /// SlotsToCoeffs input level (the monomial `∓X^(N/2)`, scale 1).
    minus_i: Plaintext,
    plus_i: Plaintext,
    sparse: bool,
}

impl Bootstrapper {
    /// Encodes the DFT matrices and checks that `keys` has every key the
    /// circuit needs. `ctx` must be the context of `params.ckks_params()`.
    pub fn new(
        ctx: &Arc<Context>,
        params: &BootstrapParams,
        keys: &BootstrapKeys,
    ) -> Result<Self, CkksError> {
        Self::with_options(ctx, params, keys, &BootstrapOptions::default())
    }

    /// [`Self::new`] with explicit [`BootstrapOptions`].
    pub fn with_options(
        ctx: &Arc<Context>,
        params: &BootstrapParams,
        keys: &BootstrapKeys,
        options: &BootstrapOptions,
    ) -> Result<Self, CkksError> {
        params.validate()?;
        super::check_context(ctx, params)?;
        let plan = Plan::new(ctx, params);
        let slots = ctx.slots();
        match params.dft {
            DftStrategy::Bsgs => {
                // Keys may be stored only up to their level of use
                // (`BootstrapKeys::key_levels`): check that level too, so a
                // short key is refused here rather than mid-bootstrap.
                let reaches = |top: Option<usize>, level: usize| top.is_none_or(|t| t >= level);
                for (step, level) in plan.rotation_levels(slots) {
                    match keys.galois.find(step, slots) {
                        Some((_, k)) if reaches(k.top, level) => {}
                        _ => return Err(CkksError::MissingGaloisKey(step)),
                    }
                }
                let evalmod = plan.levels.evalmod_start;
                match &keys.galois.conjugation {
                    Some(k) if reaches(k.top, evalmod) => {}
                    _ => return Err(CkksError::MissingConjugationKey),
                }
                if !reaches(keys.relin.key.top, evalmod) {
                    return Err(CkksError::MissingRelinKey);
                }
            }
            DftStrategy::Chained => {
                let lk = keys.level_keys.as_ref().ok_or_else(|| {
                    CkksError::InvalidParams(
                        "bootstrapping: the parameters use chained DFT rotations but the keys \
                         were generated for BSGS (no per-level keys)"
                            .into(),
                    )
                })?;
                for (step, level) in plan.chained_steps(slots) {
                    match lk.rotations.get(&step) {
                        Some((_, k)) if k.level >= level => {}
                        _ => return Err(CkksError::MissingGaloisKey(step)),
                    }
                }
                match &lk.conjugation {
                    Some(k) if k.level >= plan.levels.evalmod_start => {}
                    _ => return Err(CkksError::MissingConjugationKey),
                }
            }
        }
        if params.ephemeral_hamming_weight.is_some() != keys.encapsulation.is_some() {
            return Err(CkksError::InvalidParams(format!(
                "bootstrapping: the parameters {} sparse-secret encapsulation but the keys {}",
                if params.ephemeral_hamming_weight.is_some() {
                    "use"
                } else {
                    "do not use"
                },
                if keys.encapsulation.is_some() {
                    "have its keys"
                } else {
                    "lack its keys"
                },
            )));
        }
        if let Some(e) = &keys.encapsulation {
            if e.to_dense.level != plan.levels.top {
                return Err(CkksError::ContextMismatch(
                    "bootstrapping keys were generated for another chain".into(),
                ));
            }
        }
        let encoder = Encoder::new(ctx);
        let (levels, scales, n) = (plan.levels, plan.scales, plan.n);
        let (cts, stc) = match params.dft {
            DftStrategy::Bsgs => (
                Matrices::new(&encoder, plan.cts, options.lazy_matrices)?,
                Matrices::new(&encoder, plan.stc, options.lazy_matrices)?,
            ),
            DftStrategy::Chained => {
                let (c, s) = plan.chained();
                (Matrices::Chained(c), Matrices::Chained(s))
            }
        };
        let eval = Evaluator::new(ctx, Some(&keys.relin), Some(&keys.galois));
        // The plan's steps mirror the library's BSGS; double-check when encoded.
        for step in cts.rotation_steps().into_iter().chain(stc.rotation_steps()) {
            if !keys.galois.has_step(step, slots) {
                return Err(CkksError::MissingGaloisKey(step));
            }
        }
        let const_i = |sign: f64, level: usize| {
            encoder.encode_complex(&vec![Complex::new(0.0, sign); slots], level, 1.0)
        };
        Ok(Self {
            minus_i: const_i(-1.0, levels.evalmod_start)?,
            plus_i: const_i(1.0, levels.stc_start)?,
            ctx: ctx.clone(),
            params: params.clone(),
            levels,
            scales,
            eval,
            encoder,
            cts,
            stc,
            encapsulation: keys.encapsulation.clone(),
            level_keys: keys.level_keys.clone(),
            sparse: n < slots,
        })
    }

    /// Bytes of the DFT matrices kept encoded (none when lazy or chained).
    /// What [`Bootstrapper::matrices_bytes`] will be for `params` on `ctx`
    /// with `options`, from the plan alone (nothing encoded): each DFT
    /// level's diagonals as plaintexts over `Q_level ∪ P`; none when they
    /// are encoded on use or the DFT is chained.
    pub fn matrices_bytes_estimate(
        ctx: &Arc<Context>,
        params: &BootstrapParams,
        options: &BootstrapOptions,
    ) -> Result<usize, CkksError> {
        params.validate()?;
        super::check_context(ctx, params)?;
        if options.lazy_matrices || params.dft == DftStrategy::Chained {
            return Ok(0);
        }
        let plan = Plan::new(ctx, params);
        let np = ctx.moduli_p().len();
        Ok(plan
            .cts
            .iter()
            .chain(&plan.stc)
            .map(|l| l.diagonals.len() * (l.level + 1 + np) * ctx.n() * std::mem::size_of::<u64>())
            .sum())
    }

    pub fn matrices_bytes(&self) -> usize {
        self.cts.size_bytes() + self.stc.size_bytes()
    }

    /// The level layout (the output lands at `levels().residual`).
    pub fn levels(&self) -> Levels {
        self.levels
    }

    /// The parameters.
    pub fn params(&self) -> &BootstrapParams {
        &self.params
    }

    /// Bootstraps `ct`. Input contract:
    /// - degree 1 (relinearized), at a residual level `<= levels().residual`
    ///   (any; it is dropped to level 0), else a `DegreeMismatch` /
    ///   `InvalidLevel` error;
    /// - scale at most `q_0 / 2^log_message_ratio` (2^47 for the sets here;
    ///   the default 2^40 is fine), else `ValueOutOfRange`;
    /// - values with `|re|, |im| <= 1` (the range EvalMod is accurate on;
    ///   not checkable on a ciphertext: scale larger values down first);
    /// - with `2^log_slots < N/2` sparse slots, a slot vector periodic with
    ///   period `2^log_slots` (the values repeated): the output is the
    ///   average of the input over the slots `j + k 2^log_slots`.
    ///
    /// Returns the same values at level `levels().residual`, with scale
    /// exactly the default scale `2^log_scale`.
    pub fn bootstrap(&self, ct: &Ciphertext) -> Result<Ciphertext, CkksError> {
        self.run(ct, &mut Timer::off())
    }

    /// [`Self::bootstrap`], also returning the wall time of each phase in
    /// seconds (phases that repeat are summed), in order of first occurrence.
    pub fn bootstrap_profiled(
        &self,
        ct: &Ciphertext,
    ) -> Result<(Ciphertext, PhaseTimes), CkksError> {
        let mut timer = Timer::on();
        let out = self.run(ct, &mut timer)?;
        Ok((out, timer.phases))
    }

    fn run(&self, ct: &Ciphertext, timer: &mut Timer) -> Result<Ciphertext, CkksError> {
        let ctx = &self.ctx;
        let eval = &self.eval;
        ctx.check_ciphertext(ct)?;
        if ct.degree() != 1 {
            return Err(CkksError::DegreeMismatch {
                op: "bootstrap",
                expected: 1,
                got: ct.degree(),
            });
        }
        if ct.level > self.levels.residual {
            return Err(CkksError::InvalidLevel {
                op: "bootstrap (input must be at a residual level)",
                level: ct.level,
                max: self.levels.residual,
            });
        }

        // ScaleDown: level 0, scale at most q_0 / 2^ratio via an integer factor.
        let ct0 = eval.level_down(ct, 0)?;
        let q0 = ctx.q(0) as f64;
        let ratio = (self.params.mod1.log_message_ratio as f64).exp2();
        let factor = (q0 / (ratio * ct.scale)).floor();
        if factor < 1.0 {
            return Err(CkksError::ValueOutOfRange {
                value: q0 / ct.scale,
                scale: ct.scale,
                reason:
                    "bootstrap: q_0 / scale is below the message ratio, the values would not fit",
            });
        }
        let mut ct0 = if factor > 1.0 {
            eval.mul_const(&ct0, factor, 1.0)?
        } else {
            ct0
        };
        let delta0 = ct.scale * factor;
        timer.mark("scale down");

        // Sparse-secret encapsulation, ModRaise, back to the secret key.
        if let Some(e) = &self.encapsulation {
            ct0 = switch_with(ctx, &ct0, |c| e.to_sparse.switch(ctx, 0, c));
        }
        let mut up = mod_raise(ctx, &ct0, self.levels.top);
        drop(ct0);
        if let Some(e) = &self.encapsulation {
            up = switch_with(ctx, &up, |c| e.to_dense.switch(ctx, self.levels.top, c));
        }
        up.scale = self.scales.s0;
        timer.mark("mod raise");
        let lk = self.level_keys.as_deref();
        if self.sparse {
            let n = self.params.slots();
            up = match lk {
                None => eval.rotate_and_sum(&up, n, ctx.slots() / n)?,
                Some(lk) => {
                    for step in sub_sum_steps(n, ctx.slots()) {
                        let r = lk.rotate(ctx, &up, step)?;
                        eval.add_assign(&mut up, &r)?;
                    }
                    up
                }
            };
            timer.mark("sub sum");
        }

        // CoeffsToSlots.
        let mut w = self
            .cts
            .apply(eval, &self.encoder, lk, up, timer, "coeffs to slots")?;
        w.scale = self.scales.s_y;
        let conj = match lk {
            None => eval.conjugate(&w)?,
            Some(lk) => lk.conjugate(ctx, &w)?,
        };
        timer.mark("conjugate");

        // EvalMod (per part), then SlotsToCoeffs.
        let s_e = self.scales.t_nominal * q0 / delta0;
        let out_tag = |mut x: Ciphertext| {
            x.scale = self.scales.t_nominal;
            x
        };
        let x = if self.sparse {
            let y = eval.add(&w, &conj)?;
            drop((w, conj));
            out_tag(self.params.mod1.evaluate(eval, &y, s_e)?)
        } else {
            let re = eval.add(&w, &conj)?;
            let im = eval.mul_plain(&eval.sub(&w, &conj)?, &self.minus_i)?;
            drop((w, conj));
            let re = out_tag(self.params.mod1.evaluate(eval, &re, s_e)?);
            let im = out_tag(self.params.mod1.evaluate(eval, &im, s_e)?);
            eval.add(&re, &eval.mul_plain(&im, &self.plus_i)?)?
        };
        timer.mark("eval mod");
        let mut x = self
            .stc
            .apply(eval, &self.encoder, lk, x, timer, "slots to coeffs")?;
        x.scale = self.scales.out;
        Ok(x)
    }
}

/// Seconds spent in each phase of one bootstrap, in order of first occurrence.
pub type PhaseTimes = Vec<(&'static str, f64)>;

/// Wall time per phase (a no-op unless profiling).
struct Timer {
    last: Option<std::time::Instant>,
    phases: PhaseTimes,
}

impl Timer {
    fn off() -> Self {
        Self {
            last: None,
            phases: Vec::new(),
        }
    }

    fn on() -> Self {
        Self {
            last: Some(std::time::Instant::now()),
            phases: Vec::new(),
        }
    }

    /// Charges the time since the previous mark to `phase`.
    fn mark(&mut self, phase: &'static str) {
        if let Some(last) = self.last.as_mut() {
            let dt = last.elapsed().as_secs_f64();
            *last = std::time::Instant::now();
            match self.phases.iter_mut().find(|(p, _)| *p == phase) {
                Some((_, t)) => *t += dt,
                None => self.phases.push((phase, dt)),
            }
        }
    }
}

/// `(c_0 + ks_0, ks_1)` with `(ks_0, ks_1) = switch(c_1)`.
fn switch_with(
    ctx: &Context,
    ct: &Ciphertext,
    switch: impl Fn(
        &crate::ring::poly::RnsPoly,
    ) -> (crate::ring::poly::RnsPoly, crate::ring::poly::RnsPoly),
) -> Ciphertext {
    let (mut c0, c1) = switch(&ct.parts[1]);
    ctx.poly_add_assign(&mut c0, &ct.parts[0], &ctx.basis_q(ct.level));
    Ciphertext {
        parts: vec![c0, c1],
        level: ct.level,
        scale: ct.scale,
    }
}
