//! The special FFT of the slot encoding, factored into sparse-diagonal
//! matrices (cleartext).
//!
//! Bootstrapping moves the coefficients of the message polynomial into the
//! slots (CoeffsToSlots) and back (SlotsToCoeffs). Both are the linear map
//! between the folded coefficients `u_k = m_k + i m_(k+n)` and the slots
//! `z_j = sum_k u_k rho^(5^j k)` (see `fft.rs`), with `rho` a primitive
//! 4n-th root of unity. Evaluated as one dense matrix this costs n
//! rotations; factored like an FFT it is `log2 n` stages of three diagonals
//! each, and a few consecutive stages merged into one matrix cost one level
//! and a handful of rotations. That trade-off (levels against rotations) is
//! the "levels" parameter of CoeffsToSlots and SlotsToCoeffs.
//!
//! The factorization, for `V_L[j][k] = rho_L^(5^j k)` (`j, k < L`, `rho_L`
//! a primitive 4L-th root): splitting the columns into even and odd `k`,
//!
//! ```text
//!     V_L = [[I, D], [I, -D]] (V_(L/2) (+) V_(L/2)) P_L,   D = diag(rho_L^(5^j)), j < L/2
//! ```
//!
//! because `rho_L^2 = rho_(L/2)`, `5^j` has order `L/2` modulo `2L`, and
//! `rho_L^(5^(j + L/2)) = -rho_L^(5^j)` (`5^(L/2) = 1 + 2L mod 4L`). Unrolled,
//! `V_n = B_n B_(n/2) ... B_2 R` with `B_L = I_(n/L) (x) [[I, D], [I, -D]]`
//! and `R` the bit-reversal permutation. In slot-rotation terms `B_L` has
//! the diagonals 0, `+L/2` and `-L/2` (one diagonal when `L/2 = -L/2`).
//!
//! SlotsToCoeffs evaluates `B_n ... B_2` (the "V R^-1" part) and
//! CoeffsToSlots evaluates `B_2^-1 ... B_n^-1` (`= R V^-1`): the coefficients
//! sit in the slots in bit-reversed order in between, which is harmless
//! since EvalMod works slot by slot.
//!
//! Matrices live in a dimension `dim` that divides the slot count N/2 and
//! act on `dim`-periodic slot vectors (a diagonal is repeated N/2 / dim
//! times). With `n` sparse slots the bootstrap works in `dim = 2n`: the real
//! and imaginary parts of the `n` complex coefficients side by side.

use std::collections::BTreeMap;
use std::f64::consts::PI;

use crate::math::fft::Complex;

/// A square matrix of dimension `dim` stored by its non-zero diagonals:
/// `diags[k][r] = M[r][(r + k) mod dim]`, so that
/// `M v = sum_k diags[k] * rot_k(v)` with `rot_k` the left rotation by `k`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct DiagMatrix {
    pub(crate) dim: usize,
    pub(crate) diags: BTreeMap<usize, Vec<Complex>>,
}

const ZERO: Complex = Complex::new(0.0, 0.0);
const ONE: Complex = Complex::new(1.0, 0.0);

impl DiagMatrix {
    fn empty(dim: usize) -> Self {
        Self {
            dim,
            diags: BTreeMap::new(),
        }
    }

    fn entry(&mut self, row: usize, diag: usize, v: Complex) {
        let dim = self.dim;
        let d = self
            .diags
            .entry(diag % dim)
            .or_insert_with(|| vec![ZERO; dim]);
        d[row] = d[row] + v;
    }

    /// `self * other` (apply `other` first).
    pub(crate) fn mul(&self, other: &DiagMatrix) -> DiagMatrix {
        assert_eq!(self.dim, other.dim);
        let dim = self.dim;
        let mut out = DiagMatrix::empty(dim);
        // (AB)[r][r + a + b] += A[r][r + a] B[r + a][r + a + b].
        for (&a, da) in &self.diags {
            for (&b, db) in &other.diags {
                let d = out
                    .diags
                    .entry((a + b) % dim)
                    .or_insert_with(|| vec![ZERO; dim]);
                for (r, x) in d.iter_mut().enumerate() {
                    *x = *x + da[r] * db[(r + a) % dim];
                }
            }
        }
        out
    }

    /// `diag(d) * self` (scales row `r` by `d[r mod d.len()]`).
    pub(crate) fn scale_rows(&mut self, d: &[Complex]) {
        for v in self.diags.values_mut() {
            for (r, x) in v.iter_mut().enumerate() {
                *x = *x * d[r % d.len()];
            }
        }
    }

    /// Multiplies every entry by `c`.
    pub(crate) fn scale(&mut self, c: f64) {
        for v in self.diags.values_mut() {
            for x in v.iter_mut() {
                *x = x.scale(c);
            }
        }
    }

    /// `M v` for a vector of length `dim` (the reference for tests).
    #[cfg(test)]
    pub(crate) fn apply(&self, v: &[Complex]) -> Vec<Complex> {
        let dim = self.dim;
        let mut out = vec![ZERO; dim];
        for (&k, d) in &self.diags {
            for (r, o) in out.iter_mut().enumerate() {
                *o = *o + d[r] * v[(r + k) % dim];
            }
        }
        out
    }
}

/// `rho_L^e = exp(2 pi i e / 4L)`.
fn root(l: usize, e: usize) -> Complex {
    Complex::cis(2.0 * PI * (e % (4 * l)) as f64 / (4 * l) as f64)
}

/// `5^p mod 4L`.
fn pow5(p: usize, l: usize) -> usize {
    let m = 4 * l;
    (0..p).fold(1usize, |acc, _| acc * 5 % m)
}

/// The butterfly stage `B_L` (or its inverse) in dimension `dim`.
pub(crate) fn stage(dim: usize, l: usize, inverse: bool) -> DiagMatrix {
    assert!(l >= 2 && l.is_power_of_two() && dim.is_multiple_of(l));
    let h = l / 2;
    let tw: Vec<Complex> = (0..h).map(|p| root(l, pow5(p, l))).collect();
    let mut m = DiagMatrix::empty(dim);
    for r in 0..dim {
        let p = r % l;
        if !inverse {
            // [[I, D], [I, -D]]
            if p < h {
                m.entry(r, 0, ONE);
                m.entry(r, h, tw[p]);
            } else {
                m.entry(r, 0, ZERO - tw[p - h]);
                m.entry(r, dim - h, ONE);
            }
        } else {
            // 1/2 [[I, I], [D^-1, -D^-1]]
            let half = Complex::new(0.5, 0.0);
            if p < h {
                m.entry(r, 0, half);
                m.entry(r, h, half);
            } else {
                let inv = tw[p - h].conj().scale(0.5);
                m.entry(r, dim - h, inv);
                m.entry(r, 0, ZERO - inv);
            }
        }
    }
    m
}

/// How many butterfly stages each level merges: `log_n` stages over
/// `levels` levels, the larger groups first. CoeffsToSlots starts with the
/// stage of the largest stride, whose merged groups have fewer distinct
/// diagonals (`2^r` rather than `2^(r+1) - 1`: the strides wrap around),
/// so it takes the larger groups there.
pub(crate) fn split_stages(log_n: usize, levels: usize) -> Vec<usize> {
    let levels = levels.min(log_n).max(1);
    let mut out = Vec::with_capacity(levels);
    let mut left = log_n;
    for i in 0..levels {
        let take = left.div_ceil(levels - i);
        out.push(take);
        left -= take;
    }
    out
}

/// The matrices of CoeffsToSlots, in the order they are applied, for `n`
/// complex slots in dimension `dim` (`dim = n` or `2n`), each level scaled by
/// `scaling^(1/levels)`. With `dim = 2n` the last matrix also multiplies
/// the second half of every 2n-block by `-i`, so that `a + conj(a)` holds
/// the real parts in the first half and the imaginary parts in the second.
pub(crate) fn coeffs_to_slots(
    n: usize,
    dim: usize,
    levels: usize,
    scaling: f64,
) -> Vec<DiagMatrix> {
    assert!(n.is_power_of_two() && n >= 2 && (dim == n || dim == 2 * n));
    let log_n = n.trailing_zeros() as usize;
    let groups = split_stages(log_n, levels);
    let per_level = scaling.abs().powf(1.0 / groups.len() as f64) * scaling.signum();
    let mut l = n;
    let mut out: Vec<DiagMatrix> = groups
        .iter()
        .map(|&g| {
            let mut m = stage(dim, l, true);
            l /= 2;
            for _ in 1..g {
                m = stage(dim, l, true).mul(&m);
                l /= 2;
            }
            m.scale(per_level);
            m
        })
        .collect();
    if dim == 2 * n {
        let d: Vec<Complex> = (0..dim)
            .map(|r| if r < n { ONE } else { Complex::new(0.0, -1.0) })
            .collect();
        out.last_mut().expect("at least one level").scale_rows(&d);
    }
    out
}

/// The matrices of SlotsToCoeffs, in the order they are applied, for `n`
/// complex slots in dimension `dim`, each scaled by `scaling^(1/levels)`.
/// With `dim = 2n` the first matrix first recombines the real parts (first
/// half of each 2n-block) and imaginary parts (second half) into `n`
/// complex values, repeated.
pub(crate) fn slots_to_coeffs(
    n: usize,
    dim: usize,
    levels: usize,
    scaling: f64,
) -> Vec<DiagMatrix> {
    assert!(n.is_power_of_two() && n >= 2 && (dim == n || dim == 2 * n));
    let log_n = n.trailing_zeros() as usize;
    let mut groups = split_stages(log_n, levels);
    groups.reverse();
    let per_level = scaling.abs().powf(1.0 / groups.len() as f64) * scaling.signum();
    let mut l = 2;
    let mut out: Vec<DiagMatrix> = groups
        .iter()
        .map(|&g| {
            let mut m = stage(dim, l, false);
            l *= 2;
            for _ in 1..g {
                m = stage(dim, l, false).mul(&m);
                l *= 2;
            }
            m.scale(per_level);
            m
        })
        .collect();
    if dim == 2 * n {
        // w_r = y_r + i y_(r+n) in the first half, i y_r + y_(r+n) in the second.
        let i = Complex::new(0.0, 1.0);
        let mut repack = DiagMatrix::empty(dim);
        for r in 0..dim {
            let first = r < n;
            repack.entry(r, 0, if first { ONE } else { i });
            repack.entry(r, n, if first { i } else { ONE });
        }
        out[0] = out[0].mul(&repack);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::arith::bit_reverse;
    use crate::math::fft::SlotFft;

    fn random_complex(n: usize, seed: u64) -> Vec<Complex> {
        let mut s = seed;
        let mut next = move || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        };
        (0..n).map(|_| Complex::new(next(), next())).collect()
    }

    fn max_err(a: &[Complex], b: &[Complex]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (*x - *y).abs())
            .fold(0.0, f64::max)
    }

    fn apply_all(ms: &[DiagMatrix], v: &[Complex]) -> Vec<Complex> {
        ms.iter().fold(v.to_vec(), |acc, m| m.apply(&acc))
    }

    /// SlotsToCoeffs on bit-reversed folded coefficients equals the
    /// encoder's decoding (the special FFT of `fft.rs`), for every split
    /// into levels; CoeffsToSlots inverts it.
    #[test]
    fn factors_multiply_to_the_slot_dft() {
        for log_m in [1usize, 2, 5, 8] {
            let m = 1 << log_m;
            let fft = SlotFft::new(m);
            let u = random_complex(m, log_m as u64);
            let slots = fft.folded_to_slots(u.clone());
            let u_br: Vec<Complex> = (0..m).map(|i| u[bit_reverse(i, log_m as u32)]).collect();
            for levels in 1..=log_m {
                let stc = slots_to_coeffs(m, m, levels, 1.0);
                assert_eq!(stc.len(), levels);
                let got = apply_all(&stc, &u_br);
                let e = max_err(&got, &slots);
                assert!(e < 1e-12 * m as f64, "m {m} levels {levels}: StC error {e}");
                let cts = coeffs_to_slots(m, m, levels, 1.0);
                let back = apply_all(&cts, &slots);
                let e = max_err(&back, &u_br);
                assert!(e < 1e-12 * m as f64, "m {m} levels {levels}: CtS error {e}");
            }
        }
    }

    /// Merged levels have at most 2^(r+1) - 1 diagonals (r stages), and
    /// 2^r for the first CoeffsToSlots level, whose strides wrap around.
    #[test]
    fn merged_levels_are_sparse() {
        let m = 1 << 10;
        let cts = coeffs_to_slots(m, m, 3, 1.0);
        let counts: Vec<usize> = cts.iter().map(|x| x.diags.len()).collect();
        assert_eq!(split_stages(10, 3), vec![4, 3, 3]);
        assert_eq!(counts, vec![16, 15, 15]);
        let stc = slots_to_coeffs(m, m, 3, 1.0);
        let counts: Vec<usize> = stc.iter().map(|x| x.diags.len()).collect();
        assert_eq!(counts, vec![15, 15, 16]);
    }

    /// Sparse packing: n complex values, repeated, in dimension 2n. CtS
    /// followed by `a + conj(a)` gives [Re | Im] of the bit-reversed
    /// coefficients (times 2); StC of that gives back the slots.
    #[test]
    fn sparse_real_imag_repacking() {
        for log_n in [1usize, 3, 6] {
            let n = 1 << log_n;
            let dim = 2 * n;
            let fft = SlotFft::new(n);
            let u = random_complex(n, 7 + log_n as u64);
            let z = fft.folded_to_slots(u.clone());
            let z2: Vec<Complex> = z.iter().chain(z.iter()).copied().collect();
            for levels in 1..=log_n {
                let a = apply_all(&coeffs_to_slots(n, dim, levels, 1.0), &z2);
                let y: Vec<Complex> = a.iter().map(|x| *x + x.conj()).collect();
                for i in 0..n {
                    let want = u[bit_reverse(i, log_n as u32)];
                    assert!((y[i] - Complex::new(2.0 * want.re, 0.0)).abs() < 1e-12);
                    assert!((y[i + n] - Complex::new(2.0 * want.im, 0.0)).abs() < 1e-12);
                }
                let back = apply_all(&slots_to_coeffs(n, dim, levels, 0.5), &y);
                let e = max_err(&back, &z2);
                assert!(e < 1e-11, "n {n} levels {levels}: {e}");
            }
        }
    }
}
