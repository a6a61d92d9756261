//! Every level of the example networks' IR: printing then parsing gives the
//! same module (custom and generic forms), and insta snapshots pin the text
//! of each level (without the weight blobs).

use orion_compiler::{import_onnx_file, PassManager, PassOptions};
use orion_dialects::{parse_module, print_module, Module, PrintOptions};
use std::path::PathBuf;

fn example(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
}

fn run(module: &mut Module, pass: &str) {
    let mut pm = PassManager::new();
    pm.add_by_name(pass, &PassOptions::default()).unwrap();
    pm.run(module, |_, _| {}).unwrap();
}

fn assert_round_trips(module: &Module, what: &str) {
    for opts in [PrintOptions::default(), PrintOptions::generic()] {
        let text = print_module(module, &opts);
        let parsed = parse_module(&text, what).unwrap_or_else(|d| panic!("{what}: {d}"));
        assert_eq!(
            print_module(&parsed, &opts),
            text,
            "{what} (generic: {}) is not a fixed point",
            opts.generic
        );
        orion_dialects::verify::verify_module(&parsed)
            .unwrap_or_else(|d| panic!("{what} after parsing: {d}"));
    }
}

/// The module text before its resource section.
fn without_blobs(module: &Module) -> String {
    let text = print_module(module, &PrintOptions::default());
    match text.find("{-#") {
        Some(i) => text[..i].trim_end().to_string(),
        None => text,
    }
}

#[test]
fn mnist_mlp_every_level() {
    let mut module = import_onnx_file(&example("examples/mnist-mlp/mlp.onnx")).unwrap();
    assert_round_trips(&module, "mlp.nn.mlir");
    insta::assert_snapshot!("mlp_nn", without_blobs(&module));
    for (pass, name) in [
        ("canonicalize", "mlp_nn_canonical"),
        ("pack", "mlp_pack"),
        ("lower-to-ckks", "mlp_ckks"),
        ("optimize-ckks", "mlp_ckks_optimized"),
    ] {
        run(&mut module, pass);
        assert_round_trips(&module, &format!("{name}.mlir"));
        insta::assert_snapshot!(name, without_blobs(&module));
    }
}
