//! `schedule-ckks` on a whole network (LeNet-5 with x^2, lowered to ckks):
//! the demand order keeps far fewer ciphertexts alive than the lowering's
//! order (all of a layer's plaintext products before their sums), changes
//! no value, and the cleartext ckks interpreter computes the same logits.

use orion_compiler::passes::schedule_ckks::peak_live_ciphertexts;
use orion_compiler::{import_onnx_file, PassManager, PassOptions};
use orion_dialects::ckks;

mod common;
use common::*;

#[test]
fn demand_order_keeps_few_ciphertexts_alive_and_the_same_values() {
    let opts = PassOptions {
        params: ckks::ParamsAttr::lenet5_square(),
        ..PassOptions::default()
    };
    let mut lowered =
        import_onnx_file(&example("examples/mnist-lenet5/lenet5-square.onnx")).unwrap();
    let mut pm = PassManager::new();
    for p in
        &orion_compiler::passes::LOWER_TO_CKKS[..orion_compiler::passes::LOWER_TO_CKKS.len() - 1]
    {
        pm.add_by_name(p, &opts).unwrap();
    }
    pm.run(&mut lowered, |_, _| {}).unwrap();
    let mut scheduled = lowered.clone();
    let mut pm = PassManager::new();
    pm.add_by_name("schedule-ckks", &opts).unwrap();
    pm.run(&mut scheduled, |_, _| {}).unwrap();
    orion_dialects::verify::verify_module(&scheduled).unwrap();

    let (before, after) = (
        peak_live_ciphertexts(lowered.main().unwrap()),
        peak_live_ciphertexts(scheduled.main().unwrap()),
    );
    eprintln!("LeNet-5 x^2: peak live ciphertexts {before} -> {after}");
    assert!(after * 4 <= before, "{before} -> {after}");
    let (a, b) = (lowered.main().unwrap(), scheduled.main().unwrap());
    assert_eq!(a.body.len(), b.body.len(), "no op added or lost");

    for image in mnist_images(0..2) {
        let x = std::slice::from_ref(&image);
        let want = &ckks::interp::interpret(&lowered, x).unwrap()[0];
        let got = &ckks::interp::interpret(&scheduled, x).unwrap()[0];
        assert_eq!(want.data, got.data, "the same ops on the same values");
    }
}
