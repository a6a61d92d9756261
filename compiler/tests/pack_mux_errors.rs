//! What the `pack` pass refuses, each with an error that names the layer
//! (never a panic): a residual add whose branches were packed differently,
//! a tensor that does not fit the slots, and conv attributes it cannot pack
//! (a batch above 1; an attribute combination that is inconsistent, which
//! the verifier would catch first, run here with verification off). Every
//! consistent combination of strides (also non-square), pads, dilations and
//! groups is packed; see pack_mux.rs.

mod conv_nets;

use conv_nets::{conv_attrs, Net};
use orion_compiler::{PassManager, PassOptions};
use orion_dialects::ckks::ParamsAttr;
use orion_dialects::ir::Attribute;
use orion_dialects::Module;

fn pack_error(module: &mut Module, log_n: u32, verify: bool) -> String {
    let opts = PassOptions {
        params: ParamsAttr {
            log_n,
            ..ParamsAttr::mnist_mlp()
        },
        ..PassOptions::default()
    };
    let mut pm = PassManager::new();
    pm.verify_each = verify;
    pm.add_by_name("pack", &opts).unwrap();
    let err = pm.run(module, |_, _| {}).unwrap_err();
    err.to_string()
}

#[test]
fn residual_add_of_different_layouts_names_the_add() {
    // Both branches are 4x4x4, one at gap 2 (a stride-2 conv), the other at
    // gap 1 (a 5x5 conv without padding, on the input's 8x8 grid).
    let (mut net, x) = Net::new(&[1, 4, 8, 8], 1);
    let strided = net.conv("/down", x, 4, [3, 3], conv_attrs([2, 2], [1, 1, 1, 1]));
    let valid = net.conv("/valid", x, 4, [5, 5], conv_attrs([1, 1], [0; 4]));
    let sum = net.add("/block/Add", strided, valid);
    let mut m = net.finish(&[sum]);
    let err = pack_error(&mut m, 13, true);
    eprintln!("{err}");
    assert!(err.contains("\"/block/Add\""), "{err}");
    assert!(err.contains("different layouts"), "{err}");
    assert!(err.contains("gap = 2"), "{err}");
}

#[test]
fn a_tensor_larger_than_the_slots_names_the_layer() {
    // 3x32x32 fits 4096 slots; the conv's 16x32x32 result does not.
    let (mut net, x) = Net::new(&[1, 3, 32, 32], 2);
    let y = net.conv(
        "/conv1/Conv",
        x,
        16,
        [3, 3],
        conv_attrs([1, 1], [1, 1, 1, 1]),
    );
    let mut m = net.finish(&[y]);
    let err = pack_error(&mut m, 13, true);
    assert!(err.contains("\"/conv1/Conv\""), "{err}");
    assert!(
        err.contains("16384 elements does not fit 4096 slots; use --params with log_n >= 15"),
        "{err}"
    );
    // (A network input larger than the slots is packed over several
    // ciphertexts instead: block_matrices.rs.)
}

#[test]
fn unsupported_conv_attributes_name_the_layer() {
    // A batch of two: one ciphertext holds one image.
    let (mut net, x) = Net::new(&[2, 2, 4, 4], 3);
    let y = net.conv(
        "/batched/Conv",
        x,
        2,
        [3, 3],
        conv_attrs([1, 1], [1, 1, 1, 1]),
    );
    let mut m = net.finish(&[y]);
    let err = pack_error(&mut m, 13, true);
    assert!(err.contains("\"/batched/Conv\""), "{err}");
    assert!(err.contains("batch-1"), "{err}");

    // groups = 3 on 4 channels, unverified: refused, not a panic.
    let (mut net, x) = Net::new(&[1, 4, 4, 4], 4);
    let y = net.conv(
        "/grouped/Conv",
        x,
        4,
        [3, 3],
        conv_attrs([1, 1], [1, 1, 1, 1]),
    );
    let mut m = net.finish(&[y]);
    for op in &mut m.main_mut().unwrap().body {
        if op.name == "nn.conv2d" {
            op.set_attr("groups", Attribute::Int(3));
        }
    }
    let err = pack_error(&mut m, 13, false);
    assert!(err.contains("\"/grouped/Conv\""), "{err}");
    assert!(err.contains("'groups' = 3 does not divide"), "{err}");
}
