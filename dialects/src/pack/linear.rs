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
}

impl LinearPlan {
    /// `baby_steps` 0 picks the power of two nearest sqrt(m').
    pub fn new(
        weights: &[f32],
        rows: usize,
        cols: usize,
        input: &VecLayout,
        baby_steps: usize,
    ) -> Result<LinearPlan, String> {
        if weights.len() != rows * cols {
            return Err(format!(
                "weights hold {} values, expected {rows}x{cols}",
                weights.len()
            ));
        }
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
                "a {rows}x{cols} matrix needs a period of {period} slots, more than the {} available",
                input.slots
            ));
        }
        let diagonals: Vec<usize> = (0..out_period)
            .filter(|&k| {
                (0..period).any(|j| {
                    weight_at(weights, rows, cols, j % out_period, (j + k) % period) != 0.0
                })
            })
            .collect();
        let baby_steps = if baby_steps == 0 {
            default_baby_steps(out_period)
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
    pub fn diagonal_slots(&self, weights: &[f32], k: usize, giant: usize) -> Vec<f64> {
        let mut out = vec![0.0; self.slots];
        for (s, v) in out.iter_mut().enumerate() {
            // rot(d, -g)[s] = d[s - g]
            let j = (s + self.slots - giant % self.slots) % self.slots % self.period;
            *v = weight_at(
                weights,
                self.rows,
                self.cols,
                j % self.out_period,
                (j + k) % self.period,
            ) as f64;
        }
        out
    }
}

fn weight_at(w: &[f32], rows: usize, cols: usize, r: usize, c: usize) -> f32 {
    if r < rows && c < cols {
        w[r * cols + c]
    } else {
        0.0
    }
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
pub fn apply_plan(plan: &LinearPlan, weights: &[f32], bias: Option<&[f32]>, x: &[f64]) -> Vec<f64> {
    let babies: Vec<(usize, Vec<f64>)> = plan
        .baby_offsets()
        .into_iter()
        .map(|b| (b, rotate_slots(x, b as i64)))
        .collect();
    let mut acc = vec![0.0; plan.slots];
    for (g, ks) in plan.giant_groups() {
        let mut inner = vec![0.0; plan.slots];
        for k in ks {
            let d = plan.diagonal_slots(weights, k, g);
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
        for (a, v) in acc
            .iter_mut()
            .zip(out.pack(&b.iter().map(|&x| x as f64).collect::<Vec<_>>()))
        {
            *a += v;
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(rows: usize, cols: usize, slots: usize) {
        let w: Vec<f32> = (0..rows * cols)
            .map(|i| ((i * 37 % 11) as f32 - 5.0) / 7.0)
            .collect();
        let x: Vec<f64> = (0..cols).map(|i| (i as f64 * 0.3).sin()).collect();
        let input = VecLayout::replicated(slots, cols).unwrap();
        let plan = LinearPlan::new(&w, rows, cols, &input, 0).unwrap();
        let y = apply_plan(&plan, &w, None, &input.pack(&x));
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
}
