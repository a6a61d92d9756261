//! `approximate-activations` (nn -> nn): replaces each activation by
//! polynomials CKKS can evaluate, on the input range `calibrate` recorded,
//! widened by a guard of 5% of its width on each side (`[lo, hi]` below).
//!
//! - Piecewise-linear activations (ReLU, LeakyReLU, Clip/ReLU6, HardSigmoid,
//!   HardSwish; see `orion_dialects::nn::activations`) are
//!   `x^p (c0 + c1 x + sum_i d_i |x - k_i|)` with `|x - k| = (x - k) sign(x - k)`;
//!   each kink inside `[lo, hi]` costs one composite minimax sign of
//!   [`crate::approx::CompositeSign`] (degrees 15, 15, 27 and `eps = 2^-9`
//!   by default), kinks outside it none. A kink at 0 alone (ReLU,
//!   LeakyReLU) becomes `x * (c1 + d sign(x))`: `x` goes through the three
//!   stages (`nn.polynomial`, Chebyshev basis; the first on `[-B, B]`,
//!   `B = max(|lo|, |hi|)`, the others on `[-1, 1]`) and is multiplied by
//!   the result, the affine folded into the last stage, so that
//!   `relu(x) = 0.5 * (x + x * sign(x))` costs one product. Several kinks
//!   become a sum of such products and of polynomials (see `piecewise`).
//! - `nn.max` (from `expand-maxpool`, calibrated on `a - b`) becomes
//!   `(a + b) / 2 + (a - b) sign(a - b) / 2` with one composite sign.
//! - Smooth activations (sigmoid, SiLU, GELU in both forms, tanh, erf,
//!   softplus, ELU, Mish) become one `nn.polynomial`: the Chebyshev
//!   interpolant on `[lo, hi]` of degree 31, doubled (63, 127, 255) until
//!   its error is within 1e-4 of `max(1, max |f|)`.
//!
//! An activation without `range` is an error that names the layer.
//!
//! Statistics: counts, and each approximation's maximum absolute error over
//! `[lo, hi]`, measured on a dense grid against the `nn` interpreter's
//! semantics, in units of 1e-9, rounded up: `max-error-e9 /act4/Relu =
//! 1908753` means the emitted ops differ from the activation by at most
//! 1.91e-3 (`worst-...` are the maxima over the module). For a sign the
//! measure includes the gap `|x - k| < eps B` where the sign itself is not
//! approximated; it is about `1.15e-4 B` with the defaults. Past `[lo, hi]`
//! nothing is promised: a composite sign flips at 1.005 B and overflows at
//! 1.02 B, which is what the guard and the calibration margin are for.
//!
//! ```text
//! %2 = nn.relu %1 {range = array<f64: -9.49, 9.15>} : tensor<1x16xf32> loc("/relu")
//! %3 = nn.sigmoid %1 {range = array<f64: -9.49, 9.15>} : tensor<1x16xf32> loc("/sigmoid")
//!   =>
//! %7 = nn.polynomial %1 {basis = "chebyshev", coeffs = array<f64: 0.0, 0.65277, 0.0, -0.21898, ...(16)>, domain = array<f64: -9.49, 9.49>} : tensor<1x16xf32> loc("/relu")
//! %8 = nn.polynomial %7 {basis = "chebyshev", coeffs = array<f64: 0.0, 0.81761, 0.0, -0.27322, ...(16)>, domain = array<f64: -1.0, 1.0>} : tensor<1x16xf32> loc("/relu")
//! %9 = nn.polynomial %8 {basis = "chebyshev", coeffs = array<f64: 0.5, 0.63368, 0.0, -0.20355, ...(28)>, domain = array<f64: -1.0, 1.0>} : tensor<1x16xf32> loc("/relu")
//! %2 = nn.mul %1, %9 : tensor<1x16xf32> loc("/relu")
//! %3 = nn.polynomial %1 {basis = "chebyshev", coeffs = array<f64: 0.49403, 0.62383, 0.01094, ...(32)>, domain = array<f64: -9.49, 9.15>} : tensor<1x16xf32> loc("/sigmoid")
//! ```

use super::canonicalize::make_constant;
use super::{Pass, Statistics};
use crate::approx::{chebyshev_interpolate, dense_grid, eval_stages, CompositeSign};
use orion_dialects::ir::{Attribute, Func, Location, Module, Op, ValueId};
use orion_dialects::nn::activations::{Activation, PiecewiseLinear};
use orion_dialects::nn::eval_polynomial;
use orion_dialects::tensor::Tensor;
use orion_dialects::Diagnostic;

pub struct ApproximateActivations {
    /// Degrees of the composite sign's stages, innermost first.
    pub sign_degrees: Vec<usize>,
    /// The sign is approximated on `eps <= |x / B| <= 1`.
    pub sign_eps: f64,
    /// Smallest degree of the Chebyshev interpolants of smooth activations.
    pub smooth_degree: usize,
    /// The degree is doubled (31, 63, 127, ...) up to this until the error
    /// is at most `smooth_tolerance` times `max(1, max |f|)` on the range.
    pub max_smooth_degree: usize,
    pub smooth_tolerance: f64,
    /// Every polynomial is fitted on the calibrated range widened by this
    /// fraction of its width on each side: just past its domain a composite
    /// sign flips (at 1.005 B) and then overflows (1.02 B), and a Chebyshev
    /// interpolant of degree 255 grows like cosh(255 acosh(t)); the guard
    /// keeps inputs a few percent past the calibrated range bounded.
    pub range_guard: f64,
}

impl Default for ApproximateActivations {
    fn default() -> Self {
        ApproximateActivations {
            sign_degrees: CompositeSign::DEFAULT_DEGREES.to_vec(),
            sign_eps: CompositeSign::DEFAULT_EPS,
            smooth_degree: 31,
            max_smooth_degree: 255,
            smooth_tolerance: 1e-4,
            range_guard: 0.05,
        }
    }
}

fn polynomial(
    func: &mut Func,
    x: ValueId,
    coeffs: Vec<f64>,
    domain: [f64; 2],
    loc: &Location,
) -> Op {
    let ty = func.ty(x).clone();
    let v = func.new_value(ty, None);
    Op {
        name: "nn.polynomial".into(),
        operands: vec![x],
        results: vec![v],
        attrs: vec![
            ("basis".into(), Attribute::String("chebyshev".into())),
            ("coeffs".into(), Attribute::F64Array(coeffs)),
            ("domain".into(), Attribute::F64Array(domain.to_vec())),
        ],
        loc: loc.clone(),
    }
}

/// A short name for statistics: the layer's name, else the result number.
fn layer(op: &Op) -> String {
    op.loc
        .name()
        .map(str::to_string)
        .unwrap_or_else(|| format!("%{}", op.result().0))
}

/// Error in units of 1e-9, rounded up.
fn e9(err: f64) -> i64 {
    (err * 1e9).ceil().min(i64::MAX as f64) as i64
}

impl ApproximateActivations {
    /// The interpolant of the smallest degree (`smooth_degree` doubled
    /// while below `max_smooth_degree`) within the tolerance on `[a, b]`:
    /// wide ranges need more (tanh on [-20, 20]: about 5e-2 at degree 31,
    /// 1e-5 at 127), and each doubling costs one level.
    fn fit_smooth(&self, act: Activation, a: f64, b: f64) -> crate::approx::ChebyshevFit {
        let f = |x| act.eval(x);
        let peak = dense_grid(a, b, 4096)
            .iter()
            .map(|&x| f(x).abs())
            .fold(1.0, f64::max);
        let mut degree = self.smooth_degree.max(1);
        loop {
            let fit = chebyshev_interpolate(f, a, b, degree);
            let next = 2 * degree + 1;
            if fit.max_error <= self.smooth_tolerance * peak || next > self.max_smooth_degree {
                return fit;
            }
            degree = next;
        }
    }
}

/// What one run of the pass has counted.
#[derive(Default)]
struct Counts {
    relus: i64,
    folded: i64,
    smooth: i64,
    piecewise: i64,
    signs: i64,
    worst_relu: f64,
    worst_smooth: f64,
    worst_piecewise: f64,
    maxima: i64,
    worst_max: f64,
}

/// The pass's state while it rewrites one function.
struct Rewriter<'a> {
    pass: &'a ApproximateActivations,
    module: &'a mut Module,
    func: Func,
    body: Vec<Op>,
    uses: Vec<usize>,
    sign: Option<CompositeSign>,
    counts: Counts,
    /// What the current activation's input was scaled by (1 / B when
    /// ReLU's change of variable is folded into the layer before).
    input_scale: f64,
}

impl Pass for ApproximateActivations {
    fn name(&self) -> &'static str {
        "approximate-activations"
    }

    fn run(&self, module: &mut Module) -> Result<Statistics, Diagnostic> {
        let mut func = module
            .main()
            .cloned()
            .ok_or_else(|| Diagnostic::new(Location::Unknown, "module has no func.func @main"))?;
        let mut uses = vec![0usize; func.values.len()];
        for op in &func.body {
            op.operands.iter().for_each(|v| uses[v.0 as usize] += 1);
        }
        let old_body = std::mem::take(&mut func.body);
        let mut rw = Rewriter {
            pass: self,
            module,
            body: Vec::with_capacity(old_body.len()),
            func,
            uses,
            sign: None,
            counts: Counts::default(),
            input_scale: 1.0,
        };
        let mut per_layer: Statistics = Vec::new();
        for op in old_body {
            if op.name == "nn.max" {
                let max_error = rw.approximate_max(&op)?;
                per_layer.push((format!("max-error-e9 {}", layer(&op)), e9(max_error)));
                continue;
            }
            let Some(act) = Activation::from_op(&op).map_err(|m| op_error(&op, m))? else {
                rw.body.push(op);
                continue;
            };
            let max_error = rw.approximate(&op, act)?;
            per_layer.push((format!("max-error-e9 {}", layer(&op)), e9(max_error)));
        }
        let Rewriter {
            module,
            mut func,
            body,
            counts: c,
            ..
        } = rw;
        func.body = body;
        super::canonicalize::drop_unused_resources(module, &func);
        *module.main_mut().expect("main exists") = func;
        let mut stats: Statistics = vec![
            ("relus-approximated".into(), c.relus),
            ("relu-scalings-folded".into(), c.folded),
            ("smooth-approximated".into(), c.smooth),
            ("piecewise-linear-approximated".into(), c.piecewise),
            ("sign-approximations".into(), c.signs),
            ("worst-relu-max-error-e9".into(), e9(c.worst_relu)),
            ("worst-smooth-max-error-e9".into(), e9(c.worst_smooth)),
            ("worst-piecewise-max-error-e9".into(), e9(c.worst_piecewise)),
            ("maxima-approximated".into(), c.maxima),
            ("worst-maximum-max-error-e9".into(), e9(c.worst_max)),
        ];
        stats.extend(per_layer);
        Ok(stats)
    }
}

fn op_error(op: &Op, m: impl std::fmt::Display) -> Diagnostic {
    Diagnostic::new(op.loc.clone(), format!("{} {m}", op.label()))
}

impl Rewriter<'_> {
    /// Replaces `op` (computing `act`) by polynomials; returns their
    /// maximum error on the guarded range. The polynomials that read the
    /// activation's input carry its calibrated `range` (in their input's
    /// units), for the interpreters' warnings (`orion_dialects::fitted_range`).
    fn approximate(&mut self, op: &Op, act: Activation) -> Result<f64, Diagnostic> {
        let (guarded, range) = self.guarded_range(op, "input 'range'")?;
        let start = self.body.len();
        self.input_scale = 1.0;
        let e = self.approximate_on_range(op, act, guarded)?;
        let s = self.input_scale;
        for p in &mut self.body[start..] {
            if p.name == "nn.polynomial" && p.operands[0] == op.operands[0] {
                let r: Vec<f64> = range.iter().map(|v| v * s).collect();
                p.set_attr("range", Attribute::F64Array(r));
            }
        }
        Ok(e)
    }

    fn approximate_on_range(
        &mut self,
        op: &Op,
        act: Activation,
        [lo, hi]: [f64; 2],
    ) -> Result<f64, Diagnostic> {
        let Some(pl) = act.piecewise_linear().map(|p| p.restricted_to(lo, hi)) else {
            let (a, b) = if hi > lo {
                (lo, hi)
            } else {
                (lo - 1e-3, hi + 1e-3)
            };
            let fit = self.pass.fit_smooth(act, a, b);
            let mut p = polynomial(
                &mut self.func,
                op.operands[0],
                fit.coeffs.clone(),
                fit.domain,
                &op.loc,
            );
            p.results = op.results.clone();
            self.body.push(p);
            self.counts.smooth += 1;
            self.counts.worst_smooth = self.counts.worst_smooth.max(fit.max_error);
            return Ok(fit.max_error);
        };
        if !pl.kinks.is_empty() {
            self.ensure_sign(op)?;
        }
        self.counts.signs += pl.kinks.len() as i64;
        let approx = match (&pl.kinks[..], pl.c0, pl.times_x) {
            ([(k, d)], c0, false) if *k == 0.0 && c0 == 0.0 => {
                self.kink_at_zero(op, pl.c1, *d, [lo, hi])
            }
            _ => self.piecewise(op, &pl, [lo, hi]),
        };
        let e = self
            .error_grid([lo, hi], pl.kinks.iter().map(|&(k, _)| k))
            .iter()
            .map(|&x| (approx(x) - act.eval(x)).abs())
            .fold(0.0, f64::max);
        if act == Activation::Relu {
            self.counts.relus += 1;
            self.counts.worst_relu = self.counts.worst_relu.max(e);
        } else {
            self.counts.piecewise += 1;
            self.counts.worst_piecewise = self.counts.worst_piecewise.max(e);
        }
        Ok(e)
    }

    /// The op's calibrated `range` (`what` names it in the error), widened
    /// by the guard; and the range itself.
    fn guarded_range(&self, op: &Op, what: &str) -> Result<([f64; 2], [f64; 2]), Diagnostic> {
        let r = op
            .attr("range")
            .and_then(Attribute::as_f64_list)
            .filter(|r| r.len() == 2 && r[0] <= r[1] && r.iter().all(|v| v.is_finite()))
            .ok_or_else(|| {
                op_error(
                    op,
                    format!("has no calibrated {what} = array<f64: lo, hi> (run calibrate first)"),
                )
            })?;
        let guard = self.pass.range_guard * (r[1] - r[0]).max(1e-3);
        Ok(([r[0] - guard, r[1] + guard], [r[0], r[1]]))
    }

    /// `max(a, b)` (`nn.max`, calibrated on `d = a - b`) as
    /// `(a + b) / 2 + d sign(d) / 2`: `d` and `a + b` are sums (with `-b` a
    /// scalar product), the sign is the composite one on the guarded range
    /// of `d`, and its last stage, with the 1/2 folded in, feeds the product
    /// with `d` alone (so it lands at the product's prime and every term
    /// keeps the operands' scale). Returns the maximum error over the range.
    fn approximate_max(&mut self, op: &Op) -> Result<f64, Diagnostic> {
        let ([lo, hi], range) = self.guarded_range(op, "'range' of a - b")?;
        let (a, b) = (op.operands[0], op.operands[1]);
        let ty = self.func.ty(op.result()).clone();
        if self.func.ty(a) != &ty || self.func.ty(b) != &ty {
            return Err(op_error(
                op,
                "needs two operands of its result's type (no broadcasting)",
            ));
        }
        self.ensure_sign(op)?;
        let bound = lo.abs().max(hi.abs()).max(1e-6);
        let loc = op.loc.clone();
        let minus_one = self.scalar(-1.0, &loc);
        let neg_b = self.binary("nn.mul", b, minus_one, &loc);
        let d = self.binary("nn.add", a, neg_b, &loc);
        let sum = self.binary("nn.add", a, b, &loc);
        let half = self.scalar(0.5, &loc);
        let mid = self.binary("nn.mul", sum, half, &loc);
        let mut stages = self.sign_stages().to_vec();
        stages
            .last_mut()
            .expect("at least one stage")
            .iter_mut()
            .for_each(|c| *c *= 0.5);
        let first = self.body.len();
        let v = self.stages(d, &stages, [-bound, bound], &loc);
        self.body[first].set_attr("range", Attribute::F64Array(range.to_vec()));
        let prod = self.binary("nn.mul", d, v, &loc);
        self.binary("nn.add", mid, prod, &loc);
        self.body.last_mut().expect("just pushed").results = op.results.clone();
        // max(a, b) - (a + b) / 2 = |d| / 2: the error is that of d s(d) / 2.
        let e = self
            .error_grid([lo, hi], [0.0])
            .iter()
            .map(|&x| {
                let t = eval_stages(&stages, x / bound);
                (x * t - x.abs() / 2.0).abs()
            })
            .fold(0.0, f64::max);
        self.counts.maxima += 1;
        self.counts.worst_max = self.counts.worst_max.max(e);
        Ok(e)
    }

    /// A one-element constant.
    fn scalar(&mut self, c: f64, loc: &Location) -> ValueId {
        let hint = format!("{}_scalar", loc.name().unwrap_or("max"));
        let t = Tensor::new(vec![1], vec![c]);
        let op = make_constant(self.module, &mut self.func, loc, &hint, &t);
        let v = op.result();
        self.body.push(op);
        v
    }

    /// The composite sign, built at the first activation that needs it.
    fn ensure_sign(&mut self, op: &Op) -> Result<(), Diagnostic> {
        if self.sign.is_none() {
            let s = CompositeSign::new(&self.pass.sign_degrees, self.pass.sign_eps)
                .map_err(|m| op_error(op, m))?;
            self.sign = Some(s);
        }
        Ok(())
    }

    /// `stages` applied to `x` in turn, the first on `first_domain`, the
    /// others on [-1, 1]; returns the last result.
    fn stages(
        &mut self,
        x: ValueId,
        stages: &[Vec<f64>],
        first_domain: [f64; 2],
        loc: &Location,
    ) -> ValueId {
        let mut v = x;
        for (i, c) in stages.iter().enumerate() {
            let domain = if i == 0 { first_domain } else { [-1.0, 1.0] };
            let p = polynomial(&mut self.func, v, c.clone(), domain, loc);
            v = p.result();
            self.body.push(p);
        }
        v
    }

    /// Points over `[lo, hi]` to measure an error on: dense, and denser
    /// around each kink where its sign's gap is.
    fn error_grid(&self, [lo, hi]: [f64; 2], kinks: impl IntoIterator<Item = f64>) -> Vec<f64> {
        let mut grid = dense_grid(lo, hi, 16384);
        for k in kinks {
            let gap = 4.0 * self.pass.sign_eps * (lo - k).abs().max((hi - k).abs());
            if lo < k + gap && hi > k - gap {
                grid.extend(dense_grid(lo.max(k - gap), hi.min(k + gap), 4096));
            }
        }
        grid
    }

    fn sign_stages(&self) -> &[Vec<f64>] {
        &self.sign.as_ref().expect("built before use").stages
    }

    /// `c1 x + d |x|` (ReLU, LeakyReLU) as `x (c1 + d sign(x))`, the affine
    /// folded into the sign's last stage; returns the emitted function.
    fn kink_at_zero(
        &mut self,
        op: &Op,
        c1: f64,
        d: f64,
        [lo, hi]: [f64; 2],
    ) -> Box<dyn Fn(f64) -> f64> {
        let x = op.operands[0];
        let bound = lo.abs().max(hi.abs());
        let bound = if bound > 0.0 { bound } else { 1.0 };
        // x / B folded into the layer that makes x (when nothing else reads
        // x) saves the level of the change of variable; then
        // f(x) = (x / B) * (B (c1 + d p_last)).
        let fold = self.uses[x.0 as usize] == 1
            && scale_producer(self.module, &mut self.func, &mut self.body, x, 1.0 / bound);
        self.counts.folded += i64::from(fold);
        if fold {
            self.input_scale = 1.0 / bound;
        }
        let out_scale = if fold { bound } else { 1.0 };
        let mut stages = self.sign_stages().to_vec();
        let last = stages.last_mut().expect("at least one stage");
        last.iter_mut().for_each(|c| *c *= d * out_scale);
        last[0] += c1 * out_scale;
        // Unfolded, the first stage reads x on [-B, B] (its change of
        // variable x / B is the evaluator's first step).
        let first_domain = if fold { [-1.0, 1.0] } else { [-bound, bound] };
        let v = self.stages(x, &stages, first_domain, &op.loc);
        self.body.push(Op {
            name: "nn.mul".into(),
            operands: vec![x, v],
            results: op.results.clone(),
            attrs: vec![],
            loc: op.loc.clone(),
        });
        Box::new(move |x: f64| {
            let t = eval_stages(&stages, x / bound);
            x * t / out_scale
        })
    }

    /// `x^p (c0 + c1 x + sum d_i |x - k_i|)` as `x^p (sum_i x G_i + sum_i H_i)`
    /// with `G_i = d_i s_i` and `H_i = -d_i k_i s_i` (`c1` and `c0` added to
    /// the first kink's), where `s_i`
    /// is the composite sign of `x - k_i` on `[k_i - B_i, k_i + B_i]`,
    /// `B_i = max(|lo - k_i|, |hi - k_i|)`. The signs run in parallel (one
    /// sign's depth in all); each one's last stage is emitted twice, as
    /// `G_i` and `H_i` with the coefficients folded in.
    fn piecewise(
        &mut self,
        op: &Op,
        pl: &PiecewiseLinear,
        [lo, hi]: [f64; 2],
    ) -> Box<dyn Fn(f64) -> f64> {
        let x = op.operands[0];
        let mut inner = self.sign_stages().to_vec();
        let last = inner.pop().expect("at least one stage");
        let last = &last;
        let mut g_terms = Vec::new();
        let mut h_terms = Vec::new();
        let mut signs = Vec::new();
        for (i, &(k, d)) in pl.kinks.iter().enumerate() {
            let b = (lo - k).abs().max((hi - k).abs());
            let b = if b > 0.0 { b } else { 1.0 };
            let v = self.stages(x, &inner, [k - b, k + b], &op.loc);
            let last_domain = if inner.is_empty() {
                [k - b, k + b]
            } else {
                [-1.0, 1.0]
            };
            let mut g: Vec<f64> = last.iter().map(|c| c * d).collect();
            let mut h: Vec<f64> = last.iter().map(|c| -c * d * k).collect();
            if i == 0 {
                g[0] += pl.c1;
                h[0] += pl.c0;
            }
            for (coeffs, terms) in [(g, &mut g_terms), (h, &mut h_terms)] {
                if coeffs.iter().any(|&c| c != 0.0) {
                    let p = polynomial(&mut self.func, v, coeffs, last_domain, &op.loc);
                    terms.push(p.result());
                    self.body.push(p);
                }
            }
            signs.push((k, b));
        }
        if pl.kinks.is_empty() {
            // No kink: c0 + c1 x, a degree-1 polynomial on the range.
            let (mid, half) = ((lo + hi) / 2.0, ((hi - lo) / 2.0).max(1e-3));
            let p = polynomial(
                &mut self.func,
                x,
                vec![pl.c0 + pl.c1 * mid, pl.c1 * half],
                [mid - half, mid + half],
                &op.loc,
            );
            h_terms.push(p.result());
            self.body.push(p);
        }
        // x G is the sum of the products x G_i: each G_i's only use is a
        // product with x, so `lower-to-ckks` lands it at the product's
        // prime and every term keeps x's scale exactly (a sum of G_i first
        // would leave x G at another scale than H).
        let mut terms: Vec<ValueId> = g_terms
            .iter()
            .map(|&g| self.binary("nn.mul", x, g, &op.loc))
            .collect();
        terms.extend(h_terms);
        let mut out = self
            .sum(&terms, &op.loc)
            .expect("a kink contributes a term");
        if pl.times_x {
            out = self.binary("nn.mul", x, out, &op.loc);
        }
        // The last op defines the activation's result.
        let last_op = self.body.last_mut().expect("ops were emitted");
        let tmp = last_op.results[0];
        last_op.results = op.results.clone();
        debug_assert_eq!(tmp, out);
        let pl = pl.clone();
        let last = last.clone();
        Box::new(move |x: f64| {
            let sign_of = |k: f64, b: f64| {
                let t = eval_stages(&inner, (x - k) / b);
                eval_polynomial(&last, Some([-1.0, 1.0]), t)
            };
            let (mut g, mut h) = (pl.c1, pl.c0);
            for (&(k, d), &(_, b)) in pl.kinks.iter().zip(&signs) {
                let s = sign_of(k, b);
                g += d * s;
                h -= d * k * s;
            }
            let v = x * g + h;
            if pl.times_x {
                x * v
            } else {
                v
            }
        })
    }

    /// `a op b` as a new value.
    fn binary(&mut self, name: &str, a: ValueId, b: ValueId, loc: &Location) -> ValueId {
        let ty = self.func.ty(a).clone();
        let v = self.func.new_value(ty, None);
        self.body.push(Op {
            name: name.into(),
            operands: vec![a, b],
            results: vec![v],
            attrs: vec![],
            loc: loc.clone(),
        });
        v
    }

    /// The sum of `terms` (a chain of `nn.add`), `None` if there are none.
    fn sum(&mut self, terms: &[ValueId], loc: &Location) -> Option<ValueId> {
        let (&first, rest) = terms.split_first()?;
        Some(
            rest.iter()
                .fold(first, |acc, &t| self.binary("nn.add", acc, t, loc)),
        )
    }
}

/// Multiplies the weights and bias of the `nn.gemm` / `nn.conv2d` that
/// produces `x` (already in `body`, with constant operands) by `factor`;
/// false, changing nothing, if `x` comes from anything else.
fn scale_producer(
    module: &mut Module,
    func: &mut Func,
    body: &mut Vec<Op>,
    x: ValueId,
    factor: f64,
) -> bool {
    let Some(p) = body.iter().position(|o| o.results.contains(&x)) else {
        return false;
    };
    if !matches!(body[p].name.as_str(), "nn.gemm" | "nn.conv2d") || body[p].operands.len() < 2 {
        return false;
    }
    let mut scaled = Vec::new();
    for &v in &body[p].operands[1..] {
        let Some(c) = body
            .iter()
            .find(|o| o.results.contains(&v) && o.name == "nn.constant")
        else {
            return false;
        };
        let Some(data) = c.attr("value").and_then(|a| module.resource_f32(a).ok()) else {
            return false;
        };
        scaled.push((v, c.clone(), data));
    }
    let hint = body[p].loc.name().unwrap_or("layer").to_string();
    let mut new_operands = vec![body[p].operands[0]];
    let mut constants = Vec::new();
    for (v, c, data) in scaled {
        let shape = func.ty(v).shape().unwrap_or(&[]).to_vec();
        let data = data
            .iter()
            .map(|&w| (w as f64 * factor) as f32 as f64)
            .collect();
        let hint = format!("{hint}_prescaled");
        let op = make_constant(module, func, &c.loc, &hint, &Tensor::new(shape, data));
        new_operands.push(op.result());
        constants.push(op);
    }
    body[p].operands = new_operands;
    for (k, c) in constants.into_iter().enumerate() {
        body.insert(p + k, c);
    }
    true
}
