//! Warnings when a value leaves the range an activation was calibrated on
//! (its polynomials are fitted a little wider): past that the approximation
//! is not promised (a composite sign
//! flips a few percent out, then overflows), so the cleartext interpreters
//! name the layer on stderr, once per layer and process, instead of letting
//! a drifted answer pass silently.
//!
//! Only a polynomial that reads something other than another polynomial is
//! checked (an activation's first stage, or a smooth activation's single
//! polynomial): inner stages of a composite sign read values that overshoot
//! [-1, 1] by design. Values pass through bootstraps, rescales and level
//! changes unchanged, so those do not break the chain.

use crate::ir::{Func, Op};
use crate::nn::interp::Polynomial;
use std::collections::HashSet;
use std::sync::Mutex;

/// Per op of `func`: whether it is a polynomial (`poly_op`) whose operand
/// does not come from another polynomial through `passthrough` ops.
pub fn first_stages(func: &Func, poly_op: &str, passthrough: &[&str]) -> Vec<bool> {
    let def = func.defining_ops();
    let from_polynomial = |op: &Op| {
        let mut v = op.operands[0];
        while let Some(d) = def[v.0 as usize] {
            let src = &func.body[d];
            if src.name == poly_op {
                return true;
            }
            if !passthrough.contains(&src.name.as_str()) || src.operands.is_empty() {
                return false;
            }
            v = src.operands[0];
        }
        false
    };
    func.body
        .iter()
        .map(|op| op.name == poly_op && !op.operands.is_empty() && !from_polynomial(op))
        .collect()
}

static WARNED: Mutex<Option<HashSet<String>>> = Mutex::new(None);

/// Warns (once per layer) if a value of `inputs` lies outside the
/// calibrated `range` `op` carries (`approximate-activations` records it on
/// an activation's first polynomial), else outside its Chebyshev domain;
/// returns whether one did.
pub fn check(op: &Op, inputs: &[f64]) -> bool {
    let range = op.attr("range").and_then(|a| a.as_f64_list());
    let [lo, hi] = match (range.as_deref(), Polynomial::from_op(op)) {
        (Some(&[lo, hi]), _) => [lo, hi],
        (
            _,
            Ok(Polynomial {
                chebyshev_domain: Some(d),
                ..
            }),
        ) => d,
        _ => return false,
    };
    let tol = 1e-9 * (hi - lo);
    let Some(&out) = inputs.iter().find(|&&v| v < lo - tol || v > hi + tol) else {
        return false;
    };
    let label = op.label();
    let mut warned = WARNED.lock().unwrap_or_else(|e| e.into_inner());
    if warned
        .get_or_insert_with(HashSet::new)
        .insert(label.clone())
    {
        eprintln!(
            "warning: {label}: input {out:.6} is outside [{lo:.6}, {hi:.6}], the range it was \
             calibrated on; a little past it the approximation holds (it is fitted 5% wider), \
             further it is not the activation (calibrate with inputs that cover it)"
        );
    }
    true
}
