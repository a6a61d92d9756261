//! The conjugate-invariant ring: N real slots at ring degree N.
//!
//! Kim and Song ("Approximate homomorphic encryption over the
//! conjugate-invariant ring", ICISC 2018) run CKKS on the subring
//! `R' = { a in Z[X]/(X^2N + 1) : a(X^-1) = a(X) }`, which has rank N. An
//! element is `a = c_0 + Σ_{0<k<N} c_k (X^k + X^-k)`, so its N integers
//! `c_0 .. c_(N-1)` are what we store (the "coefficient form"): as a
//! polynomial of degree 2N its coefficients are `c_k` for `k < N`, 0 at N,
//! and `-c_(2N-k)` above N. Every element takes real values at the
//! primitive 4N-th roots, and `a(ψ^j) = a(ψ^-j)` leaves N distinct ones:
//! N real slots, where the standard ring of degree N has N/2 complex ones.
//! RLWE over R' has the hardness of rank N (the HE Standard bound of N).
//!
//! **NTT.** With primes `p ≡ 1 mod 4N`, `ψ` a primitive 4N-th root mod p and
//! `i = ψ^N` (a square root of -1), `X^2N + 1 = (X^N - i)(X^N + i)`, and the
//! roots `ψ^j`, `j ≡ 1 mod 4`, of `X^N - i` hold all N distinct values. So
//! the values of `a` are those of `b = a mod (X^N - i)`,
//! `b_k = c_k - i c_(N-k)` (`b_0 = c_0`), and with the twist
//! `b'_k = b_k ψ^-k` they are the ordinary negacyclic NTT of size N of `b'`
//! (`b'(ζ) = b(ζ/ψ)` and `(ζ/ψ)^N = i` when `ζ^N = -1`). In one pass:
//!
//! ```text
//!     forward: b'_k = c_k ψ^-k - c_(N-k) ψ^(N-k)                  then NTT_N
//!     inverse: INTT_N (unnormalised) then c_k = (b'_k ψ^k - b'_(N-k) ψ^-k) / 2N
//! ```
//!
//! (`k` and `N - k` are processed together, in place.) So the whole library
//! runs unchanged on N-word limbs: products, key switching and basis
//! conversions are the same, only the transform is wrapped.
//!
//! **Slots and automorphisms.** Slot `t` is the value at `ψ_C^(5^t)`,
//! `ψ_C = exp(iπ/2N)`; `5` has order N modulo 4N, so the Galois element of a
//! rotation by `r` is `5^r mod 4N` (`σ_g` and `σ_-g` agree on R', and
//! conjugation is the identity). Choosing `ψ` with `ψ^2 = ζ_0`, the root of
//! tfhe-ntt's first output, output `s` holds `a(ψ^(2 r_s - 1))` where
//! `ζ_0^(r_s)` is the root of output `s` (measured as in `automorphism.rs`).
//! Encoding uses the standard slot FFT of degree 2N: real slot values give a
//! conjugate-invariant polynomial of degree 2N whose first N coefficients
//! are `c_0 .. c_(N-1)`.

use crate::math::arith::Modulus;

/// Which ring a context works in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Ring {
    /// `Z[X]/(X^N + 1)`: N/2 complex slots.
    #[default]
    Standard,
    /// `Z[X + X^-1]` of rank N inside `Z[X]/(X^2N + 1)`: N real slots.
    ConjugateInvariant,
}

/// Per-prime constants of the twisted transform (see the module documentation).
#[derive(Clone, Debug)]
pub(crate) struct CiTwist {
    /// Forward: `b'_k = c_k fa_k + c_(N-k) fb_k` (`fa_0 = 1`, `fb_0 = 0`).
    fa: Vec<[u64; 2]>,
    fb: Vec<[u64; 2]>,
    /// Inverse (of the unnormalised INTT): `c_k = b'_k ia_k + b'_(N-k) ib_k`.
    ia: Vec<[u64; 2]>,
    ib: Vec<[u64; 2]>,
}

/// A primitive 4N-th root `ψ` with `ψ^2 = zeta0` (`zeta0` a primitive 2N-th root).
fn sqrt_root(m: &Modulus, zeta0: u64, n: usize) -> u64 {
    let p = m.value();
    let four_n = 4 * n as u64;
    debug_assert_eq!((p - 1) % four_n, 0);
    let g = (2..)
        .map(|h| m.pow(h, (p - 1) / four_n))
        .find(|&g| m.pow(g, 2 * n as u64) == p - 1)
        .expect("a prime p = 1 mod 4N has a primitive 4N-th root");
    // The square roots of zeta0 are odd powers of g.
    let g2 = m.mul(g, g);
    let mut x = g;
    for _ in 0..2 * n {
        if m.mul(x, x) == zeta0 {
            return x;
        }
        x = m.mul(x, g2);
    }
    unreachable!("zeta0 is a primitive 2N-th root, hence an odd power of g^2")
}

impl CiTwist {
    /// Constants for the prime `m`, whose tfhe-ntt plan of size `n` maps
    /// the polynomial X to a vector starting with `zeta0`.
    pub(crate) fn new(m: &Modulus, zeta0: u64, n: usize) -> Self {
        let psi = sqrt_root(m, zeta0, n);
        let psi_inv = m.inv(psi);
        let shoup = |w: u64| [w, m.shoup(w)];
        let inv_2n = m.inv(m.reduce(2 * n as u64));
        let inv_n = m.inv(m.reduce(n as u64));
        let (mut fa, mut fb, mut ia, mut ib) = (vec![], vec![], vec![], vec![]);
        let (mut pk, mut pk_inv) = (1u64, 1u64); // ψ^k, ψ^-k
        let psi_n = m.pow(psi, n as u64);
        for k in 0..n {
            if k == 0 {
                fa.push(shoup(1));
                fb.push(shoup(0));
                ia.push(shoup(inv_n));
                ib.push(shoup(0));
            } else {
                // ψ^(N-k) = ψ^N ψ^-k.
                fa.push(shoup(pk_inv));
                fb.push(shoup(m.neg(m.mul(psi_n, pk_inv))));
                ia.push(shoup(m.mul(pk, inv_2n)));
                ib.push(shoup(m.neg(m.mul(pk_inv, inv_2n))));
            }
            pk = m.mul(pk, psi);
            pk_inv = m.mul(pk_inv, psi_inv);
        }
        Self { fa, fb, ia, ib }
    }

    /// `c -> b'` in place (before the forward NTT).
    pub(crate) fn twist(&self, m: &Modulus, c: &mut [u64]) {
        Self::pairwise(m, c, &self.fa, &self.fb);
    }

    /// `b' -> c` in place (after the unnormalised inverse NTT).
    pub(crate) fn untwist(&self, m: &Modulus, c: &mut [u64]) {
        Self::pairwise(m, c, &self.ia, &self.ib);
    }

    /// `c_k <- c_k a_k + c_(N-k) b_k` for all k at once (indices mod N).
    fn pairwise(m: &Modulus, c: &mut [u64], a: &[[u64; 2]], b: &[[u64; 2]]) {
        let n = c.len();
        let lin = |x: u64, y: u64, k: usize| {
            m.add(
                m.mul_shoup(x, a[k][0], a[k][1]),
                m.mul_shoup(y, b[k][0], b[k][1]),
            )
        };
        c[0] = lin(c[0], c[0], 0);
        for k in 1..=n / 2 {
            let j = n - k;
            let (x, y) = (c[k], c[j]);
            c[k] = lin(x, y, k);
            if j != k {
                c[j] = lin(y, x, j);
            }
        }
    }
}

/// Slot exponents of the wrapped transform: output `s` holds `a(ψ^(2 r_s - 1))`,
/// `r_s` the tfhe-ntt exponents relative to output 0.
pub(crate) fn slot_exponents(tfhe_exps: &[u32]) -> Vec<u32> {
    let four_n = 4 * tfhe_exps.len() as u64;
    tfhe_exps
        .iter()
        .map(|&r| ((2 * r as u64 + four_n - 1) % four_n) as u32)
        .collect()
}

/// The NTT-domain permutation of `σ_g` on R': `out[s] = in[perm[s]]`, with
/// exponents `j ≡ 1 mod 4` and `a(ψ^j) = a(ψ^-j)`.
pub(crate) fn permutation(exps: &[u32], g: u64) -> Vec<u32> {
    let n = exps.len();
    let four_n = 4 * n as u64;
    let mut slot_of = vec![0u32; n];
    for (s, &e) in exps.iter().enumerate() {
        slot_of[(e as usize - 1) / 4] = s as u32;
    }
    exps.iter()
        .map(|&e| {
            let mut x = e as u64 * g % four_n;
            if x % 4 == 3 {
                x = four_n - x;
            }
            slot_of[(x as usize - 1) / 4]
        })
        .collect()
}

/// `5^step mod 4N` (step taken modulo the N slots).
pub(crate) fn galois_element(step: i64, n: usize) -> u64 {
    let r = step.rem_euclid(n as i64) as u64;
    let four_n = 4 * n as u64;
    let (mut acc, mut base, mut e) = (1u64, 5u64, r);
    while e > 0 {
        if e & 1 == 1 {
            acc = acc * base % four_n;
        }
        base = base * base % four_n;
        e >>= 1;
    }
    acc
}
