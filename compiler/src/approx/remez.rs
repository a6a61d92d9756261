//! Minimax odd approximation of `sign(x)` by the Remez exchange algorithm,
//! and the composite sign `p_k(...p_2(p_1(x)))` of Lee et al. ("Minimax
//! approximation of sign function by composite polynomial for homomorphic
//! comparison"), which Orion uses for ReLU with degrees 15, 15, 27.
//!
//! An odd polynomial approximates `sign` on `[-1, -eps] U [eps, 1]` exactly
//! when it approximates `1` on `[eps, 1]`, so the algorithm works on
//! `[eps, 1]` with the odd Chebyshev polynomials `T_1, T_3, ..., T_d` as the
//! basis (well conditioned on `[-1, 1]`, unlike `x, x^3, ...`). With
//! `m = (d + 1) / 2` unknown coefficients the best approximation's error
//! equioscillates at `m + 1` points; each iteration solves
//! `p(x_j) + (-1)^j E = 1` on the current reference `x_0 < ... < x_m`, then
//! moves the reference to the alternating extrema of `p - 1`, until the
//! extrema are level.

use super::{dense_grid, linalg::solve};
use orion_dialects::nn::eval_polynomial;
use std::f64::consts::PI;

/// An odd polynomial approximating `sign` on `[-1, -eps] U [eps, 1]`.
#[derive(Clone, Debug, PartialEq)]
pub struct OddSignFit {
    /// Chebyshev coefficients on `[-1, 1]` (even ones are zero); length `d + 1`.
    pub coeffs: Vec<f64>,
    pub eps: f64,
    /// `max |p(x) - sign(x)|` over `eps <= |x| <= 1`.
    pub max_error: f64,
    /// Remez iterations until the equioscillation was level.
    pub iterations: usize,
}

impl OddSignFit {
    pub fn eval(&self, x: f64) -> f64 {
        eval_polynomial(&self.coeffs, Some([-1.0, 1.0]), x)
    }
}

fn odd_cheb(i: usize, x: f64) -> f64 {
    // T_{2i+1}(x) = cos((2i+1) acos x) on [-1, 1].
    ((2 * i + 1) as f64 * x.clamp(-1.0, 1.0).acos()).cos()
}

/// Sample points of `[eps, 1]`: the dense grid plus a geometric one, since
/// the extrema of a sign approximation crowd towards `eps`.
fn search_grid(eps: f64, n: usize) -> Vec<f64> {
    let mut g = dense_grid(eps, 1.0, n);
    let ratio = (1.0 / eps).ln();
    g.extend((0..=n / 2).map(|i| eps * (ratio * i as f64 / (n / 2) as f64).exp()));
    g.iter_mut().for_each(|x| *x = x.clamp(eps, 1.0));
    g.sort_by(f64::total_cmp);
    g.dedup();
    g
}

/// Maximises `|err|` on `[a, b]` by golden-section search (the extremum is
/// bracketed by the grid neighbours of a sampled local maximum).
fn refine(err: &impl Fn(f64) -> f64, mut a: f64, mut b: f64) -> f64 {
    let g = 0.5 * (5f64.sqrt() - 1.0);
    let mut c = b - g * (b - a);
    let mut d = a + g * (b - a);
    let (mut fc, mut fd) = (err(c).abs(), err(d).abs());
    for _ in 0..60 {
        if fc > fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = err(c).abs();
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = err(d).abs();
        }
        if b - a < 1e-15 * b.abs().max(1e-300) {
            break;
        }
    }
    0.5 * (a + b)
}

/// The minimax odd polynomial of (odd) degree `degree` for `sign` on
/// `[-1, -eps] U [eps, 1]`.
/// Stages (Chebyshev coefficients on [-1, 1]) applied to `t` in turn, as
/// the emitted polynomials compute them.
pub fn eval_stages(stages: &[Vec<f64>], t: f64) -> f64 {
    stages
        .iter()
        .fold(t, |v, c| eval_polynomial(c, Some([-1.0, 1.0]), v))
}

pub fn minimax_odd_sign(degree: usize, eps: f64) -> Result<OddSignFit, String> {
    if degree.is_multiple_of(2) {
        return Err(format!(
            "sign approximation degree must be odd, got {degree}"
        ));
    }
    if !(eps > 0.0 && eps < 1.0) {
        return Err(format!("sign approximation needs 0 < eps < 1, got {eps}"));
    }
    let m = degree.div_ceil(2);
    let grid = search_grid(eps, 16384);
    // Initial reference: Chebyshev extrema of [eps, 1].
    let mut reference: Vec<f64> = (0..=m)
        .map(|j| 0.5 * (1.0 + eps) - 0.5 * (1.0 - eps) * (PI * j as f64 / m as f64).cos())
        .collect();
    let mut coeffs = vec![0.0; degree + 1];
    let mut max_error = f64::INFINITY;
    for iteration in 1..=100 {
        let a: Vec<Vec<f64>> = reference
            .iter()
            .enumerate()
            .map(|(j, &x)| {
                let mut row: Vec<f64> = (0..m).map(|i| odd_cheb(i, x)).collect();
                row.push(if j % 2 == 0 { 1.0 } else { -1.0 });
                row
            })
            .collect();
        let sol = solve(a, vec![1.0; m + 1])?;
        for i in 0..m {
            coeffs[2 * i + 1] = sol[i];
        }
        let level = sol[m].abs();
        let err = |x: f64| eval_polynomial(&coeffs, Some([-1.0, 1.0]), x) - 1.0;
        // Local extrema of the error on the grid (endpoints included), refined.
        let e: Vec<f64> = grid.iter().map(|&x| err(x)).collect();
        let mut extrema: Vec<(f64, f64)> = Vec::new();
        for i in 0..grid.len() {
            let here = e[i].abs();
            let left = if i == 0 { -1.0 } else { e[i - 1].abs() };
            let right = if i + 1 == grid.len() {
                -1.0
            } else {
                e[i + 1].abs()
            };
            if here >= left && here >= right {
                let x = if i == 0 || i + 1 == grid.len() {
                    grid[i]
                } else {
                    refine(&err, grid[i - 1], grid[i + 1])
                };
                extrema.push((x, err(x)));
            }
        }
        // Alternate signs: of consecutive extrema of one sign keep the largest.
        let mut alt: Vec<(f64, f64)> = Vec::new();
        for (x, v) in extrema {
            match alt.last_mut() {
                Some(last) if (last.1 >= 0.0) == (v >= 0.0) => {
                    if v.abs() > last.1.abs() {
                        *last = (x, v);
                    }
                }
                _ => alt.push((x, v)),
            }
        }
        // Too many: drop the smaller end (keeps the alternation).
        while alt.len() > m + 1 {
            if alt[0].1.abs() < alt[alt.len() - 1].1.abs() {
                alt.remove(0);
            } else {
                alt.pop();
            }
        }
        max_error = alt.iter().map(|p| p.1.abs()).fold(0.0, f64::max);
        if alt.len() < m + 1 {
            // Degenerate error curve: keep the current (levelled) solution.
            return Ok(OddSignFit {
                coeffs,
                eps,
                max_error: max_error.max(level),
                iterations: iteration,
            });
        }
        let min_error = alt.iter().map(|p| p.1.abs()).fold(f64::INFINITY, f64::min);
        reference = alt.iter().map(|p| p.0).collect();
        if max_error - min_error <= 1e-6 * max_error + 1e-15 {
            return Ok(OddSignFit {
                coeffs,
                eps,
                max_error,
                iterations: iteration,
            });
        }
    }
    Err(format!(
        "Remez for sign at degree {degree} on [{eps}, 1] did not converge in 100 iterations (error {max_error:.3e})"
    ))
}

/// `p_k(...(p_1(x)))`: each stage a minimax odd sign approximation on
/// `[-1, -eps_k] U [eps_k, 1]`, where `eps_1 = eps` and `eps_{k+1}` is the
/// smallest value stage `k` attains on `[eps_k, 1]`. Every stage but the last
/// is divided by its largest value on its domain, so that its image is
/// `[eps_{k+1}, 1]` and the next stage never sees an argument above 1.
#[derive(Clone, Debug, PartialEq)]
pub struct CompositeSign {
    /// Chebyshev coefficients on `[-1, 1]` of each stage, innermost first.
    pub stages: Vec<Vec<f64>>,
    /// `eps_k` of each stage.
    pub stage_eps: Vec<f64>,
    pub eps: f64,
    /// `max |s(x) - sign(x)|` over `eps <= |x| <= 1`.
    pub sign_error: f64,
    /// `max |x (1 + s(x)) / 2 - relu(x)|` over `eps <= |x| <= 1`.
    pub relu_error: f64,
    /// The same over all of `[-1, 1]`, including `(-eps, eps)`, where the
    /// sign is not approximated but `|x| < eps` keeps the ReLU error small.
    pub relu_error_full: f64,
}

impl CompositeSign {
    /// Orion's degrees.
    pub const DEFAULT_DEGREES: [usize; 3] = [15, 15, 27];
    /// `2^-9`: with the default degrees it minimises the ReLU error over all
    /// of `[-1, 1]` (1.2e-4; sign error 1.0e-4 outside `(-eps, eps)`).
    pub const DEFAULT_EPS: f64 = 1.0 / 512.0;

    pub fn new(degrees: &[usize], eps: f64) -> Result<CompositeSign, String> {
        if degrees.is_empty() {
            return Err("composite sign needs at least one stage".into());
        }
        let mut stages = Vec::new();
        let mut stage_eps = Vec::new();
        let mut lo = eps;
        for (k, &d) in degrees.iter().enumerate() {
            let fit = minimax_odd_sign(d, lo)?;
            stage_eps.push(lo);
            let mut coeffs = fit.coeffs;
            if k + 1 < degrees.len() {
                let values: Vec<f64> = search_grid(lo, 8192)
                    .iter()
                    .map(|&x| eval_polynomial(&coeffs, Some([-1.0, 1.0]), x))
                    .collect();
                let min = values.iter().copied().fold(f64::INFINITY, f64::min);
                let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                if min <= 0.0 {
                    return Err(format!(
                        "sign stage {} (degree {d}) is not positive on [{lo}, 1]",
                        k + 1
                    ));
                }
                coeffs.iter_mut().for_each(|c| *c /= max);
                lo = min / max;
            }
            stages.push(coeffs);
        }
        let mut s = CompositeSign {
            stages,
            stage_eps,
            eps,
            sign_error: 0.0,
            relu_error: 0.0,
            relu_error_full: 0.0,
        };
        // Both signs are measured although the composite is odd.
        for x in search_grid(eps, 65536) {
            for x in [x, -x] {
                s.sign_error = s.sign_error.max((s.eval(x) - x.signum()).abs());
                s.relu_error = s.relu_error.max((s.relu(x) - x.max(0.0)).abs());
            }
        }
        s.relu_error_full = s.relu_error;
        for x in dense_grid(-eps, eps, 8192) {
            s.relu_error_full = s.relu_error_full.max((s.relu(x) - x.max(0.0)).abs());
        }
        Ok(s)
    }

    pub fn eval(&self, x: f64) -> f64 {
        eval_stages(&self.stages, x)
    }

    pub fn relu(&self, x: f64) -> f64 {
        0.5 * x * (1.0 + self.eval(x))
    }

    /// Degrees of the stages.
    pub fn degrees(&self) -> Vec<usize> {
        self.stages.iter().map(|c| c.len() - 1).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remez_levels_the_error_and_beats_interpolation() {
        let fit = minimax_odd_sign(15, 0.1).unwrap();
        eprintln!(
            "degree 15 on [0.1, 1]: error {:.4e} after {} iterations",
            fit.max_error, fit.iterations
        );
        // Oddness.
        for x in [0.13, 0.5, 0.97] {
            assert!((fit.eval(-x) + fit.eval(x)).abs() < 1e-12);
        }
        // The minimax error is the max over a dense independent grid.
        let dense = (0..=200_000)
            .map(|i| 0.1 + 0.9 * i as f64 / 200_000.0)
            .map(|x| (fit.eval(x) - 1.0).abs())
            .fold(0.0, f64::max);
        assert!(
            (dense - fit.max_error).abs() <= 1e-6 * fit.max_error,
            "{dense} vs {}",
            fit.max_error
        );
        // No odd polynomial of degree 15 does better than the minimax, in
        // particular not one from least squares on the same interval.
        let mut lsq = vec![0.0; 16];
        let pts: Vec<f64> = (0..2000).map(|i| 0.1 + 0.9 * i as f64 / 1999.0).collect();
        let mut ata = vec![vec![0.0; 8]; 8];
        let mut atb = vec![0.0; 8];
        for &x in &pts {
            for (i, row) in ata.iter_mut().enumerate() {
                atb[i] += odd_cheb(i, x);
                for (j, v) in row.iter_mut().enumerate() {
                    *v += odd_cheb(i, x) * odd_cheb(j, x);
                }
            }
        }
        let sol = solve(ata, atb).unwrap();
        for i in 0..8 {
            lsq[2 * i + 1] = sol[i];
        }
        let lsq_err = pts
            .iter()
            .map(|&x| (eval_polynomial(&lsq, Some([-1.0, 1.0]), x) - 1.0).abs())
            .fold(0.0, f64::max);
        assert!(
            fit.max_error < lsq_err,
            "minimax {} vs least squares {lsq_err}",
            fit.max_error
        );
    }

    #[test]
    fn known_minimax_error_of_degree_one() {
        // Best a*x for 1 on [eps, 1]: a = 2 / (1 + eps), error (1 - eps) / (1 + eps).
        let fit = minimax_odd_sign(1, 0.25).unwrap();
        assert!((fit.max_error - 0.6).abs() < 1e-12, "{}", fit.max_error);
        assert!((fit.coeffs[1] - 1.6).abs() < 1e-12);
    }

    #[test]
    fn composite_sign_15_15_27() {
        // Measured with the default degrees 15, 15, 27 (max over |x| in [eps, 1]):
        //
        // | eps   | stage eps            | sign     | relu     | relu on all of [-1, 1] |
        // |-------|----------------------|----------|----------|------------------------|
        // | 2^-7  | 7.8e-3, 9.6e-2, 0.77 | 1.1e-13  | 5.4e-14  | 2.5e-4                 |
        // | 2^-8  | 3.9e-3, 4.9e-2, 0.50 | 5.9e-8   | 2.9e-8   | 1.7e-4                 |
        // | 2^-9  | 2.0e-3, 2.5e-2, 0.28 | 1.0e-4   | 5.0e-5   | 1.2e-4                 |
        // | 2^-10 | 9.8e-4, 1.2e-2, 0.15 | 6.2e-3   | 3.1e-3   | 3.1e-3                 |
        // | 2^-12 | 2.4e-4, 3.1e-3, 0.04 | 2.2e-1   | 1.1e-1   | 1.1e-1                 |
        //
        // 2^-9 minimises the ReLU error over all of [-1, 1]: the default.
        let s = CompositeSign::new(&CompositeSign::DEFAULT_DEGREES, 2f64.powi(-9)).unwrap();
        eprintln!(
            "15,15,27 eps=2^-9: stage eps {:?}, sign {:.3e}, relu {:.3e} (outside eps), relu {:.3e} (all of [-1,1])",
            s.stage_eps, s.sign_error, s.relu_error, s.relu_error_full
        );
        assert_eq!(s.degrees(), vec![15, 15, 27]);
        assert!(s.sign_error < 2f64.powi(-13), "{}", s.sign_error);
        assert!(s.relu_error < 2f64.powi(-14), "{}", s.relu_error);
        assert!(s.relu_error_full < 1.25e-4, "{}", s.relu_error_full);
        // Stays bounded inside the gap (no blow-up near 0).
        for i in 0..=1000 {
            let x = 2f64.powi(-9) * i as f64 / 1000.0;
            assert!(s.eval(x) >= -1e-12 && s.eval(x) <= 1.0 + 1e-4);
        }

        let s = CompositeSign::new(&CompositeSign::DEFAULT_DEGREES, 2f64.powi(-8)).unwrap();
        assert!(s.sign_error < 1e-7, "{}", s.sign_error);
        let s = CompositeSign::new(&CompositeSign::DEFAULT_DEGREES, 2f64.powi(-10)).unwrap();
        assert!(s.sign_error < 1e-2, "{}", s.sign_error);
    }
}
