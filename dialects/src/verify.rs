//! The verifier: structural SSA checks, then each op's own verifier from its
//! dialect. Diagnostics name the op and point at its location.

use crate::diag::Diagnostic;
use crate::ir::{Func, Module, Op};

/// Verifies every function of the module.
pub fn verify_module(module: &Module) -> Result<(), Diagnostic> {
    if module.main().is_none() {
        return Err(Diagnostic::new(
            Default::default(),
            "module has no func.func @main",
        ));
    }
    for func in &module.funcs {
        verify_func(module, func)?;
    }
    Ok(())
}

fn op_error(op: &Op, msg: impl std::fmt::Display) -> Diagnostic {
    Diagnostic::new(op.loc.clone(), format!("{} {msg}", op.label()))
}

pub fn verify_func(module: &Module, func: &Func) -> Result<(), Diagnostic> {
    let mut defined = vec![false; func.values.len()];
    for &a in &func.args {
        defined[a.0 as usize] = true;
    }
    for (i, op) in func.body.iter().enumerate() {
        for (k, v) in op.operands.iter().enumerate() {
            if !defined.get(v.0 as usize).copied().unwrap_or(false) {
                return Err(op_error(
                    op,
                    format!("operand #{k} is used before it is defined"),
                ));
            }
        }
        for r in &op.results {
            let slot = defined.get_mut(r.0 as usize).ok_or_else(|| {
                op_error(op, "defines a value outside the function's value table")
            })?;
            if *slot {
                return Err(op_error(op, "redefines a value"));
            }
            *slot = true;
        }
        let is_last = i + 1 == func.body.len();
        if op.name == "func.return" {
            if !is_last {
                return Err(op_error(op, "must be the last op of the function"));
            }
            continue;
        }
        verify_op(op, func, module).map_err(|m| op_error(op, m))?;
    }
    if func.return_op().is_none() {
        return Err(Diagnostic::new(
            func.loc.clone(),
            format!("@{} does not end with func.return", func.name),
        ));
    }
    Ok(())
}

/// Dispatches to the op's dialect.
pub fn verify_op(op: &Op, func: &Func, module: &Module) -> Result<(), String> {
    match op.dialect() {
        "nn" => crate::nn::verify_op(op, func, module),
        "pack" => crate::pack::verify_op(op, func, module),
        "ckks" => crate::ckks::verify_op(op, func, module),
        other => Err(format!("belongs to unknown dialect '{other}'")),
    }
}
