//! What the cleartext interpreters hold, estimated before they run, so that
//! a program too large for the machine is refused with a message instead
//! of aborting on a failed allocation.

use crate::ckks::CtType;
use crate::diag::Diagnostic;
use crate::ir::limits::check_memory;
use crate::ir::Func;
use crate::pack::VecLayout;

/// An upper bound of the bytes an interpreter holds running `func`: every
/// value's data as f64 (tensors; packed vectors, every block; a ckks
/// ciphertext or plaintext as `ckks_slots` values), as if none died.
pub fn interpreter_bytes(func: &Func, ckks_slots: usize) -> usize {
    func.values
        .iter()
        .map(|v| {
            let elements = if let Some(n) = v.ty.num_elements() {
                n
            } else if let Ok(l) = VecLayout::from_type(&v.ty) {
                l.blocks().saturating_mul(l.slots)
            } else if CtType::from_type(&v.ty).is_ok() || v.ty.is_dialect("ckks", "pt") {
                ckks_slots
            } else {
                0
            };
            elements.saturating_mul(std::mem::size_of::<f64>())
        })
        .fold(0usize, usize::saturating_add)
}

/// Refuses to interpret `func` when its estimate exceeds the memory the
/// machine has available.
pub fn check_interpreter_memory(func: &Func, ckks_slots: usize) -> Result<(), Diagnostic> {
    check_memory(
        &format!("interpreting @{}", func.name),
        interpreter_bytes(func, ckks_slots),
    )
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
        // 32 GiB: more than any machine here has.
        let err = check_interpreter_memory(&f, 0).unwrap_err();
        assert!(
            err.message
                .starts_with("interpreting @main needs about 34.4 GB"),
            "{err}"
        );
    }
}
