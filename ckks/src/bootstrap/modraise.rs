//! ModRaise and SubSum: the first steps of bootstrapping.
//!
//! **ModRaise.** A ciphertext at level 0 decrypts to `m + e mod q_0`.
//! Reading its two parts as centered integers and reducing them modulo the
//! whole chain gives a ciphertext at the top level that decrypts to
//! `t = m + q_0 I` (no reduction any more), where `I` is a small integer
//! polynomial: `|I| <= 1/2 + h/2` for a secret of Hamming weight `h`.
//! The rest of bootstrapping removes `q_0 I`.
//!
//! **SubSum.** With `n < N/2` sparse slots the message lies in `Z[X^g]`,
//! `g = N / 2n`, but `q_0 I` does not. Summing the rotations by
//! `n, 2n, ..., N/2 - n` (the Galois group of `X^g`, in `log2 g`
//! rotations) is the trace to `Z[X^g]`: it keeps the coefficients of
//! `X^(g k)` times `g` and cancels the others, so the DFT that follows only
//! has `n` (complex) coefficients to move. It is evaluated with
//! `Evaluator::rotate_and_sum`; this module only names its rotation steps.

use rayon::prelude::*;

use crate::ring::context::Context;
use crate::ring::poly::RnsPoly;
use crate::scheme::ciphertext::Ciphertext;

/// Raises a level-0 ciphertext to `level` (see the module documentation).
/// The scale is kept; the caller re-declares it.
pub(crate) fn mod_raise(ctx: &Context, ct: &Ciphertext, level: usize) -> Ciphertext {
    debug_assert_eq!(ct.level, 0);
    let n = ctx.n();
    let q0 = &ctx.primes[0];
    let parts = ct
        .parts
        .iter()
        .map(|p| {
            let mut c = ctx.scratch.take_copy(&p.limbs[0]);
            q0.plan.inv(&mut c);
            q0.plan.normalize(&mut c);
            let centered: Vec<i64> = c.iter().map(|&v| q0.m.center(v)).collect();
            ctx.scratch.give(c);
            let mut limbs: Vec<Vec<u64>> = (0..=level).map(|_| ctx.scratch.take()).collect();
            limbs.par_iter_mut().enumerate().for_each(|(i, limb)| {
                let t = &ctx.primes[i];
                for (x, &v) in limb.iter_mut().zip(&centered) {
                    *x = t.m.from_i64(v);
                }
                t.plan.fwd(limb);
            });
            debug_assert!(limbs.iter().all(|l| l.len() == n));
            RnsPoly::from_limbs(limbs, true)
        })
        .collect();
    Ciphertext {
        parts,
        level,
        scale: ct.scale,
    }
}

/// Rotation steps SubSum needs for `n` slots out of `slots`.
pub(crate) fn sub_sum_steps(n: usize, slots: usize) -> Vec<i64> {
    let mut out = Vec::new();
    let mut s = n;
    while s < slots {
        out.push(s as i64);
        s *= 2;
    }
    out
}
