//! How many ciphertexts a `ckks` function holds at once: what the
//! scheduler minimises and what the runtime's memory estimates start from.

use crate::ckks::CtType;
use crate::ir::{Func, ValueId};

/// The largest number of ciphertexts alive at once when `func` runs in
/// program order and each value dies after its last use.
pub fn peak_live_ciphertexts(func: &Func) -> usize {
    // The op after which each value is dead: its last use, or its own op
    // when nothing uses it.
    let mut last = vec![None; func.values.len()];
    for (i, op) in func.body.iter().enumerate() {
        for v in op.operands.iter().chain(&op.results) {
            last[v.0 as usize] = Some(i);
        }
    }
    let is_ct = |v: ValueId| CtType::from_type(func.ty(v)).is_ok();
    let mut dying = vec![0usize; func.body.len()];
    for (v, l) in last.iter().enumerate() {
        if let (Some(l), true) = (l, is_ct(ValueId(v as u32))) {
            dying[*l] += 1;
        }
    }
    let (mut live, mut peak) = (0usize, 0usize);
    for (i, op) in func.body.iter().enumerate() {
        live += op.results.iter().filter(|&&r| is_ct(r)).count();
        peak = peak.max(live);
        live -= dying[i];
    }
    peak
}
