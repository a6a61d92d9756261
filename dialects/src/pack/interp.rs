//! Reference semantics of the `pack` dialect on cleartext slot vectors. Every
//! op computes exactly what its ciphertext lowering computes (same rotations,
//! same diagonals), so agreement with the `nn` interpreter tests the packing.

use super::{layout::VecLayout, linear::apply_blocked, LinearOp};
use crate::diag::Diagnostic;
use crate::ir::{Module, Op};
use crate::nn::interp::Polynomial;
use crate::tensor::Tensor;

#[derive(Clone, Debug)]
enum Value {
    Tensor(Tensor),
    Slots(Vec<f64>),
}

/// Runs `@main` on tensors; returns the tensors it returns.
pub fn interpret(module: &Module, inputs: &[Tensor]) -> Result<Vec<Tensor>, Diagnostic> {
    interpret_observed(module, inputs, |_, _| {})
}

/// [`interpret`], calling `observe(op, slots)` with every slot vector an op
/// produces (calibration of bootstrap input ranges).
pub fn interpret_observed(
    module: &Module,
    inputs: &[Tensor],
    mut observe: impl FnMut(&Op, &[f64]),
) -> Result<Vec<Tensor>, Diagnostic> {
    let func = module
        .main()
        .ok_or_else(|| Diagnostic::new(Default::default(), "module has no func.func @main"))?;
    crate::interp_memory::check_interpreter_memory(func, 0, false)?;
    if inputs.len() != func.args.len() {
        return Err(Diagnostic::new(
            func.loc.clone(),
            format!(
                "@main takes {} inputs, got {}",
                func.args.len(),
                inputs.len()
            ),
        ));
    }
    let mut env: Vec<Option<Value>> = vec![None; func.values.len()];
    for (&a, t) in func.args.iter().zip(inputs) {
        env[a.0 as usize] = Some(Value::Tensor(t.clone()));
    }
    let first_stages =
        crate::fitted_range::first_stages(func, "pack.polynomial", &["pack.bootstrap"]);
    for (i, op) in func.body.iter().enumerate() {
        let args: Vec<Value> = op
            .operands
            .iter()
            .map(|v| {
                env[v.0 as usize].clone().ok_or_else(|| {
                    Diagnostic::new(
                        op.loc.clone(),
                        format!("{} uses an undefined value", op.label()),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        if op.name == "func.return" {
            return args
                .into_iter()
                .map(|v| match v {
                    Value::Tensor(t) => Ok(t),
                    Value::Slots(_) => Err(Diagnostic::new(
                        op.loc.clone(),
                        "@main must return tensors (unpack them first)",
                    )),
                })
                .collect();
        }
        if let (true, Some(Value::Slots(x))) = (first_stages[i], args.first()) {
            crate::fitted_range::check(op, x);
        }
        let out = eval_op(op, &args, func, module)
            .map_err(|m| Diagnostic::new(op.loc.clone(), format!("{} {m}", op.label())))?;
        if let Value::Slots(s) = &out {
            observe(op, s);
        }
        env[op.result().0 as usize] = Some(out);
    }
    Err(Diagnostic::new(
        func.loc.clone(),
        "@main has no func.return",
    ))
}

fn slots(v: &Value) -> Result<&[f64], String> {
    match v {
        Value::Slots(s) => Ok(s),
        Value::Tensor(_) => Err("expects a packed vector, got a tensor".into()),
    }
}

fn eval_op(
    op: &Op,
    args: &[Value],
    func: &crate::ir::Func,
    module: &Module,
) -> Result<Value, String> {
    let result_ty = func.ty(op.result());
    Ok(match op.name.as_str() {
        "pack.pack" => {
            let t = match &args[0] {
                Value::Tensor(t) => t,
                _ => return Err("expects a tensor".into()),
            };
            Value::Slots(VecLayout::from_type(result_ty)?.pack(&t.data))
        }
        "pack.unpack" => {
            let layout = VecLayout::from_type(func.ty(op.operands[0]))?;
            let shape = result_ty.shape().ok_or("result must be a tensor")?.to_vec();
            Value::Tensor(Tensor::new(shape, layout.unpack(slots(&args[0])?)))
        }
        "pack.linear" => {
            let input = VecLayout::from_type(func.ty(op.operands[0]))?;
            let output = VecLayout::from_type(result_ty)?;
            let lin = LinearOp::from_op(op, &input, &output, module)?;
            Value::Slots(apply_blocked(
                &lin.plan,
                lin.bias.as_deref(),
                slots(&args[0])?,
            ))
        }
        "pack.square" => Value::Slots(slots(&args[0])?.iter().map(|v| v * v).collect()),
        "pack.polynomial" => {
            let p = Polynomial::from_op(op)?;
            Value::Slots(slots(&args[0])?.iter().map(|&v| p.eval(v)).collect())
        }
        "pack.mul" => Value::Slots(
            slots(&args[0])?
                .iter()
                .zip(slots(&args[1])?)
                .map(|(a, b)| a * b)
                .collect(),
        ),
        "pack.add" => Value::Slots(
            slots(&args[0])?
                .iter()
                .zip(slots(&args[1])?)
                .map(|(a, b)| a + b)
                .collect(),
        ),
        "pack.bootstrap" => {
            let bound = super::bootstrap_bound(op)?;
            let x = slots(&args[0])?;
            // Encrypted, a value past the bound wraps around modulo the
            // bootstrap's range: refuse rather than pretend it works.
            if let Some(v) = x.iter().find(|v| v.abs() > bound) {
                return Err(format!(
                    "input {v} exceeds the bootstrap bound {bound} (calibrate with more samples or a larger margin)"
                ));
            }
            Value::Slots(x.to_vec())
        }
        other => return Err(format!("has no reference semantics ('{other}')")),
    })
}
