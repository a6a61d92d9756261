//! What the cleartext interpreters hold, estimated before they run, so that
//! a program too large for the machine is refused with a message instead
//! of aborting on a failed allocation.

use crate::ckks::CtType;
use crate::diag::Diagnostic;
use crate::ir::limits::check_memory;
use crate::ir::{Func, Type};
use crate::pack::VecLayout;

/// Bytes of one value's data as f64: a tensor's elements, a packed
/// vector's slots over every block, a ckks ciphertext or plaintext as
/// `ckks_slots` values.
fn value_bytes(ty: &Type, ckks_slots: usize) -> usize {
    let elements = if let Some(n) = ty.num_elements() {
        n
    } else if let Ok(l) = VecLayout::from_type(ty) {
        l.blocks().saturating_mul(l.slots)
    } else if CtType::from_type(ty).is_ok() || ty.is_dialect("ckks", "pt") {
        ckks_slots
    } else {
        0
    };
    elements.saturating_mul(std::mem::size_of::<f64>())
}

/// An upper bound of the bytes an interpreter holds running `func`, as if
/// no value died.
pub fn interpreter_bytes(func: &Func, ckks_slots: usize) -> usize {
    func.values
        .iter()
        .map(|v| value_bytes(&v.ty, ckks_slots))
        .fold(0usize, usize::saturating_add)
}

/// The bytes an interpreter holds at its peak when it drops each value
/// after its last use and copies an op's operands while evaluating it:
/// the values alive before the op, its operands again, and its results.
pub fn peak_live_bytes(func: &Func, ckks_slots: usize) -> usize {
    let last = func.last_uses();
    let bytes = |v: &crate::ir::ValueId| value_bytes(func.ty(*v), ckks_slots);
    let mut live: usize = func.args.iter().map(bytes).fold(0, usize::saturating_add);
    let mut peak = live;
    for (i, op) in func.body.iter().enumerate() {
        let operands = op.operands.iter().map(bytes).fold(0, usize::saturating_add);
        let results = op.results.iter().map(bytes).fold(0, usize::saturating_add);
        peak = peak.max(live.saturating_add(operands).saturating_add(results));
        let mut dead: Vec<_> = op
            .operands
            .iter()
            .filter(|v| last[v.0 as usize] == i)
            .collect();
        dead.sort_unstable();
        dead.dedup();
        let freed = dead.into_iter().map(bytes).fold(0, usize::saturating_add);
        live = live.saturating_sub(freed).saturating_add(results);
    }
    peak
}

/// Refuses to interpret `func` when its estimate exceeds the memory the
/// machine has available: every value (`frees` false), or the peak of the
/// live ones for an interpreter that drops values after their last use.
pub fn check_interpreter_memory(
    func: &Func,
    ckks_slots: usize,
    frees: bool,
) -> Result<(), Diagnostic> {
    let bytes = if frees {
        peak_live_bytes(func, ckks_slots)
    } else {
        interpreter_bytes(func, ckks_slots)
    };
    check_memory(&format!("interpreting @{}", func.name), bytes)
        .map_err(|m| Diagnostic::new(func.loc.clone(), m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Location, Type};

    #[test]
    fn every_value_counts_as_f64() {
        let mut f = Func::new("main");
        let x = f.add_arg(Type::f32_tensor(&[1 << 15, 1 << 16]), None);
        let y = f.push_op(
            "nn.square",
            vec![x],
            vec![],
            vec![Type::f32_tensor(&[1 << 15, 1 << 16])],
            Location::Unknown,
        );
        f.push_op("func.return", y, vec![], vec![], Location::Unknown);
        assert_eq!(interpreter_bytes(&f, 0), (2 * 8) << 31);
        // x, its copy as the operand, and y: 48 GiB at the peak.
        assert_eq!(peak_live_bytes(&f, 0), (3 * 8) << 31);
        // 32 GiB: more than any machine here has.
        let err = check_interpreter_memory(&f, 0, false).unwrap_err();
        assert!(
            err.message
                .starts_with("interpreting @main needs about 34.4 GB"),
            "{err}"
        );
    }

    #[test]
    fn values_dead_after_their_last_use_do_not_count() {
        // A chain of 100 squares of a 2^20-element tensor: every value as
        // if alive is 101 tensors, the live peak three (input, operand
        // copy, result).
        let ty = Type::f32_tensor(&[1 << 20]);
        let mut f = Func::new("main");
        let mut x = f.add_arg(ty.clone(), None);
        for _ in 0..100 {
            x = f.push_op(
                "nn.square",
                vec![x],
                vec![],
                vec![ty.clone()],
                Location::Unknown,
            )[0];
        }
        f.push_op("func.return", vec![x], vec![], vec![], Location::Unknown);
        let tensor = 8 << 20;
        assert_eq!(interpreter_bytes(&f, 0), 101 * tensor);
        assert_eq!(peak_live_bytes(&f, 0), 3 * tensor);
    }
}
