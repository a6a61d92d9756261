//! The 128-bit security bound of the Homomorphic Encryption Standard.
//!
//! Table 1 of the HE Standard (homomorphicencryption.org, 2018) gives, for a
//! uniform ternary secret and error of standard deviation ~3.2, the largest
//! log2 of the ciphertext modulus that keeps 128 bits of classical security.
//! With hybrid key switching the modulus the attacker sees is the full QP
//! (the key-switching keys live modulo QP), so the check is on log2(QP).
//!
//! The standard stops at N = 2^15. For 2^16 and 2^17 we use 1772 and 3544,
//! the values Lattigo uses (an extrapolation of the table, roughly doubling
//! per doubling of N); they are not part of the standard itself.

/// Largest log2(QP) for 128-bit classical security with a ternary secret,
/// or `None` when `log_n` is outside the supported range 10..=17.
pub fn max_log_qp_128(log_n: u32) -> Option<u32> {
    Some(match log_n {
        10 => 27,
        11 => 54,
        12 => 109,
        13 => 218,
        14 => 438,
        15 => 881,
        16 => 1772,
        17 => 3544,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        assert_eq!(max_log_qp_128(13), Some(218));
        assert_eq!(max_log_qp_128(16), Some(1772));
        assert_eq!(max_log_qp_128(9), None);
        assert_eq!(max_log_qp_128(18), None);
    }
}
