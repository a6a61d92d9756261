//! Polynomial evaluation on ciphertexts, in the Chebyshev and monomial
//! bases, by baby-step giant-step (Paterson-Stockmeyer style) at the optimal
//! depth `ceil(log2(d + 1))`, with the output at an exact, chosen scale.
//!
//! **Power basis.** `T_i` (or `x^i`) for `i >= 2` is computed as
//! `T_i = 2 T_a T_b - T_(a-b)` with `a` the largest power of two below `i`
//! and `b = i - a`, so `T_i` sits `ceil(log2 i)` levels below the input.
//! Baby powers are all `i < 2^s`; giant powers are `2^s, ..., 2^(D-1)`.
//!
//! **Splitting.** `p = q T_m + r` with `m` the largest power of two `<= deg p`
//! (Chebyshev: `T_m T_k = (T_(m+k) + T_(m-k)) / 2`), recursively, down to
//! *leaves* of degree `< 2^s` that are linear combinations of baby powers.
//! A leaf is only used where all its powers are available at the level it
//! must be evaluated at; otherwise it is split further (this is what keeps
//! the leading branch, whose leaves are the deepest, at the optimal depth).
//! `s` is chosen by counting the ciphertext products of every candidate plan.
//!
//! **Lazy rescaling and exact scales** (the approach of Lattigo's polynomial
//! evaluator, Bossuat et al. 2021). `eval(node, L, S)` returns the node's
//! value at level `L` with scale exactly `S`, *before* its rescale:
//! - a leaf multiplies each `T_i` by its coefficient encoded at scale
//!   `S / scale(T_i)` (≈ q: full precision) so that every term has scale `S`;
//! - a split evaluates `q` at level `L + 1` and scale `S q_(L+1) / scale(T_m)`,
//!   rescales it (dividing by exactly `q_(L+1)`) and multiplies by `T_m`,
//!   which lands at scale `S`; `r` is evaluated at `(L, S)` and added.
//!
//! The root is evaluated at scale `target q_L` and rescaled once, so the
//! output's scale is `target_scale` exactly, whatever the primes are.
//! Relinearization is also lazy: products are summed in degree 2 and only
//! relinearized before they are multiplied again (or at the end).
//!
//! **Chebyshev on `[a, b]`.** The variable `y = (2x - a - b) / (b - a)` costs
//! one level (a multiplication by a real constant and a rescale) unless
//! `b - a = 2` (then it is an addition). Callers that can fold the scaling
//! into an earlier step (e.g. the matrix before the polynomial) should pass
//! an interval of width 2 to keep the depth at `ceil(log2(d + 1))`;
//! [`Polynomial::depth`] counts that level when it is needed.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;

use crate::error::CkksError;
use crate::scheme::ciphertext::Ciphertext;
use crate::scheme::evaluator::Evaluator;

/// The basis the coefficients of a [`Polynomial`] refer to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PolyBasis {
    /// `Σ c_i x^i`.
    Monomial,
    /// `Σ c_i T_i(y)` with `y = (2x - a - b) / (b - a)` mapping `[a, b]` to `[-1, 1]`.
    Chebyshev {
        /// Left end of the interval.
        a: f64,
        /// Right end of the interval.
        b: f64,
    },
}

/// A real polynomial in a given basis.
#[derive(Clone, Debug, PartialEq)]
pub struct Polynomial {
    /// The basis of `coeffs`.
    pub basis: PolyBasis,
    /// Coefficient `i` multiplies `x^i` or `T_i`.
    pub coeffs: Vec<f64>,
}

impl Polynomial {
    /// `Σ coeffs[i] x^i`.
    pub fn monomial(coeffs: Vec<f64>) -> Self {
        Self {
            basis: PolyBasis::Monomial,
            coeffs,
        }
    }

    /// `Σ coeffs[i] T_i((2x - a - b) / (b - a))`.
    pub fn chebyshev(coeffs: Vec<f64>, a: f64, b: f64) -> Self {
        Self {
            basis: PolyBasis::Chebyshev { a, b },
            coeffs,
        }
    }

    /// Index of the highest nonzero coefficient (0 for a constant).
    pub fn degree(&self) -> usize {
        self.coeffs.iter().rposition(|&c| c != 0.0).unwrap_or(0)
    }

    /// Levels consumed by [`Evaluator::evaluate_polynomial`]:
    /// `ceil(log2(degree + 1))`, plus one for the change of variable of a
    /// Chebyshev interval whose width is not 2.
    pub fn depth(&self) -> usize {
        power_depth(self.degree() + 1) + usize::from(self.affine().0 != 1.0)
    }

    /// `(α, β)` with `y = α x + β` the Chebyshev variable (`(1, 0)` for monomials).
    fn affine(&self) -> (f64, f64) {
        match self.basis {
            PolyBasis::Monomial => (1.0, 0.0),
            PolyBasis::Chebyshev { a, b } => (2.0 / (b - a), -(a + b) / (b - a)),
        }
    }

    /// The polynomial evaluated at a real `x` in floating point (the
    /// reference the homomorphic evaluation is tested against).
    pub fn evaluate_f64(&self, x: f64) -> f64 {
        match self.basis {
            PolyBasis::Monomial => self.coeffs.iter().rev().fold(0.0, |acc, &c| acc * x + c),
            PolyBasis::Chebyshev { .. } => {
                let (alpha, beta) = self.affine();
                let y = alpha * x + beta;
                // Clenshaw's recurrence.
                let (mut b1, mut b2) = (0.0, 0.0);
                for &c in self.coeffs.iter().skip(1).rev() {
                    let b0 = 2.0 * y * b1 - b2 + c;
                    b2 = b1;
                    b1 = b0;
                }
                y * b1 - b2 + self.coeffs.first().copied().unwrap_or(0.0)
            }
        }
    }

    fn is_chebyshev(&self) -> bool {
        matches!(self.basis, PolyBasis::Chebyshev { .. })
    }

    fn validate(&self) -> Result<(), CkksError> {
        let bad = |reason: String| CkksError::InvalidArgument {
            op: "evaluate_polynomial",
            reason,
        };
        if self.coeffs.is_empty() {
            return Err(bad("the polynomial has no coefficients".into()));
        }
        if let Some(c) = self.coeffs.iter().find(|c| !c.is_finite()) {
            return Err(bad(format!("coefficient {c} is not finite")));
        }
        if let PolyBasis::Chebyshev { a, b } = self.basis {
            if !(a.is_finite() && b.is_finite() && a < b) {
                return Err(bad(format!(
                    "Chebyshev interval [{a}, {b}] is empty or not finite"
                )));
            }
        }
        Ok(())
    }
}

/// `ceil(log2(i))`: levels below the input at which `T_i` is computed.
fn power_depth(i: usize) -> usize {
    if i <= 1 {
        0
    } else {
        (usize::BITS - (i - 1).leading_zeros()) as usize
    }
}

/// Splits `p = q T_m + r` (or `q x^m + r`), `deg p < 2m`.
fn divide(coeffs: &[f64], m: usize, chebyshev: bool) -> (Vec<f64>, Vec<f64>) {
    let mut r: Vec<f64> = coeffs[..m.min(coeffs.len())].to_vec();
    let mut q = vec![0.0; coeffs.len().saturating_sub(m)];
    for (k, &c) in coeffs.iter().enumerate().skip(m) {
        let k = k - m;
        if chebyshev && k > 0 {
            // T_(m+k) = 2 T_m T_k - T_(m-k).
            q[k] += 2.0 * c;
            r[m - k] -= c;
        } else {
            q[k] += c;
        }
    }
    (q, r)
}

/// The evaluation plan: `p = q T_m + r` splits down to leaves.
#[derive(Debug)]
enum Node {
    /// `Σ c_i T_i` (degree < the baby bound, powers available).
    Leaf(Vec<f64>),
    Split {
        m: usize,
        q: Box<Node>,
        r: Box<Node>,
    },
}

fn degree_of(c: &[f64]) -> usize {
    c.iter().rposition(|&x| x != 0.0).unwrap_or(0)
}

/// Plans `coeffs` evaluated `below` levels under the input (before its
/// rescale), with leaves of degree `< baby`. Invariant: `below >= bits(deg) - 1`.
fn plan(coeffs: &[f64], below: usize, baby: usize, chebyshev: bool) -> Node {
    let deg = degree_of(coeffs);
    let leaf_ok = deg < baby
        && coeffs
            .iter()
            .enumerate()
            .skip(1)
            .all(|(i, &c)| c == 0.0 || power_depth(i) <= below);
    if deg == 0 || leaf_ok {
        return Node::Leaf(coeffs[..=deg].to_vec());
    }
    let m = 1usize << (usize::BITS - 1 - deg.leading_zeros());
    let (q, r) = divide(&coeffs[..=deg], m, chebyshev);
    Node::Split {
        m,
        q: Box::new(plan(&q, below - 1, baby, chebyshev)),
        r: Box::new(plan(&r, below, baby, chebyshev)),
    }
}

/// Powers a plan reads directly, and the number of ciphertext products of
/// the splits.
fn plan_usage(node: &Node, powers: &mut BTreeSet<usize>) -> usize {
    match node {
        Node::Leaf(c) => {
            powers.extend((1..c.len()).filter(|&i| c[i] != 0.0));
            0
        }
        Node::Split { m, q, r } => {
            powers.insert(*m);
            let own = usize::from(
                matches!(&**q, Node::Leaf(c) if degree_of(c) > 0)
                    || matches!(**q, Node::Split { .. }),
            );
            own + plan_usage(q, powers) + plan_usage(r, powers)
        }
    }
}

/// `(a, b)` with `T_i` computed from `T_a T_b` (`a` the largest power of two below `i`).
fn power_factors(i: usize) -> (usize, usize) {
    let a = 1usize << (power_depth(i) - 1);
    (a, i - a)
}

/// All powers needed to compute `direct` (their dependencies included).
fn power_closure(direct: &BTreeSet<usize>, chebyshev: bool) -> BTreeSet<usize> {
    let mut all = BTreeSet::new();
    let mut todo: Vec<usize> = direct.iter().copied().collect();
    while let Some(i) = todo.pop() {
        if i == 0 || !all.insert(i) || i == 1 {
            continue;
        }
        let (a, b) = power_factors(i);
        todo.push(a);
        todo.push(b);
        if chebyshev && a != b {
            todo.push(a - b);
        }
    }
    all
}

/// The plan with the fewest ciphertext products over the baby bounds `2^s`.
fn best_plan(coeffs: &[f64], chebyshev: bool) -> (Node, BTreeSet<usize>) {
    let deg = degree_of(coeffs);
    let d = power_depth(deg + 1);
    let below = d.saturating_sub(1);
    let mut best: Option<(usize, Node, BTreeSet<usize>)> = None;
    for s in 1..=d.max(1) {
        let node = plan(coeffs, below, 1 << s, chebyshev);
        let mut direct = BTreeSet::new();
        let splits = plan_usage(&node, &mut direct);
        let powers = power_closure(&direct, chebyshev);
        let cost = splits + powers.iter().filter(|&&i| i >= 2).count();
        if best.as_ref().is_none_or(|b| cost < b.0) {
            best = Some((cost, node, powers));
        }
    }
    let (_, node, powers) = best.expect("at least one candidate");
    (node, powers)
}

/// The value of a plan node: a ciphertext, or a constant (no ciphertext needed).
enum Value {
    Ct(Ciphertext),
    Const(f64),
}

impl Evaluator {
    /// `ct * c` with the constant encoded so that the result has scale
    /// exactly `target` (the constant's own scale is `target / ct.scale`).
    fn mul_const_to_scale(
        &self,
        ct: &Ciphertext,
        c: f64,
        target: f64,
    ) -> Result<Ciphertext, CkksError> {
        let mut out = self.mul_const(ct, c, target / ct.scale)?;
        out.scale = target;
        Ok(out)
    }

    /// The power `T_i` (or `x^i`) from smaller ones already in `powers`.
    fn power(
        &self,
        i: usize,
        powers: &BTreeMap<usize, Ciphertext>,
        chebyshev: bool,
    ) -> Result<Ciphertext, CkksError> {
        let (a, b) = power_factors(i);
        let (ta, tb) = (&powers[&a], &powers[&b]);
        let level = ta.level.min(tb.level);
        let ta = self.level_down(ta, level)?;
        let tb = self.level_down(tb, level)?;
        let mut prod = if a == b {
            self.square_relin(&ta)?
        } else {
            self.mul_relin(&ta, &tb)?
        };
        if chebyshev {
            // 2 T_a T_b - T_(a-b): the factor 2 is an exact integer product.
            prod = self.mul_const(&prod, 2.0, 1.0)?;
            if a != b {
                let t = self.level_down(&powers[&(a - b)], level)?;
                let t = self.mul_const_to_scale(&t, -1.0, prod.scale)?;
                self.add_assign(&mut prod, &t)?;
            } else {
                prod = self.add_const(&prod, -1.0)?;
            }
        }
        self.rescale_assign(&mut prod)?;
        Ok(prod)
    }

    fn eval_node(
        &self,
        node: &Node,
        level: usize,
        scale: f64,
        powers: &BTreeMap<usize, Ciphertext>,
    ) -> Result<Value, CkksError> {
        match node {
            Node::Leaf(c) => {
                let mut acc: Option<Ciphertext> = None;
                for (i, &ci) in c.iter().enumerate().skip(1) {
                    if ci == 0.0 {
                        continue;
                    }
                    let t = self.level_down(&powers[&i], level)?;
                    let term = self.mul_const_to_scale(&t, ci, scale)?;
                    match &mut acc {
                        None => acc = Some(term),
                        Some(a) => self.add_assign(a, &term)?,
                    }
                }
                Ok(match acc {
                    None => Value::Const(c[0]),
                    Some(a) if c[0] != 0.0 => Value::Ct(self.add_const(&a, c[0])?),
                    Some(a) => Value::Ct(a),
                })
            }
            Node::Split { m, q, r } => {
                let tm = self.level_down(&powers[m], level)?;
                let q_level_prime = self.context().q(level + 1) as f64;
                let q_scale = scale * q_level_prime / tm.scale;
                // The quotient and the remainder are independent: evaluated
                // in parallel (with more than one rayon thread).
                let (qv, rem) = rayon::join(
                    || self.eval_node(q, level + 1, q_scale, powers),
                    || self.eval_node(r, level, scale, powers),
                );
                let prod = match qv? {
                    Value::Const(0.0) => None,
                    Value::Const(c) => Some(self.mul_const_to_scale(&tm, c, scale)?),
                    Value::Ct(qc) => {
                        let mut qc = if qc.degree() == 2 {
                            self.relinearize(&qc)?
                        } else {
                            qc
                        };
                        self.rescale_assign(&mut qc)?;
                        let mut p = self.mul(&qc, &tm)?;
                        p.scale = scale;
                        Some(p)
                    }
                };
                let rem = rem?;
                Ok(match (prod, rem) {
                    (None, rem) => rem,
                    (Some(p), Value::Const(0.0)) => Value::Ct(p),
                    (Some(p), Value::Const(c)) => Value::Ct(self.add_const(&p, c)?),
                    (Some(mut p), Value::Ct(rc)) => {
                        self.add_assign(&mut p, &rc)?;
                        Value::Ct(p)
                    }
                })
            }
        }
    }

    /// `p(ct)` slot-wise, consuming exactly [`Polynomial::depth`] levels;
    /// the output is relinearized, rescaled, and its scale is exactly
    /// `target_scale` (e.g. `ct.scale` or the default scale). See the
    /// module documentation for the algorithm.
    pub fn evaluate_polynomial(
        &self,
        ct: &Ciphertext,
        p: &Polynomial,
        target_scale: f64,
    ) -> Result<Ciphertext, CkksError> {
        let ctx = self.context().clone();
        ctx.check_ciphertext(ct)?;
        Self::check_degree("evaluate_polynomial", ct, 1)?;
        p.validate()?;
        if !(target_scale.is_finite() && target_scale >= 1.0) {
            return Err(CkksError::InvalidScale(target_scale));
        }
        let depth = p.depth();
        if ct.level < depth {
            return Err(CkksError::NotEnoughLevels {
                op: "evaluate_polynomial",
                needed: depth,
                available: ct.level,
            });
        }
        let deg = p.degree();
        if deg == 0 {
            // A constant: the zero ciphertext (any scale is exact) plus c_0.
            let mut z = self.mul_const(ct, 0.0, 1.0)?;
            z.scale = target_scale;
            return self.add_const(&z, p.coeffs[0]);
        }
        let chebyshev = p.is_chebyshev();
        let (alpha, beta) = p.affine();
        let x = if alpha != 1.0 {
            let y = self.mul_const_to_scale(ct, alpha, ct.scale * ctx.q(ct.level) as f64)?;
            let mut y = self.add_const(&y, beta)?;
            self.rescale_assign(&mut y)?;
            y.scale = ct.scale;
            y
        } else if beta != 0.0 {
            self.add_const(ct, beta)?
        } else {
            ct.clone()
        };

        let (node, needed) = best_plan(&p.coeffs[..=deg], chebyshev);
        let mut powers = BTreeMap::new();
        powers.insert(1, x);
        // Depth by depth: the powers of one depth only read shallower ones,
        // so they are computed in parallel.
        let max_depth = needed.iter().map(|&i| power_depth(i)).max().unwrap_or(0);
        for d in 1..=max_depth {
            let batch: Vec<usize> = needed
                .iter()
                .copied()
                .filter(|&i| power_depth(i) == d)
                .collect();
            let computed = batch
                .par_iter()
                .map(|&i| Ok((i, self.power(i, &powers, chebyshev)?)))
                .collect::<Result<Vec<_>, CkksError>>()?;
            powers.extend(computed);
        }
        let top = powers[&1].level - (power_depth(deg + 1) - 1);
        let pre_scale = target_scale * ctx.q(top) as f64;
        let mut out = match self.eval_node(&node, top, pre_scale, &powers)? {
            Value::Ct(c) => c,
            Value::Const(_) => unreachable!("a polynomial of degree >= 1 has a ciphertext term"),
        };
        if out.degree() == 2 {
            out = self.relinearize(&out)?;
        }
        self.rescale_assign(&mut out)?;
        out.scale = target_scale;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every plan respects the level budget: leaves only read powers that
    /// exist at their level, so the depth is ceil(log2(d + 1)).
    #[test]
    fn plans_fit_the_optimal_depth() {
        fn check(node: &Node, below: usize) {
            match node {
                Node::Leaf(c) => {
                    for (i, &ci) in c.iter().enumerate().skip(1) {
                        assert!(ci == 0.0 || power_depth(i) <= below, "T_{i} at {below}");
                    }
                }
                Node::Split { m, q, r } => {
                    assert!(power_depth(*m) <= below);
                    check(q, below - 1);
                    check(r, below);
                }
            }
        }
        for deg in 1..=130usize {
            for cheb in [false, true] {
                let coeffs: Vec<f64> = (0..=deg).map(|i| 1.0 / (1 + i) as f64).collect();
                let (node, powers) = best_plan(&coeffs, cheb);
                let d = power_depth(deg + 1);
                check(&node, d - 1);
                for &i in &powers {
                    assert!(power_depth(i) < d.max(1) || i == 1, "deg {deg}: power {i}");
                }
            }
        }
    }

    #[test]
    fn division_is_exact() {
        let p = Polynomial::chebyshev((0..20).map(|i| (i as f64).sin()).collect(), -1.0, 1.0);
        let (q, r) = divide(&p.coeffs, 16, true);
        let qp = Polynomial::chebyshev(q, -1.0, 1.0);
        let rp = Polynomial::chebyshev(r, -1.0, 1.0);
        let mut t16 = vec![0.0; 17];
        t16[16] = 1.0;
        let t16 = Polynomial::chebyshev(t16, -1.0, 1.0);
        for k in 0..50 {
            let x = -1.0 + k as f64 / 25.0;
            let want = p.evaluate_f64(x);
            let got = qp.evaluate_f64(x) * t16.evaluate_f64(x) + rp.evaluate_f64(x);
            assert!((want - got).abs() < 1e-12, "{x}: {want} vs {got}");
        }
        assert_eq!(power_depth(1), 0);
        assert_eq!(power_depth(2), 1);
        assert_eq!(power_depth(3), 2);
        assert_eq!(power_depth(8), 3);
        assert_eq!(power_depth(9), 4);
        assert_eq!(Polynomial::monomial(vec![1.0; 32]).depth(), 5);
        assert_eq!(Polynomial::monomial(vec![1.0; 33]).depth(), 6);
        assert_eq!(Polynomial::chebyshev(vec![1.0; 28], -3.0, 5.0).depth(), 6);
        assert_eq!(Polynomial::chebyshev(vec![1.0; 28], 0.0, 2.0).depth(), 5);
    }
}
