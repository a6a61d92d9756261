//! `lower-to-ckks` (pack -> ckks): expands every packed op into scheme
//! operations, assigns levels and scales, and records the CKKS parameters and
//! the rotation steps the program needs (so keygen makes exactly those keys).
//!
//! Each plaintext product is followed by a rescale (the e-graph pass merges
//! the ones that a sum allows to share). A linear layer is the baby-step
//! giant-step expansion of its `LinearPlan`:
//!
//! ```text
//! %1 = pack.linear %0 {weights = ..., baby_steps = 4, ...} : (!pack.vec<..>) -> !pack.vec<..>
//!   =>
//! %r1 = ckks.rotate %x {offset = 1} : !ckks.ct<level = 5, log_scale = 26>        // baby steps
//! %p0 = ckks.encode {value = {kind = "diagonal", index = 0, giant = 0, ...}} : !ckks.pt<level = 5, log_scale = 26>
//! %m0 = ckks.mul_plain %x, %p0 : (...) -> !ckks.ct<level = 5, log_scale = 52>
//! %s0 = ckks.rescale %m0 : (...) -> !ckks.ct<level = 4, log_scale = 26>
//! ...                                                                            // sum over the group
//! %g4 = ckks.rotate %sum4 {offset = 4} : !ckks.ct<level = 4, log_scale = 26>    // giant step
//! %y  = ckks.add %g0, %g4 : !ckks.ct<level = 4, log_scale = 26>
//! ```
//!
//! Element-wise ops: `pack.square` and `pack.mul` are a ciphertext product,
//! a relinearization and a rescale (operands first brought to one level);
//! `pack.polynomial` becomes `ckks.polynomial` (see
//! `orion_dialects::ckks::polynomial`), which lands at exactly q_l when its
//! only use is such a product, so the product keeps its other operand's scale.
//!
//! A program deeper than the parameters' levels (its longest chain, residual
//! branches counted once) is refused with the depth it needs (bootstrapping
//! is not placed yet).

use super::{Pass, PassOptions, Statistics};
use orion_dialects::ckks::params::{PARAMS_ATTR, ROTATIONS_ATTR};
use orion_dialects::ckks::polynomial as ckks_poly;
use orion_dialects::ckks::{plaintext, CtType, ParamsAttr, PtType};
use orion_dialects::ir::{Attribute, Func, Location, Module, Op, ValueId};
use orion_dialects::pack::{LinearMap, LinearOp, VecLayout};
use orion_dialects::Diagnostic;
use std::collections::BTreeSet;

/// Default bound on |output|: the MLP example's logits and partial sums
/// reach about 62, so this keeps a bit of margin over them.
pub const DEFAULT_OUTPUT_BOUND: f64 = 128.0;

pub struct LowerToCkks {
    pub params: ParamsAttr,
    pub output_bound: f64,
}

impl LowerToCkks {
    pub fn new(opts: &PassOptions) -> LowerToCkks {
        LowerToCkks {
            params: opts.params.clone(),
            output_bound: opts.output_bound,
        }
    }
}

fn op_err(op: &Op, msg: impl std::fmt::Display) -> Diagnostic {
    Diagnostic::new(op.loc.clone(), format!("{} {msg}", op.label()))
}

/// Levels each packed op consumes.
pub(crate) fn depth_of(op: &Op) -> Result<usize, String> {
    Ok(match op.name.as_str() {
        "pack.linear" | "pack.square" | "pack.mul" => 1,
        "pack.polynomial" => ckks_poly::depth(&ckks_poly::from_op(op)?),
        _ => 0,
    })
}

/// The multiplicative depth of the program: the longest chain of levels
/// from an input or a bootstrap to an output (branches that join only need
/// the deeper one).
pub(crate) fn network_depth(func: &Func) -> Result<usize, Diagnostic> {
    let mut depth = vec![0usize; func.values.len()];
    let mut deepest = 0;
    for op in &func.body {
        let inherited = if op.name == "pack.bootstrap" {
            0
        } else {
            op.operands
                .iter()
                .map(|v| depth[v.0 as usize])
                .max()
                .unwrap_or(0)
        };
        let d = depth_of(op).map_err(|m| op_err(op, m))? + inherited;
        for r in &op.results {
            depth[r.0 as usize] = d;
        }
        deepest = deepest.max(d);
    }
    Ok(deepest)
}

struct Builder<'a> {
    func: Func,
    params: &'a ParamsAttr,
    rotations: BTreeSet<i64>,
}

impl Builder<'_> {
    fn ct(&self, v: ValueId) -> CtType {
        CtType::from_type(self.func.ty(v)).expect("lowering only makes well-typed ciphertexts")
    }

    fn emit(
        &mut self,
        name: &str,
        operands: Vec<ValueId>,
        attrs: Vec<(String, Attribute)>,
        ty: CtType,
        loc: &Location,
    ) -> ValueId {
        self.func
            .push_op(name, operands, attrs, vec![ty.to_type()], loc.clone())[0]
    }

    fn rotate(&mut self, x: ValueId, offset: usize, loc: &Location) -> ValueId {
        let k = (offset % self.params.slots()) as i64;
        if k == 0 {
            return x;
        }
        self.rotations.insert(k);
        let ty = self.ct(x);
        self.emit(
            "ckks.rotate",
            vec![x],
            vec![("offset".into(), Attribute::Int(k))],
            ty,
            loc,
        )
    }

    fn add(&mut self, a: ValueId, b: ValueId, loc: &Location) -> ValueId {
        let ty = self.ct(a);
        self.emit("ckks.add", vec![a, b], vec![], ty, loc)
    }

    fn rescale(&mut self, x: ValueId, loc: &Location) -> ValueId {
        let t = self.ct(x);
        let ty = CtType {
            level: t.level - 1,
            log_scale: t.log_scale - self.params.log_q[t.level] as i64,
            degree: t.degree,
        };
        self.emit("ckks.rescale", vec![x], vec![], ty, loc)
    }

    fn encode(&mut self, value: Attribute, ty: PtType, loc: &Location) -> ValueId {
        self.func.push_op(
            "ckks.encode",
            vec![],
            vec![("value".into(), value)],
            vec![ty.to_type()],
            loc.clone(),
        )[0]
    }

    /// Brings two ciphertexts to the lower of their levels.
    fn same_level(&mut self, a: ValueId, b: ValueId, loc: &Location) -> (ValueId, ValueId) {
        let level = self.ct(a).level.min(self.ct(b).level);
        (
            self.level_down(a, level, loc),
            self.level_down(b, level, loc),
        )
    }

    fn level_down(&mut self, x: ValueId, level: usize, loc: &Location) -> ValueId {
        let t = self.ct(x);
        if t.level == level {
            return x;
        }
        self.emit(
            "ckks.level_down",
            vec![x],
            vec![("level".into(), Attribute::Int(level as i64))],
            CtType { level, ..t },
            loc,
        )
    }

    /// `a * b`, relinearized and rescaled (operands at one level).
    fn mul_relin_rescale(&mut self, a: ValueId, b: ValueId, loc: &Location) -> ValueId {
        let (ta, tb) = (self.ct(a), self.ct(b));
        let prod = CtType {
            log_scale: ta.log_scale + tb.log_scale,
            degree: 2,
            ..ta
        };
        let m = self.emit("ckks.mul", vec![a, b], vec![], prod, loc);
        let r = self.emit(
            "ckks.relinearize",
            vec![m],
            vec![],
            CtType { degree: 1, ..prod },
            loc,
        );
        self.rescale(r, loc)
    }

    /// A balanced tree of additions (depth log2(n), not n - 1): the e-graph
    /// pass merges the rescales of the terms one tree level per iteration.
    fn sum(&mut self, terms: Vec<ValueId>, loc: &Location) -> ValueId {
        assert!(!terms.is_empty(), "a non-empty sum");
        let mut level = terms;
        while level.len() > 1 {
            let mut next = Vec::with_capacity(level.len().div_ceil(2));
            for pair in level.chunks(2) {
                next.push(match *pair {
                    [a, b] => self.add(a, b, loc),
                    [a] => a,
                    _ => unreachable!("chunks of two"),
                });
            }
            level = next;
        }
        level[0]
    }

    /// Bits by which a layer whose result is decrypted must lower its scale
    /// so that `bound * scale` stays below half the modulus left after it.
    fn output_headroom(&self, x: ValueId, bound: f64) -> i64 {
        let t = self.ct(x);
        let q_bits: u32 = self.params.log_q[..t.level].iter().sum();
        // One bit for the sign, one of margin for noise and rounding.
        let need = bound.max(1.0).log2().ceil() as i64 + t.log_scale + 2;
        (need - q_bits as i64).max(0)
    }

    /// Baby-step giant-step product by the plan's diagonals, then
    /// rotate-and-sum and the bias. `headroom` lowers the output scale by
    /// that many bits (plaintexts encoded at q_level / 2^headroom). Over
    /// several ciphertexts (`xs`, one per input block) each output block
    /// sums its row of block products before one rotate-and-sum; the baby
    /// rotations of an input block serve every output block.
    fn linear(
        &mut self,
        xs: &[ValueId],
        op: &Op,
        (input, output): (&VecLayout, &VecLayout),
        module: &Module,
        headroom: i64,
    ) -> Result<Vec<ValueId>, Diagnostic> {
        let lin = LinearOp::from_op(op, input, output, module).map_err(|m| op_err(op, m))?;
        let plan = &lin.plan;
        if xs.len() != plan.in_blocks {
            return Err(op_err(
                op,
                format!(
                    "has {} input ciphertexts, its layout {}",
                    xs.len(),
                    plan.in_blocks
                ),
            ));
        }
        let blocked = plan.in_blocks > 1 || plan.out_blocks > 1;
        let descriptor = LinearMap::descriptor(&op.attrs);
        let loc = &op.loc;
        let level = self.ct(xs[0]).level;
        let pt_ty = PtType {
            level,
            log_scale: self.params.log_q[level] as i64 - headroom,
        };
        // The baby rotations of each input block, shared by the output
        // blocks that read it.
        let mut babies: std::collections::HashMap<(usize, usize), ValueId> = Default::default();
        for (i, &x) in xs.iter().enumerate() {
            for b in plan.input_baby_offsets(i) {
                let r = self.rotate(x, b, loc);
                babies.insert((i, b), r);
            }
        }
        let Some((_, _, first)) = plan.blocks.first() else {
            return Err(op_err(
                op,
                "has an all-zero matrix (no weight reaches the output)",
            ));
        };
        // Every block shares n1 and the rotate-and-sum (same periods).
        let (baby_steps, sum_steps) = (first.baby_steps, first.sum_steps.clone());
        let mut rows = Vec::with_capacity(plan.out_blocks);
        for j in 0..plan.out_blocks {
            // Each giant step: the products over every input block, summed,
            // then one rotation.
            let mut giants = Vec::new();
            for (g, terms) in plan.giant_groups(j) {
                let mut products = Vec::new();
                for (i, k) in terms {
                    let value = plaintext::diagonal_attr(
                        &descriptor,
                        input,
                        output,
                        blocked.then_some((j, i)),
                        baby_steps,
                        k,
                        g,
                    );
                    let p = self.encode(value, pt_ty, loc);
                    let xb = babies[&(i, k - g)];
                    let t = self.ct(xb);
                    let prod_ty = CtType {
                        log_scale: t.log_scale + pt_ty.log_scale,
                        ..t
                    };
                    let m = self.emit("ckks.mul_plain", vec![xb, p], vec![], prod_ty, loc);
                    products.push(self.rescale(m, loc));
                }
                let inner = self.sum(products, loc);
                giants.push(self.rotate(inner, g, loc));
            }
            rows.push((!giants.is_empty()).then(|| {
                let mut acc = self.sum(giants, loc);
                for &s in &sum_steps {
                    let r = self.rotate(acc, s, loc);
                    acc = self.add(acc, r, loc);
                }
                acc
            }));
        }
        // An output block no weight reaches (a concatenation's operand
        // placed in the blocks of the others) is zero: a ciphertext minus
        // itself, at the level and scale of the others.
        let some = rows
            .iter()
            .flatten()
            .next()
            .copied()
            .expect("a nonzero block");
        let mut outs = Vec::with_capacity(plan.out_blocks);
        for (j, row) in rows.into_iter().enumerate() {
            let mut acc = match row {
                Some(acc) => acc,
                None => {
                    let t = self.ct(some);
                    self.emit("ckks.sub", vec![some, some], vec![], t, loc)
                }
            };
            if let Some(bias) = op.attr("bias") {
                let t = self.ct(acc);
                let value = plaintext::vector_attr_repeated(
                    bias,
                    &plan.output_layout(),
                    lin.map.bias_repeat(),
                    blocked.then_some(j),
                );
                let p = self.encode(
                    value,
                    PtType {
                        level: t.level,
                        log_scale: t.log_scale,
                    },
                    loc,
                );
                acc = self.emit("ckks.add_plain", vec![acc, p], vec![], t, loc);
            }
            outs.push(acc);
        }
        Ok(outs)
    }
}

impl Pass for LowerToCkks {
    fn name(&self) -> &'static str {
        "lower-to-ckks"
    }

    fn run(&self, module: &mut Module) -> Result<Statistics, Diagnostic> {
        let old = module
            .main()
            .cloned()
            .ok_or_else(|| Diagnostic::new(Location::Unknown, "module has no func.func @main"))?;
        let depth = network_depth(&old)?;
        if depth > self.params.max_level() {
            return Err(Diagnostic::new(
                old.loc.clone(),
                format!(
                    "the network needs {depth} levels but the CKKS parameters give {} (log_q has {} primes); \
                     use parameters with more levels (bootstrapping is not placed yet)",
                    self.params.max_level(),
                    self.params.log_q.len()
                ),
            ));
        }
        module.set_attr(PARAMS_ATTR, self.params.to_attr());
        let mut b = Builder {
            func: Func::new("main"),
            params: &self.params,
            rotations: BTreeSet::new(),
        };
        b.func.loc = old.loc.clone();
        // The ciphertexts of each packed value, one per block of its layout
        // (a function argument: its tensor).
        let mut map: Vec<Option<Vec<ValueId>>> = vec![None; old.values.len()];
        for &a in &old.args {
            map[a.0 as usize] = Some(vec![b
                .func
                .add_arg(old.ty(a).clone(), old.values[a.0 as usize].name.clone())]);
        }
        for op in &old.body {
            let args: Vec<Vec<ValueId>> = op
                .operands
                .iter()
                .map(|v| {
                    map[v.0 as usize]
                        .clone()
                        .ok_or_else(|| op_err(op, "uses a value that was not lowered"))
                })
                .collect::<Result<_, _>>()?;
            let Some(out) = self.lower_op(&mut b, module, (&old, &map), op, &args)? else {
                continue;
            };
            map[op.result().0 as usize] = Some(out);
        }
        let stats = count_ops(&b.func);
        let rotations: Vec<i64> = b.rotations.iter().copied().collect();
        module.set_attr(ROTATIONS_ATTR, Attribute::I64Array(rotations));
        *module.main_mut().expect("main") = b.func;
        Ok(stats)
    }
}

impl LowerToCkks {
    /// Lowers one op to the ciphertexts of its result, one per block of its
    /// layout (`None` for the return, which ends the function).
    fn lower_op(
        &self,
        b: &mut Builder,
        module: &Module,
        (old, map): (&Func, &[Option<Vec<ValueId>>]),
        op: &Op,
        args: &[Vec<ValueId>],
    ) -> Result<Option<Vec<ValueId>>, Diagnostic> {
        let top = CtType::new(self.params.max_level(), self.params.log_scale as i64);
        let loc = &op.loc;
        // Operand #i's block j, and an op applied block by block.
        let per_block = |b: &mut Builder, f: &mut dyn FnMut(&mut Builder, usize) -> ValueId| {
            (0..args[0].len()).map(|j| f(b, j)).collect::<Vec<_>>()
        };
        Ok(Some(match op.name.as_str() {
            "pack.pack" => {
                let layout =
                    VecLayout::from_type(old.ty(op.result())).map_err(|m| op_err(op, m))?;
                encrypt_blocks(b, &layout, &args[0], top, loc)
            }
            "pack.unpack" => {
                let layout =
                    VecLayout::from_type(old.ty(op.operands[0])).map_err(|m| op_err(op, m))?;
                let attrs = vec![("layout".into(), Attribute::Type(layout.to_type()))];
                b.func.push_op(
                    "ckks.decrypt",
                    args[0].clone(),
                    attrs,
                    vec![old.ty(op.result()).clone()],
                    loc.clone(),
                )
            }
            "pack.linear" => {
                let input =
                    VecLayout::from_type(old.ty(op.operands[0])).map_err(|m| op_err(op, m))?;
                let output =
                    VecLayout::from_type(old.ty(op.result())).map_err(|m| op_err(op, m))?;
                let decrypted = op.results.iter().all(|r| {
                    old.body
                        .iter()
                        .filter(|u| u.operands.contains(r))
                        .all(|u| u.name == "pack.unpack")
                });
                let headroom = if decrypted {
                    b.output_headroom(args[0][0], self.output_bound)
                } else {
                    0
                };
                b.linear(&args[0], op, (&input, &output), module, headroom)?
            }
            "pack.square" => per_block(b, &mut |b, j| {
                b.mul_relin_rescale(args[0][j], args[0][j], loc)
            }),
            "pack.add" => per_block(b, &mut |b, j| {
                let (l, r) = b.same_level(args[0][j], args[1][j], loc);
                b.add(l, r, loc)
            }),
            "pack.mul" => per_block(b, &mut |b, j| {
                let (l, r) = b.same_level(args[0][j], args[1][j], loc);
                b.mul_relin_rescale(l, r, loc)
            }),
            "pack.bootstrap" => self.bootstrap(b, old, op, &args[0])?,
            "pack.polynomial" => self.polynomial(b, (old, map), op, &args[0])?,
            "func.return" => {
                b.func.push_op(
                    "func.return",
                    args.concat(),
                    vec![],
                    vec![],
                    Location::Unknown,
                );
                return Ok(None);
            }
            other => return Err(op_err(op, format!("has no ckks lowering yet ('{other}')"))),
        }))
    }

    /// `pack.bootstrap`: one `ckks.bootstrap` per block; a layout that
    /// repeats with a period below the slot count is bootstrapped as that
    /// many sparse slots (cheaper: smaller DFTs, and the real and imaginary
    /// parts share one EvalMod).
    fn bootstrap(
        &self,
        b: &mut Builder,
        old: &Func,
        op: &Op,
        blocks: &[ValueId],
    ) -> Result<Vec<ValueId>, Diagnostic> {
        let bound = op
            .attr("bound")
            .cloned()
            .ok_or_else(|| op_err(op, "needs a 'bound'"))?;
        let mut attrs = vec![("bound".to_string(), bound)];
        let layout = VecLayout::from_type(old.ty(op.operands[0])).map_err(|m| op_err(op, m))?;
        if layout.period < layout.slots {
            let log_slots = layout.period.max(2).trailing_zeros();
            attrs.push(("log_slots".into(), Attribute::Int(log_slots as i64)));
        }
        let ty = CtType::new(self.params.max_level(), self.params.log_scale as i64);
        Ok(blocks
            .iter()
            .map(|&x| b.emit("ckks.bootstrap", vec![x], attrs.clone(), ty, &op.loc))
            .collect())
    }

    /// `pack.polynomial`: one `ckks.polynomial` per block, its result typed
    /// at the level its depth leaves; landing at a prime's scale when an
    /// exact product follows (see `exact_product_level`).
    fn polynomial(
        &self,
        b: &mut Builder,
        (old, map): (&Func, &[Option<Vec<ValueId>>]),
        op: &Op,
        blocks: &[ValueId],
    ) -> Result<Vec<ValueId>, Diagnostic> {
        let p = ckks_poly::from_op(op).map_err(|m| op_err(op, m))?;
        let t = b.ct(blocks[0]);
        let depth = ckks_poly::depth(&p);
        let level = t.level.checked_sub(depth).ok_or_else(|| {
            op_err(
                op,
                format!("needs {depth} levels, its operand is at level {}", t.level),
            )
        })?;
        let mut attrs: Vec<(String, Attribute)> = op
            .attrs
            .iter()
            .filter(|(k, _)| matches!(k.as_str(), "basis" | "coeffs" | "domain" | "range"))
            .cloned()
            .collect();
        let mut ty = CtType::new(level, t.log_scale);
        if let Some(product) = exact_product_level(old, op, level, map, b) {
            attrs.push((
                "result_scale".into(),
                Attribute::String(ckks_poly::RESULT_SCALE_LEVEL_PRIME.into()),
            ));
            if product < level {
                attrs.push(("prime_level".into(), Attribute::Int(product as i64)));
            }
            ty.log_scale = self.params.log_q[product] as i64;
        }
        Ok(blocks
            .iter()
            .map(|&x| b.emit("ckks.polynomial", vec![x], attrs.clone(), ty, &op.loc))
            .collect())
    }
}

/// `pack.pack`: one `ckks.encrypt` per block of the layout, at the top.
fn encrypt_blocks(
    b: &mut Builder,
    layout: &VecLayout,
    tensor: &[ValueId],
    top: CtType,
    loc: &Location,
) -> Vec<ValueId> {
    let blocks = layout.blocks();
    (0..blocks)
        .map(|j| {
            let mut attrs = vec![("layout".into(), Attribute::Type(layout.to_type()))];
            if blocks > 1 {
                attrs.push(("block".into(), Attribute::Int(j as i64)));
            }
            b.emit("ckks.encrypt", tensor.to_vec(), attrs, top, loc)
        })
        .collect()
}

/// The level of the product a polynomial (result at `level`) feeds, if its
/// only use is a `pack.mul` by an already lowered ciphertext: both operands
/// meet at the lower of their levels, so the polynomial lands at scale
/// q_product (`prime_level` when that is below its own level) and the
/// product, rescaled by q_product, keeps the other operand's scale exactly
/// (ReLU's `x * sign(x)`).
fn exact_product_level(
    old: &Func,
    poly: &Op,
    level: usize,
    lowered: &[Option<Vec<ValueId>>],
    b: &Builder,
) -> Option<usize> {
    let r = poly.result();
    let mut users = old.body.iter().filter(|u| u.operands.contains(&r));
    let (Some(user), None) = (users.next(), users.next()) else {
        return None;
    };
    if user.name != "pack.mul" || user.operands.iter().all(|&v| v == r) {
        return None;
    }
    let other = if user.operands[0] == r {
        user.operands[1]
    } else {
        user.operands[0]
    };
    lowered[other.0 as usize]
        .as_ref()
        .and_then(|v| v.first())
        .map(|&v| b.ct(v).level.min(level))
}

/// Op counts by kind, the figures the e-graph pass is measured against.
pub fn count_ops(func: &Func) -> Statistics {
    let count = |n: &str| func.body.iter().filter(|o| o.name == n).count() as i64;
    vec![
        ("rotations".into(), count("ckks.rotate")),
        ("relinearizations".into(), count("ckks.relinearize")),
        ("rescales".into(), count("ckks.rescale")),
        ("plaintext-products".into(), count("ckks.mul_plain")),
        ("ops".into(), func.body.len() as i64),
    ]
}
