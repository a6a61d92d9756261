//! Rebuilds `@main` from the extracted terms, emitting each chosen e-class
//! once so that shared values stay shared.

use std::collections::HashMap;

use egg::{Id, Language};
use orion_dialects::{Attribute, Diagnostic, Func, Location, Op, ValueId};

use egg::Extractor;

use super::cost::{node_name, NttCost};
use super::lang::{infer, CkksAnalysis, CkksEGraph, CkksLang, Info};

pub(super) struct Emitter<'a, 'e> {
    pub(super) eg: &'a CkksEGraph,
    pub(super) extractor: &'e Extractor<'a, NttCost<'a>, CkksLang, CkksAnalysis>,
    pub(super) origin: &'e HashMap<(Id, &'static str), (ValueId, Location)>,
    pub(super) class_loc: &'e HashMap<Id, Location>,
    pub(super) log_q: &'e [u32],
    pub(super) out: Func,
    pub(super) defined: Vec<bool>,
    pub(super) emitted: HashMap<Id, ValueId>,
    /// Values of earlier regions that now live under another id.
    pub(super) rename: &'e HashMap<ValueId, ValueId>,
}

impl Emitter<'_, '_> {
    pub(super) fn mark_defined(&mut self, v: ValueId) {
        let i = v.0 as usize;
        if self.defined.len() <= i {
            self.defined.resize(i + 1, false);
        }
        self.defined[i] = true;
    }

    /// The value that holds old value `v` now.
    pub(super) fn renamed(&self, v: ValueId) -> ValueId {
        self.rename.get(&v).copied().unwrap_or(v)
    }

    fn is_defined(&self, v: ValueId) -> bool {
        self.defined.get(v.0 as usize).copied().unwrap_or(false)
    }

    /// Emits class `root` (and what it needs) once; returns its value.
    pub(super) fn emit(&mut self, root: Id) -> Result<ValueId, Diagnostic> {
        let mut stack = vec![(root, false)];
        while let Some((c, expanded)) = stack.pop() {
            let c = self.eg.find(c);
            if self.emitted.contains_key(&c) {
                continue;
            }
            let node = self.extractor.find_best_node(c).clone();
            let value_children: Vec<Id> = node
                .children()
                .iter()
                .map(|&k| self.eg.find(k))
                .filter(|&k| !matches!(self.eg[k].data, Info::Const(_)))
                .collect();
            if !expanded {
                stack.push((c, true));
                for &k in value_children.iter().rev() {
                    if !self.emitted.contains_key(&k) {
                        stack.push((k, false));
                    }
                }
                continue;
            }
            let v = self.emit_node(c, &node, &value_children)?;
            self.emitted.insert(c, v);
        }
        Ok(self.emitted[&self.eg.find(root)])
    }

    fn emit_node(
        &mut self,
        c: Id,
        node: &CkksLang,
        children: &[Id],
    ) -> Result<ValueId, Diagnostic> {
        if let CkksLang::Leaf(sym) = node {
            let v = sym
                .as_str()
                .strip_prefix('v')
                .and_then(|s| s.parse::<u32>().ok())
                .map(|v| self.renamed(ValueId(v)))
                .ok_or_else(|| internal(format!("bad leaf {sym}")))?;
            if !self.is_defined(v) {
                return Err(internal(format!("leaf {sym} used before its definition")));
            }
            return Ok(v);
        }
        let name =
            node_name(node).ok_or_else(|| internal(format!("cannot emit {node:?} as a value")))?;
        let operands: Vec<ValueId> = children.iter().map(|k| self.emitted[k]).collect();
        let konst = |i: usize| match self.eg[node.children()[i]].data {
            Info::Const(k) => Ok(k),
            _ => Err(internal(format!("{name} without a constant operand"))),
        };
        let attrs = match node {
            CkksLang::Rotate(_) => vec![("offset".to_string(), Attribute::Int(konst(1)?))],
            CkksLang::LevelDown(_) => vec![("level".to_string(), Attribute::Int(konst(1)?))],
            _ => Vec::new(),
        };
        let types: HashMap<Id, Info> = children
            .iter()
            .zip(&operands)
            .map(|(&k, &v)| (k, Info::of_type(self.out.ty(v))))
            .collect();
        let info = infer(node, self.log_q, &HashMap::new(), |k| {
            let k = self.eg.find(k);
            types.get(&k).copied().unwrap_or(self.eg[k].data)
        });
        let Info::Ct(t) = info else {
            return Err(internal(format!("extracted an ill-typed 'ckks.{name}'")));
        };
        let ty = t.to_type();
        let (result, loc) = match self.origin.get(&(c, name)) {
            Some((v, loc)) if !self.is_defined(*v) && *self.out.ty(*v) == ty => (*v, loc.clone()),
            other => {
                let loc = other
                    .map(|(_, l)| l.clone())
                    .or_else(|| self.class_loc.get(&c).cloned())
                    .unwrap_or_default();
                (self.out.new_value(ty, None), loc)
            }
        };
        self.mark_defined(result);
        self.out.body.push(Op {
            name: format!("ckks.{name}"),
            operands,
            results: vec![result],
            attrs,
            loc,
        });
        Ok(result)
    }
}

/// An error that says the pass itself is wrong (never the input).
pub(super) fn internal(msg: impl std::fmt::Display) -> Diagnostic {
    Diagnostic::new(
        Location::Unknown,
        format!("optimize-ckks: internal error: {msg}"),
    )
}
