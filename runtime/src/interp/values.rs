//! The values of the evaluation loop's environment, and the check of a
//! ciphertext against the type the program gives it.

use orion_ckks::Ciphertext;
use orion_dialects::ckks::CtType;
use orion_dialects::tensor::Tensor;
use orion_dialects::{Func, Op};

use super::RunError;

/// A value of the environment.
pub(super) enum Val {
    Tensor(Tensor),
    Ct(Ciphertext),
    /// A lazily encoded plaintext: the index of its `ckks.encode` op.
    Pt(usize),
}

/// One slot per SSA value of `@main`.
pub(super) type Env = Vec<Option<Val>>;

/// The type of `op`'s ciphertext result.
pub(super) fn result_ct_type(op: &Op, func: &Func) -> Result<CtType, RunError> {
    let r = op
        .results
        .first()
        .ok_or_else(|| RunError::op(op, "has no result"))?;
    let ty = func
        .values
        .get(r.0 as usize)
        .map(|d| &d.ty)
        .ok_or_else(|| RunError::op(op, "result outside the value table"))?;
    CtType::from_type(ty).map_err(|m| RunError::op(op, m))
}

/// The actual level and degree of a result must be those of its type.
pub(super) fn check_result(op: &Op, func: &Func, ct: &Ciphertext) -> Result<(), RunError> {
    let ty = result_ct_type(op, func)?;
    if ty.level != ct.level {
        return Err(RunError::op(
            op,
            format!(
                "level mismatch: the result is at level {} but its type says level {}",
                ct.level, ty.level
            ),
        ));
    }
    if ty.degree != ct.degree() {
        return Err(RunError::op(
            op,
            format!(
                "degree mismatch: the result has degree {} but its type says degree {}",
                ct.degree(),
                ty.degree
            ),
        ));
    }
    Ok(())
}
