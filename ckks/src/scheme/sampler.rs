//! Samplers for secrets, errors and uniform masks.
//!
//! All randomness comes from a ChaCha20 CSPRNG (seeded from the OS, or from
//! a fixed seed in tests). Uniform polynomials modulo Q are sampled limb by
//! limb (independent uniform residues are uniform modulo Q by the CRT) and
//! directly in NTT form, since the NTT is a bijection.

use rand::{Rng, RngCore};

use crate::math::arith::Modulus;

/// Standard deviation of the error distribution (HE Standard).
pub(crate) const SIGMA: f64 = 3.2;
/// Errors are truncated at this many standard deviations.
const TAIL: f64 = 6.0;

/// Ternary polynomial: uniform in {-1, 0, 1}, or exactly `hw` non-zero
/// coefficients (each ±1 with equal probability) at random positions.
pub(crate) fn ternary<R: RngCore>(rng: &mut R, n: usize, hw: Option<usize>) -> Vec<i64> {
    match hw {
        None => (0..n)
            .map(|_| loop {
                // Rejection from 2 bits gives exactly 1/3 each.
                let v = rng.next_u32() & 3;
                if v < 3 {
                    break v as i64 - 1;
                }
            })
            .collect(),
        Some(h) => {
            let h = h.min(n);
            let mut out = vec![0i64; n];
            let mut idx: Vec<usize> = (0..n).collect();
            // Partial Fisher-Yates: the first h entries are a uniform h-subset.
            for i in 0..h {
                let j = rng.random_range(i..n);
                idx.swap(i, j);
                out[idx[i]] = if rng.next_u32() & 1 == 0 { 1 } else { -1 };
            }
            out
        }
    }
}

/// Rounded Gaussian of standard deviation [`SIGMA`], truncated at 6 sigma.
pub(crate) fn gaussian<R: RngCore>(rng: &mut R, n: usize) -> Vec<i64> {
    let mut out = Vec::with_capacity(n);
    let bound = (SIGMA * TAIL).round();
    while out.len() < n {
        // Box-Muller: two independent normals from two uniforms in (0, 1].
        let u1 = (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        let u2 = (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        let r = (-2.0 * (1.0 - u1).ln()).sqrt() * SIGMA;
        let th = 2.0 * std::f64::consts::PI * u2;
        for z in [r * th.cos(), r * th.sin()] {
            let z = z.round();
            if z.abs() <= bound && out.len() < n {
                out.push(z as i64);
            }
        }
    }
    out
}

/// Fills `out` with uniform residues modulo `m`.
pub(crate) fn uniform_limb<R: RngCore>(rng: &mut R, m: &Modulus, out: &mut [u64]) {
    let p = m.value();
    let mask = u64::MAX >> p.leading_zeros();
    for x in out.iter_mut() {
        *x = loop {
            let v = rng.next_u64() & mask;
            if v < p {
                break v;
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn distributions() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let n = 1 << 14;
        let t = ternary(&mut rng, n, None);
        let nz = t.iter().filter(|&&x| x != 0).count() as f64 / n as f64;
        assert!((nz - 2.0 / 3.0).abs() < 0.02, "{nz}");
        let h = ternary(&mut rng, n, Some(192));
        assert_eq!(h.iter().filter(|&&x| x != 0).count(), 192);
        let g = gaussian(&mut rng, n);
        let var = g.iter().map(|&x| (x * x) as f64).sum::<f64>() / n as f64;
        assert!((var.sqrt() - SIGMA).abs() < 0.15, "{}", var.sqrt());
        assert!(g.iter().all(|&x| x.abs() <= 19));
    }
}
