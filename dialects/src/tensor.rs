//! Dense row-major tensors for the cleartext interpreters. Values are f64 so
//! that the reference semantics add no error of their own on top of f32 inputs.

#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
}

impl Tensor {
    pub fn new(shape: Vec<usize>, data: Vec<f64>) -> Tensor {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        Tensor { shape, data }
    }

    pub fn zeros(shape: &[usize]) -> Tensor {
        Tensor::new(shape.to_vec(), vec![0.0; shape.iter().product()])
    }

    pub fn from_f32(shape: &[usize], data: &[f32]) -> Tensor {
        Tensor::new(shape.to_vec(), data.iter().map(|&v| v as f64).collect())
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn map(&self, f: impl Fn(f64) -> f64) -> Tensor {
        Tensor::new(
            self.shape.clone(),
            self.data.iter().map(|&v| f(v)).collect(),
        )
    }

    /// Row-major strides.
    pub fn strides(shape: &[usize]) -> Vec<usize> {
        let mut s = vec![1; shape.len()];
        for i in (0..shape.len().saturating_sub(1)).rev() {
            s[i] = s[i + 1] * shape[i + 1];
        }
        s
    }

    /// Largest absolute difference to `other` divided by the largest absolute
    /// value of `other` (1 if that is 0): the error measure our tests bound.
    pub fn max_rel_diff(&self, other: &Tensor) -> f64 {
        let scale = other
            .data
            .iter()
            .fold(0.0f64, |m, v| m.max(v.abs()))
            .max(1e-30);
        let diff = self
            .data
            .iter()
            .zip(&other.data)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        diff / if scale < 1e-30 { 1.0 } else { scale }
    }

    pub fn argmax(&self) -> usize {
        let mut best = 0;
        for (i, &v) in self.data.iter().enumerate() {
            if v > self.data[best] {
                best = i;
            }
        }
        best
    }
}

/// NumPy broadcasting of two shapes; None when they are incompatible.
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

/// Elementwise binary op with NumPy broadcasting.
pub fn broadcast_binary(
    a: &Tensor,
    b: &Tensor,
    f: impl Fn(f64, f64) -> f64,
) -> Result<Tensor, String> {
    broadcast_nary(&[a, b], |v| f(v[0], v[1]))
}

/// Elementwise op of any arity with NumPy broadcasting (`nn.where` has
/// three operands).
pub fn broadcast_nary(inputs: &[&Tensor], f: impl Fn(&[f64]) -> f64) -> Result<Tensor, String> {
    let mut shape: Vec<usize> = Vec::new();
    for t in inputs {
        shape = broadcast_shapes(&shape, &t.shape).ok_or_else(|| {
            let shapes: Vec<_> = inputs.iter().map(|t| &t.shape).collect();
            format!("shapes {shapes:?} do not broadcast")
        })?;
    }
    let n = shape.len();
    let out_strides = Tensor::strides(&shape);
    // Each input's stride along each output axis (0 where it broadcasts).
    let src_strides: Vec<Vec<usize>> = inputs
        .iter()
        .map(|t| {
            let s = &t.shape;
            let st = Tensor::strides(s);
            (0..n)
                .map(|i| {
                    if i + s.len() < n {
                        0
                    } else {
                        let j = i + s.len() - n;
                        if s[j] == 1 {
                            0
                        } else {
                            st[j]
                        }
                    }
                })
                .collect()
        })
        .collect();
    let total: usize = shape.iter().product();
    let mut data = Vec::with_capacity(total);
    let mut idx = vec![0usize; inputs.len()];
    let mut vals = vec![0f64; inputs.len()];
    for flat in 0..total {
        idx.iter_mut().for_each(|i| *i = 0);
        let mut rem = flat;
        for d in 0..n {
            let k = rem / out_strides[d];
            rem %= out_strides[d];
            for (i, st) in idx.iter_mut().zip(&src_strides) {
                *i += k * st[d];
            }
        }
        for ((v, t), &i) in vals.iter_mut().zip(inputs).zip(&idx) {
            *v = t.data[i];
        }
        data.push(f(&vals));
    }
    Ok(Tensor::new(shape, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_adds_bias_rows() {
        let a = Tensor::new(vec![2, 3], vec![1., 2., 3., 4., 5., 6.]);
        let b = Tensor::new(vec![3], vec![10., 20., 30.]);
        let c = broadcast_binary(&a, &b, |x, y| x + y).unwrap();
        assert_eq!(c.data, vec![11., 22., 33., 14., 25., 36.]);
        assert!(broadcast_shapes(&[2, 3], &[2]).is_none());
    }
}
