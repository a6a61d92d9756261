//! The cleartext plan of one bootstrapping circuit: the DFT matrices of
//! CoeffsToSlots and SlotsToCoeffs with their encoding levels and scales,
//! and the rotation steps they need.
//!
//! Scale bookkeeping (a ciphertext's scale is a declaration: its slots hold
//! `decode(poly) / scale`, so re-declaring it is free):
//! - after ModRaise the polynomial is `t = m + q_0 I`, declared at scale
//!   `S_0 = q_0 K`; CoeffsToSlots then yields `y = (m / q_0 + I) / K` in
//!   [-1, 1]. Its diagonals are encoded at scale `q_l` (the rescale divides
//!   it out exactly) except the last, which moves the scale to `S_y`, the
//!   EvalMod prime size, where the polynomial evaluation is stable;
//! - EvalMod outputs `x = m / q_0` at scale `S_e`; since `m = Δ_0 u` (`u`
//!   the folded coefficients of the values, `Δ_0` the input scale at level
//!   0) that is `u` at scale `T = S_e Δ_0 / q_0`. `S_e` is chosen per call
//!   so that `T` is always `T_nominal`, whatever the input scale;
//! - SlotsToCoeffs brings `T_nominal` down to the default scale Δ in equal
//!   steps (diagonal scale `q_l (Δ / T_nominal)^(1/levels)`), the last step
//!   exactly onto Δ.

use std::collections::{BTreeMap, BTreeSet};

use crate::circuits::linear_transform::LinearTransform;
use crate::error::CkksError;
use crate::math::fft::Complex;
use crate::ring::context::Context;
use crate::scheme::encoder::Encoder;

use super::dft;
use super::modraise::sub_sum_steps;
use super::params::{BootstrapParams, Levels};

#[derive(Debug)]
/// One DFT level: the diagonals of a `dim x dim` matrix (`dim`-periodic
/// slots), encoding level and scale, baby step.
pub(crate) struct DftLevel {
    pub(crate) diagonals: BTreeMap<usize, Vec<Complex>>,
    pub(crate) level: usize,
    pub(crate) scale: f64,
    pub(crate) baby_step: usize,
}

/// Scales of the circuit (see the module documentation).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scales {
    /// Declared scale after ModRaise: `q_0 K`.
    pub(crate) s0: f64,
    /// Scale of the EvalMod input (CoeffsToSlots output).
    pub(crate) s_y: f64,
    /// Scale of the SlotsToCoeffs input, `S_e Δ_0 / q_0`.
    pub(crate) t_nominal: f64,
    /// Output scale (the default scale).
    pub(crate) out: f64,
}

impl DftLevel {
    /// The library's linear transform of this level.
    pub(crate) fn encode(&self, encoder: &Encoder) -> Result<LinearTransform, CkksError> {
        LinearTransform::new(
            encoder,
            &self.diagonals,
            self.level,
            self.scale,
            Some(self.baby_step),
        )
    }
}

/// The whole plan.
pub(crate) struct Plan {
    pub(crate) levels: Levels,
    pub(crate) scales: Scales,
    pub(crate) cts: Vec<DftLevel>,
    pub(crate) stc: Vec<DftLevel>,
    /// Number of slots bootstrapped.
    pub(crate) n: usize,
    /// Dimension the matrices act in (`n`, or `2n` for sparse slots).
    pub(crate) dim: usize,
}

impl Plan {
    /// Builds the matrices for `params` on `ctx` (which must be the chain of `params`).
    pub(crate) fn new(ctx: &Context, params: &BootstrapParams) -> Self {
        let levels = params.levels();
        let slots = ctx.slots();
        let n = params.slots();
        let dim = if n == slots { n } else { 2 * n };
        let g = (slots / n) as f64;
        let s0 = ctx.q(0) as f64 * params.mod1.k as f64;
        let s_y = (params.mod1.log_scale as f64).exp2();
        let out = ctx.default_scale();
        let t_nominal = ((params.mod1.log_scale - params.mod1.log_message_ratio) as f64).exp2();

        // CoeffsToSlots: scaled by 1/(2g) (the real/imaginary extraction
        // doubles, SubSum multiplied by g).
        let cts_m = dft::coeffs_to_slots(n, dim, params.cts_log_q.len(), 1.0 / (2.0 * g));
        let last = cts_m.len() - 1;
        let cts = cts_m
            .into_iter()
            .enumerate()
            .map(|(i, m)| {
                let level = levels.top - i;
                let q = ctx.q(level) as f64;
                let scale = if i == last { q * s_y / s0 } else { q };
                make_level(m, level, scale)
            })
            .collect();

        let stc_m = dft::slots_to_coeffs(n, dim, params.stc_log_q.len(), 1.0);
        let steps = stc_m.len();
        let ratio = (out / t_nominal).powf(1.0 / steps as f64);
        let mut tag = t_nominal;
        let stc = stc_m
            .into_iter()
            .enumerate()
            .map(|(i, m)| {
                let level = levels.stc_start - i;
                let q = ctx.q(level) as f64;
                let scale = if i + 1 == steps {
                    out * q / tag
                } else {
                    q * ratio
                };
                tag = tag * scale / q;
                make_level(m, level, scale)
            })
            .collect();
        Self {
            levels,
            scales: Scales {
                s0,
                s_y,
                t_nominal,
                out,
            },
            cts,
            stc,
            n,
            dim,
        }
    }

    /// Every rotation step the circuit needs a Galois key for (conjugation
    /// apart), with the highest level it is used at (SubSum's at the top).
    pub(crate) fn rotation_levels(&self, slots: usize) -> BTreeMap<i64, usize> {
        let mut out: BTreeMap<i64, usize> = BTreeMap::new();
        for l in self.cts.iter().chain(&self.stc) {
            for s in bsgs_steps(l.diagonals.keys(), l.baby_step) {
                let e = out.entry(s).or_insert(l.level);
                *e = (*e).max(l.level);
            }
        }
        for s in sub_sum_steps(self.n, slots) {
            out.insert(s, self.levels.top);
        }
        out
    }
}

fn make_level(m: dft::DiagMatrix, level: usize, scale: f64) -> DftLevel {
    let baby_step = best_baby_step(m.diags.keys(), m.dim);
    let diagonals = m.diags;
    DftLevel {
        diagonals,
        level,
        scale,
        baby_step,
    }
}

/// The power-of-two baby step minimising baby + giant rotations (the
/// number of Galois keys) over the diagonal indices of a `period`-periodic
/// matrix; the larger on ties (hoisted baby rotations are the cheaper).
pub(crate) fn best_baby_step<'a>(
    indices: impl Iterator<Item = &'a usize> + Clone,
    period: usize,
) -> usize {
    let mut best = (usize::MAX, 1);
    let mut n1 = 1;
    while n1 <= period {
        let cost = bsgs_steps(indices.clone(), n1).len();
        if cost <= best.0 {
            best = (cost, n1);
        }
        n1 *= 2;
    }
    best.1
}

/// Rotation steps of BSGS with baby step `n1` over diagonal indices, in
/// the library's convention (index `d = n1 j + i`: baby `i`, giant `n1 j`,
/// both as non-negative steps).
pub(crate) fn bsgs_steps<'a>(indices: impl Iterator<Item = &'a usize>, n1: usize) -> BTreeSet<i64> {
    let mut s = BTreeSet::new();
    for &d in indices {
        let (g, b) = (d / n1 * n1, d % n1);
        if g != 0 {
            s.insert(g as i64);
        }
        if b != 0 {
            s.insert(b as i64);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Context;

    /// Keys are generated from the plan before any matrix is encoded: its
    /// steps must be exactly those the library's transform asks for.
    #[test]
    fn plan_steps_match_the_library_transform() {
        for log_slots in [11, 7, 2] {
            let bp = BootstrapParams::test_n12().with_log_slots(log_slots);
            let ctx = Context::new(bp.ckks_params()).unwrap();
            let plan = Plan::new(&ctx, &bp);
            let encoder = Encoder::new(&ctx);
            for l in plan.cts.iter().chain(&plan.stc) {
                let lt = l.encode(&encoder).unwrap();
                let mine: Vec<i64> = bsgs_steps(l.diagonals.keys(), l.baby_step)
                    .into_iter()
                    .collect();
                assert_eq!(mine, lt.rotation_steps(), "level {}", l.level);
            }
        }
    }
}
