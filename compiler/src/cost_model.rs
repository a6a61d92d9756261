//! What CKKS operations cost, per level, for decisions such as where to
//! bootstrap. The figures are medians our runtime measured (single thread,
//! `ckks/examples/ckks_ops.rs`, docs/bench-ckks.md: LogN 16, 2^15 slots,
//! three special primes), at the top level (10) and at level 5; in between
//! and below, the cost is interpolated linearly in the number of limbs
//! (`l + 1`), which is how every per-limb loop of the runtime scales. Other
//! ring sizes scale by N / 2^16 (the NTTs' N log N is close enough to N over
//! the range we use). Only ratios matter to the placement, not the unit.

/// Milliseconds of one operation at two levels, `(level, ms)`.
#[derive(Clone, Copy, Debug)]
struct Measured {
    low: (usize, f64),
    high: (usize, f64),
}

impl Measured {
    fn at(&self, level: usize) -> f64 {
        let (l0, c0) = self.low;
        let (l1, c1) = self.high;
        let per_limb = (c1 - c0) / (l1 - l0) as f64;
        // Never below a tenth of the cheapest measurement: fixed overheads.
        (c0 + per_limb * (level as f64 - l0 as f64)).max(0.1 * c0)
    }
}

// docs/bench-ckks.md, "Level 5, 1 thread" and "Top level (level 10), 1 thread"
// (2026-12-03).
const ROTATE: Measured = Measured {
    low: (5, 29.38),
    high: (10, 49.83),
};
const HOISTED_ROTATE: Measured = Measured {
    low: (5, 14.84),
    high: (10, 27.04),
};
const MUL_PLAIN_RESCALE: Measured = Measured {
    low: (5, 8.32),
    high: (10, 11.82),
};
const MUL_RELIN_RESCALE: Measured = Measured {
    low: (5, 39.18),
    high: (10, 63.61),
};
// After the vectorised add (docs/bench-ckks.md, below the tables).
const ADD: Measured = Measured {
    low: (5, 0.79),
    high: (10, 1.10),
};

/// Our bootstrap at Orion's ResNet parameters (N = 2^16, BSGS DFT, two
/// threads; `bootstrap_bench --real`, docs/bench-bootstrap.md, 2026-12-03):
/// all 2^15 slots take two EvalMods (real and imaginary parts), a sparse
/// set of 2^14 or fewer one (both parts packed in one ciphertext) and
/// smaller DFTs.
const BOOTSTRAP_FULL_MS: f64 = 6_980.0;
const BOOTSTRAP_SPARSE_MS: f64 = 6_025.0;

#[derive(Clone, Copy, Debug)]
pub struct CostModel {
    /// N / 2^16.
    ring_factor: f64,
}

impl CostModel {
    pub fn for_log_n(log_n: u32) -> CostModel {
        CostModel {
            ring_factor: 2f64.powi(log_n as i32 - 16),
        }
    }

    pub fn rotate(&self, level: usize) -> f64 {
        self.ring_factor * ROTATE.at(level)
    }

    /// One rotation of several sharing a decomposition.
    pub fn hoisted_rotate(&self, level: usize) -> f64 {
        self.ring_factor * HOISTED_ROTATE.at(level)
    }

    pub fn mul_plain_rescale(&self, level: usize) -> f64 {
        self.ring_factor * MUL_PLAIN_RESCALE.at(level)
    }

    pub fn mul_relin_rescale(&self, level: usize) -> f64 {
        self.ring_factor * MUL_RELIN_RESCALE.at(level)
    }

    pub fn add(&self, level: usize) -> f64 {
        self.ring_factor * ADD.at(level)
    }

    /// A bootstrap of a value whose layout repeats every `period` of the
    /// ring's `slots` (sparse when `period < slots`).
    pub fn bootstrap(&self, period: usize, slots: usize) -> f64 {
        let ms = if period < slots {
            BOOTSTRAP_SPARSE_MS
        } else {
            BOOTSTRAP_FULL_MS
        };
        self.ring_factor * ms
    }

    /// A polynomial of degree `d` by baby-step giant-step from `level`: about
    /// 2 sqrt(d) + log2(d) ciphertext products (powers and giant-step
    /// combinations) and d scalar products and additions, each product one
    /// level lower than the last on average over the tree.
    pub fn polynomial(&self, degree: usize, level: usize, depth: usize) -> f64 {
        if degree == 0 {
            return 0.0;
        }
        let d = degree as f64;
        let products = 2.0 * d.sqrt() + d.log2().ceil();
        let mid = level.saturating_sub(depth / 2);
        products * self.mul_relin_rescale(mid)
            + d * (self.add(mid) + self.mul_plain_rescale(mid) / 4.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_grow_with_the_level_and_match_the_measurements() {
        let m = CostModel::for_log_n(16);
        assert!((m.rotate(10) - 49.83).abs() < 1e-9);
        assert!((m.rotate(5) - 29.38).abs() < 1e-9);
        assert!(m.rotate(0) > 0.0 && m.rotate(0) < m.rotate(1));
        assert!(m.mul_relin_rescale(3) < m.mul_relin_rescale(7));
        // A smaller ring is proportionally cheaper.
        assert!((CostModel::for_log_n(15).rotate(10) - 49.83 / 2.0).abs() < 1e-9);
        // A bootstrap costs far more than any single layer's operation.
        assert!(m.bootstrap(1 << 14, 1 << 15) > 100.0 * m.rotate(10));
        // Sparse slots: one EvalMod instead of two, smaller DFTs.
        assert!(m.bootstrap(1 << 14, 1 << 15) < m.bootstrap(1 << 15, 1 << 15));
    }
}
