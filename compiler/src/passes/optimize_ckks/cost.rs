//! The cost model of extraction, counted in NTTs.

use egg::{CostFunction, Id, Language};

use orion_dialects::ckks::{CtType, ParamsAttr};

use super::lang::{CkksEGraph, CkksLang};

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

pub(super) fn node_name(node: &CkksLang) -> Option<&'static str> {
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
pub(super) fn enode_cost(eg: &CkksEGraph, model: &CostModel, node: &CkksLang) -> f64 {
    match node_name(node) {
        None => 0.0,
        Some(name) => match eg[node.children()[0]].data.ct() {
            Some(t) => model.op_cost(name, t),
            None => 1e15,
        },
    }
}

pub(super) struct NttCost<'a> {
    pub(super) egraph: &'a CkksEGraph,
    pub(super) model: CostModel,
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
