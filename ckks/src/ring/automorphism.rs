//! Galois automorphisms `X -> X^g` (g odd) of `Z_Q[X]/(X^N+1)`.
//!
//! In the coefficient domain the map sends `X^i` to `±X^(i*g mod N)`, with a
//! minus sign when `i*g mod 2N >= N`. In the NTT domain it is a pure
//! permutation: if slot `j` holds `a(ψ^e_j)` then the automorphism's slot `j`
//! holds `a(ψ^(g*e_j))`, which is the slot `k` with `e_k = g*e_j mod 2N`.
//!
//! `tfhe-ntt` returns its evaluations in bit-reversed order and does not
//! expose its root. Rather than relying on that convention, the context
//! measures it once: the NTT of the polynomial `X` holds `ψ^e_j` in slot `j`,
//! and taking discrete logarithms to the base of slot 0's value gives
//! `e_j / e_0 mod 2N`, which is all the permutation depends on. A test
//! checks the result against the coefficient-domain map for every prime.
//!
//! CKKS slot `i` sits at the root `ζ^(5^i)`, so the Galois element of a
//! left rotation by `r` slots is `5^r mod 2N`; conjugation is `2N - 1`.

use std::collections::HashMap;

use crate::math::arith::Modulus;

/// The Galois element `5^step mod 2N` of a left rotation by `step` slots
/// (negative steps rotate right). `n` is the ring degree.
pub fn galois_element(step: i64, n: usize) -> u64 {
    let slots = (n / 2) as i64;
    let r = step.rem_euclid(slots) as u64;
    let two_n = 2 * n as u64;
    let mut acc = 1u64;
    let mut base = 5u64;
    let mut e = r;
    while e > 0 {
        if e & 1 == 1 {
            acc = acc * base % two_n;
        }
        base = base * base % two_n;
        e >>= 1;
    }
    acc
}

/// The Galois element of complex conjugation of the slots.
pub fn conjugation_element(n: usize) -> u64 {
    2 * n as u64 - 1
}

/// Measures the NTT slot exponents: `ntt_of_x` is the forward NTT of the
/// polynomial `X` modulo `m`; returns `e_j / e_0 mod 2N` for every slot `j`.
pub(crate) fn measure_slot_exponents(ntt_of_x: &[u64], m: &Modulus) -> Vec<u32> {
    let n = ntt_of_x.len();
    let two_n = 2 * n;
    let base = ntt_of_x[0];
    let mut log = HashMap::with_capacity(two_n);
    let mut acc = 1u64;
    for k in 0..two_n {
        log.insert(acc, k as u32);
        acc = m.mul(acc, base);
    }
    ntt_of_x.iter().map(|v| log[v]).collect()
}

/// The NTT-domain permutation of `X -> X^g`: `out[j] = in[perm[j]]`.
pub(crate) fn ntt_permutation(exps: &[u32], g: u64) -> Vec<u32> {
    let n = exps.len();
    let two_n = 2 * n as u64;
    // Slot index of each odd exponent e, at position (e - 1) / 2.
    let mut slot_of = vec![0u32; n];
    for (j, &e) in exps.iter().enumerate() {
        slot_of[(e as usize - 1) / 2] = j as u32;
    }
    exps.iter()
        .map(|&e| slot_of[((e as u64 * g % two_n) as usize - 1) / 2])
        .collect()
}

/// Applies an NTT-domain permutation: `out[j] = input[perm[j]]`.
#[inline]
pub(crate) fn permute(input: &[u64], perm: &[u32], out: &mut [u64]) {
    for (o, &p) in out.iter_mut().zip(perm) {
        *o = input[p as usize];
    }
}

/// Coefficient-domain automorphism `X -> X^g` of one limb modulo `m`
/// (the reference the NTT-domain permutation is tested against).
#[cfg(test)]
pub(crate) fn automorphism_coeff(input: &[u64], g: u64, m: &Modulus, out: &mut [u64]) {
    let n = input.len();
    let mask = 2 * n - 1;
    for (i, &c) in input.iter().enumerate() {
        let j = (i as u64 * g) as usize & mask;
        if j < n {
            out[j] = c;
        } else {
            out[j - n] = m.neg(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn galois_elements() {
        let n = 1 << 13;
        assert_eq!(galois_element(0, n), 1);
        assert_eq!(galois_element(1, n), 5);
        assert_eq!(galois_element(2, n), 25);
        // Rotating right by one is rotating left by slots - 1.
        assert_eq!(galois_element(-1, n), galois_element((n / 2 - 1) as i64, n));
        assert_eq!(galois_element(-1, n) * 5 % (2 * n as u64), 1);
    }
}
