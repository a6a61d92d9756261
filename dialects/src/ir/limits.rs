//! Bounds on what a type may describe, so that every size computed from a
//! verified type is exact (no overflow) and allocatable in principle; and
//! the memory the machine has, which the interpreters check before they
//! allocate.

/// The most elements a tensor type may hold: 2^31 (16 GiB as f64).
/// ImageNet-scale activations hold about 10^7, the largest weights about
/// 10^8; a type beyond this is a mistake or an attack.
pub const MAX_TENSOR_ELEMENTS: usize = 1 << 31;

/// The most slots a packed vector may name: N = 2^17, the largest ring the
/// runtime supports, has 2^17 real slots (conjugate-invariant ring).
pub const MAX_SLOTS: usize = 1 << 17;

/// The product of `dims`, or `None` if it overflows.
pub fn checked_product(dims: &[usize]) -> Option<usize> {
    dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

/// The element count of a tensor of `shape`, refused past
/// [`MAX_TENSOR_ELEMENTS`].
pub fn element_count(shape: &[usize]) -> Result<usize, String> {
    match checked_product(shape) {
        Some(n) if n <= MAX_TENSOR_ELEMENTS => Ok(n),
        Some(n) => Err(format!(
            "a tensor of shape {shape:?} holds {n} elements, more than the {MAX_TENSOR_ELEMENTS} a tensor may have"
        )),
        None => Err(format!(
            "the element count of shape {shape:?} overflows (more than the {MAX_TENSOR_ELEMENTS} a tensor may have)"
        )),
    }
}

/// The memory this process may use, in bytes, where the OS tells: the
/// smaller of MemAvailable and the process's address-space limit
/// (`ulimit -v`, `prlimit --as`).
pub fn available_memory() -> Option<usize> {
    let available = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            let kb: usize = info
                .lines()
                .find_map(|l| l.strip_prefix("MemAvailable:"))?
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .ok()?;
            kb.checked_mul(1024)
        });
    // "Max address space   <soft>   <hard>   bytes"; "unlimited" parses to none.
    let limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            l.lines()
                .find_map(|l| l.strip_prefix("Max address space"))?
                .split_whitespace()
                .next()?
                .parse::<usize>()
                .ok()
        });
    match (available, limit) {
        (Some(a), Some(l)) => Some(a.min(l)),
        (a, l) => a.or(l),
    }
}

/// Refuses work that needs `bytes` (an estimate) when the machine does not
/// have them available; `what` names the work.
pub fn check_memory(what: &str, bytes: usize) -> Result<(), String> {
    match available_memory() {
        Some(avail) if bytes > avail => Err(format!(
            "{what} needs about {:.1} GB, only {:.1} GB are available (free memory, or this process's limit)",
            bytes as f64 / 1e9,
            avail as f64 / 1e9
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_are_checked_and_bounded() {
        assert_eq!(checked_product(&[3, 4, 5]), Some(60));
        assert_eq!(checked_product(&[]), Some(1));
        assert_eq!(checked_product(&[1 << 40, 1 << 40]), None);
        assert_eq!(element_count(&[2, 3]), Ok(6));
        assert!(element_count(&[1 << 16, 1 << 16])
            .unwrap_err()
            .contains("more than the 2147483648"));
        assert!(element_count(&[usize::MAX, 2])
            .unwrap_err()
            .contains("overflows"));
    }
}
