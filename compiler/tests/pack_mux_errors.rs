//! What the `pack` pass refuses, each with an error that names the layer
//! (never a panic): conv attributes it cannot pack
//! (a batch above 1; an attribute combination that is inconsistent, which
//! the verifier would catch first, run here with verification off). Every
//! consistent combination of strides (also non-square), pads, dilations and
//! groups is packed; see pack_mux.rs. A tensor larger than the slots
//! spans several ciphertexts (pack_multi_ciphertext.rs, which also has the
//! error for one beyond the limit of ciphertexts).

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
