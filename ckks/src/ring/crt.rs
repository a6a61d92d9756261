//! CRT reconstruction of RNS coefficients to floating point (for decoding).
//!
//! Decoding needs each coefficient as the *centered* integer in
//! `(-Q/2, Q/2]`, converted to `f64`. Building the big integer and then
//! subtracting Q would cancel catastrophically in floating point, so we use
//! Garner's mixed-radix algorithm with *balanced* digits:
//!
//! ```text
//!     x = v_0 + v_1 q_0 + v_2 q_0 q_1 + ... ,   v_i in (-q_i/2, q_i/2]
//! ```
//!
//! This representation covers exactly the centered range, needs no big
//! integers (O(l^2) word operations per coefficient), and for the usual
//! small messages all high digits are zero, so the Horner evaluation in
//! `f64` is exact up to the final rounding.

use crate::math::arith::{Modulus, ShoupConst};

/// Precomputed constants for the Q primes (prefix-closed: valid at every level).
#[derive(Debug, Clone)]
pub(crate) struct Garner {
    moduli: Vec<Modulus>,
    /// `W_i^-1 mod q_i`, `W_i = q_0 ... q_{i-1}`.
    inv_w: Vec<ShoupConst>,
    /// `w_mod[i][j] = W_j mod q_i` for `j < i`.
    w_mod: Vec<Vec<u64>>,
}

impl Garner {
    pub(crate) fn new(q: &[u64]) -> Self {
        let moduli: Vec<Modulus> = q.iter().map(|&p| Modulus::new(p)).collect();
        let mut inv_w = Vec::with_capacity(q.len());
        let mut w_mod = Vec::with_capacity(q.len());
        for (i, m) in moduli.iter().enumerate() {
            let mut row = Vec::with_capacity(i);
            let mut w = 1u64;
            for &qj in &q[..i] {
                row.push(w);
                w = m.mul(w, m.reduce(qj));
            }
            inv_w.push(ShoupConst::new(m, m.inv(w)));
            w_mod.push(row);
        }
        Self {
            moduli,
            inv_w,
            w_mod,
        }
    }

    /// The centered value of the integer with residues `res` (one per
    /// prime, `res.len() <= #Q`), as `f64`. `digits` is scratch space of the
    /// same length.
    #[inline]
    pub(crate) fn to_f64(&self, res: &[u64], digits: &mut [i64]) -> f64 {
        let l = res.len();
        for i in 0..l {
            let m = &self.moduli[i];
            let mut s = 0u64;
            for (j, &d) in digits[..i].iter().enumerate() {
                if d != 0 {
                    s = m.add(s, m.mul(m.from_i64(d), self.w_mod[i][j]));
                }
            }
            let v = self.inv_w[i].mul(m, m.sub(res[i], s));
            digits[i] = m.center(v);
        }
        let mut acc = 0.0f64;
        for i in (0..l).rev() {
            acc = acc * self.moduli[i].value() as f64 + digits[i] as f64;
        }
        acc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconstructs_centered_values() {
        let q = crate::math::primes::generate_primes(10, &[60, 40, 40], &[]).unwrap();
        let g = Garner::new(&q);
        let mut d = [0i64; 3];
        for &x in &[
            0i128,
            1,
            -1,
            123456789,
            -987654321012345678,
            1i128 << 100,
            -(1i128 << 120) + 17,
        ] {
            let res: Vec<u64> = q.iter().map(|&p| x.rem_euclid(p as i128) as u64).collect();
            let got = g.to_f64(&res, &mut d);
            let want = x as f64;
            assert!(
                (got - want).abs() <= want.abs() * 1e-15,
                "x = {x}: {got} vs {want}"
            );
        }
        // Prefix (lower level).
        let res: Vec<u64> = q[..1]
            .iter()
            .map(|&p| (-5i128).rem_euclid(p as i128) as u64)
            .collect();
        assert_eq!(g.to_f64(&res, &mut d), -5.0);
    }
}
