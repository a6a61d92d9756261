//! `optimize-ckks` on synthetic programs of a given size: time, peak
//! memory, and NTT cost before and after, to check that the pass scales
//! linearly.
//!
//!     cargo run --release -p orion-compiler --example optimize_scaling -- --ops 100000
//!
//! The program repeats a block shaped like a BSGS linear layer (8 ops on
//! one input ciphertext at the top level: two chained rotations, two
//! plaintext products with their rescales, a sum) and accumulates the
//! blocks' results, so every rewrite of the pass has work: rotations to
//! compose, rescales to make lazy. Blocks are named `layer{k}` in groups
//! of 64, like the layers of a network.

use std::time::Instant;

use clap::Parser;
use orion_compiler::passes::optimize_ckks::OptimizeCkks;
use orion_compiler::passes::Pass;
use orion_dialects::ckks::params::{PARAMS_ATTR, ROTATIONS_ATTR};
use orion_dialects::ckks::plaintext::vector_attr;
use orion_dialects::ckks::{CtType, ParamsAttr, PtType};
use orion_dialects::pack::VecLayout;
use orion_dialects::{Attribute, ElemType, Func, Location, Module, Type, ValueId};

#[derive(Parser)]
struct Args {
    /// Approximate number of ops of the program.
    #[arg(long, default_value_t = 10_000)]
    ops: usize,
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// The synthetic program (see the module documentation).
fn program(ops: usize) -> Module {
    let params = ParamsAttr::mnist_mlp();
    let top = params.max_level();
    let (s, q) = (params.log_scale as i64, params.log_q[top] as i64);
    let ct = |level: usize, log_scale: i64| CtType::new(level, log_scale).to_type();
    let layout = VecLayout::replicated(params.slots(), 4).unwrap();
    let values = Attribute::Dense {
        ty: Type::Tensor {
            shape: vec![4],
            elem: ElemType::F32,
        },
        values: vec![0.5, -0.25, 0.125, 1.0],
    };
    let mut f = Func::new("main");
    let x_in = f.add_arg(Type::f32_tensor(&[4]), Some("x".into()));
    let enc = vec![("layout".to_string(), Attribute::Type(layout.to_type()))];
    let x = f.push_op(
        "ckks.encrypt",
        vec![x_in],
        enc.clone(),
        vec![ct(top, s)],
        Location::Unknown,
    )[0];
    let pt = PtType {
        level: top,
        log_scale: q,
    }
    .to_type();
    let mut acc: Option<ValueId> = None;
    for k in 0..ops.div_ceil(10) {
        let loc = Location::Name(format!("layer{}", k / 64));
        let op =
            |f: &mut Func,
             name: &str,
             operands: Vec<ValueId>,
             attrs: Vec<(String, Attribute)>,
             ty: Type| { f.push_op(name, operands, attrs, vec![ty], loc.clone())[0] };
        let offset = |k: i64| vec![("offset".to_string(), Attribute::Int(k))];
        let encode = vec![("value".to_string(), vector_attr(&values, &layout))];
        let p1 = op(&mut f, "ckks.encode", vec![], encode.clone(), pt.clone());
        let p2 = op(&mut f, "ckks.encode", vec![], encode, pt.clone());
        let r1 = op(
            &mut f,
            "ckks.rotate",
            vec![x],
            offset(1 + (k % 7) as i64),
            ct(top, s),
        );
        let r2 = op(&mut f, "ckks.rotate", vec![r1], offset(2), ct(top, s));
        let m1 = op(
            &mut f,
            "ckks.mul_plain",
            vec![x, p1],
            vec![],
            ct(top, s + q),
        );
        let m2 = op(
            &mut f,
            "ckks.mul_plain",
            vec![r2, p2],
            vec![],
            ct(top, s + q),
        );
        let s1 = op(&mut f, "ckks.rescale", vec![m1], vec![], ct(top - 1, s));
        let s2 = op(&mut f, "ckks.rescale", vec![m2], vec![], ct(top - 1, s));
        let y = op(&mut f, "ckks.add", vec![s1, s2], vec![], ct(top - 1, s));
        acc = Some(match acc {
            None => y,
            Some(a) => op(&mut f, "ckks.add", vec![a, y], vec![], ct(top - 1, s)),
        });
    }
    let out = f.push_op(
        "ckks.decrypt",
        vec![acc.expect("at least one block")],
        enc,
        vec![Type::f32_tensor(&[4])],
        Location::Unknown,
    )[0];
    f.push_op("func.return", vec![out], vec![], vec![], Location::Unknown);
    let mut m = Module::default();
    m.set_attr(PARAMS_ATTR, params.to_attr());
    m.set_attr(ROTATIONS_ATTR, Attribute::I64Array((1..=9).collect()));
    m.funcs.push(f);
    m
}

fn main() {
    let args = Args::parse();
    let mut m = program(args.ops);
    let n = m.main().unwrap().body.len();
    let start = Instant::now();
    let stats = OptimizeCkks::new().run(&mut m).expect("optimize-ckks");
    let secs = start.elapsed().as_secs_f64();
    let stat = |k: &str| stats.iter().find(|(n, _)| n == k).map_or(0, |(_, v)| *v);
    println!(
        "ops {n}: {secs:.3} s, peak RSS {:.0} MB, ntt cost {} -> {}, ops after {}, egraph nodes {}",
        peak_rss_mb(),
        stat("ntt-cost-before"),
        stat("ntt-cost-after"),
        stat("ops-after"),
        stat("egraph-nodes"),
    );
}
