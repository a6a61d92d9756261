//! The one limit on a layout that no choice of gap can lift: a tensor may
//! span at most [`MAX_BLOCKS`] ciphertexts. A tensor past it is refused
//! before packing, naming the layer, its size, and what would fit it: a
//! preset with more slots if one would, and otherwise a smaller layer in
//! the model (the tools do not run one input as separate tiles).

use super::op_err;
use crate::compile::Preset;
use orion_dialects::ir::{Func, Op};
use orion_dialects::pack::layout::MAX_BLOCKS;
use orion_dialects::Diagnostic;

/// The first op of `func` whose result is too large for any layout at
/// `slots` slots, as an error.
pub fn check(func: &Func, slots: usize) -> Result<(), Diagnostic> {
    for op in &func.body {
        for &r in &op.results {
            let elements = func.ty(r).num_elements().unwrap_or(0);
            if elements.div_ceil(slots) > MAX_BLOCKS {
                return Err(error(op, elements, slots));
            }
        }
    }
    Ok(())
}

fn error(op: &Op, elements: usize, slots: usize) -> Diagnostic {
    let capacity = MAX_BLOCKS * slots;
    let larger = Preset::ALL
        .iter()
        .map(|&(name, p)| (name, p.params()))
        .filter(|(_, p)| p.slots() > slots && elements.div_ceil(p.slots()) <= MAX_BLOCKS)
        .max_by_key(|(_, p)| p.slots());
    let fix = match larger {
        // Said with its memory: a layout that fits may still be far too
        // large to run.
        Some((name, p)) => {
            let cts = elements.div_ceil(p.slots());
            let bytes = cts * 2 * (1usize << p.log_n) * p.log_q.len() * 8;
            format!(
                "--params {name} ({} slots) lays it out over {cts} ciphertexts \
                 (about {:.1} GB encrypted at the top level)",
                p.slots(),
                bytes as f64 / 1e9
            )
        }
        None => format!(
            "no parameter preset has enough slots: make this layer's output at most {capacity} \
             values in the model (a strided or pooled stem, fewer channels, or a lower input \
             resolution)"
        ),
    };
    op_err(
        op,
        format!(
            "result: {elements} values take {} ciphertexts of {slots} slots, more than the \
             {MAX_BLOCKS} a layout may span; {fix}",
            elements.div_ceil(slots)
        ),
    )
}
