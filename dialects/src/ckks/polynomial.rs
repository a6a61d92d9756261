//! `ckks.polynomial`: a polynomial evaluated slot-wise on a ciphertext by the
//! runtime's baby-step giant-step evaluator, which manages the scales exactly.
//!
//! ```text
//! %y = ckks.polynomial %x {basis = "chebyshev", coeffs = array<f64: ...>,
//!        domain = array<f64: -1.0, 1.0>, result_scale = "input"}
//!        : (!ckks.ct<level = 9, log_scale = 40>) -> !ckks.ct<level = 4, log_scale = 40>
//! ```
//!
//! The op consumes [`depth`] levels. `result_scale` says where the result's
//! exact scale lands:
//! - `"input"` (default): exactly the operand's scale, so the result can be
//!   added to anything at that scale (residual branches);
//! - `"level_prime"`: exactly the prime q_l of the result's level l, typed as
//!   `log_scale = log_q[l]`, so that a following `ckks.mul` by a ciphertext at
//!   scale S and the rescale by q_l give exactly S again (ReLU's `x * sign`).
//!
//! The compiler keeps the coefficients, not an expansion into products: the
//! evaluator picks the product tree and the constants' scales at run time,
//! where the actual primes are known.

use crate::ir::{Attribute, Op};
use crate::nn::interp::Polynomial;

pub const RESULT_SCALE_INPUT: &str = "input";
pub const RESULT_SCALE_LEVEL_PRIME: &str = "level_prime";

/// Index of the highest nonzero coefficient (0 for a constant).
pub fn degree(p: &Polynomial) -> usize {
    p.coeffs.iter().rposition(|&c| c != 0.0).unwrap_or(0)
}

/// Whether the change of variable onto [-1, 1] costs a level: it divides by
/// half the domain's width, a multiplication by a real constant, unless the
/// width is 2 (then it only subtracts the midpoint). Reading the ciphertext
/// at a larger scale instead would be free, but the powers' messages then
/// grow as width^k and the evaluator's constants lose their precision.
pub fn needs_affine_level(p: &Polynomial) -> bool {
    matches!(p.chebyshev_domain, Some([lo, hi]) if hi - lo != 2.0) && degree(p) > 0
}

/// Levels `ckks.polynomial` consumes: ceil(log2(d + 1)) for the power tree
/// and the coefficients, plus one for [`needs_affine_level`]. The runtime
/// evaluator is held to this figure (it levels down if it needed less, and
/// errors if more).
pub fn depth(p: &Polynomial) -> usize {
    (usize::BITS - degree(p).leading_zeros()) as usize + usize::from(needs_affine_level(p))
}

/// The level whose prime a `"level_prime"` result lands at: the optional
/// `prime_level` attribute (at most the result's level: the result is
/// meant for a product at that level, after a `ckks.level_down`), else the
/// result's own level.
pub fn prime_level(op: &Op, result_level: usize) -> Result<usize, String> {
    match op.attr("prime_level") {
        None => Ok(result_level),
        Some(a) => match a.as_int() {
            Some(l) if l >= 0 && l as usize <= result_level => Ok(l as usize),
            _ => Err(format!(
                "'prime_level' must be an integer from 0 to the result's level {result_level}, got {a}"
            )),
        },
    }
}

/// The `result_scale` attribute (default `"input"`).
pub fn result_scale(op: &Op) -> Result<&str, String> {
    match op.attr("result_scale") {
        None => Ok(RESULT_SCALE_INPUT),
        Some(a) => match a.as_str() {
            Some(s @ (RESULT_SCALE_INPUT | RESULT_SCALE_LEVEL_PRIME)) => Ok(s),
            _ => Err(format!(
                "'result_scale' must be \"{RESULT_SCALE_INPUT}\" or \"{RESULT_SCALE_LEVEL_PRIME}\", got {a}"
            )),
        },
    }
}

/// Reads and checks the polynomial of a `ckks.polynomial` op.
pub fn from_op(op: &Op) -> Result<Polynomial, String> {
    let p = Polynomial::from_op(op)?;
    if p.coeffs.is_empty() {
        return Err("has no coefficients".into());
    }
    if let Some(c) = p.coeffs.iter().find(|c| !c.is_finite()) {
        return Err(format!("has a non-finite coefficient ({c})"));
    }
    if let Some([lo, hi]) = p.chebyshev_domain {
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(format!("has an empty or infinite domain [{lo}, {hi}]"));
        }
    }
    match op.attr("basis").and_then(Attribute::as_str) {
        None | Some("monomial" | "chebyshev") => Ok(p),
        Some(b) => Err(format!(
            "has basis \"{b}\"; expected \"monomial\" or \"chebyshev\""
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poly(coeffs: &[f64], domain: Option<[f64; 2]>) -> Polynomial {
        Polynomial {
            coeffs: coeffs.to_vec(),
            chebyshev_domain: domain,
        }
    }

    #[test]
    fn depth_is_the_power_tree_and_the_change_of_variable() {
        let unit = Some([-1.0, 1.0]);
        assert_eq!(depth(&poly(&[3.0], unit)), 0);
        assert_eq!(depth(&poly(&[0.0, 2.0], None)), 1);
        assert_eq!(depth(&poly(&[0.0, 0.0, 1.0], None)), 2);
        assert_eq!(depth(&poly(&[1.0; 8], unit)), 3);
        assert_eq!(depth(&poly(&[1.0; 16], unit)), 4);
        assert_eq!(depth(&poly(&[1.0; 28], unit)), 5);
        assert_eq!(depth(&poly(&[1.0; 32], unit)), 5);
        assert_eq!(depth(&poly(&[1.0; 32], Some([-4.0, 9.0]))), 6);
        assert_eq!(depth(&poly(&[1.0; 32], Some([0.0, 2.0]))), 5);
        // Trailing zeros do not count.
        assert_eq!(depth(&poly(&[1.0, 1.0, 0.0, 0.0], None)), 1);
    }
}
