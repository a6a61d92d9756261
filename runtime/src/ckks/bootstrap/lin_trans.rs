//! TEMPORARY linear transform, to be replaced by the library's
//! double-hoisted BSGS `LinearTransform` (runtime-api notes) when it lands.
//!
//! Same contract: the diagonals of a slots x slots matrix
//! (`diag[k][j] = M[j][(j + k) mod slots]`), output at the input's level
//! with scale `ct.scale * lt.scale`, not rescaled. Baby-step giant-step
//! with the baby rotations hoisted; every giant step is a full rotation.

use std::collections::{BTreeMap, BTreeSet};

use crate::ckks::ciphertext::{Ciphertext, Plaintext};
use crate::ckks::encoder::Encoder;
use crate::ckks::error::CkksError;
use crate::ckks::evaluator::Evaluator;
use crate::ckks::fft::Complex;

/// Encoded diagonals, pre-rotated for BSGS.
#[derive(Debug)]
pub struct LinearTransform {
    /// (giant step, baby step) -> diagonal `g + b` rotated right by `g`.
    diags: BTreeMap<(usize, usize), Plaintext>,
    slots: usize,
    level: usize,
}

/// The baby step `n1` (a power of two) minimising baby + giant rotations.
pub(crate) fn best_baby_step(indices: &BTreeSet<usize>, slots: usize) -> usize {
    let cost = |n1: usize| {
        let babies: BTreeSet<usize> = indices.iter().map(|k| k % n1).collect();
        let giants: BTreeSet<usize> = indices.iter().map(|k| k / n1 * n1).collect();
        babies.len() + giants.len()
    };
    let mut best = 1;
    let mut n1 = 1;
    while n1 <= slots {
        if cost(n1) < cost(best) {
            best = n1;
        }
        n1 *= 2;
    }
    best
}

/// Signed rotation step of a slot index (the shorter direction).
fn signed(k: usize, slots: usize) -> i64 {
    if k > slots / 2 {
        k as i64 - slots as i64
    } else {
        k as i64
    }
}

impl LinearTransform {
    /// Encodes the diagonals at `level` and `scale`.
    pub fn new(
        encoder: &Encoder,
        diagonals: &BTreeMap<usize, Vec<Complex>>,
        level: usize,
        scale: f64,
        baby_steps: Option<usize>,
    ) -> Result<Self, CkksError> {
        let slots = encoder.context().slots();
        let indices: BTreeSet<usize> = diagonals.keys().copied().collect();
        if indices.iter().any(|&k| k >= slots) {
            return Err(CkksError::InvalidParams(
                "linear transform: diagonal index >= slots".into(),
            ));
        }
        let n1 = baby_steps.unwrap_or_else(|| best_baby_step(&indices, slots));
        let mut diags = BTreeMap::new();
        for (&k, d) in diagonals {
            if d.len() != slots {
                return Err(CkksError::TooManyValues {
                    given: d.len(),
                    slots,
                });
            }
            let g = k / n1 * n1;
            // rot_g(d' * rot_b(x)) = d * rot_(g+b)(x) needs d'[j] = d[j - g].
            let rotated: Vec<Complex> = (0..slots).map(|j| d[(j + slots - g) % slots]).collect();
            diags.insert((g, k - g), encoder.encode_complex(&rotated, level, scale)?);
        }
        Ok(Self {
            diags,
            slots,
            level,
        })
    }

    /// Rotation steps evaluation needs keys for.
    pub fn rotation_steps(&self) -> Vec<i64> {
        let mut s: BTreeSet<i64> = BTreeSet::new();
        for &(g, b) in self.diags.keys() {
            if g != 0 {
                s.insert(signed(g, self.slots));
            }
            if b != 0 {
                s.insert(signed(b, self.slots));
            }
        }
        s.into_iter().collect()
    }
}

/// `M * ct`: output at `ct`'s level, scale `ct.scale * lt.scale`, not rescaled.
pub(crate) fn linear_transform(
    eval: &Evaluator,
    ct: &Ciphertext,
    lt: &LinearTransform,
) -> Result<Ciphertext, CkksError> {
    if ct.level != lt.level {
        return Err(CkksError::LevelMismatch {
            op: "linear_transform",
            left: ct.level,
            right: lt.level,
        });
    }
    let babies: Vec<usize> = lt
        .diags
        .keys()
        .map(|&(_, b)| b)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let steps: Vec<i64> = babies.iter().map(|&b| signed(b, lt.slots)).collect();
    let rotated = eval.hoisted_rotate(ct, &steps)?;
    let baby: BTreeMap<usize, &Ciphertext> = babies.iter().copied().zip(&rotated).collect();
    let mut out: Option<Ciphertext> = None;
    let mut g_prev = None;
    let mut inner: Option<Ciphertext> = None;
    let flush =
        |g: usize, inner: Ciphertext, out: &mut Option<Ciphertext>| -> Result<(), CkksError> {
            let r = eval.rotate(&inner, signed(g, lt.slots))?;
            match out.as_mut() {
                None => *out = Some(r),
                Some(o) => eval.add_assign(o, &r)?,
            }
            Ok(())
        };
    for (&(g, b), pt) in &lt.diags {
        if g_prev != Some(g) {
            if let (Some(gp), Some(i)) = (g_prev, inner.take()) {
                flush(gp, i, &mut out)?;
            }
            g_prev = Some(g);
        }
        let term = eval.mul_plain(baby[&b], pt)?;
        match inner.as_mut() {
            None => inner = Some(term),
            Some(i) => eval.add_assign(i, &term)?,
        }
    }
    if let (Some(gp), Some(i)) = (g_prev, inner.take()) {
        flush(gp, i, &mut out)?;
    }
    out.ok_or_else(|| CkksError::InvalidParams("linear transform without diagonals".into()))
}
