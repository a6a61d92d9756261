//! The element-wise activations of the `nn` dialect: their attributes,
//! their exact semantics (the oracle approximations are measured against),
//! and the shape of each (smooth, or piecewise linear with kinks), which
//! decides how `approximate-activations` replaces it.
//!
//! | op | attributes (default) | f(x) |
//! |----|----------------------|------|
//! | `nn.relu` | - | max(x, 0) |
//! | `nn.leaky_relu` | `alpha` (0.01) | x if x >= 0 else alpha x (also a scalar PRelu) |
//! | `nn.clip` | `min`, `max` (absent: unbounded) | min(max(x, min), max) (ReLU6 is [0, 6]) |
//! | `nn.hard_sigmoid` | `alpha` (0.2), `beta` (0.5) | clip(alpha x + beta, 0, 1) |
//! | `nn.hard_swish` | - | x clip(x / 6 + 1 / 2, 0, 1) |
//! | `nn.sigmoid` | - | 1 / (1 + e^-x) |
//! | `nn.silu` | - | x sigmoid(x) |
//! | `nn.gelu` | `approximate` ("none" / "tanh") | x Phi(x), or its tanh form |
//! | `nn.tanh` `nn.erf` `nn.softplus` | - | tanh x, erf x, ln(1 + e^x) |
//! | `nn.elu` | `alpha` (1.0) | x if x > 0 else alpha (e^x - 1) |
//! | `nn.mish` | - | x tanh(softplus(x)) |

use crate::ir::Op;

/// Names of every activation op, which `calibrate` gives a `range`.
pub const ACTIVATION_OPS: &[&str] = &[
    "nn.relu",
    "nn.leaky_relu",
    "nn.clip",
    "nn.hard_sigmoid",
    "nn.hard_swish",
    "nn.sigmoid",
    "nn.silu",
    "nn.gelu",
    "nn.tanh",
    "nn.erf",
    "nn.softplus",
    "nn.elu",
    "nn.mish",
];

/// One activation with its attributes resolved.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    Relu,
    LeakyRelu { alpha: f64 },
    Clip { min: f64, max: f64 },
    HardSigmoid { alpha: f64, beta: f64 },
    HardSwish,
    Sigmoid,
    Silu,
    Gelu { tanh: bool },
    Tanh,
    Erf,
    Softplus,
    Elu { alpha: f64 },
    Mish,
}

/// `f(x) = x^p (c0 + c1 x + sum_i d_i |x - k_i|)` with `p` 0 or 1: every
/// piecewise-linear activation (p = 0) and HardSwish (p = 1). `|x - k|` is
/// `(x - k) sign(x - k)`, so each kink costs one sign approximation.
#[derive(Clone, Debug, PartialEq)]
pub struct PiecewiseLinear {
    pub c0: f64,
    pub c1: f64,
    /// `(k_i, d_i)`: where the slope changes, and half the change.
    pub kinks: Vec<(f64, f64)>,
    /// The whole is multiplied once more by `x` (HardSwish).
    pub times_x: bool,
}

impl PiecewiseLinear {
    /// The same function on `[lo, hi]` without the kinks outside it: there
    /// `|x - k|` is `x - k` or `k - x` throughout, which is linear and needs
    /// no sign (a ReLU6 whose inputs never reach 6 is a ReLU).
    pub fn restricted_to(&self, lo: f64, hi: f64) -> PiecewiseLinear {
        let mut out = PiecewiseLinear {
            kinks: Vec::new(),
            ..self.clone()
        };
        for &(k, d) in &self.kinks {
            if k <= lo {
                out.c1 += d;
                out.c0 -= d * k;
            } else if k >= hi {
                out.c1 -= d;
                out.c0 += d * k;
            } else {
                out.kinks.push((k, d));
            }
        }
        out
    }

    pub fn eval(&self, x: f64) -> f64 {
        let v = self.c0
            + self.c1 * x
            + self
                .kinks
                .iter()
                .map(|&(k, d)| d * (x - k).abs())
                .sum::<f64>();
        if self.times_x {
            x * v
        } else {
            v
        }
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// ln(1 + e^x) without overflow for large x.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// clip(a x + b, 0, 1) as `c0 + c1 x + sum d |x - k|` (a != 0).
fn unit_clip(a: f64, b: f64) -> PiecewiseLinear {
    // clip(u, 0, 1) = 1/2 + (|u| - |u - 1|) / 2 and |a x + b| = |a| |x + b / a|.
    let h = a.abs() / 2.0;
    PiecewiseLinear {
        c0: 0.5,
        c1: 0.0,
        kinks: vec![(-b / a, h), ((1.0 - b) / a, -h)],
        times_x: false,
    }
}

impl Activation {
    /// The activation an op computes; `Ok(None)` for an op that is not one.
    pub fn from_op(op: &Op) -> Result<Option<Activation>, String> {
        let float = |k: &str, default: f64| -> Result<f64, String> {
            match op.attr(k) {
                None => Ok(default),
                Some(a) => a
                    .as_float()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| format!("attribute '{k}' must be a finite float")),
            }
        };
        Ok(Some(match op.name.as_str() {
            "nn.relu" => Activation::Relu,
            "nn.leaky_relu" => Activation::LeakyRelu {
                alpha: float("alpha", 0.01)?,
            },
            "nn.clip" => {
                let (min, max) = (
                    float("min", f64::NEG_INFINITY)?,
                    float("max", f64::INFINITY)?,
                );
                if min > max {
                    return Err(format!("'min' = {min} exceeds 'max' = {max}"));
                }
                Activation::Clip { min, max }
            }
            "nn.hard_sigmoid" => {
                let alpha = float("alpha", 0.2)?;
                if alpha == 0.0 {
                    return Err("'alpha' must not be 0".into());
                }
                Activation::HardSigmoid {
                    alpha,
                    beta: float("beta", 0.5)?,
                }
            }
            "nn.hard_swish" => Activation::HardSwish,
            "nn.sigmoid" => Activation::Sigmoid,
            "nn.silu" => Activation::Silu,
            "nn.gelu" => Activation::Gelu {
                tanh: match op.attr("approximate").map(|a| a.as_str()) {
                    None | Some(Some("none")) => false,
                    Some(Some("tanh")) => true,
                    _ => return Err("'approximate' must be \"none\" or \"tanh\"".into()),
                },
            },
            "nn.tanh" => Activation::Tanh,
            "nn.erf" => Activation::Erf,
            "nn.softplus" => Activation::Softplus,
            "nn.elu" => Activation::Elu {
                alpha: float("alpha", 1.0)?,
            },
            "nn.mish" => Activation::Mish,
            _ => return Ok(None),
        }))
    }

    /// The exact value at `x`.
    pub fn eval(&self, x: f64) -> f64 {
        match *self {
            Activation::Relu => x.max(0.0),
            Activation::LeakyRelu { alpha } => {
                if x >= 0.0 {
                    x
                } else {
                    alpha * x
                }
            }
            Activation::Clip { min, max } => x.max(min).min(max),
            Activation::HardSigmoid { alpha, beta } => (alpha * x + beta).clamp(0.0, 1.0),
            Activation::HardSwish => x * (x / 6.0 + 0.5).clamp(0.0, 1.0),
            Activation::Sigmoid => sigmoid(x),
            Activation::Silu => x * sigmoid(x),
            Activation::Gelu { tanh: false } => {
                0.5 * x * (1.0 + libm::erf(x / std::f64::consts::SQRT_2))
            }
            Activation::Gelu { tanh: true } => {
                let c = (2.0 / std::f64::consts::PI).sqrt();
                0.5 * x * (1.0 + (c * (x + 0.044715 * x * x * x)).tanh())
            }
            Activation::Tanh => x.tanh(),
            Activation::Erf => libm::erf(x),
            Activation::Softplus => softplus(x),
            Activation::Elu { alpha } => {
                if x > 0.0 {
                    x
                } else {
                    alpha * x.exp_m1()
                }
            }
            Activation::Mish => x * softplus(x).tanh(),
        }
    }

    /// The piecewise-linear form of a non-smooth activation; `None` for the
    /// smooth ones, which are interpolated instead.
    pub fn piecewise_linear(&self) -> Option<PiecewiseLinear> {
        let pl = |c0, c1, kinks| PiecewiseLinear {
            c0,
            c1,
            kinks,
            times_x: false,
        };
        match *self {
            // max(x, 0) = x / 2 + |x| / 2.
            Activation::Relu => Some(pl(0.0, 0.5, vec![(0.0, 0.5)])),
            // x (1 + a) / 2 + |x| (1 - a) / 2.
            Activation::LeakyRelu { alpha } => Some(pl(
                0.0,
                (1.0 + alpha) / 2.0,
                vec![(0.0, (1.0 - alpha) / 2.0)],
            )),
            // (min + max) / 2 + (|x - min| - |x - max|) / 2, one side each
            // when the other bound is infinite.
            Activation::Clip { min, max } => Some(match (min.is_finite(), max.is_finite()) {
                (true, true) => pl((min + max) / 2.0, 0.0, vec![(min, 0.5), (max, -0.5)]),
                (true, false) => pl(min / 2.0, 0.5, vec![(min, 0.5)]),
                (false, true) => pl(max / 2.0, 0.5, vec![(max, -0.5)]),
                (false, false) => pl(0.0, 1.0, vec![]),
            }),
            Activation::HardSigmoid { alpha, beta } => Some(unit_clip(alpha, beta)),
            Activation::HardSwish => Some(PiecewiseLinear {
                times_x: true,
                ..unit_clip(1.0 / 6.0, 0.5)
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn piecewise_forms_equal_the_definitions() {
        let acts = [
            Activation::Relu,
            Activation::LeakyRelu { alpha: 0.1 },
            Activation::LeakyRelu { alpha: -0.3 },
            Activation::Clip { min: 0.0, max: 6.0 },
            Activation::Clip {
                min: -1.5,
                max: f64::INFINITY,
            },
            Activation::Clip {
                min: f64::NEG_INFINITY,
                max: 2.0,
            },
            Activation::HardSigmoid {
                alpha: 0.2,
                beta: 0.5,
            },
            Activation::HardSigmoid {
                alpha: -0.5,
                beta: 0.1,
            },
            Activation::HardSwish,
        ];
        for a in acts {
            let pl = a.piecewise_linear().expect("piecewise linear");
            for i in 0..=400 {
                let x = -10.0 + 0.05 * i as f64;
                assert!(
                    (pl.eval(x) - a.eval(x)).abs() < 1e-12,
                    "{a:?} at {x}: {} vs {}",
                    pl.eval(x),
                    a.eval(x)
                );
            }
        }
    }

    #[test]
    fn kinks_outside_the_range_are_dropped() {
        let relu6 = Activation::Clip { min: 0.0, max: 6.0 };
        let pl = relu6.piecewise_linear().unwrap().restricted_to(-3.0, 4.0);
        assert_eq!(pl.kinks, vec![(0.0, 0.5)]);
        let inside = pl.restricted_to(0.5, 4.0);
        assert!(inside.kinks.is_empty());
        for i in 0..=100 {
            let x = -3.0 + 0.07 * i as f64;
            assert!((pl.eval(x) - relu6.eval(x)).abs() < 1e-12);
            if x >= 0.5 {
                assert!((inside.eval(x) - relu6.eval(x)).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn smooth_forms_are_stable_at_large_inputs() {
        for a in [
            Activation::Softplus,
            Activation::Mish,
            Activation::Gelu { tanh: true },
        ] {
            for x in [-800.0, 800.0] {
                assert!(a.eval(x).is_finite(), "{a:?} at {x}");
            }
        }
        assert_eq!(Activation::Softplus.eval(800.0), 800.0);
    }
}
