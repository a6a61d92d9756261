//! The e-graph's language (the arithmetic `ckks` ops, integer offsets and
//! opaque leaves) and its analysis: the ciphertext type of every e-class,
//! by the verifier's rules.

use std::collections::HashMap;

use egg::{define_language, Analysis, DidMerge, EGraph, Id, Symbol};
use orion_dialects::ckks::{CtType, PtType};

define_language! {
    /// The arithmetic `ckks` ops; `Num` holds rotation offsets and target
    /// levels, `Leaf` an opaque value `v<ValueId>` of the function.
    pub enum CkksLang {
        "rotate" = Rotate([Id; 2]),
        "add" = Add([Id; 2]),
        "sub" = Sub([Id; 2]),
        "add_plain" = AddPlain([Id; 2]),
        "mul_plain" = MulPlain([Id; 2]),
        "mul" = Mul([Id; 2]),
        "relinearize" = Relinearize([Id; 1]),
        "rescale" = Rescale([Id; 1]),
        "level_down" = LevelDown([Id; 2]),
        Num(i64),
        Leaf(Symbol),
    }
}

/// What the analysis knows about an e-class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Info {
    Const(i64),
    Ct(CtType),
    Pt(PtType),
    /// Not a ckks value, or an ill-typed term.
    Unknown,
}

impl Info {
    pub(super) fn ct(self) -> Option<CtType> {
        match self {
            Info::Ct(t) => Some(t),
            _ => None,
        }
    }

    pub(super) fn of_type(ty: &orion_dialects::Type) -> Info {
        if let Ok(t) = CtType::from_type(ty) {
            Info::Ct(t)
        } else if let Ok(t) = PtType::from_type(ty) {
            Info::Pt(t)
        } else {
            Info::Unknown
        }
    }
}

/// Tracks (level, log_scale, degree) per e-class with the verifier's rules.
#[derive(Clone, Debug, Default)]
pub struct CkksAnalysis {
    pub(super) log_q: Vec<u32>,
    pub(super) leaves: HashMap<Symbol, Info>,
}

pub(super) type CkksEGraph = EGraph<CkksLang, CkksAnalysis>;

/// The type of `node` from its children's, as `ckks::verify_op` computes it.
pub(super) fn infer(
    node: &CkksLang,
    log_q: &[u32],
    leaves: &HashMap<Symbol, Info>,
    child: impl Fn(Id) -> Info,
) -> Info {
    let same = |a: CtType, b: CtType| a.level == b.level && a.log_scale == b.log_scale;
    let out = match node {
        CkksLang::Num(k) => Some(Info::Const(*k)),
        CkksLang::Leaf(s) => leaves.get(s).copied(),
        CkksLang::Add([a, b]) | CkksLang::Sub([a, b]) => match (child(*a), child(*b)) {
            (Info::Ct(a), Info::Ct(b)) if same(a, b) => Some(Info::Ct(CtType {
                degree: a.degree.max(b.degree),
                ..a
            })),
            _ => None,
        },
        CkksLang::AddPlain([a, p]) => match (child(*a), child(*p)) {
            (Info::Ct(a), Info::Pt(p)) if a.level == p.level && a.log_scale == p.log_scale => {
                Some(Info::Ct(a))
            }
            _ => None,
        },
        CkksLang::MulPlain([a, p]) => match (child(*a), child(*p)) {
            (Info::Ct(a), Info::Pt(p)) if a.level == p.level => Some(Info::Ct(CtType {
                log_scale: a.log_scale + p.log_scale,
                ..a
            })),
            _ => None,
        },
        CkksLang::Mul([a, b]) => match (child(*a), child(*b)) {
            (Info::Ct(a), Info::Ct(b)) if a.level == b.level && a.degree == 1 && b.degree == 1 => {
                Some(Info::Ct(CtType {
                    log_scale: a.log_scale + b.log_scale,
                    degree: 2,
                    ..a
                }))
            }
            _ => None,
        },
        CkksLang::Relinearize([a]) => match child(*a) {
            Info::Ct(a) if a.degree == 2 => Some(Info::Ct(CtType { degree: 1, ..a })),
            _ => None,
        },
        CkksLang::Rescale([a]) => match child(*a) {
            Info::Ct(a) if a.level >= 1 && a.level < log_q.len() => Some(Info::Ct(CtType {
                level: a.level - 1,
                log_scale: a.log_scale - log_q[a.level] as i64,
                ..a
            })),
            _ => None,
        },
        CkksLang::LevelDown([a, l]) => match (child(*a), child(*l)) {
            (Info::Ct(a), Info::Const(l)) if l >= 0 && l as usize <= a.level => {
                Some(Info::Ct(CtType {
                    level: l as usize,
                    ..a
                }))
            }
            _ => None,
        },
        CkksLang::Rotate([a, k]) => match (child(*a), child(*k)) {
            (Info::Ct(a), Info::Const(_)) if a.degree == 1 => Some(Info::Ct(a)),
            _ => None,
        },
    };
    out.unwrap_or(Info::Unknown)
}

impl Analysis<CkksLang> for CkksAnalysis {
    type Data = Info;

    fn make(egraph: &mut CkksEGraph, enode: &CkksLang, _id: Id) -> Info {
        let a = &egraph.analysis;
        infer(enode, &a.log_q, &a.leaves, |c| egraph[c].data)
    }

    fn merge(&mut self, to: &mut Info, from: Info) -> DidMerge {
        if *to == from {
            DidMerge(false, false)
        } else if *to == Info::Unknown {
            *to = from;
            DidMerge(true, false)
        } else {
            // Rewrites only union terms of the same type; keep what we have.
            debug_assert!(
                from == Info::Unknown,
                "optimize-ckks: merged classes of types {to:?} and {from:?}"
            );
            DidMerge(false, true)
        }
    }
}
