//! Scalar arithmetic modulo one word-sized prime.
//!
//! The NTT and the element-wise products run on `tfhe-ntt`'s SIMD kernels;
//! everything that is not a plain element-wise product (basis conversion,
//! rescale, CRT, sampling) uses this module. Reductions are Barrett (for
//! 128-bit products) and Shoup (for products by a precomputed constant),
//! never a hardware division: those are 20-40x slower in the inner loops.
//!
//! All primes handled here are below 2^62, which keeps `3p < 2^64` and lets
//! the Barrett reduction finish with at most two conditional subtractions.

/// A prime modulus `p < 2^62` with its Barrett constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Modulus {
    p: u64,
    /// floor(2^128 / p) as (low word, high word).
    ratio_lo: u64,
    ratio_hi: u64,
    /// floor(2^64 / p), for reducing single words.
    ratio64: u64,
}

impl Modulus {
    /// Precomputes the Barrett constants of `p`. `p` must be odd, `> 2`, and below 2^62.
    pub fn new(p: u64) -> Self {
        debug_assert!(p > 2 && p < (1 << 62));
        // floor((2^128 - 1) / p) equals floor(2^128 / p) because p is not a power of two.
        let ratio = u128::MAX / p as u128;
        Self {
            p,
            ratio_lo: ratio as u64,
            ratio_hi: (ratio >> 64) as u64,
            ratio64: u64::MAX / p,
        }
    }

    /// The prime.
    #[inline(always)]
    pub fn value(&self) -> u64 {
        self.p
    }

    /// `x mod p` for any 64-bit `x`.
    #[inline(always)]
    pub fn reduce(&self, x: u64) -> u64 {
        let q = ((x as u128 * self.ratio64 as u128) >> 64) as u64;
        let r = x.wrapping_sub(q.wrapping_mul(self.p));
        r.min(r.wrapping_sub(self.p))
    }

    /// `x mod p` for `x < 2^64 * p` (in particular any product of two
    /// residues, or a sum of up to 4 such products with p < 2^62).
    #[inline(always)]
    pub fn reduce_u128(&self, x: u128) -> u64 {
        let x0 = x as u64;
        let x1 = (x >> 64) as u64;
        // The high 128 bits of the 256-bit product x * ratio, computed
        // exactly; only its low word is needed because the quotient is < 2^64.
        let lo_lo_hi = ((x0 as u128 * self.ratio_lo as u128) >> 64) as u64;
        let mid1 = x0 as u128 * self.ratio_hi as u128;
        let mid2 = x1 as u128 * self.ratio_lo as u128;
        let (s, c1) = (mid1 as u64).overflowing_add(lo_lo_hi);
        let (_, c2) = s.overflowing_add(mid2 as u64);
        let carry = c1 as u64 + c2 as u64;
        let q = x1
            .wrapping_mul(self.ratio_hi)
            .wrapping_add((mid1 >> 64) as u64)
            .wrapping_add((mid2 >> 64) as u64)
            .wrapping_add(carry);
        let r = x0.wrapping_sub(q.wrapping_mul(self.p));
        // The estimate q is at most 1 below the true quotient (x < 2^64 p),
        // so r < 2p. `min` with the wrapped difference is a branch-free
        // conditional subtraction: branches on random residues mispredict
        // half of the time, which costs 5-10x in these loops.
        r.min(r.wrapping_sub(self.p))
    }

    /// `x mod p` for any 128-bit `x` (slower: two Barrett steps).
    #[inline]
    pub fn reduce_u128_any(&self, x: u128) -> u64 {
        let hi = self.reduce((x >> 64) as u64);
        // hi * 2^64 + lo = hi * (2^64 mod p) + lo  (mod p)
        let two64 = self.reduce_u128(1u128 << 64);
        self.reduce_u128(hi as u128 * two64 as u128 + self.reduce(x as u64) as u128)
    }

    /// `a * b mod p` for residues `a, b`.
    #[inline(always)]
    pub fn mul(&self, a: u64, b: u64) -> u64 {
        self.reduce_u128(a as u128 * b as u128)
    }

    /// `a + b mod p` for residues `a, b`.
    #[inline(always)]
    pub fn add(&self, a: u64, b: u64) -> u64 {
        let s = a + b;
        s.min(s.wrapping_sub(self.p))
    }

    /// `a - b mod p` for residues `a, b`.
    #[inline(always)]
    pub fn sub(&self, a: u64, b: u64) -> u64 {
        let d = a.wrapping_sub(b);
        d.min(d.wrapping_add(self.p))
    }

    /// `-a mod p` for a residue `a`.
    #[inline(always)]
    pub fn neg(&self, a: u64) -> u64 {
        let d = self.p - a;
        // d == p exactly when a == 0.
        d.min(d.wrapping_sub(self.p))
    }

    /// `a^e mod p`.
    pub fn pow(&self, a: u64, mut e: u64) -> u64 {
        let mut base = self.reduce(a);
        let mut acc = 1u64;
        while e > 0 {
            if e & 1 == 1 {
                acc = self.mul(acc, base);
            }
            base = self.mul(base, base);
            e >>= 1;
        }
        acc
    }

    /// `a^-1 mod p` (p prime, `a` not divisible by p).
    pub fn inv(&self, a: u64) -> u64 {
        self.pow(a, self.p - 2)
    }

    /// Shoup's precomputation `floor(w * 2^64 / p)` for a constant residue `w`.
    #[inline]
    pub fn shoup(&self, w: u64) -> u64 {
        (((w as u128) << 64) / self.p as u128) as u64
    }

    /// `a * w mod p` with `w_shoup = self.shoup(w)`; `a` may be any 64-bit value.
    #[inline(always)]
    pub fn mul_shoup(&self, a: u64, w: u64, w_shoup: u64) -> u64 {
        let q = ((a as u128 * w_shoup as u128) >> 64) as u64;
        let r = a.wrapping_mul(w).wrapping_sub(q.wrapping_mul(self.p));
        r.min(r.wrapping_sub(self.p))
    }

    /// The residue of a signed integer.
    #[inline(always)]
    pub fn from_i64(&self, x: i64) -> u64 {
        let r = self.reduce(x.unsigned_abs());
        // Branch-free select on the sign (random signs mispredict).
        let mask = (x >> 63) as u64;
        (self.neg(r) & mask) | (r & !mask)
    }

    /// The residue of a signed 128-bit integer.
    #[inline]
    pub fn from_i128(&self, x: i128) -> u64 {
        let r = self.reduce_u128_any(x.unsigned_abs());
        if x < 0 {
            self.neg(r)
        } else {
            r
        }
    }

    /// The centered representative of a residue, in `(-p/2, p/2]`.
    #[inline(always)]
    pub fn center(&self, a: u64) -> i64 {
        if a > self.p / 2 {
            a as i64 - self.p as i64
        } else {
            a as i64
        }
    }
}

/// A constant multiplier with its Shoup precomputation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShoupConst {
    /// The constant, a residue.
    pub w: u64,
    /// `floor(w * 2^64 / p)`.
    pub ws: u64,
}

impl ShoupConst {
    /// Precomputes `w` modulo `m`.
    pub fn new(m: &Modulus, w: u64) -> Self {
        let w = m.reduce(w);
        Self { w, ws: m.shoup(w) }
    }

    /// `a * w mod p`.
    #[inline(always)]
    pub fn mul(&self, m: &Modulus, a: u64) -> u64 {
        m.mul_shoup(a, self.w, self.ws)
    }
}

/// Deterministic Miller-Rabin for 64-bit integers.
pub fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    for sp in [2u64, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37] {
        if n.is_multiple_of(sp) {
            return n == sp;
        }
    }
    let mulmod = |a: u64, b: u64| ((a as u128 * b as u128) % n as u128) as u64;
    let powmod = |mut a: u64, mut e: u64| {
        let mut r = 1u64;
        while e > 0 {
            if e & 1 == 1 {
                r = mulmod(r, a);
            }
            a = mulmod(a, a);
            e >>= 1;
        }
        r
    };
    let d0 = n - 1;
    let s = d0.trailing_zeros();
    let d = d0 >> s;
    // These witnesses are deterministic for all n < 2^64.
    'witness: for a in [2u64, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37] {
        let mut x = powmod(a, d);
        if x == 1 || x == n - 1 {
            continue;
        }
        for _ in 1..s {
            x = mulmod(x, x);
            if x == n - 1 {
                continue 'witness;
            }
        }
        return false;
    }
    true
}

/// Reverses the lowest `bits` bits of `x`.
#[inline]
pub fn bit_reverse(x: usize, bits: u32) -> usize {
    if bits == 0 {
        0
    } else {
        x.reverse_bits() >> (usize::BITS - bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn barrett_matches_division() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        for p in [
            65537u64,
            (1 << 26) - (1 << 14) + 1,
            1152921504606584833, // 2^60 - 2^18 + 1
            (1u64 << 61) - 1,
            4611686018427322369, // close to 2^62
        ] {
            let m = Modulus::new(p);
            for _ in 0..20000 {
                let a = rng.random::<u64>() % p;
                let b = rng.random::<u64>() % p;
                assert_eq!(m.mul(a, b) as u128, (a as u128 * b as u128) % p as u128);
                let x: u64 = rng.random();
                assert_eq!(m.reduce(x), x % p);
                let y: u128 = (rng.random::<u128>()) % ((p as u128) << 64);
                assert_eq!(m.reduce_u128(y) as u128, y % p as u128);
                let z: u128 = rng.random();
                assert_eq!(m.reduce_u128_any(z) as u128, z % p as u128);
                let w = rng.random::<u64>() % p;
                assert_eq!(
                    m.mul_shoup(x, w, m.shoup(w)) as u128,
                    (x as u128 * w as u128) % p as u128
                );
            }
            for x in [
                (p - 1) as u128 * (p - 1) as u128,
                ((p as u128) << 64) - 1,
                0,
            ] {
                assert_eq!(m.reduce_u128(x) as u128, x % p as u128);
            }
            if is_prime(p) {
                assert_eq!(m.mul(m.inv(12345), 12345), 1);
            }
            assert_eq!(m.from_i64(-5), p - 5);
            assert_eq!(
                m.from_i128(-(1i128 << 100)),
                p - ((1u128 << 100) % p as u128) as u64
            );
        }
    }

    #[test]
    fn miller_rabin() {
        let primes: Vec<u64> = (0..200).filter(|&x| is_prime(x)).collect();
        assert_eq!(primes.len(), 46);
        assert!(is_prime(1152921504606584833));
        assert!(!is_prime(1152921504606584833 * 3));
        assert!(!is_prime(3215031751)); // strong pseudoprime to bases 2,3,5,7
        assert!(is_prime((1u64 << 61) - 1));
    }
}
