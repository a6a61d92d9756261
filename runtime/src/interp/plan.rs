//! What the evaluation loop needs of a module, computed once: each value's
//! last use (to free it), the groups of rotations of one operand (to hoist
//! them), and a fingerprint (to notice another module).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use orion_dialects::{Attribute, Func, Module};

/// The parts of a module the evaluation loop needs, computed once.
pub(super) struct Plan {
    pub(super) fingerprint: u64,
    /// Index of the last op using each value (`usize::MAX`: never used).
    pub(super) last_use: Vec<usize>,
    /// For a rotate op that starts a hoisted group: the other rotate ops of
    /// the same operand, with their offsets (the first entry is the op itself).
    pub(super) hoist_groups: HashMap<usize, Vec<(usize, i64)>>,
}

/// A hash of the module's attributes, `@main` and resources.
pub(super) fn fingerprint(module: &Module) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    format!("{:?}", module.attrs).hash(&mut h);
    if let Some(f) = module.main() {
        format!("{:?}{:?}{:?}", f.args, f.values, f.body).hash(&mut h);
    }
    for r in &module.resources {
        r.name.hash(&mut h);
        r.data.hash(&mut h);
    }
    h.finish()
}

impl Plan {
    pub(super) fn new(module: &Module, func: &Func) -> Plan {
        let mut last_use = vec![usize::MAX; func.values.len()];
        let mut rotates: HashMap<u32, Vec<(usize, i64)>> = HashMap::new();
        for (i, op) in func.body.iter().enumerate() {
            for v in &op.operands {
                if let Some(l) = last_use.get_mut(v.0 as usize) {
                    *l = i;
                }
            }
            if op.name == "ckks.rotate" && op.operands.len() == 1 {
                if let Some(k) = op.attr("offset").and_then(Attribute::as_int) {
                    rotates.entry(op.operands[0].0).or_default().push((i, k));
                }
            }
        }
        let hoist_groups = rotates
            .into_values()
            .filter(|g| g.len() >= 2)
            .map(|g| (g[0].0, g))
            .collect();
        Plan {
            fingerprint: fingerprint(module),
            last_use,
            hoist_groups,
        }
    }
}
