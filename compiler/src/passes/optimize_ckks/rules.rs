//! The rewrites, each applied only where the analysis says the result is
//! well typed.

use egg::{Applier, Id, Pattern, PatternAst, Rewrite, Subst, Symbol, Var};

use super::lang::{CkksAnalysis, CkksEGraph, CkksLang, Info};

pub(super) fn var(s: &str) -> Var {
    s.parse().expect("pattern variable")
}

pub(super) fn pattern(s: &str) -> Pattern<CkksLang> {
    s.parse().expect("optimize-ckks pattern")
}

#[derive(Clone, Copy, Debug)]
pub(super) enum RuleKind {
    /// `(rotate (rotate ?x ?a) ?b)`
    RotateFold,
    /// `(rotate ?x ?k)` with k = 0 mod slots
    RotateZero,
    /// `(add|sub (rescale ?a) (rescale ?b))`
    LazyRescale { sub: bool },
    /// `(add|sub (rotate ?a ?k) (rotate ?b ?k))`
    HoistRotation { sub: bool },
    /// `(rescale (rotate ?x ?k))` -> `(rotate (rescale ?x) ?k)`
    RescaleBelowRotate,
    /// `(rotate (rescale ?x) ?k)` -> `(rescale (rotate ?x ?k))`
    RescaleAboveRotate,
}

/// The right-hand sides, built only when the analysis says they are well-typed.
pub(super) struct CkksApplier {
    kind: RuleKind,
    slots: i64,
}

pub(super) fn konst(eg: &CkksEGraph, id: Id) -> Option<i64> {
    match eg[id].data {
        Info::Const(k) => Some(k),
        _ => None,
    }
}

impl CkksApplier {
    fn build(&self, eg: &mut CkksEGraph, subst: &Subst) -> Option<Id> {
        let ct = |eg: &CkksEGraph, v: &str| eg[subst[var(v)]].data.ct();
        match self.kind {
            RuleKind::RotateFold => {
                let (a, b) = (konst(eg, subst[var("?a")])?, konst(eg, subst[var("?b")])?);
                let x = subst[var("?x")];
                let k = (a + b).rem_euclid(self.slots);
                if k == 0 {
                    return Some(x);
                }
                let k = eg.add(CkksLang::Num(k));
                Some(eg.add(CkksLang::Rotate([x, k])))
            }
            RuleKind::RotateZero => {
                let k = konst(eg, subst[var("?k")])?;
                (k.rem_euclid(self.slots) == 0).then(|| subst[var("?x")])
            }
            RuleKind::LazyRescale { sub } => {
                let (ta, tb) = (ct(eg, "?a")?, ct(eg, "?b")?);
                if ta.level != tb.level || ta.log_scale != tb.log_scale || ta.level == 0 {
                    return None;
                }
                let ab = [subst[var("?a")], subst[var("?b")]];
                let s = eg.add(if sub {
                    CkksLang::Sub(ab)
                } else {
                    CkksLang::Add(ab)
                });
                Some(eg.add(CkksLang::Rescale([s])))
            }
            RuleKind::HoistRotation { sub } => {
                let (ta, tb) = (ct(eg, "?a")?, ct(eg, "?b")?);
                if ta.level != tb.level
                    || ta.log_scale != tb.log_scale
                    || ta.degree != 1
                    || tb.degree != 1
                {
                    return None;
                }
                konst(eg, subst[var("?k")])?;
                let ab = [subst[var("?a")], subst[var("?b")]];
                let s = eg.add(if sub {
                    CkksLang::Sub(ab)
                } else {
                    CkksLang::Add(ab)
                });
                Some(eg.add(CkksLang::Rotate([s, subst[var("?k")]])))
            }
            RuleKind::RescaleBelowRotate | RuleKind::RescaleAboveRotate => {
                let t = ct(eg, "?x")?;
                if t.degree != 1 || t.level == 0 {
                    return None;
                }
                konst(eg, subst[var("?k")])?;
                let (x, k) = (subst[var("?x")], subst[var("?k")]);
                if matches!(self.kind, RuleKind::RescaleBelowRotate) {
                    let r = eg.add(CkksLang::Rescale([x]));
                    Some(eg.add(CkksLang::Rotate([r, k])))
                } else {
                    let r = eg.add(CkksLang::Rotate([x, k]));
                    Some(eg.add(CkksLang::Rescale([r])))
                }
            }
        }
    }
}

impl Applier<CkksLang, CkksAnalysis> for CkksApplier {
    fn apply_one(
        &self,
        egraph: &mut CkksEGraph,
        eclass: Id,
        subst: &Subst,
        _searcher_ast: Option<&PatternAst<CkksLang>>,
        _rule_name: Symbol,
    ) -> Vec<Id> {
        match self.build(egraph, subst) {
            Some(id) if egraph.union(eclass, id) => vec![eclass],
            _ => vec![],
        }
    }
}

pub(super) fn rules(slots: i64) -> Vec<Rewrite<CkksLang, CkksAnalysis>> {
    let table: [(&str, &str, RuleKind); 8] = [
        (
            "rotate-fold",
            "(rotate (rotate ?x ?a) ?b)",
            RuleKind::RotateFold,
        ),
        ("rotate-zero", "(rotate ?x ?k)", RuleKind::RotateZero),
        (
            "add-of-rescales",
            "(add (rescale ?a) (rescale ?b))",
            RuleKind::LazyRescale { sub: false },
        ),
        (
            "sub-of-rescales",
            "(sub (rescale ?a) (rescale ?b))",
            RuleKind::LazyRescale { sub: true },
        ),
        (
            "add-of-rotations",
            "(add (rotate ?a ?k) (rotate ?b ?k))",
            RuleKind::HoistRotation { sub: false },
        ),
        (
            "sub-of-rotations",
            "(sub (rotate ?a ?k) (rotate ?b ?k))",
            RuleKind::HoistRotation { sub: true },
        ),
        (
            "rescale-below-rotate",
            "(rescale (rotate ?x ?k))",
            RuleKind::RescaleBelowRotate,
        ),
        (
            "rescale-above-rotate",
            "(rotate (rescale ?x) ?k)",
            RuleKind::RescaleAboveRotate,
        ),
    ];
    table
        .into_iter()
        .map(|(name, lhs, kind)| {
            Rewrite::new(name, pattern(lhs), CkksApplier { kind, slots })
                .expect("optimize-ckks rewrite")
        })
        .collect()
}
