//! Dense linear solve by Gaussian elimination with partial pivoting. The
//! systems Remez builds are at most a few dozen unknowns.

/// Solves `a x = b` for a square row-major `a` (`n` x `n`). Errors when the
/// matrix is singular to working precision.
pub fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Result<Vec<f64>, String> {
    let n = b.len();
    if a.len() != n || a.iter().any(|r| r.len() != n) {
        return Err(format!("solve: expected a {n}x{n} matrix"));
    }
    let scale = a
        .iter()
        .flatten()
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(f64::MIN_POSITIVE);
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .expect("non-empty range");
        if a[pivot][col].abs() <= scale * 1e-300_f64.max(f64::EPSILON * 1e-6) {
            return Err(format!("solve: matrix is singular (column {col})"));
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (top, rest) = a.split_at_mut(col + 1);
        let pivot_row = &top[col];
        for (offset, row) in rest.iter_mut().enumerate() {
            let f = row[col] / pivot_row[col];
            if f != 0.0 {
                for (r, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                    *r -= f * p;
                }
                b[col + 1 + offset] -= f * b[col];
            }
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_system_that_needs_pivoting() {
        // The leading zero forces a row swap.
        let a = vec![
            vec![0.0, 2.0, 1.0],
            vec![1.0, 1.0, 1.0],
            vec![2.0, 1.0, 3.0],
        ];
        let x_true = [1.0, -2.0, 3.0];
        let b: Vec<f64> = a
            .iter()
            .map(|r| r.iter().zip(&x_true).map(|(p, q)| p * q).sum())
            .collect();
        let x = solve(a, b).unwrap();
        for (u, v) in x.iter().zip(&x_true) {
            assert!((u - v).abs() < 1e-12, "{x:?}");
        }
    }

    #[test]
    fn rejects_a_singular_matrix() {
        assert!(solve(vec![vec![1.0, 2.0], vec![2.0, 4.0]], vec![1.0, 2.0]).is_err());
    }
}
