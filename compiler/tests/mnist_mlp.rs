//! Differential tests on the MNIST MLP example: tract's inference of the ONNX
//! file, the `nn` interpreter after import and canonicalization, and the
//! `pack` interpreter after packing must agree on real test images.

use orion_compiler::{import_onnx_file, PassManager, PassOptions};
use orion_dialects::{nn, pack, Module};
use tract_onnx::prelude::*;

mod common;
use common::*;

fn lower(module: &mut Module, passes: &[&str]) {
    let mut pm = PassManager::new();
    for p in passes {
        pm.add_by_name(p, &PassOptions::default()).unwrap();
    }
    pm.run(module, |_, _| {}).unwrap();
}

#[test]
fn nn_and_pack_interpreters_agree_with_tract() {
    let onnx = example("examples/mnist-mlp/mlp.onnx");
    let tract = tract_onnx::onnx()
        .model_for_path(&onnx)
        .unwrap()
        .into_optimized()
        .unwrap()
        .into_runnable()
        .unwrap();
    let imported = import_onnx_file(&onnx).unwrap();
    let mut canonical = imported.clone();
    lower(&mut canonical, &["canonicalize"]);
    let mut packed = canonical.clone();
    lower(&mut packed, &["pack"]);

    let (mut worst_nn, mut worst_canon, mut worst_pack) = (0f64, 0f64, 0f64);
    for image in mnist_images(0..20) {
        let reference = tract_logits(&tract, &image);
        let nn_out = &nn::interpret(&imported, std::slice::from_ref(&image)).unwrap()[0];
        let canon_out = &nn::interpret(&canonical, std::slice::from_ref(&image)).unwrap()[0];
        let pack_out = &pack::interpret(&packed, std::slice::from_ref(&image)).unwrap()[0];
        worst_nn = worst_nn.max(nn_out.max_rel_diff(&reference));
        worst_canon = worst_canon.max(canon_out.max_rel_diff(nn_out));
        worst_pack = worst_pack.max(pack_out.max_rel_diff(canon_out));
    }
    eprintln!("max relative error: nn vs tract {worst_nn:.2e}, canonical vs nn {worst_canon:.2e}, pack vs canonical {worst_pack:.2e}");
    // tract computes in f32 and we in f64: 1e-5 relative bounds the f32 rounding.
    assert!(worst_nn < 1e-5, "nn vs tract: {worst_nn}");
    // Folding batchnorm rounds the folded weights to f32.
    assert!(
        worst_canon < 1e-5,
        "canonicalize changed results: {worst_canon}"
    );
    // Same weights, same arithmetic order up to summation: f64 rounding only.
    assert!(worst_pack < 1e-6, "pack vs nn: {worst_pack}");
}

#[test]
fn lowers_to_a_verified_ckks_program_within_the_levels() {
    let mut module = import_onnx_file(&example("examples/mnist-mlp/mlp.onnx")).unwrap();
    lower(&mut module, &["canonicalize", "pack", "lower-to-ckks"]);
    orion_dialects::verify::verify_module(&module).unwrap();
    let func = module.main().unwrap();
    let count = |n: &str| func.body.iter().filter(|o| o.name == n).count();
    eprintln!(
        "ckks ops: {} rotations, {} rescales, {} mul_plain, {} encodes, rotation keys {:?}",
        count("ckks.rotate"),
        count("ckks.rescale"),
        count("ckks.mul_plain"),
        count("ckks.encode"),
        orion_dialects::ckks::params::rotations_of_module(&module)
    );
    // 128 + 128 + 16 hybrid diagonals, one product each.
    assert_eq!(count("ckks.mul_plain"), 272);
    assert_eq!(count("ckks.decrypt"), 1);
}

#[test]
fn too_few_levels_is_a_clear_error() {
    let mut module = import_onnx_file(&example("examples/mnist-mlp/mlp.onnx")).unwrap();
    let mut opts = PassOptions::default();
    opts.params.log_q.truncate(3);
    let mut pm = PassManager::new();
    for p in ["canonicalize", "pack", "lower-to-ckks"] {
        pm.add_by_name(p, &opts).unwrap();
    }
    let err = pm.run(&mut module, |_, _| {}).unwrap_err().to_string();
    assert!(
        err.contains("needs 5 levels but the CKKS parameters give 2"),
        "{err}"
    );
}

/// The "square" embedding: each gemm's result at its input's period, so no
/// rotate-and-sum (fc1: 784 -> 128 at period 1024 has 1024 diagonals at
/// most, but no output rotations); the pack interpreter computes what the
/// nn interpreter computes, and the cleartext ckks program too.
#[test]
fn square_embedding_has_no_output_rotations_and_the_same_results() {
    let opts = PassOptions {
        embedding: orion_compiler::passes::pack::Embedding::Square,
        ..PassOptions::default()
    };
    let mut canonical = import_onnx_file(&example("examples/mnist-mlp/mlp.onnx")).unwrap();
    lower(&mut canonical, &["canonicalize"]);
    let run = |m: &mut Module, passes: &[&str]| {
        let mut pm = PassManager::new();
        for p in passes {
            pm.add_by_name(p, &opts).unwrap();
        }
        pm.run(m, |_, _| {}).unwrap();
    };
    let mut packed = canonical.clone();
    run(&mut packed, &["pack"]);
    orion_dialects::verify::verify_module(&packed).unwrap();
    let func = packed.main().unwrap();
    let linears: Vec<_> = func
        .body
        .iter()
        .filter(|o| o.name == "pack.linear")
        .collect();
    assert_eq!(linears.len(), 3);
    for op in &linears {
        assert_eq!(
            op.attr("embedding").and_then(|a| a.as_str()),
            Some("square")
        );
        let input = pack::VecLayout::from_type(func.ty(op.operands[0])).unwrap();
        let output = pack::VecLayout::from_type(func.ty(op.result())).unwrap();
        let lin = pack::LinearOp::from_op(op, &input, &output, &packed).unwrap();
        assert_eq!(
            lin.plan.counts().output,
            0,
            "{}: rotate-and-sum",
            op.label()
        );
        assert!(output.period >= input.period);
    }
    let mut lowered = packed.clone();
    run(
        &mut lowered,
        &["lower-to-ckks", "optimize-ckks", "schedule-ckks"],
    );
    orion_dialects::verify::verify_module(&lowered).unwrap();
    let mut worst = 0f64;
    for image in mnist_images(0..5) {
        let x = std::slice::from_ref(&image);
        let want = &nn::interpret(&canonical, x).unwrap()[0];
        let got = &pack::interpret(&packed, x).unwrap()[0];
        let clear = &orion_dialects::ckks::interp::interpret(&lowered, x).unwrap()[0];
        worst = worst
            .max(got.max_rel_diff(want))
            .max(clear.max_rel_diff(want));
    }
    assert!(worst < 1e-6, "square embedding vs nn: {worst}");
}
