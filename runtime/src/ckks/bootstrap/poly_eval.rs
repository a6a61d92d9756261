//! TEMPORARY polynomial evaluator, to be replaced by the library's BSGS
//! `Evaluator::evaluate_polynomial` (runtime-api notes) when it lands.
//!
//! Same types and contract (Chebyshev on [-1, 1], output scale exactly the
//! target), simpler algorithm: every `T_i` up to the degree by the product
//! rule, then one scalar-weighted sum. It uses one level more than optimal
//! (`depth()` says so, and the bootstrapping chain is sized from it) and
//! `deg - 1` relinearizations.

use crate::ckks::ciphertext::Ciphertext;
use crate::ckks::error::CkksError;
use crate::ckks::evaluator::Evaluator;

/// Basis of a [`Polynomial`].
#[derive(Clone, Debug, PartialEq)]
pub enum PolyBasis {
    /// `sum c_i T_i(x)` on `[a, b]` (only [-1, 1] here).
    Chebyshev {
        /// Left end.
        a: f64,
        /// Right end.
        b: f64,
    },
}

/// A real polynomial.
#[derive(Clone, Debug, PartialEq)]
pub struct Polynomial {
    /// The basis of `coeffs`.
    pub basis: PolyBasis,
    /// Coefficients, lowest degree first.
    pub coeffs: Vec<f64>,
}

impl Polynomial {
    /// Degree (index of the last coefficient).
    pub fn degree(&self) -> usize {
        self.coeffs.len().saturating_sub(1)
    }

    /// Levels consumed by [`evaluate_polynomial`]: `ceil(log2(deg))` for
    /// the `T_i` plus one for the weighted sum.
    pub fn depth(&self) -> usize {
        let d = self.degree().max(1);
        (usize::BITS - (d - 1).leading_zeros()) as usize + 1
    }
}

/// `p(ct)` slot-wise with output scale exactly `target_scale`.
pub(crate) fn evaluate_polynomial(
    eval: &Evaluator,
    ct: &Ciphertext,
    p: &Polynomial,
    target_scale: f64,
) -> Result<Ciphertext, CkksError> {
    if p.basis != (PolyBasis::Chebyshev { a: -1.0, b: 1.0 }) {
        return Err(CkksError::InvalidParams(
            "temporary polynomial evaluator: only Chebyshev on [-1, 1]".into(),
        ));
    }
    let d = p.degree().max(1);
    if ct.level < p.depth() {
        return Err(CkksError::InvalidLevel {
            op: "evaluate_polynomial",
            level: ct.level,
            max: eval.context().max_level(),
        });
    }
    let mut t: Vec<Option<Ciphertext>> = vec![None; d + 1];
    t[1] = Some(ct.clone());
    for i in 2..=d {
        let next = if i.is_power_of_two() {
            // T_2a = 2 T_a^2 - 1.
            let half = t[i / 2].as_ref().expect("computed");
            let sq = eval.square_relin(half)?;
            let twice = eval.add(&sq, &sq)?;
            // Constants are added after the rescale: at scale^2 they may
            // not fit the evaluator's 128-bit constant encoding.
            eval.add_const(&eval.rescale(&twice)?, -1.0)?
        } else {
            // T_(a+b) = 2 T_a T_b - T_(a-b), a the power of two below i.
            let a = i.next_power_of_two() / 2;
            let b = i - a;
            let ta = t[a].as_ref().expect("computed");
            let tb = t[b].as_ref().expect("computed");
            let level = ta.level.min(tb.level);
            let prod =
                eval.mul_relin(&eval.level_down(ta, level)?, &eval.level_down(tb, level)?)?;
            let mut twice = eval.add(&prod, &prod)?;
            let tc = t[a - b].as_ref().expect("computed");
            let tc = eval.level_down(tc, level)?;
            let tc = eval.mul_const(&tc, 1.0, prod.scale / tc.scale)?;
            let tc = crate::ckks::Ciphertext {
                scale: prod.scale,
                ..tc
            };
            eval.sub_assign(&mut twice, &tc)?;
            eval.rescale(&twice)?
        };
        t[i] = Some(next);
    }
    let level = t[d].as_ref().expect("computed").level;
    let q = eval.context().q(level) as f64;
    let mut acc: Option<Ciphertext> = None;
    for (i, &c) in p.coeffs.iter().enumerate().skip(1) {
        if c == 0.0 {
            continue;
        }
        let ti = eval.level_down(t[i].as_ref().expect("computed"), level)?;
        let term = eval.mul_const(&ti, c, target_scale * q / ti.scale)?;
        let term = Ciphertext {
            scale: target_scale * q,
            ..term
        };
        match acc.as_mut() {
            None => acc = Some(term),
            Some(x) => eval.add_assign(x, &term)?,
        }
    }
    let acc = match acc {
        Some(x) => x,
        None => {
            let z = eval.level_down(ct, level)?;
            let z = eval.mul_const(&z, 0.0, target_scale * q / z.scale)?;
            Ciphertext {
                scale: target_scale * q,
                ..z
            }
        }
    };
    eval.add_const(
        &eval.rescale(&acc)?,
        p.coeffs.first().copied().unwrap_or(0.0),
    )
}
