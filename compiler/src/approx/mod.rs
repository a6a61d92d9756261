//! Polynomial approximation of activations, for CKKS, which evaluates only
//! additions and multiplications.
//!
//! - [`chebyshev`]: interpolation of a smooth function at the Chebyshev
//!   nodes of `[a, b]` (SiLU, GELU, sigmoid, ...);
//! - [`remez`]: the Remez exchange algorithm for the minimax odd
//!   approximation of `sign(x)` on `[-1, -eps] U [eps, 1]`, and the composite
//!   `p3(p2(p1(x)))` that ReLU = `x (1 + sign(x)) / 2` is built from;
//! - [`linalg`]: the small dense solver Remez needs.
//!
//! Every polynomial is returned in the Chebyshev basis of its domain, i.e. as
//! the coefficients `c` of `sum_j c_j T_j(t)` with `t = (2x - lo - hi) / (hi - lo)`,
//! exactly as `orion_dialects::nn::eval_polynomial(c, Some([lo, hi]), x)`
//! evaluates them (and as the CKKS lowering's baby-step giant-step evaluator
//! wants them).

pub mod chebyshev;
pub mod linalg;
pub mod remez;

pub use chebyshev::{chebyshev_interpolate, ChebyshevFit};
pub use remez::{eval_stages, minimax_odd_sign, CompositeSign, OddSignFit};

/// `n` points covering `[lo, hi]`: half equispaced, half at Chebyshev
/// spacing (dense near the ends, where interpolation and minimax errors
/// peak), sorted, endpoints included.
pub fn dense_grid(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let n = n.max(4);
    let half = n / 2;
    let mut g: Vec<f64> = Vec::with_capacity(n + 2);
    for i in 0..=half {
        g.push(lo + (hi - lo) * i as f64 / half as f64);
    }
    for i in 0..=half {
        let c = (std::f64::consts::PI * i as f64 / half as f64).cos();
        g.push(0.5 * (lo + hi) - 0.5 * (hi - lo) * c);
    }
    g.sort_by(f64::total_cmp);
    g.dedup();
    g
}
