//! `optimize-ckks`: equality saturation (egg) over the arithmetic `ckks` ops of
//! `func.func @main`, extraction with a cost model counted in NTTs, and a
//! rebuild of `@main` that keeps values shared.
//!
//! The arithmetic ops (`rotate`, `add`, `sub`, `add_plain`, `mul_plain`, `mul`,
//! `relinearize`, `rescale`, `level_down`) become e-graph nodes; every other
//! value (function arguments, results of `ckks.encrypt` / `ckks.encode`) is an
//! opaque leaf named after its `ValueId`, so the rebuilt function refers to
//! the very same value instead of re-creating it. Rewrites:
//!
//! - `rotate(rotate(x, a), b) -> rotate(x, (a + b) mod slots)`, `rotate(x, 0) -> x`;
//! - lazy rescale: `add(rescale(a), rescale(b)) -> rescale(add(a, b))` (and
//!   `sub`), only when `a` and `b` have the same level and scale;
//! - `add(rotate(a, k), rotate(b, k)) -> rotate(add(a, b), k)` (and `sub`);
//! - `rescale(rotate(x, k)) <-> rotate(rescale(x), k)`, so that a rescale can
//!   move past a giant-step rotation and meet the other rescales of a sum.
//!
//! Every rewrite checks the e-class analysis, which tracks the ciphertext type
//! (level, log_scale, degree) of each class with the verifier's rules, so the
//! e-graph only ever holds well-typed terms. Extraction picks the cheapest node
//! of each class (key switch at level l: `(dnum_l + 2)(l + 1) + 2 #P` NTTs plus
//! its inner product; rescale: `(degree + 1)(l + 1)` NTTs; additions and
//! plaintext products a fraction of an NTT per limb), then emits each chosen
//! class once. If the extracted DAG would cost more than the input DAG (tree
//! extraction does not see sharing), the function is left as it was.
//!
//! Before (`ckks.params`: log_q = [29, 26, 26, 26, 26, 26]):
//!
//! ```text
//! %2 = ckks.rotate %x {offset = 3} : !ckks.ct<level = 5, log_scale = 26>
//! %3 = ckks.rotate %2 {offset = 5} : !ckks.ct<level = 5, log_scale = 26>
//! %4 = ckks.mul_plain %x, %p0 : !ckks.ct<level = 5, log_scale = 52>
//! %5 = ckks.rescale %4 : !ckks.ct<level = 4, log_scale = 26>
//! %6 = ckks.mul_plain %3, %p1 : !ckks.ct<level = 5, log_scale = 52>
//! %7 = ckks.rescale %6 : !ckks.ct<level = 4, log_scale = 26>
//! %8 = ckks.add %5, %7 : !ckks.ct<level = 4, log_scale = 26>
//! ```
//!
//! After (two key switches -> one, two rescales -> one; `ckks.rotations = array<i64: 8>`):
//!
//! ```text
//! %3 = ckks.rotate %x {offset = 8} : !ckks.ct<level = 5, log_scale = 26>
//! %4 = ckks.mul_plain %x, %p0 : !ckks.ct<level = 5, log_scale = 52>
//! %6 = ckks.mul_plain %3, %p1 : !ckks.ct<level = 5, log_scale = 52>
//! %9 = ckks.add %4, %6 : !ckks.ct<level = 5, log_scale = 52>
//! %8 = ckks.rescale %9 : !ckks.ct<level = 4, log_scale = 26>
//! ```

use super::{Pass, Statistics};
use egg::{
    define_language, Analysis, Applier, CostFunction, DidMerge, EGraph, Extractor, Id, Language,
    Pattern, PatternAst, Rewrite, Runner, SimpleScheduler, Subst, Symbol, Var,
};
use orion_dialects::ckks::params::ROTATIONS_ATTR;
use orion_dialects::ckks::{CtType, ParamsAttr, PtType};
use orion_dialects::{Attribute, Diagnostic, Func, Location, Module, Op, ValueId};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

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
    fn ct(self) -> Option<CtType> {
        match self {
            Info::Ct(t) => Some(t),
            _ => None,
        }
    }

    fn of_type(ty: &orion_dialects::Type) -> Info {
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
    log_q: Vec<u32>,
    leaves: HashMap<Symbol, Info>,
}

type CkksEGraph = EGraph<CkksLang, CkksAnalysis>;

/// The type of `node` from its children's, as `ckks::verify_op` computes it.
fn infer(
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

fn var(s: &str) -> Var {
    s.parse().expect("pattern variable")
}

fn pattern(s: &str) -> Pattern<CkksLang> {
    s.parse().expect("optimize-ckks pattern")
}

#[derive(Clone, Copy, Debug)]
enum RuleKind {
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
struct CkksApplier {
    kind: RuleKind,
    slots: i64,
}

fn konst(eg: &CkksEGraph, id: Id) -> Option<i64> {
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

fn rules(slots: i64) -> Vec<Rewrite<CkksLang, CkksAnalysis>> {
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

/// Cost of one op in NTT-equivalents (one NTT of one RNS limb = 1).
#[derive(Clone, Debug)]
pub struct CostModel {
    /// Number of special primes #P.
    pub num_p: usize,
    pub log_n: u32,
}

impl CostModel {
    pub fn new(params: &ParamsAttr) -> CostModel {
        CostModel {
            num_p: params.log_p.len().max(1),
            log_n: params.log_n.max(2),
        }
    }

    /// `name` without the `ckks.` prefix; `input` is the (first) ciphertext operand.
    pub fn op_cost(&self, name: &str, input: CtType) -> f64 {
        let limbs = (input.level + 1) as f64;
        let p = self.num_p as f64;
        // A pointwise pass over one limb is about 2 / log N of an NTT.
        let pw = 2.0 / self.log_n as f64;
        let polys = (input.degree + 1) as f64;
        // Every op pays a little, so that fewer ops win ties.
        let base = 0.01;
        let key_switch = || {
            let dnum = (input.level + 1).div_ceil(self.num_p) as f64;
            (dnum + 2.0) * limbs + 2.0 * p + 2.0 * dnum * (limbs + p) * pw
        };
        base + match name {
            "rotate" => key_switch() + 2.0 * limbs * pw,
            "relinearize" => key_switch(),
            "rescale" => polys * limbs + polys * limbs * pw,
            "add" | "sub" | "mul_plain" => polys * limbs * pw,
            "add_plain" => limbs * pw,
            "mul" => 4.0 * limbs * pw,
            _ => 0.0,
        }
    }
}

fn node_name(node: &CkksLang) -> Option<&'static str> {
    Some(match node {
        CkksLang::Rotate(_) => "rotate",
        CkksLang::Add(_) => "add",
        CkksLang::Sub(_) => "sub",
        CkksLang::AddPlain(_) => "add_plain",
        CkksLang::MulPlain(_) => "mul_plain",
        CkksLang::Mul(_) => "mul",
        CkksLang::Relinearize(_) => "relinearize",
        CkksLang::Rescale(_) => "rescale",
        CkksLang::LevelDown(_) => "level_down",
        CkksLang::Num(_) | CkksLang::Leaf(_) => return None,
    })
}

/// Cost of an e-node alone (children excluded); huge for ill-typed nodes.
fn enode_cost(eg: &CkksEGraph, model: &CostModel, node: &CkksLang) -> f64 {
    match node_name(node) {
        None => 0.0,
        Some(name) => match eg[node.children()[0]].data.ct() {
            Some(t) => model.op_cost(name, t),
            None => 1e15,
        },
    }
}

struct NttCost<'a> {
    egraph: &'a CkksEGraph,
    model: CostModel,
}

impl CostFunction<CkksLang> for NttCost<'_> {
    type Cost = f64;

    fn cost<C>(&mut self, enode: &CkksLang, mut costs: C) -> f64
    where
        C: FnMut(Id) -> f64,
    {
        enode_cost(self.egraph, &self.model, enode)
            + enode.children().iter().map(|&c| costs(c)).sum::<f64>()
    }
}

/// The pass. Limits bound the equality saturation.
#[derive(Clone, Debug)]
pub struct OptimizeCkks {
    pub iter_limit: usize,
    pub node_limit: usize,
    pub time_limit: Duration,
}

impl Default for OptimizeCkks {
    fn default() -> Self {
        OptimizeCkks {
            iter_limit: 30,
            node_limit: 200_000,
            time_limit: Duration::from_secs(10),
        }
    }
}

impl OptimizeCkks {
    pub fn new() -> OptimizeCkks {
        OptimizeCkks::default()
    }
}

/// Counts of the ops the statistics report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpCounts {
    pub rotations: i64,
    pub relinearizations: i64,
    pub rescales: i64,
    pub ops: i64,
}

impl OpCounts {
    pub fn of(func: &Func) -> OpCounts {
        let n = |name: &str| func.body.iter().filter(|op| op.name == name).count() as i64;
        OpCounts {
            rotations: n("ckks.rotate"),
            relinearizations: n("ckks.relinearize"),
            rescales: n("ckks.rescale"),
            ops: func.body.len() as i64,
        }
    }
}

/// The op name (without `ckks.`) if `op` is a well-formed arithmetic op.
fn arith_name(op: &Op) -> Option<&'static str> {
    let (name, arity) = match op.name.strip_prefix("ckks.")? {
        "rotate" => ("rotate", 1),
        "relinearize" => ("relinearize", 1),
        "rescale" => ("rescale", 1),
        "level_down" => ("level_down", 1),
        "add" => ("add", 2),
        "sub" => ("sub", 2),
        "add_plain" => ("add_plain", 2),
        "mul_plain" => ("mul_plain", 2),
        "mul" => ("mul", 2),
        _ => return None,
    };
    let int_attr = |k: &str| op.attr(k).and_then(Attribute::as_int).is_some();
    let attrs_ok = match name {
        "rotate" => int_attr("offset"),
        "level_down" => int_attr("level"),
        _ => true,
    };
    (op.operands.len() == arity && op.results.len() == 1 && attrs_ok).then_some(name)
}

/// The e-graph node of a well-formed arithmetic op whose operands are in classes `c`.
fn arith_node(op: &Op, name: &str, slots: i64, eg: &mut CkksEGraph, c: &[Id]) -> CkksLang {
    let int = |k: &str| op.attr(k).and_then(Attribute::as_int).unwrap_or(0);
    match name {
        "rotate" => {
            let k = eg.add(CkksLang::Num(int("offset").rem_euclid(slots)));
            CkksLang::Rotate([c[0], k])
        }
        "level_down" => {
            let l = eg.add(CkksLang::Num(int("level")));
            CkksLang::LevelDown([c[0], l])
        }
        "relinearize" => CkksLang::Relinearize([c[0]]),
        "rescale" => CkksLang::Rescale([c[0]]),
        "add" => CkksLang::Add([c[0], c[1]]),
        "sub" => CkksLang::Sub([c[0], c[1]]),
        "add_plain" => CkksLang::AddPlain([c[0], c[1]]),
        "mul_plain" => CkksLang::MulPlain([c[0], c[1]]),
        _ => CkksLang::Mul([c[0], c[1]]),
    }
}

fn leaf_symbol(v: ValueId) -> Symbol {
    Symbol::from(format!("v{}", v.0))
}

fn internal(msg: impl std::fmt::Display) -> Diagnostic {
    Diagnostic::new(
        Location::Unknown,
        format!("optimize-ckks: internal error: {msg}"),
    )
}

/// Outcome of optimizing one function.
struct Optimized {
    func: Func,
    cost_before: f64,
    cost_after: f64,
    egraph_nodes: usize,
    iterations: usize,
}

fn optimize_func(
    func: &Func,
    params: &ParamsAttr,
    limits: &OptimizeCkks,
) -> Result<Optimized, Diagnostic> {
    let slots = params.slots() as i64;
    let model = CostModel::new(params);
    let mut eg = CkksEGraph::new(CkksAnalysis {
        log_q: params.log_q.clone(),
        leaves: HashMap::new(),
    });

    // Value -> e-class of the arithmetic op defining it.
    let mut arith: Vec<Option<Id>> = vec![None; func.values.len()];
    // Opaque ops' operands that the arithmetic computes.
    let mut roots: Vec<Id> = Vec::new();
    // Original (result, class, op index) of each arithmetic op.
    let mut originals: Vec<(ValueId, Id, usize, &'static str)> = Vec::new();
    let mut is_arith_op = vec![false; func.body.len()];
    for (i, op) in func.body.iter().enumerate() {
        let Some(name) = arith_name(op) else {
            roots.extend(op.operands.iter().filter_map(|v| arith[v.0 as usize]));
            continue;
        };
        let mut classes = Vec::with_capacity(op.operands.len());
        for &v in &op.operands {
            let id = match arith[v.0 as usize] {
                Some(id) => id,
                None => {
                    let sym = leaf_symbol(v);
                    eg.analysis.leaves.insert(sym, Info::of_type(func.ty(v)));
                    eg.add(CkksLang::Leaf(sym))
                }
            };
            classes.push(id);
        }
        let node = arith_node(op, name, slots, &mut eg, &classes);
        let id = eg.add(node);
        arith[op.result().0 as usize] = Some(id);
        originals.push((op.result(), id, i, name));
        is_arith_op[i] = true;
    }

    // Cost of the live part of the input, as a DAG.
    let mut live = vec![false; func.values.len()];
    let mut cost_before = 0.0;
    for (i, op) in func.body.iter().enumerate().rev() {
        if is_arith_op[i] && !live[op.result().0 as usize] {
            continue;
        }
        if is_arith_op[i] {
            if let Ok(t) = CtType::from_type(func.ty(op.operands[0])) {
                cost_before += model.op_cost(&op.name["ckks.".len()..], t);
            }
        }
        for v in &op.operands {
            live[v.0 as usize] = true;
        }
    }

    let runner = Runner::default()
        .with_egraph(eg)
        .with_iter_limit(limits.iter_limit)
        .with_node_limit(limits.node_limit)
        .with_time_limit(limits.time_limit)
        .with_scheduler(SimpleScheduler)
        .run(&rules(slots));
    let iterations = runner.iterations.len();
    let eg = runner.egraph;
    let extractor = Extractor::new(
        &eg,
        NttCost {
            egraph: &eg,
            model: model.clone(),
        },
    );

    // Classes the extracted program needs, and its DAG cost.
    let mut needed: HashSet<Id> = HashSet::new();
    let mut stack: Vec<Id> = roots.iter().map(|&r| eg.find(r)).collect();
    let mut cost_after = 0.0;
    while let Some(c) = stack.pop() {
        if !needed.insert(c) {
            continue;
        }
        let node = extractor.find_best_node(c);
        cost_after += enode_cost(&eg, &model, node);
        stack.extend(node.children().iter().map(|&k| eg.find(k)));
    }

    // Where each (class, op) came from: its value and location are reused.
    let mut origin: HashMap<(Id, &'static str), (ValueId, Location)> = HashMap::new();
    let mut class_loc: HashMap<Id, Location> = HashMap::new();
    for &(v, id, i, name) in &originals {
        let loc = &func.body[i].loc;
        let c = eg.find(id);
        origin.entry((c, name)).or_insert((v, loc.clone()));
        class_loc.entry(c).or_insert(loc.clone());
    }

    let out = Func {
        name: func.name.clone(),
        args: func.args.clone(),
        body: Vec::new(),
        values: func.values.clone(),
        loc: func.loc.clone(),
    };
    let mut defined = vec![false; func.values.len()];
    for a in &func.args {
        defined[a.0 as usize] = true;
    }
    let mut emitter = Emitter {
        eg: &eg,
        extractor: &extractor,
        origin: &origin,
        class_loc: &class_loc,
        log_q: &params.log_q,
        out,
        defined,
        emitted: HashMap::new(),
    };
    for (i, op) in func.body.iter().enumerate() {
        if is_arith_op[i] {
            let c = eg.find(arith[op.result().0 as usize].expect("arith class"));
            if needed.contains(&c) {
                emitter.emit(c)?;
            }
            continue;
        }
        let mut new_op = op.clone();
        for o in &mut new_op.operands {
            if let Some(id) = arith[o.0 as usize] {
                *o = emitter.emit(eg.find(id))?;
            }
        }
        for r in &new_op.results {
            emitter.mark_defined(*r);
        }
        emitter.out.body.push(new_op);
    }
    let mut out = emitter.out;
    out.remove_dead_ops();
    Ok(Optimized {
        func: out,
        cost_before,
        cost_after,
        egraph_nodes: eg.total_number_of_nodes(),
        iterations,
    })
}

struct Emitter<'a, 'e> {
    eg: &'a CkksEGraph,
    extractor: &'e Extractor<'a, NttCost<'a>, CkksLang, CkksAnalysis>,
    origin: &'e HashMap<(Id, &'static str), (ValueId, Location)>,
    class_loc: &'e HashMap<Id, Location>,
    log_q: &'e [u32],
    out: Func,
    defined: Vec<bool>,
    emitted: HashMap<Id, ValueId>,
}

impl Emitter<'_, '_> {
    fn mark_defined(&mut self, v: ValueId) {
        let i = v.0 as usize;
        if self.defined.len() <= i {
            self.defined.resize(i + 1, false);
        }
        self.defined[i] = true;
    }

    fn is_defined(&self, v: ValueId) -> bool {
        self.defined.get(v.0 as usize).copied().unwrap_or(false)
    }

    /// Emits class `root` (and what it needs) once; returns its value.
    fn emit(&mut self, root: Id) -> Result<ValueId, Diagnostic> {
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
                .map(ValueId)
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

/// Sorted distinct nonzero offsets (mod slots) of the module's rotations.
pub fn used_rotations(module: &Module, slots: i64) -> Vec<i64> {
    let mut r: Vec<i64> = module
        .funcs
        .iter()
        .flat_map(|f| f.body.iter())
        .filter(|op| op.name == "ckks.rotate")
        .filter_map(|op| op.attr("offset").and_then(Attribute::as_int))
        .map(|k| k.rem_euclid(slots))
        .filter(|&k| k != 0)
        .collect();
    r.sort_unstable();
    r.dedup();
    r
}

impl Pass for OptimizeCkks {
    fn name(&self) -> &'static str {
        "optimize-ckks"
    }

    fn run(&self, module: &mut Module) -> Result<Statistics, Diagnostic> {
        let params =
            ParamsAttr::of_module(module).map_err(|m| Diagnostic::new(Location::Unknown, m))?;
        let main = module.main().ok_or_else(|| {
            Diagnostic::new(
                Location::Unknown,
                "optimize-ckks: module has no func.func @main",
            )
        })?;
        let before = OpCounts::of(main);
        let opt = optimize_func(main, &params, self)?;
        // Tree extraction cannot see sharing: never make the DAG more expensive.
        let accepted = opt.cost_after <= opt.cost_before + 1e-9;
        if accepted {
            *module.main_mut().expect("main") = opt.func;
            let rotations = used_rotations(module, params.slots() as i64);
            if module.attr(ROTATIONS_ATTR).is_some() || !rotations.is_empty() {
                module.set_attr(ROTATIONS_ATTR, Attribute::I64Array(rotations));
            }
        }
        let after = OpCounts::of(module.main().expect("main"));
        let mut stats: Statistics = Vec::new();
        for (key, b, a) in [
            ("rotations", before.rotations, after.rotations),
            (
                "relinearizations",
                before.relinearizations,
                after.relinearizations,
            ),
            ("rescales", before.rescales, after.rescales),
            ("ops", before.ops, after.ops),
        ] {
            stats.push((format!("{key}-before"), b));
            stats.push((format!("{key}-after"), a));
        }
        let cost_after = if accepted {
            opt.cost_after
        } else {
            opt.cost_before
        };
        stats.push(("ntt-cost-before".into(), opt.cost_before.round() as i64));
        stats.push(("ntt-cost-after".into(), cost_after.round() as i64));
        stats.push(("egraph-nodes".into(), opt.egraph_nodes as i64));
        stats.push(("egraph-iterations".into(), opt.iterations as i64));
        stats.push(("rewrite-rejected-by-cost".into(), (!accepted) as i64));
        Ok(stats)
    }
}
