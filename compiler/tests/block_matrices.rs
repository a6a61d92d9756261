//! Layouts over several ciphertexts: a dense network whose input, hidden
//! layers and output exceed the slots (1600 -> 700 -> 300 -> 600 at 512
//! slots: 4, 2, 1 and 2 ciphertexts). Each gemm is a block matrix; the
//! `pack` interpreter and the cleartext `ckks` program compute what the
//! `nn` interpreter computes.

mod conv_nets;

use conv_nets::{block_test_params, wide_mlp, Net};
use orion_compiler::{PassManager, PassOptions};
use orion_dialects::ckks::ParamsAttr;
use orion_dialects::pack::{LinearOp, VecLayout};
use orion_dialects::{ckks, nn, pack, Module};

fn run(module: &mut Module, passes: &[&str], opts: &PassOptions) {
    let mut pm = PassManager::new();
    for p in passes {
        pm.add_by_name(p, opts).unwrap();
    }
    pm.run(module, |_, _| {}).unwrap();
}

#[test]
fn block_matrices_compute_what_the_nn_interpreter_computes() {
    let opts = PassOptions {
        params: block_test_params(),
        ..PassOptions::default()
    };
    let model = wide_mlp();
    let mut packed = model.clone();
    run(&mut packed, &["pack"], &opts);
    orion_dialects::verify::verify_module(&packed).unwrap();
    let func = packed.main().unwrap();
    let mut blocks = Vec::new();
    for op in func.body.iter().filter(|o| o.name == "pack.linear") {
        let input = VecLayout::from_type(func.ty(op.operands[0])).unwrap();
        let output = VecLayout::from_type(func.ty(op.result())).unwrap();
        let lin = LinearOp::from_op(op, &input, &output, &packed).unwrap();
        blocks.push((
            lin.plan.in_blocks,
            lin.plan.out_blocks,
            lin.plan.blocks.len(),
        ));
    }
    // fc1: 4 x 2 blocks, fc2: 2 -> 1, fc3: 1 -> 2 (every block nonzero).
    assert_eq!(blocks, vec![(4, 2, 8), (2, 1, 2), (1, 2, 2)]);

    let mut lowered = packed.clone();
    run(
        &mut lowered,
        &["lower-to-ckks", "optimize-ckks", "schedule-ckks"],
        &opts,
    );
    orion_dialects::verify::verify_module(&lowered).unwrap();
    let main = lowered.main().unwrap();
    let count = |n: &str| main.body.iter().filter(|o| o.name == n).count();
    assert_eq!(count("ckks.encrypt"), 4, "one encryption per input block");
    let decrypt = main.body.iter().find(|o| o.name == "ckks.decrypt").unwrap();
    assert_eq!(decrypt.operands.len(), 2, "the output's two blocks");

    let mut worst = (0f64, 0f64);
    for seed in 0..3 {
        let x = conv_nets::Lcg::new(100 + seed).tensor(&[1, 1, 40, 40]);
        let x = std::slice::from_ref(&x);
        let want = &nn::interpret(&model, x).unwrap()[0];
        let got = &pack::interpret(&packed, x).unwrap()[0];
        let clear = &ckks::interp::interpret(&lowered, x).unwrap()[0];
        worst.0 = worst.0.max(got.max_rel_diff(want));
        worst.1 = worst.1.max(clear.max_rel_diff(want));
    }
    eprintln!(
        "block matrices: pack vs nn {:.2e}, ckks (clear) vs nn {:.2e}",
        worst.0, worst.1
    );
    assert!(worst.0 < 1e-9, "pack vs nn: {}", worst.0);
    assert!(worst.1 < 1e-9, "ckks vs nn: {}", worst.1);
}

/// A network input larger than the slots (8x32x32 at 4096 slots) is
/// packed over two ciphertexts, and the conv that reads it is a block
/// matrix from both to its one result ciphertext.
#[test]
fn a_conv_reads_an_input_over_several_ciphertexts() {
    let (mut net, x) = Net::new(&[1, 8, 32, 32], 2);
    let y = net.conv(
        "/conv1/Conv",
        x,
        2,
        [3, 3],
        conv_nets::conv_attrs([1, 1], [1, 1, 1, 1]),
    );
    let model = net.finish(&[y]);
    let opts = PassOptions {
        params: ParamsAttr {
            log_n: 13,
            ..ParamsAttr::mnist_mlp()
        },
        ..PassOptions::default()
    };
    let mut packed = model.clone();
    run(&mut packed, &["pack"], &opts);
    let func = packed.main().unwrap();
    let op = func.body.iter().find(|o| o.name == "pack.linear").unwrap();
    let input = VecLayout::from_type(func.ty(op.operands[0])).unwrap();
    let output = VecLayout::from_type(func.ty(op.result())).unwrap();
    assert_eq!((input.blocks(), output.blocks()), (2, 1));
    let lin = LinearOp::from_op(op, &input, &output, &packed).unwrap();
    assert_eq!(lin.plan.blocks.len(), 2);
    let x = conv_nets::Lcg::new(5).tensor(&[1, 8, 32, 32]);
    let want = &nn::interpret(&model, std::slice::from_ref(&x)).unwrap()[0];
    let got = &pack::interpret(&packed, std::slice::from_ref(&x)).unwrap()[0];
    assert!(got.max_rel_diff(want) < 1e-9, "{}", got.max_rel_diff(want));
}

#[test]
fn a_block_layout_with_a_replicating_period_is_refused() {
    let bad = VecLayout {
        slots: 512,
        size: 700,
        period: 256,
        mux: None,
    };
    let err = bad.check().unwrap_err();
    assert!(
        err.contains("spans 2 ciphertexts of 512 slots: its period must be the slot count"),
        "{err}"
    );
}
