//! Bootstrap placement on LeNet-5 with ReLU (each ReLU is 14 levels deep)
//! under a chain of 20 levels: where the bootstraps go, that the program
//! then lowers within the levels, and that the `ckks` cleartext interpreter
//! still computes what the `pack` interpreter computes without them.

mod common;

use common::{example, mnist_images};
use orion_compiler::import_onnx::import_onnx_file;
use orion_compiler::pass_manager::PassManager;
use orion_compiler::passes::PassOptions;
use orion_dialects::ir::Module;
use orion_dialects::{ckks, pack};

fn run(module: &mut Module, passes: &[&str], opts: &PassOptions) -> Vec<(String, i64)> {
    let mut pm = PassManager::new();
    for p in passes {
        pm.add_by_name(p, opts).unwrap();
    }
    pm.run(module, |_, _| {}).unwrap();
    pm.statistics.into_iter().flat_map(|(_, s)| s).collect()
}

fn options(levels: usize) -> PassOptions {
    let mut params = ckks::ParamsAttr::lenet5_square();
    params.log_q = vec![40; levels + 1];
    PassOptions {
        params,
        calibration: mnist_images(0..20),
        ..PassOptions::default()
    }
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

#[test]
fn lenet5_relu_gets_bootstraps_where_the_levels_run_out() {
    let mut packed = import_onnx_file(&example("examples/mnist-lenet5/lenet5-relu.onnx")).unwrap();
    let opts = options(20);
    run(
        &mut packed,
        &[
            "canonicalize",
            "calibrate",
            "approximate-activations",
            "pack",
        ],
        &opts,
    );
    let mut placed = packed.clone();
    let stats = run(&mut placed, &["place-bootstraps"], &opts);
    for (k, v) in &stats {
        eprintln!("{k} = {v}");
    }
    orion_dialects::verify::verify_module(&placed).unwrap();
    // Four ReLUs of 14 levels each and 7 linear layers = 63 levels; a
    // bootstrap gives 20, so at least ceil(63 / 20) - 1 = 3 are needed, and
    // no more than one per ReLU is worth it.
    let boots = count(&placed, "pack.bootstrap");
    assert!((3..=4).contains(&boots), "{boots} bootstraps");
    assert_eq!(stats[0], ("bootstraps".to_string(), boots as i64));

    let mut lowered = placed.clone();
    run(&mut lowered, &["lower-to-ckks", "optimize-ckks"], &opts);
    orion_dialects::verify::verify_module(&lowered).unwrap();
    assert_eq!(count(&lowered, "ckks.bootstrap"), boots);
    let mut worst = 0f64;
    for image in mnist_images(0..5) {
        let want = &pack::interpret(&packed, std::slice::from_ref(&image)).unwrap()[0];
        let got = &ckks::interp::interpret(&lowered, std::slice::from_ref(&image)).unwrap()[0];
        worst = worst.max(got.max_rel_diff(want));
    }
    eprintln!("placed + lowered vs pack: max relative error {worst:.2e} over 5 images");
    assert!(worst < 1e-9, "{worst}");
}

#[test]
fn a_network_within_the_levels_gets_none() {
    let mut module =
        import_onnx_file(&example("examples/mnist-lenet5/lenet5-square.onnx")).unwrap();
    let opts = options(11);
    let stats = run(
        &mut module,
        &["canonicalize", "pack", "place-bootstraps"],
        &opts,
    );
    assert_eq!(stats.last().unwrap(), &("bootstraps".to_string(), 0));
    assert_eq!(count(&module, "pack.bootstrap"), 0);
}

#[test]
fn bootstraps_need_calibration_samples() {
    let mut module = import_onnx_file(&example("examples/mnist-lenet5/lenet5-relu.onnx")).unwrap();
    let opts = options(20);
    run(
        &mut module,
        &[
            "canonicalize",
            "calibrate",
            "approximate-activations",
            "pack",
        ],
        &opts,
    );
    let mut pm = PassManager::new();
    let no_samples = PassOptions {
        calibration: Vec::new(),
        ..opts
    };
    pm.add_by_name("place-bootstraps", &no_samples).unwrap();
    let e = pm.run(&mut module, |_, _| {}).unwrap_err().to_string();
    assert!(e.contains("give sample inputs (--calibration)"), "{e}");
}

#[test]
fn an_op_deeper_than_a_bootstrap_gives_is_refused() {
    let mut module = import_onnx_file(&example("examples/mnist-lenet5/lenet5-relu.onnx")).unwrap();
    let opts = options(4);
    run(
        &mut module,
        &[
            "canonicalize",
            "calibrate",
            "approximate-activations",
            "pack",
        ],
        &opts,
    );
    let mut pm = PassManager::new();
    pm.add_by_name("place-bootstraps", &opts).unwrap();
    let e = pm.run(&mut module, |_, _| {}).unwrap_err().to_string();
    assert!(e.contains("no placement fits"), "{e}");
}
