//! `schedule-ckks`: orders the ops of `@main` so that few ciphertexts are
//! alive at once. The runtime frees a value after its last use, so the
//! order decides the memory an encrypted run needs: a linear layer lowered
//! as all its plaintext products first and then their sums holds every
//! product at once (ResNet-20's 64-channel convolutions: 900 products of
//! 11.5 MB each at LogN 16), where summing each product right away holds a
//! handful.
//!
//! The order is demand-driven: starting from `func.return`, each op is
//! emitted right after the ops its operands need, operands left to right
//! (a post-order walk of the data flow), so a balanced sum of products is
//! computed subtree by subtree and each rotation just before its first
//! use. Values are unchanged; only positions move. Ops nothing uses keep
//! their turn at the end.
//!
//! Before (peak: 4 products alive):
//!
//! ```text
//! %m0 = ckks.mul_plain %x, %p0
//! %m1 = ckks.mul_plain %r1, %p1
//! %m2 = ckks.mul_plain %r2, %p2
//! %m3 = ckks.mul_plain %r3, %p3
//! %s0 = ckks.add %m0, %m1
//! %s1 = ckks.add %m2, %m3
//! %y  = ckks.add %s0, %s1
//! ```
//!
//! After (peak: 3):
//!
//! ```text
//! %m0 = ckks.mul_plain %x, %p0
//! %m1 = ckks.mul_plain %r1, %p1
//! %s0 = ckks.add %m0, %m1
//! %m2 = ckks.mul_plain %r2, %p2
//! %m3 = ckks.mul_plain %r3, %p3
//! %s1 = ckks.add %m2, %m3
//! %y  = ckks.add %s0, %s1
//! ```

use super::{Pass, Statistics};
use orion_dialects::{Diagnostic, Func, Module};

pub struct ScheduleCkks;

/// The order: indices into `func.body`, each op after its operands' ops.
fn demand_order(func: &Func) -> Vec<usize> {
    let def = func.defining_ops();
    let mut used = vec![false; func.values.len()];
    for op in &func.body {
        for v in &op.operands {
            used[v.0 as usize] = true;
        }
    }
    // Sinks in program order: the return, and ops whose results nothing uses.
    let sinks = func
        .body
        .iter()
        .enumerate()
        .filter(|(_, op)| op.results.iter().all(|r| !used[r.0 as usize]))
        .map(|(i, _)| i);
    let mut placed = vec![false; func.body.len()];
    let mut order = Vec::with_capacity(func.body.len());
    for sink in sinks {
        // Iterative post-order: (op, operands pushed?).
        let mut stack = vec![(sink, false)];
        while let Some((i, expanded)) = stack.pop() {
            if placed[i] {
                continue;
            }
            if expanded {
                placed[i] = true;
                order.push(i);
                continue;
            }
            stack.push((i, true));
            for v in func.body[i].operands.iter().rev() {
                if let Some(d) = def[v.0 as usize].filter(|&d| !placed[d]) {
                    stack.push((d, false));
                }
            }
        }
    }
    order
}

pub use orion_dialects::ckks::liveness::peak_live_ciphertexts;

impl Pass for ScheduleCkks {
    fn name(&self) -> &'static str {
        "schedule-ckks"
    }

    fn run(&self, module: &mut Module) -> Result<Statistics, Diagnostic> {
        let Some(func) = module.main_mut() else {
            return Ok(Vec::new());
        };
        let before = peak_live_ciphertexts(func);
        let order = demand_order(func);
        debug_assert_eq!(order.len(), func.body.len(), "every op reaches a sink");
        let mut ops: Vec<Option<_>> = std::mem::take(&mut func.body)
            .into_iter()
            .map(Some)
            .collect();
        func.body = order.iter().filter_map(|&i| ops[i].take()).collect();
        let after = peak_live_ciphertexts(func);
        Ok(vec![
            ("peak-live-ciphertexts-before".into(), before as i64),
            ("peak-live-ciphertexts-after".into(), after as i64),
        ])
    }
}
