//! `optimize-ckks` on small hand-built ckks programs: op counts drop, the
//! result verifies, and a slot-vector evaluator gives the same outputs before
//! and after (rotate = cyclic left rotation, rescale / relinearize /
//! level_down = identity on the values).

use orion_compiler::passes::optimize_ckks::OptimizeCkks;
use orion_compiler::passes::{by_name, Pass, PassOptions};
use orion_dialects::ckks::interp::interpret;
use orion_dialects::ckks::params::{rotations_of_module, PARAMS_ATTR, ROTATIONS_ATTR};
use orion_dialects::ckks::{plaintext, CtType, ParamsAttr, PtType};
use orion_dialects::pack::VecLayout;
use orion_dialects::tensor::Tensor;
use orion_dialects::verify::verify_module;
use orion_dialects::{Attribute, ElemType, Func, Location, Module, Type, ValueId};
use std::collections::HashMap;

const SLOTS: usize = 4096;

fn ct(level: usize, log_scale: i64) -> Type {
    CtType::new(level, log_scale).to_type()
}

fn pt(level: usize, log_scale: i64) -> Type {
    PtType { level, log_scale }.to_type()
}

fn module_with(func: Func, rotations: Vec<i64>) -> Module {
    let mut m = Module::default();
    m.set_attr(PARAMS_ATTR, ParamsAttr::mnist_mlp().to_attr());
    m.set_attr(ROTATIONS_ATTR, Attribute::I64Array(rotations));
    m.funcs.push(func);
    m
}

/// Builder shorthands over `Func::push_op`.
struct B {
    f: Func,
    params: ParamsAttr,
    n: usize,
}

impl B {
    fn new() -> B {
        B {
            f: Func::new("main"),
            params: ParamsAttr::mnist_mlp(),
            n: 0,
        }
    }
    fn loc(&mut self) -> Location {
        self.n += 1;
        Location::Name(format!("op{}", self.n))
    }
    fn ct_of(&self, v: ValueId) -> CtType {
        CtType::from_type(self.f.ty(v)).unwrap()
    }
    fn op(
        &mut self,
        name: &str,
        operands: Vec<ValueId>,
        attrs: Vec<(String, Attribute)>,
        ty: Type,
    ) -> ValueId {
        let loc = self.loc();
        self.f.push_op(name, operands, attrs, vec![ty], loc)[0]
    }
    fn rotate(&mut self, x: ValueId, k: i64) -> ValueId {
        let t = self.f.ty(x).clone();
        self.op(
            "ckks.rotate",
            vec![x],
            vec![("offset".into(), Attribute::Int(k))],
            t,
        )
    }
    fn add(&mut self, a: ValueId, b: ValueId) -> ValueId {
        let t = self.f.ty(a).clone();
        self.op("ckks.add", vec![a, b], vec![], t)
    }
    fn sub(&mut self, a: ValueId, b: ValueId) -> ValueId {
        let t = self.f.ty(a).clone();
        self.op("ckks.sub", vec![a, b], vec![], t)
    }
    fn mul_plain(&mut self, a: ValueId, p: ValueId) -> ValueId {
        let t = self.ct_of(a);
        let ps = PtType::from_type(self.f.ty(p)).unwrap().log_scale;
        self.op(
            "ckks.mul_plain",
            vec![a, p],
            vec![],
            ct(t.level, t.log_scale + ps),
        )
    }
    fn mul(&mut self, a: ValueId, b: ValueId) -> ValueId {
        let (t, u) = (self.ct_of(a), self.ct_of(b));
        let ty = CtType {
            level: t.level,
            log_scale: t.log_scale + u.log_scale,
            degree: 2,
        };
        self.op("ckks.mul", vec![a, b], vec![], ty.to_type())
    }
    fn relin(&mut self, a: ValueId) -> ValueId {
        let t = CtType {
            degree: 1,
            ..self.ct_of(a)
        };
        self.op("ckks.relinearize", vec![a], vec![], t.to_type())
    }
    fn rescale(&mut self, a: ValueId) -> ValueId {
        let t = self.ct_of(a);
        let ty = CtType {
            level: t.level - 1,
            log_scale: t.log_scale - self.params.log_q[t.level] as i64,
            ..t
        };
        self.op("ckks.rescale", vec![a], vec![], ty.to_type())
    }
    fn ret(mut self, vals: Vec<ValueId>) -> Func {
        self.f
            .push_op("func.return", vals, vec![], vec![], Location::Unknown);
        self.f
    }
}

/// A deterministic pseudo-random slot vector.
fn vector(seed: u64, n: usize) -> Vec<f64> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 33) % 2001) as f64 / 1000.0 - 1.0
        })
        .collect()
}

/// Evaluates `@main` on slot vectors (tensor args are given as their elements).
fn eval(m: &Module, args: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let f = m.main().unwrap();
    let mut env: HashMap<ValueId, Vec<f64>> = HashMap::new();
    for (a, v) in f.args.iter().zip(args) {
        env.insert(*a, v.clone());
    }
    let layout = |op: &orion_dialects::Op| {
        VecLayout::from_type(op.attr("layout").unwrap().as_type().unwrap()).unwrap()
    };
    for op in &f.body {
        let x = |i: usize| env[&op.operands[i]].clone();
        let zip = |g: fn(f64, f64) -> f64| {
            x(0).iter()
                .zip(x(1))
                .map(|(a, b)| g(*a, b))
                .collect::<Vec<_>>()
        };
        let v = match op.name.as_str() {
            "func.return" => return op.operands.iter().map(|o| env[o].clone()).collect(),
            "ckks.rotate" => {
                let k = op.attr("offset").unwrap().as_int().unwrap();
                let a = x(0);
                let n = a.len() as i64;
                (0..n).map(|i| a[(i + k).rem_euclid(n) as usize]).collect()
            }
            "ckks.add" | "ckks.add_plain" => zip(|a, b| a + b),
            "ckks.sub" => zip(|a, b| a - b),
            "ckks.mul" | "ckks.mul_plain" => zip(|a, b| a * b),
            "ckks.rescale" | "ckks.relinearize" | "ckks.level_down" => x(0),
            "ckks.encrypt" => layout(op).pack(&x(0)),
            "ckks.decrypt" => layout(op).unpack(&x(0)),
            "ckks.encode" => plaintext::materialize(op.attr("value").unwrap(), m).unwrap(),
            other => panic!("evaluator: unknown op {other}"),
        };
        env.insert(op.result(), v);
    }
    panic!("no func.return")
}

fn stat(stats: &[(String, i64)], key: &str) -> i64 {
    stats
        .iter()
        .find(|(k, _)| k == key)
        .unwrap_or_else(|| panic!("no statistic {key}"))
        .1
}

/// Runs the pass; checks verification before and after and equal outputs.
fn optimize(mut m: Module, args: &[Vec<f64>]) -> (Module, Vec<(String, i64)>) {
    verify_module(&m).expect("input verifies");
    let before = eval(&m, args);
    let stats = OptimizeCkks::new().run(&mut m).expect("pass runs");
    if let Err(e) = verify_module(&m) {
        panic!(
            "output does not verify: {e}\n{}",
            orion_dialects::print_module(&m, &Default::default())
        );
    }
    let after = eval(&m, args);
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        for (x, y) in b.iter().zip(a) {
            assert!((x - y).abs() < 1e-9, "outputs differ: {x} vs {y}");
        }
    }
    (m, stats)
}

#[test]
fn registered_by_name() {
    let pass = by_name("optimize-ckks", &PassOptions::default()).expect("registered");
    assert_eq!(pass.name(), "optimize-ckks");
}

#[test]
fn rotations_fold_and_vanish() {
    let mut b = B::new();
    let x = b.f.add_arg(ct(5, 26), Some("x".into()));
    let r3 = b.rotate(x, 3);
    let r8 = b.rotate(r3, 5);
    let r0 = b.rotate(x, 0);
    let back = b.rotate(x, 4000);
    let id = b.rotate(back, 96); // 4096 = 0 mod slots
    let s = b.add(r8, r0);
    let s = b.add(s, id);
    let f = b.ret(vec![s]);
    let m = module_with(f, vec![3, 5, 4000, 96]);
    let (m, stats) = optimize(m, &[vector(1, SLOTS)]);
    assert_eq!(stat(&stats, "rotations-before"), 5);
    assert_eq!(stat(&stats, "rotations-after"), 1);
    assert_eq!(rotations_of_module(&m), vec![8]);
    let rot = m
        .main()
        .unwrap()
        .body
        .iter()
        .find(|op| op.name == "ckks.rotate")
        .unwrap();
    assert_eq!(rot.operands[0], x);
    assert_eq!(rot.attr("offset").unwrap().as_int(), Some(8));
    // The fold keeps a location from the original program.
    assert_ne!(rot.loc, Location::Unknown);
}

/// y = sum_g rotate(sum_b rescale(mul_plain(rotate(x, b), p[g][b])), g * B)
fn bsgs(giant: usize, baby: usize) -> (Module, Vec<Vec<f64>>) {
    let mut b = B::new();
    let x = b.f.add_arg(ct(5, 26), Some("x".into()));
    let mut args = vec![vector(7, SLOTS)];
    let mut ps = Vec::new();
    for g in 0..giant {
        for j in 0..baby {
            ps.push(b.f.add_arg(pt(5, 26), Some(format!("p{g}_{j}"))));
            args.push(vector(100 + (g * baby + j) as u64, SLOTS));
        }
    }
    let babies: Vec<ValueId> = (0..baby)
        .map(|j| if j == 0 { x } else { b.rotate(x, j as i64) })
        .collect();
    let mut total = None;
    for g in 0..giant {
        let mut inner = None;
        for (j, &r) in babies.iter().enumerate() {
            let prod = b.mul_plain(r, ps[g * baby + j]);
            let t = b.rescale(prod);
            inner = Some(match inner {
                None => t,
                Some(acc) => b.add(acc, t),
            });
        }
        let inner = inner.unwrap();
        let rotated = if g == 0 {
            inner
        } else {
            b.rotate(inner, (g * baby) as i64)
        };
        total = Some(match total {
            None => rotated,
            Some(acc) => b.add(acc, rotated),
        });
    }
    let f = b.ret(vec![total.unwrap()]);
    let mut rots: Vec<i64> = (1..baby as i64).collect();
    rots.extend((1..giant as i64).map(|g| g * baby as i64));
    (module_with(f, rots), args)
}

#[test]
fn bsgs_rescales_become_lazy_and_baby_steps_stay_shared() {
    let (m, args) = bsgs(4, 4);
    let (m, stats) = optimize(m, &args);
    eprintln!("{stats:?}");
    assert_eq!(stat(&stats, "rescales-before"), 16);
    assert_eq!(stat(&stats, "rotations-before"), 6);
    // Baby-step rotations stay shared: no more key switches than before.
    assert_eq!(stat(&stats, "rotations-after"), 6);
    // Lazy rescale, then past the giant-step rotations: one rescale in all.
    assert_eq!(stat(&stats, "rescales-after"), 1, "{stats:?}");
    assert!(stat(&stats, "ntt-cost-after") < stat(&stats, "ntt-cost-before"));
    assert_eq!(rotations_of_module(&m), vec![1, 2, 3, 4, 8, 12]);
}

#[test]
fn common_rotation_is_hoisted_out_of_a_sum_and_difference() {
    let mut b = B::new();
    let a = b.f.add_arg(ct(3, 26), Some("a".into()));
    let c = b.f.add_arg(ct(3, 26), Some("c".into()));
    let ra = b.rotate(a, 17);
    let rc = b.rotate(c, 17);
    let s = b.add(ra, rc);
    let ra2 = b.rotate(a, -5);
    let rc2 = b.rotate(c, 4091); // same step as -5
    let d = b.sub(ra2, rc2);
    let f = b.ret(vec![s, d]);
    let m = module_with(f, vec![17, -5, 4091]);
    let (m, stats) = optimize(m, &[vector(3, SLOTS), vector(4, SLOTS)]);
    assert_eq!(stat(&stats, "rotations-before"), 4);
    assert_eq!(stat(&stats, "rotations-after"), 2);
    assert_eq!(rotations_of_module(&m), vec![17, 4091]);
}

#[test]
fn products_relinearization_and_client_ops_are_kept() {
    let params = ParamsAttr::mnist_mlp();
    let mut m = Module::default();
    m.set_attr(PARAMS_ATTR, params.to_attr());
    let layout = VecLayout::replicated(SLOTS, 8).unwrap();
    let mut b = B::new();
    let input =
        b.f.add_arg(Type::tensor(&[8], ElemType::F32), Some("input".into()));
    let lay = || vec![("layout".to_string(), Attribute::Type(layout.to_type()))];
    let x = b.op("ckks.encrypt", vec![input], lay(), ct(5, 26));
    let weights = Attribute::Dense {
        ty: Type::f32_tensor(&[8]),
        values: (0..8).map(|i| i as f64 * 0.25 - 1.0).collect(),
    };
    let value = plaintext::vector_attr(&weights, &layout);
    let p = b.op(
        "ckks.encode",
        vec![],
        vec![("value".into(), value)],
        pt(5, 26),
    );
    // rescale(mul_plain(x, p)) - rescale(relin(x * x)), then two rotations.
    let xp = b.mul_plain(x, p);
    let t1 = b.rescale(xp);
    let xx = b.mul(x, x);
    let xx = b.relin(xx);
    let t2 = b.rescale(xx);
    let d = b.sub(t1, t2);
    let r = b.rotate(d, 1);
    let r = b.rotate(r, 2);
    let y = b.op("ckks.decrypt", vec![r], lay(), Type::f32_tensor(&[8]));
    let f = b.ret(vec![y]);
    m.funcs.push(f);
    m.set_attr(ROTATIONS_ATTR, Attribute::I64Array(vec![1, 2]));
    let input = Tensor::new(vec![8], vector(9, 8));
    let reference = interpret(&m, std::slice::from_ref(&input)).expect("ckks interpreter");
    let (m, stats) = optimize(m, &[vector(9, 8)]);
    // The dialect's own cleartext interpreter agrees too.
    let out = interpret(&m, &[input]).expect("ckks interpreter");
    assert_eq!(out.len(), reference.len());
    for (a, b) in out.iter().zip(&reference) {
        assert_eq!(a.shape, b.shape);
        assert!(a
            .data
            .iter()
            .zip(&b.data)
            .all(|(x, y)| (x - y).abs() < 1e-9));
    }
    eprintln!("{stats:?}");
    assert_eq!(stat(&stats, "rescales-before"), 2);
    assert_eq!(stat(&stats, "rescales-after"), 1);
    assert_eq!(stat(&stats, "rotations-after"), 1);
    assert_eq!(stat(&stats, "relinearizations-after"), 1);
    let names: Vec<&str> = m
        .main()
        .unwrap()
        .body
        .iter()
        .map(|op| op.name.as_str())
        .collect();
    assert_eq!(names.first(), Some(&"ckks.encrypt"));
    assert!(names.contains(&"ckks.encode"));
    assert_eq!(&names[names.len() - 2..], &["ckks.decrypt", "func.return"]);
    assert_eq!(rotations_of_module(&m), vec![3]);
}

#[test]
fn rescales_of_different_scales_are_not_merged() {
    // rescale(a) + rescale(b) with a at scale 52 and b at scale 52 but the sum
    // of a rescale and a level_down-free fresh ct: nothing to merge.
    let mut b = B::new();
    let x = b.f.add_arg(ct(5, 26), Some("x".into()));
    let y = b.f.add_arg(ct(4, 26), Some("y".into()));
    let p = b.f.add_arg(pt(5, 26), Some("p".into()));
    let xp = b.mul_plain(x, p);
    let t = b.rescale(xp);
    let s = b.add(t, y);
    let f = b.ret(vec![s]);
    let m = module_with(f, vec![]);
    let (m, stats) = optimize(m, &[vector(1, SLOTS), vector(2, SLOTS), vector(3, SLOTS)]);
    assert_eq!(stat(&stats, "rescales-after"), 1);
    assert_eq!(stat(&stats, "ops-after"), stat(&stats, "ops-before"));
    assert!(rotations_of_module(&m).is_empty());
}

/// A long program (about 3 * REGION_MAX arithmetic ops) whose layers use a
/// value from far back: each block's rotations compose within a region, and
/// a value optimized in one region is read, renamed, by the last one.
fn long_program(blocks: usize) -> (Module, Vec<Vec<f64>>) {
    let mut b = B::new();
    let x = b.f.add_arg(ct(5, 26), Some("x".into()));
    let p = b.f.add_arg(pt(5, 26), Some("p".into()));
    let first = {
        let r = b.rotate(x, 3);
        b.rotate(r, 5) // composes to rotate(x, 8): a new value
    };
    let mut acc = None;
    for k in 0..blocks {
        b.f.body.last_mut().unwrap().loc = Location::Name(format!("layer{}", k / 100));
        let r = b.rotate(x, 1 + (k % 5) as i64);
        let r = b.rotate(r, 1);
        let m1 = b.mul_plain(x, p);
        let m2 = b.mul_plain(r, p);
        let s1 = b.rescale(m1);
        let s2 = b.rescale(m2);
        let y = b.add(s1, s2);
        let y = b.sub(y, s1);
        acc = Some(match acc {
            None => y,
            Some(a) => b.add(a, y),
        });
    }
    // The first block's value again, at the very end.
    let tail = b.mul_plain(first, p);
    let tail = b.rescale(tail);
    let out = b.add(acc.expect("blocks"), tail);
    let f = b.ret(vec![out]);
    (
        module_with(f, vec![1, 2, 3, 4, 5, 6, 8]),
        vec![vector(3, SLOTS), vector(4, SLOTS)],
    )
}

#[test]
fn long_programs_are_optimized_region_by_region() {
    let (m, args) = long_program(3000);
    let (_, stats) = optimize(m, &args);
    assert!(stat(&stats, "regions") >= 3, "{stats:?}");
    assert_eq!(stat(&stats, "regions-kept-by-time"), 0);
    // Every block's two rotations compose into one, and the blocks' equal
    // rotations of x are shared within a region.
    assert_eq!(stat(&stats, "rotations-before"), 2 * 3000 + 2);
    assert!(stat(&stats, "rotations-after") < 100, "{stats:?}");
    assert!(stat(&stats, "ntt-cost-after") < stat(&stats, "ntt-cost-before"));
}

#[test]
fn a_spent_time_budget_keeps_the_remaining_regions() {
    let (mut m, args) = long_program(3000);
    let before = eval(&m, &args);
    let pass = OptimizeCkks {
        total_time_limit: std::time::Duration::ZERO,
        ..OptimizeCkks::new()
    };
    let stats = pass.run(&mut m).unwrap();
    verify_module(&m).unwrap();
    assert_eq!(
        stat(&stats, "regions-kept-by-time"),
        stat(&stats, "regions")
    );
    assert_eq!(
        stat(&stats, "rotations-after"),
        stat(&stats, "rotations-before")
    );
    let after = eval(&m, &args);
    assert_eq!(before, after);
}
