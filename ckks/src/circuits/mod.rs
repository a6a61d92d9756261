//! Circuits built from the evaluator's operations.
//!
//! - [`linear_transform`]: BSGS matrix-vector products with double
//!   hoisting, and the inner sum;
//! - [`polynomial`]: polynomial evaluation (Chebyshev and monomial bases,
//!   baby-step giant-step, exact output scale).

pub mod linear_transform;
pub mod polynomial;
