//! Reference semantics of the `pack` dialect on cleartext slot vectors. Every
//! op computes exactly what its ciphertext lowering computes (same rotations,
//! same diagonals), so agreement with the `nn` interpreter tests the packing.
//!
//! The interpreter runs a batch of samples op by op: each op is prepared
//! once (a linear op's plan, its diagonals, costs far more than applying
//! it) and applied to every sample, the samples in parallel, and a value
//! is dropped after its last use. Calibrating bootstrap bounds on 20
//! images of CIFAR ResNet-18 built every plan 20 times before (65% of its
//! compile); one batch per thread still built each plan once per thread.

use rayon::prelude::*;

use super::linear::{apply_blocked, apply_entries};
use super::{layout::VecLayout, LinearMap, LinearOp};
use crate::diag::Diagnostic;
use crate::ir::{Func, Module, Op};
use crate::nn::interp::Polynomial;
use crate::tensor::Tensor;

#[derive(Clone, Debug)]
enum Value {
    Tensor(Tensor),
    Slots(Vec<f64>),
}

/// Runs `@main` on tensors; returns the tensors it returns.
pub fn interpret(module: &Module, inputs: &[Tensor]) -> Result<Vec<Tensor>, Diagnostic> {
    let mut outputs = interpret_batch_observed(module, &[inputs.to_vec()], |_, _| {})?;
    Ok(outputs.pop().unwrap_or_default())
}

/// [`interpret`] on several samples (each one list of `@main`'s inputs),
/// each op prepared once for all of them; returns each sample's outputs.
pub fn interpret_batch(
    module: &Module,
    samples: &[Vec<Tensor>],
) -> Result<Vec<Vec<Tensor>>, Diagnostic> {
    interpret_batch_observed(module, samples, |_, _| {})
}

/// [`interpret_batch`], calling `observe(op, slots)` with every slot vector an op produces, for
/// each sample.
pub fn interpret_batch_observed(
    module: &Module,
    samples: &[Vec<Tensor>],
    observe: impl FnMut(&Op, &[f64]),
) -> Result<Vec<Vec<Tensor>>, Diagnostic> {
    run(module, samples, Linear::Planned, observe)
}

/// [`interpret_batch_observed`] with each `pack.linear` applied from its
/// map's entries, one pass over them for the whole batch
/// ([`apply_entries`]): the same values up to the order of the sums, and
/// no plan built, for bounding values (bootstrap inputs) on many samples.
pub fn interpret_batch_values(
    module: &Module,
    samples: &[Vec<Tensor>],
    observe: impl FnMut(&Op, &[f64]),
) -> Result<Vec<Vec<Tensor>>, Diagnostic> {
    run(module, samples, Linear::Entries, observe)
}

/// How `pack.linear` runs: through its plan (the rotations and diagonals
/// of the ciphertext program) or from its map's entries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Linear {
    Planned,
    Entries,
}

fn run(
    module: &Module,
    samples: &[Vec<Tensor>],
    linear: Linear,
    mut observe: impl FnMut(&Op, &[f64]),
) -> Result<Vec<Vec<Tensor>>, Diagnostic> {
    let func = module
        .main()
        .ok_or_else(|| Diagnostic::new(Default::default(), "module has no func.func @main"))?;
    let bytes = crate::interp_memory::peak_live_bytes(func, 0).saturating_mul(samples.len());
    crate::ir::limits::check_memory(&format!("interpreting @{}", func.name), bytes)
        .map_err(|m| Diagnostic::new(func.loc.clone(), m))?;
    if let Some(inputs) = samples.iter().find(|s| s.len() != func.args.len()) {
        return Err(Diagnostic::new(
            func.loc.clone(),
            format!(
                "@main takes {} inputs, got {}",
                func.args.len(),
                inputs.len()
            ),
        ));
    }
    let mut env: Vec<Option<Vec<Value>>> = vec![None; func.values.len()];
    for (k, &a) in func.args.iter().enumerate() {
        env[a.0 as usize] = Some(
            samples
                .iter()
                .map(|inputs| Value::Tensor(inputs[k].clone()))
                .collect(),
        );
    }
    let last_use = func.last_uses();
    let first_stages =
        crate::fitted_range::first_stages(func, "pack.polynomial", &["pack.bootstrap"]);
    for (i, op) in func.body.iter().enumerate() {
        let args: Vec<&Vec<Value>> = op
            .operands
            .iter()
            .map(|v| {
                env[v.0 as usize].as_ref().ok_or_else(|| {
                    Diagnostic::new(
                        op.loc.clone(),
                        format!("{} uses an undefined value", op.label()),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        if op.name == "func.return" {
            return (0..samples.len())
                .map(|s| args.iter().map(|a| returned(op, &a[s])).collect())
                .collect();
        }
        let located = |m: String| Diagnostic::new(op.loc.clone(), format!("{} {m}", op.label()));
        let kernel = Kernel::prepare(op, func, module, linear).map_err(located)?;
        if first_stages[i] {
            for a in args.first().into_iter().flat_map(|a| a.iter()) {
                if let Value::Slots(x) = a {
                    crate::fitted_range::check(op, x);
                }
            }
        }
        let out: Vec<Value> = match &kernel {
            Kernel::LinearEntries(lin) => {
                let xs = args[0].iter().map(slots).collect::<Result<Vec<_>, _>>();
                lin.apply(&xs.map_err(located)?).map_err(located)?
            }
            _ => (0..samples.len())
                .into_par_iter()
                .map(|s| kernel.apply(&args.iter().map(|a| &a[s]).collect::<Vec<_>>()))
                .collect::<Result<_, _>>()
                .map_err(located)?,
        };
        for value in &out {
            if let Value::Slots(slots) = value {
                observe(op, slots);
            }
        }
        for v in &op.operands {
            if last_use[v.0 as usize] == i {
                env[v.0 as usize] = None;
            }
        }
        env[op.result().0 as usize] = Some(out);
    }
    Err(Diagnostic::new(
        func.loc.clone(),
        "@main has no func.return",
    ))
}

fn returned(op: &Op, v: &Value) -> Result<Tensor, Diagnostic> {
    match v {
        Value::Tensor(t) => Ok(t.clone()),
        Value::Slots(_) => Err(Diagnostic::new(
            op.loc.clone(),
            "@main must return tensors (unpack them first)",
        )),
    }
}

fn slots(v: &Value) -> Result<&[f64], String> {
    match v {
        Value::Slots(s) => Ok(s),
        Value::Tensor(_) => Err("expects a packed vector, got a tensor".into()),
    }
}

/// One op, ready to apply to any sample.
enum Kernel {
    Pack(VecLayout),
    Unpack {
        layout: VecLayout,
        shape: Vec<usize>,
    },
    Linear(Box<LinearOp>),
    LinearEntries(Box<Unplanned>),
    Square,
    Polynomial(Polynomial),
    Mul,
    Add,
    Bootstrap {
        bound: f64,
    },
}

impl Kernel {
    fn prepare(op: &Op, func: &Func, module: &Module, linear: Linear) -> Result<Kernel, String> {
        let result_ty = func.ty(op.result());
        Ok(match op.name.as_str() {
            "pack.pack" => Kernel::Pack(VecLayout::from_type(result_ty)?),
            "pack.unpack" => Kernel::Unpack {
                layout: VecLayout::from_type(func.ty(op.operands[0]))?,
                shape: result_ty.shape().ok_or("result must be a tensor")?.to_vec(),
            },
            "pack.linear" => {
                let input = VecLayout::from_type(func.ty(op.operands[0]))?;
                let output = VecLayout::from_type(result_ty)?;
                match linear {
                    Linear::Planned => {
                        Kernel::Linear(Box::new(LinearOp::from_op(op, &input, &output, module)?))
                    }
                    Linear::Entries => {
                        let (map, bias) = LinearOp::map_and_bias(op, &input, &output, module)?;
                        Kernel::LinearEntries(Box::new(Unplanned {
                            map,
                            bias,
                            input,
                            output,
                        }))
                    }
                }
            }
            "pack.square" => Kernel::Square,
            "pack.polynomial" => Kernel::Polynomial(Polynomial::from_op(op)?),
            "pack.mul" => Kernel::Mul,
            "pack.add" => Kernel::Add,
            "pack.bootstrap" => Kernel::Bootstrap {
                bound: super::bootstrap_bound(op)?,
            },
            other => return Err(format!("has no reference semantics ('{other}')")),
        })
    }

    fn apply(&self, args: &[&Value]) -> Result<Value, String> {
        let zip = |f: fn(f64, f64) -> f64| -> Result<Value, String> {
            let (a, b) = (slots(args[0])?, slots(args[1])?);
            Ok(Value::Slots(
                a.iter().zip(b).map(|(&a, &b)| f(a, b)).collect(),
            ))
        };
        Ok(match self {
            Kernel::Pack(layout) => match args[0] {
                Value::Tensor(t) => Value::Slots(layout.pack(&t.data)),
                Value::Slots(_) => return Err("expects a tensor".into()),
            },
            Kernel::Unpack { layout, shape } => {
                Value::Tensor(Tensor::new(shape.clone(), layout.unpack(slots(args[0])?)))
            }
            Kernel::Linear(lin) => Value::Slots(apply_blocked(
                &lin.plan,
                lin.bias.as_deref(),
                slots(args[0])?,
            )),
            Kernel::LinearEntries(lin) => return Ok(lin.apply(&[slots(args[0])?])?.remove(0)),
            Kernel::Square => Value::Slots(slots(args[0])?.iter().map(|v| v * v).collect()),
            Kernel::Polynomial(p) => {
                Value::Slots(slots(args[0])?.iter().map(|&v| p.eval(v)).collect())
            }
            Kernel::Mul => zip(|a, b| a * b)?,
            Kernel::Add => zip(|a, b| a + b)?,
            Kernel::Bootstrap { bound } => {
                let x = slots(args[0])?;
                // Encrypted, a value past the bound wraps around modulo the
                // bootstrap's range: refuse rather than pretend it works.
                if let Some(v) = x.iter().find(|v| v.abs() > *bound) {
                    return Err(format!(
                        "input {v} exceeds the bootstrap bound {bound} (calibrate with more samples or a larger margin)"
                    ));
                }
                Value::Slots(x.to_vec())
            }
        })
    }
}

/// A `pack.linear` applied from its map's entries ([`apply_entries`]).
struct Unplanned {
    map: LinearMap,
    bias: Option<Vec<f64>>,
    input: VecLayout,
    output: VecLayout,
}

impl Unplanned {
    /// The op on every sample of a batch: the samples split between the
    /// threads, each thread one pass over the entries for its share.
    fn apply(&self, xs: &[&[f64]]) -> Result<Vec<Value>, String> {
        let per_thread = xs.len().div_ceil(rayon::current_num_threads()).max(1);
        let parts = xs
            .par_chunks(per_thread)
            .map(|xs| {
                apply_entries(
                    &self.map,
                    &self.input,
                    &self.output,
                    self.bias.as_deref(),
                    xs,
                )
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(parts.into_iter().flatten().map(Value::Slots).collect())
    }
}
