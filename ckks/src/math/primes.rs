//! Generation of NTT-friendly primes.
//!
//! A negacyclic NTT of size N modulo p needs a primitive 2N-th root of
//! unity, i.e. `p ≡ 1 (mod 2N)`. The primes are taken just below `2^bits`
//! (candidates `2^bits + 1 - k*2N`, k = 1, 2, ...) so that a prime of
//! `bits` bits divides a scale of `2^bits` almost exactly: rescaling by such
//! a prime keeps the scale close to a power of two.

use crate::error::CkksError;
use crate::math::arith::is_prime;

/// Returns primes `p ≡ 1 mod 2N`, `2^(bits-1) < p < 2^bits`, one for each
/// entry of `bit_sizes`, all distinct and distinct from `exclude`. Primes of
/// equal size are handed out in decreasing order.
pub fn generate_primes(
    log_n: u32,
    bit_sizes: &[u32],
    exclude: &[u64],
) -> Result<Vec<u64>, CkksError> {
    let two_n = 1u64 << (log_n + 1);
    let mut taken: Vec<u64> = exclude.to_vec();
    let mut out = Vec::with_capacity(bit_sizes.len());
    for &bits in bit_sizes {
        let count = bit_sizes.iter().filter(|&&b| b == bits).count();
        let top = 1u64 << bits;
        let bottom = 1u64 << (bits - 1);
        let mut cand = top + 1 - two_n;
        let found = loop {
            if cand <= bottom {
                return Err(CkksError::NotEnoughPrimes { bits, count, log_n });
            }
            if !taken.contains(&cand) && is_prime(cand) {
                break cand;
            }
            cand -= two_n;
        };
        taken.push(found);
        out.push(found);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primes_are_ntt_friendly_and_distinct() {
        let ps = generate_primes(13, &[29, 26, 26, 26, 26, 26], &[]).unwrap();
        let pp = generate_primes(13, &[29, 29], &ps).unwrap();
        let mut all = ps.clone();
        all.extend(&pp);
        for (i, &p) in all.iter().enumerate() {
            assert!(is_prime(p));
            assert_eq!(p % (1 << 14), 1);
            for &q in &all[..i] {
                assert_ne!(p, q);
            }
        }
        assert_eq!(64 - ps[0].leading_zeros(), 29);
        assert_eq!(64 - ps[1].leading_zeros(), 26);
        assert_eq!(64 - pp[1].leading_zeros(), 29);
    }
}
