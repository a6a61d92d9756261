//! The verifier: structural SSA checks, then each op's own verifier from its
//! dialect. Diagnostics name the op and point at its location.

use crate::diag::Diagnostic;
use crate::ir::limits::element_count;
use crate::ir::{Attribute, Func, Module, Op, Type};

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

/// A type whose sizes are computable and within the limits of
/// `ir::limits` (every size later derived from it is then exact).
fn check_type(ty: &Type) -> Result<(), String> {
    match ty {
        Type::Tensor { shape, .. } => element_count(shape).map(|_| ()),
        Type::Function { inputs, results } => inputs.iter().chain(results).try_for_each(check_type),
        t if t.is_dialect("pack", "vec") => crate::pack::VecLayout::from_type(t).map(|_| ()),
        _ => Ok(()),
    }
}

/// The types inside an attribute (dense constants, type attributes).
fn check_attr_types(attr: &Attribute) -> Result<(), String> {
    match attr {
        Attribute::Type(t)
        | Attribute::Dense { ty: t, .. }
        | Attribute::DenseResource { ty: t, .. } => check_type(t),
        Attribute::Array(items) => items.iter().try_for_each(check_attr_types),
        Attribute::Dict(entries) => entries.iter().try_for_each(|(_, a)| check_attr_types(a)),
        _ => Ok(()),
    }
}

pub fn verify_func(module: &Module, func: &Func) -> Result<(), Diagnostic> {
    let mut defined = vec![false; func.values.len()];
    for &a in &func.args {
        defined[a.0 as usize] = true;
        check_type(func.ty(a)).map_err(|m| {
            Diagnostic::new(
                func.loc.clone(),
                format!(
                    "@{}'s argument %{}: {m}",
                    func.name,
                    func.value_name(a)
                        .map_or_else(|| a.0.to_string(), str::to_string)
                ),
            )
        })?;
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
        for r in &op.results {
            check_type(func.ty(*r)).map_err(|m| op_error(op, format!("result: {m}")))?;
        }
        for (k, a) in &op.attrs {
            check_attr_types(a).map_err(|m| op_error(op, format!("'{k}': {m}")))?;
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
