//! `approximate-activations` (nn -> nn): replaces each activation by
//! polynomials CKKS can evaluate, on the input range `calibrate` recorded.
//!
//! - `nn.relu` with `range = [lo, hi]` becomes `x * (1 + sign(x)) / 2` with
//!   the composite minimax sign of [`crate::approx::CompositeSign`] (degrees
//!   15, 15, 27 and `eps = 2^-9` by default): `x` goes through the three
//!   stages (`nn.polynomial`, Chebyshev basis; the first on `[-B, B]`,
//!   `B = max(|lo|, |hi|)`, the others on `[-1, 1]`), and is multiplied by the result. The affine `(1 + s) / 2`
//!   is folded into the last stage's coefficients, so that
//!   `relu(x) = 0.5 * (x + x * sign(x))` costs one product, not three.
//! - `nn.sigmoid`, `nn.silu`, `nn.gelu` become one `nn.polynomial`: the
//!   Chebyshev interpolant of degree 31 (configurable) on `[lo, hi]`.
//!
//! An activation without `range` is an error that names the layer.
//!
//! Statistics: counts, and each approximation's maximum absolute error over
//! its range, measured on a dense grid against the `nn` interpreter's
//! semantics, in units of 1e-9, rounded up: `max-error-e9 /act4/Relu =
//! 1908753` (LeNet-5's last ReLU, range about [-16.6, 16.6]) means the
//! emitted ops differ from the activation by at most 1.91e-3 on the
//! calibrated range (`worst-...` are the maxima over the module). For ReLU
//! the measure includes the gap `|x| < eps B` where the sign itself is not
//! approximated; it is about `1.15e-4 B` with the defaults. Outside the
//! calibrated range nothing is promised: the sign stages grow fast beyond
//! `|x / B| = 1`, which is what the calibration margin is for.
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

use super::calibrate::ACTIVATIONS;
use super::{Pass, Statistics};
use crate::approx::{chebyshev_interpolate, dense_grid, reference_activation, CompositeSign};
use orion_dialects::ir::{Attribute, Func, Location, Module, Op, ValueId};
use orion_dialects::nn::eval_polynomial;
use orion_dialects::Diagnostic;

pub struct ApproximateActivations {
    /// Degrees of the composite sign's stages, innermost first.
    pub sign_degrees: Vec<usize>,
    /// The sign is approximated on `eps <= |x / B| <= 1`.
    pub sign_eps: f64,
    /// Degree of the Chebyshev interpolants of smooth activations.
    pub smooth_degree: usize,
}

impl Default for ApproximateActivations {
    fn default() -> Self {
        ApproximateActivations {
            sign_degrees: CompositeSign::DEFAULT_DEGREES.to_vec(),
            sign_eps: CompositeSign::DEFAULT_EPS,
            smooth_degree: 31,
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

impl Pass for ApproximateActivations {
    fn name(&self) -> &'static str {
        "approximate-activations"
    }

    fn run(&self, module: &mut Module) -> Result<Statistics, Diagnostic> {
        let mut func = module
            .main()
            .cloned()
            .ok_or_else(|| Diagnostic::new(Location::Unknown, "module has no func.func @main"))?;
        let mut sign: Option<CompositeSign> = None;
        let (mut relus, mut smooth) = (0i64, 0i64);
        let (mut worst_relu, mut worst_smooth) = (0f64, 0f64);
        let mut per_layer: Statistics = Vec::new();
        let mut uses = vec![0usize; func.values.len()];
        for op in &func.body {
            op.operands.iter().for_each(|v| uses[v.0 as usize] += 1);
        }
        let mut folded = 0i64;
        let mut body = Vec::with_capacity(func.body.len());
        for op in std::mem::take(&mut func.body) {
            if !ACTIVATIONS.contains(&op.name.as_str()) {
                body.push(op);
                continue;
            }
            let err = |m: String| Diagnostic::new(op.loc.clone(), format!("{} {m}", op.label()));
            let range = op
                .attr("range")
                .and_then(Attribute::as_f64_list)
                .filter(|r| r.len() == 2 && r[0] <= r[1] && r.iter().all(|v| v.is_finite()))
                .ok_or_else(|| err("has no calibrated input 'range' = array<f64: lo, hi> (run calibrate first)".into()))?;
            let (lo, hi) = (range[0], range[1]);
            let x = op.operands[0];
            let max_error = if op.name == "nn.relu" {
                if sign.is_none() {
                    sign =
                        Some(CompositeSign::new(&self.sign_degrees, self.sign_eps).map_err(err)?);
                }
                let s = sign.as_ref().expect("built above");
                let bound = lo.abs().max(hi.abs());
                let bound = if bound > 0.0 { bound } else { 1.0 };
                // x / B folded into the layer that makes x (when nothing
                // else reads x) saves the level of the change of variable;
                // then relu(x) = (x / B) * (B (1 + p_last) / 2).
                let fold = uses[x.0 as usize] == 1
                    && scale_producer(module, &mut func, &mut body, x, 1.0 / bound);
                folded += i64::from(fold);
                let out_scale = if fold { bound } else { 1.0 };
                // (1 + p_last) / 2 in the last stage.
                let mut stages = s.stages.clone();
                let last = stages.last_mut().expect("at least one stage");
                last.iter_mut().for_each(|c| *c *= 0.5 * out_scale);
                last[0] += 0.5 * out_scale;
                // Unfolded, the first stage reads x on [-B, B] (its change of
                // variable x / B is the evaluator's first step).
                let mut v = x;
                for (i, c) in stages.iter().enumerate() {
                    let domain = if i == 0 && !fold {
                        [-bound, bound]
                    } else {
                        [-1.0, 1.0]
                    };
                    let p = polynomial(&mut func, v, c.clone(), domain, &op.loc);
                    v = p.result();
                    body.push(p);
                }
                body.push(Op {
                    name: "nn.mul".into(),
                    operands: vec![x, v],
                    results: op.results.clone(),
                    attrs: vec![],
                    loc: op.loc.clone(),
                });
                let approx = |x: f64| {
                    let t = stages
                        .iter()
                        .fold(x / bound, |t, c| eval_polynomial(c, Some([-1.0, 1.0]), t));
                    x * t / out_scale
                };
                // Dense over the range, denser where the sign's gap is.
                let gap = 4.0 * self.sign_eps * bound;
                let mut grid = dense_grid(lo, hi, 16384);
                if lo < gap && hi > -gap {
                    grid.extend(dense_grid(lo.max(-gap), hi.min(gap), 4096));
                }
                let e = grid
                    .iter()
                    .map(|&x| (approx(x) - x.max(0.0)).abs())
                    .fold(0.0, f64::max);
                relus += 1;
                worst_relu = worst_relu.max(e);
                e
            } else {
                let f = reference_activation(&op.name).map_err(err)?;
                let (a, b) = if hi > lo {
                    (lo, hi)
                } else {
                    (lo - 1e-3, hi + 1e-3)
                };
                let fit = chebyshev_interpolate(&f, a, b, self.smooth_degree);
                let mut p = polynomial(&mut func, x, fit.coeffs.clone(), fit.domain, &op.loc);
                p.results = op.results.clone();
                body.push(p);
                smooth += 1;
                worst_smooth = worst_smooth.max(fit.max_error);
                fit.max_error
            };
            per_layer.push((format!("max-error-e9 {}", layer(&op)), e9(max_error)));
        }
        func.body = body;
        super::canonicalize::drop_unused_resources(module, &func);
        *module.main_mut().expect("main exists") = func;
        let mut stats: Statistics = vec![
            ("relus-approximated".into(), relus),
            ("relu-scalings-folded".into(), folded),
            ("smooth-approximated".into(), smooth),
            ("worst-relu-max-error-e9".into(), e9(worst_relu)),
            ("worst-smooth-max-error-e9".into(), e9(worst_smooth)),
        ];
        stats.extend(per_layer);
        Ok(stats)
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
        let data: Vec<f32> = data.iter().map(|&w| (w as f64 * factor) as f32).collect();
        let name = module.add_f32_resource(&format!("{hint}_prescaled"), &data);
        let ty = func.ty(v).clone();
        let nv = func.new_value(ty.clone(), None);
        constants.push(Op {
            name: "nn.constant".into(),
            operands: vec![],
            results: vec![nv],
            attrs: vec![("value".into(), Attribute::DenseResource { name, ty })],
            loc: c.loc.clone(),
        });
        new_operands.push(nv);
    }
    body[p].operands = new_operands;
    for (k, c) in constants.into_iter().enumerate() {
        body.insert(p + k, c);
    }
    true
}
