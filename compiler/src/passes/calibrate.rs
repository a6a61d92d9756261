//! `calibrate` (nn -> nn), Orion's "fit": runs calibration inputs through the
//! `nn` interpreter and records on every activation (`nn.relu`,
//! `nn.clip`, `nn.gelu`, ...: [`ACTIVATIONS`]) the range of its input, and
//! on every `nn.max` that of `a - b`, over all of
//! them, widened by a margin, as `range = array<f64: lo, hi>`. The
//! approximation pass fits its polynomials on that range.
//!
//! With observed extremes `[a, b]` and margin `m` (default 0.1, i.e. 10%),
//! the recorded range is `[a - m (b - a), b + m (b - a)]`; a degenerate
//! `a == b` is widened by `m max(|a|, 1e-3)` on each side. Each calibration
//! input is one argument of `@main`; a function of `k` arguments takes the
//! inputs `k` at a time.
//!
//! ```text
//! %1 = nn.gemm %x, %w1, %b1 {trans_b = true} : (...) -> tensor<1x32xf32>
//! %2 = nn.relu %1 : tensor<1x32xf32>
//!   =>
//! %1 = nn.gemm %x, %w1, %b1 {trans_b = true} : (...) -> tensor<1x32xf32>
//! %2 = nn.relu %1 {range = array<f64: -11.93, 9.61>} : tensor<1x32xf32>
//! ```

use super::{Pass, PassOptions, Statistics};
use orion_dialects::ir::{Attribute, Location, Module, ValueId};
use orion_dialects::nn::interp::interpret_func;
use orion_dialects::tensor::Tensor;
use orion_dialects::Diagnostic;
use std::collections::HashMap;

/// The activations, which get a calibrated range of their input.
pub use orion_dialects::nn::activations::ACTIVATION_OPS as ACTIVATIONS;

/// Whether `op` gets a `range`: an activation (of its input), or `nn.max`
/// (of `a - b`, whose sign decides).
fn gets_range(name: &str) -> bool {
    ACTIVATIONS.contains(&name) || name == "nn.max"
}

/// Default margin: 10% of the observed width on each side.
pub const DEFAULT_MARGIN: f64 = 0.1;

pub struct Calibrate {
    pub inputs: Vec<Tensor>,
    pub margin: f64,
}

impl Calibrate {
    pub fn new(opts: &PassOptions) -> Calibrate {
        Calibrate {
            inputs: opts.calibration.clone(),
            margin: opts.calibration_margin,
        }
    }
}

/// `[lo, hi]` widened by `margin` (see the module documentation).
pub fn widen(lo: f64, hi: f64, margin: f64) -> [f64; 2] {
    let pad = if hi > lo {
        margin * (hi - lo)
    } else {
        margin * lo.abs().max(1e-3)
    };
    [lo - pad, hi + pad]
}

impl Pass for Calibrate {
    fn name(&self) -> &'static str {
        "calibrate"
    }

    fn run(&self, module: &mut Module) -> Result<Statistics, Diagnostic> {
        let func = module
            .main()
            .ok_or_else(|| Diagnostic::new(Location::Unknown, "module has no func.func @main"))?;
        let arity = func.args.len().max(1);
        if !func.body.iter().any(|o| gets_range(&o.name)) {
            // Nothing to calibrate (e.g. x^2 networks): a no-op, so the
            // standard pipeline can always include this pass.
            return Ok(vec![("activations-calibrated".into(), 0)]);
        }
        if self.inputs.is_empty() {
            return Err(Diagnostic::new(
                func.loc.clone(),
                "calibrate needs calibration inputs (orion-opt --calibration FILE)",
            ));
        }
        if !self.inputs.len().is_multiple_of(arity) {
            return Err(Diagnostic::new(
                func.loc.clone(),
                format!(
                    "calibrate got {} inputs, not a multiple of the {arity} arguments of @{}",
                    self.inputs.len(),
                    func.name
                ),
            ));
        }
        if !(self.margin >= 0.0 && self.margin.is_finite()) {
            return Err(Diagnostic::new(
                func.loc.clone(),
                format!("calibration margin must be >= 0, got {}", self.margin),
            ));
        }
        let mut seen: HashMap<ValueId, (f64, f64)> = HashMap::new();
        let mut non_finite: Option<String> = None;
        for sample in self.inputs.chunks(arity) {
            interpret_func(module, func, sample, |op, operands| {
                if !gets_range(&op.name) {
                    return;
                }
                let entry = seen
                    .entry(op.result())
                    .or_insert((f64::INFINITY, f64::NEG_INFINITY));
                let values: Vec<f64> = match operands {
                    [a, b] if op.name == "nn.max" && a.data.len() == b.data.len() => {
                        a.data.iter().zip(&b.data).map(|(a, b)| a - b).collect()
                    }
                    _ => operands[0].data.clone(),
                };
                for &v in &values {
                    if v.is_finite() {
                        entry.0 = entry.0.min(v);
                        entry.1 = entry.1.max(v);
                    } else if non_finite.is_none() {
                        non_finite = Some(op.label());
                    }
                }
            })?;
        }
        if let Some(label) = non_finite {
            let op = func.body.iter().find(|o| o.label() == label);
            return Err(Diagnostic::new(
                op.map(|o| o.loc.clone()).unwrap_or_default(),
                format!("{label} sees a non-finite input during calibration"),
            ));
        }
        let margin = self.margin;
        let func = module.main_mut().expect("main exists");
        let mut calibrated = 0;
        for op in &mut func.body {
            if !gets_range(&op.name) {
                continue;
            }
            if let Some(&(lo, hi)) = seen.get(&op.result()) {
                if lo <= hi {
                    let [a, b] = widen(lo, hi, margin);
                    op.set_attr("range", Attribute::F64Array(vec![a, b]));
                    calibrated += 1;
                }
            }
        }
        Ok(vec![
            ("activations-calibrated".into(), calibrated),
            (
                "calibration-samples".into(),
                (self.inputs.len() / arity) as i64,
            ),
        ])
    }
}
