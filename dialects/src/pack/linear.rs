//! The diagonal plan of a matrix-vector product on packed vectors, shared by
//! the `pack` interpreter, the lowering to `ckks` and the runtime: the file
//! keeps the weights, and every consumer derives the same diagonals from them.
//!
//! "Hybrid" embedding (as in GAZELLE and Orion) of `y = W x`, W of m x n, x in
//! a replicated layout of period P_in >= n:
//!   m' = next_pow2(m), P = max(P_in, m'),
//!   d_k[j] = W[j mod m'][(j + k) mod P]   for k < m'  (0 outside W)
//!   y' = sum_k d_k * rot(x, k);  then y' += rot(y', s) for s = m', 2m', .., P/2
//! leaves y replicated with period m'. Only m' diagonals are needed instead
//! of the m + n - 1 of the plain diagonal method; all-zero ones are skipped.
//!
//! Baby-step giant-step: k = g * n1 + b, and
//!   sum_k d_k * rot(x, k) = sum_g rot(sum_b rot(d_k, -g n1) * rot(x, b), g n1)
//! so n1 - 1 baby and (#giants - 1) giant rotations replace m' - 1.

use super::layout::VecLayout;
use super::linear_map::LinearMap;

#[derive(Clone, Debug, PartialEq)]
pub struct LinearPlan {
    pub rows: usize,
    pub cols: usize,
    pub slots: usize,
    /// P: the period the products are computed in.
    pub period: usize,
    /// m' = next_pow2(rows): the output period.
    pub out_period: usize,
    pub baby_steps: usize,
    /// Nonzero diagonal indices, ascending.
    pub diagonals: Vec<usize>,
    /// Rotate-and-sum strides after the products.
    pub sum_steps: Vec<usize>,
    /// Nonzero entries (slot j < period, value) of each diagonal, parallel
    /// to `diagonals`.
    entries: Vec<Vec<(u32, f64)>>,
}

impl LinearPlan {
    /// `baby_steps` 0 picks the power of two nearest sqrt(m').
    ///
    /// Every nonzero A[r][c] lands on exactly one diagonal entry: with
    /// j = r + t m' (t < P / m') and (j + k) = c (mod P), k < m' forces
    /// k = (c - r) mod m' (as m' divides P), and then j = (c - k) mod P
    /// (which is r mod m' = r since r < m'). So the diagonals are built from
    /// the nonzeros in O(nnz), grouped by k once per plan.
    pub fn new(
        map: &LinearMap,
        input: &VecLayout,
        baby_steps: usize,
    ) -> Result<LinearPlan, String> {
        let (rows, cols) = (map.rows(), map.cols());
        if input.size != cols {
            return Err(format!(
                "input holds {} elements but the matrix has {cols} columns",
                input.size
            ));
        }
        let out_period = rows.next_power_of_two();
        let period = input.period.max(out_period);
        if period > input.slots {
            return Err(format!(
                "the result of {rows} elements needs a period of {period} slots, more than the {} available",
                input.slots
            ));
        }
        let mut by_k: Vec<Vec<(u32, f64)>> = vec![Vec::new(); out_period];
        map.for_each_nonzero(|r, c, v| {
            let k = (c + out_period - r % out_period) % out_period;
            let j = (c + period - k) % period;
            debug_assert_eq!(j % out_period, r);
            by_k[k].push((j as u32, v));
        });
        let (mut diagonals, mut entries) = (Vec::new(), Vec::new());
        for (k, e) in by_k.into_iter().enumerate() {
            if e.iter().any(|&(_, v)| v != 0.0) {
                diagonals.push(k);
                entries.push(e);
            }
        }
        let baby_steps = if baby_steps == 0 {
            best_baby_steps(&diagonals, out_period)
        } else {
            baby_steps
        };
        if !baby_steps.is_power_of_two() || baby_steps > out_period {
            return Err(format!(
                "baby_steps must be a power of two no larger than {out_period}, got {baby_steps}"
            ));
        }
        let mut sum_steps = Vec::new();
        let mut s = out_period;
        while s < period {
            sum_steps.push(s);
            s *= 2;
        }
        Ok(LinearPlan {
            rows,
            cols,
            slots: input.slots,
            period,
            out_period,
            baby_steps,
            diagonals,
            sum_steps,
            entries,
        })
    }

    pub fn output_layout(&self) -> VecLayout {
        VecLayout {
            slots: self.slots,
            size: self.rows,
            period: self.out_period,
        }
    }

    /// Baby-step offsets used (b = k mod n1), ascending.
    pub fn baby_offsets(&self) -> Vec<usize> {
        let mut b: Vec<usize> = self.diagonals.iter().map(|k| k % self.baby_steps).collect();
        b.sort_unstable();
        b.dedup();
        b
    }

    /// Giant-step groups: (g * n1, diagonals in the group), ascending.
    pub fn giant_groups(&self) -> Vec<(usize, Vec<usize>)> {
        let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
        for &k in &self.diagonals {
            let g = k / self.baby_steps * self.baby_steps;
            match groups.last_mut() {
                Some((last, ks)) if *last == g => ks.push(k),
                _ => groups.push((g, vec![k])),
            }
        }
        groups
    }

    /// Every rotation offset the plan performs (baby, giant, sums).
    pub fn rotation_offsets(&self) -> Vec<usize> {
        let mut r: Vec<usize> = self
            .baby_offsets()
            .into_iter()
            .filter(|&b| b != 0)
            .collect();
        r.extend(
            self.giant_groups()
                .iter()
                .map(|(g, _)| *g)
                .filter(|&g| g != 0),
        );
        r.extend(&self.sum_steps);
        r.sort_unstable();
        r.dedup();
        r
    }

    /// Diagonal k as a full slot vector, pre-rotated by -`giant` (its group's
    /// giant step), so that the giant rotation can be applied after the sum.
    pub fn diagonal_slots(&self, k: usize, giant: usize) -> Vec<f64> {
        let mut d = vec![0.0; self.period];
        if let Ok(i) = self.diagonals.binary_search(&k) {
            for &(j, v) in &self.entries[i] {
                d[j as usize] += v;
            }
        }
        // rot(d, -g)[s] = d[s - g]; the diagonal repeats with period P.
        let shift = self.period - giant % self.period;
        (0..self.slots)
            .map(|s| d[(s + shift) % self.period])
            .collect()
    }

    /// Number of nonzero matrix entries the plan holds.
    pub fn nonzeros(&self) -> usize {
        self.entries.iter().map(Vec::len).sum()
    }
}

/// The power-of-two n1 that needs the fewest baby plus giant rotations for
/// this set of diagonals (a conv's diagonals come in clusters, for which the
/// dense balance below is far from best); ties keep the dense default.
pub fn best_baby_steps(diagonals: &[usize], out_period: usize) -> usize {
    let cost = |n1: usize| {
        let mut babies: Vec<usize> = diagonals.iter().map(|k| k % n1).collect();
        let mut giants: Vec<usize> = diagonals.iter().map(|k| k / n1).collect();
        babies.sort_unstable();
        babies.dedup();
        giants.sort_unstable();
        giants.dedup();
        babies.iter().filter(|&&b| b != 0).count() + giants.iter().filter(|&&g| g != 0).count()
    };
    let default = default_baby_steps(out_period);
    let mut best = (cost(default), default);
    let mut n1 = 1;
    while n1 <= out_period {
        let c = cost(n1);
        if c < best.0 {
            best = (c, n1);
        }
        n1 *= 2;
    }
    best.1
}

/// n1 = 2^ceil(log2(m') / 2): balances n1 baby against m'/n1 giant steps.
pub fn default_baby_steps(out_period: usize) -> usize {
    let log = out_period.trailing_zeros();
    1 << log.div_ceil(2)
}

/// Cyclic left rotation of a slot vector: out[i] = v[(i + k) mod n].
pub fn rotate_slots(v: &[f64], k: i64) -> Vec<f64> {
    let n = v.len() as i64;
    let k = k.rem_euclid(n) as usize;
    let mut out = Vec::with_capacity(v.len());
    out.extend_from_slice(&v[k..]);
    out.extend_from_slice(&v[..k]);
    out
}

/// The plan evaluated on cleartext slots, exactly as the ciphertext program
/// does it: the `pack` interpreter's `pack.linear`.
/// `bias` holds one value per output element.
pub fn apply_plan(plan: &LinearPlan, bias: Option<&[f64]>, x: &[f64]) -> Vec<f64> {
    let babies: Vec<(usize, Vec<f64>)> = plan
        .baby_offsets()
        .into_iter()
        .map(|b| (b, rotate_slots(x, b as i64)))
        .collect();
    let mut acc = vec![0.0; plan.slots];
    for (g, ks) in plan.giant_groups() {
        let mut inner = vec![0.0; plan.slots];
        for k in ks {
            let d = plan.diagonal_slots(k, g);
            let xb = &babies
                .iter()
                .find(|(b, _)| *b == k - g)
                .expect("baby offset")
                .1;
            for ((o, dv), xv) in inner.iter_mut().zip(&d).zip(xb) {
                *o += dv * xv;
            }
        }
        for (a, v) in acc.iter_mut().zip(rotate_slots(&inner, g as i64)) {
            *a += v;
        }
    }
    for &s in &plan.sum_steps {
        let r = rotate_slots(&acc, s as i64);
        for (a, v) in acc.iter_mut().zip(r) {
            *a += v;
        }
    }
    if let Some(b) = bias {
        let out = plan.output_layout();
        for (a, v) in acc.iter_mut().zip(out.pack(b)) {
            *a += v;
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::conv::{Conv2dAttrs, PoolAttrs};

    fn check(rows: usize, cols: usize, slots: usize) {
        let w: Vec<f32> = (0..rows * cols)
            .map(|i| ((i * 37 % 11) as f32 - 5.0) / 7.0)
            .collect();
        let x: Vec<f64> = (0..cols).map(|i| (i as f64 * 0.3).sin()).collect();
        let input = VecLayout::replicated(slots, cols).unwrap();
        let map = LinearMap::dense(rows, cols, w.clone()).unwrap();
        let plan = LinearPlan::new(&map, &input, 0).unwrap();
        let y = apply_plan(&plan, None, &input.pack(&x));
        for r in 0..rows {
            let want: f64 = (0..cols).map(|c| w[r * cols + c] as f64 * x[c]).sum();
            for t in 0..slots / plan.out_period {
                let got = y[r + t * plan.out_period];
                assert!(
                    (got - want).abs() < 1e-9,
                    "{rows}x{cols} row {r} copy {t}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn hybrid_plan_computes_matrix_vector_products() {
        check(128, 784, 4096); // wide: rotate-and-sum
        check(128, 128, 4096); // square
        check(10, 128, 4096); // padded rows
        check(128, 10, 4096); // tall: output period above the input's
        check(3, 5, 8);
    }

    /// The diagonals by their definition, d_k[j] = A[j mod m'][(j + k) mod P]
    /// over every k < m' and j < P, from the dense matrix.
    fn dense_diagonals(a: &[f64], rows: usize, cols: usize, m: usize, p: usize) -> Vec<Vec<f64>> {
        (0..m)
            .map(|k| {
                (0..p)
                    .map(|j| {
                        let (r, c) = (j % m, (j + k) % p);
                        if r < rows && c < cols {
                            a[r * cols + c]
                        } else {
                            0.0
                        }
                    })
                    .collect()
            })
            .collect()
    }

    fn compare_with_dense(map: &LinearMap, slots: usize, in_period: usize) {
        let (rows, cols) = (map.rows(), map.cols());
        let input = VecLayout {
            slots,
            size: cols,
            period: in_period,
        };
        let plan = LinearPlan::new(map, &input, 0).unwrap();
        let a = map.to_dense();
        let dense = dense_diagonals(&a, rows, cols, plan.out_period, plan.period);
        let nonzero: Vec<usize> = (0..plan.out_period)
            .filter(|&k| dense[k].iter().any(|&v| v != 0.0))
            .collect();
        assert_eq!(
            plan.diagonals, nonzero,
            "{rows}x{cols} in period {in_period}"
        );
        for &k in &nonzero {
            for giant in [0, plan.baby_steps, 3 * plan.baby_steps] {
                let got = plan.diagonal_slots(k, giant);
                for (s, &v) in got.iter().enumerate() {
                    let j = (s + slots - giant % slots) % plan.period;
                    assert_eq!(v, dense[k][j], "diagonal {k} giant {giant} slot {s}");
                }
            }
        }
        // And the product itself.
        let x: Vec<f64> = (0..cols).map(|i| (i as f64 * 0.7).cos()).collect();
        let y = apply_plan(&plan, None, &input.pack(&x));
        for r in 0..rows {
            let want: f64 = (0..cols).map(|c| a[r * cols + c] * x[c]).sum();
            assert!((y[r] - want).abs() < 1e-9, "row {r}: {} vs {want}", y[r]);
        }
    }

    #[test]
    fn sparse_plans_equal_the_dense_construction() {
        let w = |n: usize| -> Vec<f32> {
            (0..n)
                .map(|i| ((i * 7919 % 23) as f32 - 11.0) / 13.0)
                .collect()
        };
        let conv = |input: [usize; 4], kernel: [usize; 4], attrs: Conv2dAttrs| {
            LinearMap::conv2d(input, kernel, w(kernel.iter().product()), attrs).unwrap()
        };
        // Tall (m' = P): 1x6x6 -> 4x6x6.
        let padded = Conv2dAttrs {
            pads: [1, 1, 1, 1],
            ..Conv2dAttrs::default()
        };
        compare_with_dense(&conv([1, 1, 6, 6], [4, 1, 3, 3], padded.clone()), 256, 64);
        // Tall, with an input period above the tensor's.
        compare_with_dense(&conv([1, 1, 6, 6], [4, 1, 3, 3], padded), 512, 128);
        // Wide (m' < P): strided, grouped, asymmetric pads.
        let strided = Conv2dAttrs {
            strides: [2, 2],
            pads: [0, 1, 1, 0],
            dilations: [1, 1],
            groups: 2,
        };
        compare_with_dense(&conv([1, 4, 8, 8], [2, 2, 3, 3], strided), 512, 256);
        // Average pools: 2x2 stride 2, and a global one.
        let pool = PoolAttrs {
            kernel: [2, 2],
            strides: [2, 2],
            pads: [0; 4],
            count_include_pad: true,
        };
        compare_with_dense(&LinearMap::avgpool([1, 3, 6, 6], pool).unwrap(), 256, 128);
        let global = PoolAttrs {
            kernel: [4, 4],
            strides: [1, 1],
            pads: [0; 4],
            count_include_pad: true,
        };
        compare_with_dense(&LinearMap::avgpool([1, 5, 4, 4], global).unwrap(), 128, 128);
        // Dense, wide and tall.
        compare_with_dense(&LinearMap::dense(5, 40, w(200)).unwrap(), 128, 64);
        compare_with_dense(&LinearMap::dense(40, 5, w(200)).unwrap(), 128, 8);
    }
}
