//! Differential tests on the MNIST LeNet-5 examples (ReLU and x^2): tract's
//! inference of the ONNX file against the `nn` interpreter after import and
//! after canonicalization (which folds each BatchNorm into its conv), on real
//! MNIST test images.

use orion_compiler::{import_onnx_file, PassManager, PassOptions};
use orion_dialects::{nn, pack, Module};
use tract_onnx::prelude::*;

mod common;
use common::*;

fn canonicalize(module: &mut Module) {
    let mut pm = PassManager::new();
    pm.add_by_name("canonicalize", &PassOptions::default())
        .unwrap();
    pm.run(module, |_, _| {}).unwrap();
}

fn count(module: &Module, name: &str) -> usize {
    module
        .main()
        .unwrap()
        .body
        .iter()
        .filter(|o| o.name == name)
        .count()
}

fn check(variant: &str) {
    let onnx = example(&format!("examples/mnist-lenet5/lenet5-{variant}.onnx"));
    let tract = tract_onnx::onnx()
        .model_for_path(&onnx)
        .unwrap()
        .into_optimized()
        .unwrap()
        .into_runnable()
        .unwrap();
    let imported = import_onnx_file(&onnx).unwrap();
    orion_dialects::verify::verify_module(&imported).unwrap();
    assert_eq!(count(&imported, "nn.conv2d"), 2);
    assert_eq!(count(&imported, "nn.batchnorm"), 2);
    assert_eq!(count(&imported, "nn.avgpool"), 2);
    let mut canonical = imported.clone();
    canonicalize(&mut canonical);
    orion_dialects::verify::verify_module(&canonical).unwrap();
    assert_eq!(
        count(&canonical, "nn.batchnorm"),
        0,
        "both batchnorms fold into their convs"
    );
    assert_eq!(count(&canonical, "nn.conv2d"), 2);

    let (mut worst_nn, mut worst_canon, mut agree) = (0f64, 0f64, 0);
    let images = mnist_images(0..20);
    for image in &images {
        let reference = tract_logits(&tract, image);
        let nn_out = &nn::interpret(&imported, std::slice::from_ref(image)).unwrap()[0];
        let canon_out = &nn::interpret(&canonical, std::slice::from_ref(image)).unwrap()[0];
        worst_nn = worst_nn.max(nn_out.max_rel_diff(&reference));
        worst_canon = worst_canon.max(canon_out.max_rel_diff(&reference));
        agree += usize::from(canon_out.argmax() == reference.argmax());
    }
    eprintln!(
        "lenet5-{variant}: max |diff| / max |logit| over {} images: imported nn vs tract {worst_nn:.2e}, canonical nn vs tract {worst_canon:.2e}; argmax agrees on {agree}",
        images.len()
    );
    // tract computes in f32 and we in f64: 1e-5 relative bounds the f32 rounding.
    assert!(worst_nn < 1e-5, "nn vs tract: {worst_nn}");
    // Folding batchnorm rounds the folded weights to f32.
    assert!(worst_canon < 1e-5, "canonical nn vs tract: {worst_canon}");
    assert_eq!(agree, images.len());
}

#[test]
fn relu_variant_agrees_with_tract() {
    check("relu");
}

#[test]
fn square_variant_agrees_with_tract() {
    check("square");
}

fn lenet5_options() -> PassOptions {
    PassOptions {
        params: orion_dialects::ckks::ParamsAttr::lenet5_square(),
        output_bound: orion_dialects::ckks::params::LENET5_OUTPUT_BOUND,
        ..PassOptions::default()
    }
}

fn run_passes(module: &mut Module, passes: &[&str], opts: &PassOptions) {
    let mut pm = PassManager::new();
    for p in passes {
        pm.add_by_name(p, opts).unwrap();
    }
    pm.run(module, |_, _| {}).unwrap();
}

/// Convs and pools packed as sparse linear maps on the 1-D replicated layout:
/// the `pack` interpreter agrees with the canonical `nn` interpreter.
#[test]
fn square_variant_pack_agrees_with_nn() {
    let onnx = example("examples/mnist-lenet5/lenet5-square.onnx");
    let mut canonical = import_onnx_file(&onnx).unwrap();
    canonicalize(&mut canonical);
    let mut packed = canonical.clone();
    let opts = lenet5_options();
    run_passes(&mut packed, &["pack"], &opts);
    orion_dialects::verify::verify_module(&packed).unwrap();
    assert_eq!(count(&packed, "pack.linear"), 7);
    let func = packed.main().unwrap();
    for op in func.body.iter().filter(|o| o.name == "pack.linear") {
        let input = pack::VecLayout::from_type(func.ty(op.operands[0])).unwrap();
        let output = pack::VecLayout::from_type(func.ty(op.result())).unwrap();
        let lin = pack::LinearOp::from_op(op, &input, &output, &packed).unwrap();
        let p = lin.plan.single().expect("one ciphertext");
        eprintln!(
            "{:<8} {:>5} -> {:>5} (period {:>5} -> {:>5}): {:>5} diagonals, {:>6} nonzeros, {} baby + {} giant + {} sum rotations",
            op.loc.name().unwrap_or("?"),
            p.cols,
            p.rows,
            input.period,
            p.out_period,
            p.diagonals.len(),
            p.nonzeros(),
            p.baby_offsets().iter().filter(|&&b| b != 0).count(),
            p.giant_groups().iter().filter(|(g, _)| *g != 0).count(),
            p.sum_steps.len()
        );
    }
    let mut worst = 0f64;
    for image in mnist_images(0..20) {
        let want = &nn::interpret(&canonical, std::slice::from_ref(&image)).unwrap()[0];
        let got = &pack::interpret(&packed, std::slice::from_ref(&image)).unwrap()[0];
        worst = worst.max(got.max_rel_diff(want));
    }
    eprintln!("lenet5-square: pack vs canonical nn, max relative error {worst:.2e} over 20 images");
    assert!(worst < 1e-6, "pack vs nn: {worst}");
}

#[test]
fn square_variant_lowers_to_ckks_within_the_levels() {
    let onnx = example("examples/mnist-lenet5/lenet5-square.onnx");
    let mut module = import_onnx_file(&onnx).unwrap();
    run_passes(
        &mut module,
        &["canonicalize", "pack", "lower-to-ckks"],
        &lenet5_options(),
    );
    orion_dialects::verify::verify_module(&module).unwrap();
    eprintln!(
        "lenet5-square ckks: {} mul_plain, {} rotations, {} rotation keys",
        count(&module, "ckks.mul_plain"),
        count(&module, "ckks.rotate"),
        orion_dialects::ckks::params::rotations_of_module(&module).len()
    );
    assert_eq!(count(&module, "ckks.decrypt"), 1);
}

/// At 4096 slots conv1's 6x28x28 result (4704 values) takes two
/// ciphertexts; the network packs over them and computes what `nn` does.
#[test]
fn a_conv_result_larger_than_the_slots_spans_two_ciphertexts() {
    let onnx = example("examples/mnist-lenet5/lenet5-square.onnx");
    let mut canonical = import_onnx_file(&onnx).unwrap();
    run_passes(&mut canonical, &["canonicalize"], &PassOptions::default());
    let mut packed = canonical.clone();
    run_passes(&mut packed, &["pack"], &PassOptions::default());
    let func = packed.main().unwrap();
    let conv1 = func.body.iter().find(|o| o.name == "pack.linear").unwrap();
    let layout = pack::VecLayout::from_type(func.ty(conv1.result())).unwrap();
    assert_eq!((layout.slots, layout.blocks()), (4096, 2));
    let mut worst = 0f64;
    for image in mnist_images(0..5) {
        let want = &nn::interpret(&canonical, std::slice::from_ref(&image)).unwrap()[0];
        let got = &pack::interpret(&packed, std::slice::from_ref(&image)).unwrap()[0];
        worst = worst.max(got.max_rel_diff(want));
    }
    assert!(worst < 1e-6, "pack vs nn: {worst}");
}

/// The ReLU variant after calibration and approximate-activations: the
/// `pack` interpreter agrees with the `nn` interpreter on the same
/// polynomial network.
#[test]
fn relu_variant_pack_agrees_with_nn_after_approximation() {
    let onnx = example("examples/mnist-lenet5/lenet5-relu.onnx");
    let mut approximated = import_onnx_file(&onnx).unwrap();
    let opts = PassOptions {
        calibration: mnist_images(0..20),
        ..lenet5_options()
    };
    run_passes(
        &mut approximated,
        &["canonicalize", "calibrate", "approximate-activations"],
        &opts,
    );
    let mut packed = approximated.clone();
    run_passes(&mut packed, &["pack"], &opts);
    orion_dialects::verify::verify_module(&packed).unwrap();
    assert_eq!(count(&packed, "pack.linear"), 7);
    let mut worst = 0f64;
    for image in mnist_images(0..20) {
        let want = &nn::interpret(&approximated, std::slice::from_ref(&image)).unwrap()[0];
        let got = &pack::interpret(&packed, std::slice::from_ref(&image)).unwrap()[0];
        worst = worst.max(got.max_rel_diff(want));
    }
    eprintln!(
        "lenet5-relu (approximated): pack vs nn, max relative error {worst:.2e} over 20 images"
    );
    assert!(worst < 1e-6, "pack vs nn: {worst}");
}

/// The ReLU variant lowered to `ckks` (composite-sign polynomials become
/// `ckks.polynomial`, `x * sign` a ciphertext product): the `ckks` cleartext
/// interpreter agrees with the `pack` interpreter. The chain is far deeper
/// than any parameter set without bootstrapping, so the check uses a
/// cleartext-only parameter record with enough levels.
#[test]
fn relu_variant_lowers_to_ckks_and_agrees_with_pack() {
    let onnx = example("examples/mnist-lenet5/lenet5-relu.onnx");
    let mut packed = import_onnx_file(&onnx).unwrap();
    let mut params = orion_dialects::ckks::ParamsAttr::lenet5_square();
    params.log_q = vec![40; 90];
    let opts = PassOptions {
        calibration: mnist_images(0..20),
        params,
        ..lenet5_options()
    };
    run_passes(
        &mut packed,
        &[
            "canonicalize",
            "calibrate",
            "approximate-activations",
            "pack",
        ],
        &opts,
    );
    let mut lowered = packed.clone();
    run_passes(&mut lowered, &["lower-to-ckks", "optimize-ckks"], &opts);
    orion_dialects::verify::verify_module(&lowered).unwrap();
    let polys = count(&lowered, "ckks.polynomial");
    let exact = lowered
        .main()
        .unwrap()
        .body
        .iter()
        .filter(|o| o.attr("result_scale").and_then(|a| a.as_str()) == Some("level_prime"))
        .count();
    // 4 ReLUs of three sign stages each; the last stage of each feeds
    // `x * sign` and lands at q_l.
    assert_eq!((polys, exact), (12, 4));
    let mut worst = 0f64;
    for image in mnist_images(0..5) {
        let want = &pack::interpret(&packed, std::slice::from_ref(&image)).unwrap()[0];
        let got = &orion_dialects::ckks::interp::interpret(&lowered, std::slice::from_ref(&image))
            .unwrap()[0];
        worst = worst.max(got.max_rel_diff(want));
    }
    eprintln!(
        "lenet5-relu: ckks (cleartext) vs pack, max relative error {worst:.2e} over 5 images"
    );
    assert!(worst < 1e-9, "ckks vs pack: {worst}");
}
