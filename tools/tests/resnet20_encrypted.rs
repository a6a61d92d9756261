//! ResNet-20 (examples/resnet20, trained on Fashion-MNIST padded to 3x32x32)
//! encrypted end to end at Orion's ResNet parameters with bootstrapping:
//! compiled with the `--lower-to-ckks` pipeline (calibrated on images
//! 900..999), run by the runtime on test images 0..N (N from
//! `ORION_RESNET20_IMAGES`, default 10). On every image the encrypted class
//! must equal the cleartext ckks interpreter's (the same approximations)
//! and tract's on the original network, and the precision (-log2 of the
//! mean |logit error| against the cleartext ckks interpreter, Orion's
//! measure) must be at least 10 bits.
//!
//! About 5 minutes and 15 GB per image on 2 cores: `--ignored`
//! (`cargo test --release -p orion-tools --test resnet20_encrypted -- --ignored --nocapture`);
//! `examples/resnet20/run_encrypted.sh` runs the same through the command-line tools.

use std::time::Instant;

use orion_compiler::PassOptions;
use orion_dialects::ckks::{self, ParamsAttr};
use orion_runtime::interp::{RunOptions, Session};

mod common;
use common::{bootstraps, compile, Reference};

const ONNX: &str = "examples/resnet20/resnet20.onnx";
const MIN_PRECISION_BITS: f64 = 10.0;

#[test]
#[ignore = "about 5 minutes and 15 GB per image"]
fn resnet20_runs_encrypted_with_the_cleartext_classes() {
    let images: usize = std::env::var("ORION_RESNET20_IMAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    orion_ckks::alloc_tuning::keep_freed_memory();
    let reference = Reference::fashion_resnet(ONNX);
    let opts = PassOptions {
        params: ParamsAttr::resnet_bootstrapped(),
        calibration: (900..1000).map(|i| reference.sample(i).image).collect(),
        ..PassOptions::default()
    };
    let t = Instant::now();
    let module = compile(ONNX, &opts);
    let boots = bootstraps(&module);
    eprintln!(
        "compiled in {:.1} s: {boots} bootstraps",
        t.elapsed().as_secs_f64()
    );
    let mut session = Session::new(
        &module,
        &RunOptions {
            seed: Some(5),
            ..RunOptions::default()
        },
    )
    .unwrap();
    eprintln!("keys in {:.1} s", session.keygen_time().as_secs_f64());
    let (mut err_sum, mut err_n) = (0f64, 0usize);
    for i in 0..images {
        let sample = reference.sample(i);
        let x = std::slice::from_ref(&sample.image);
        let clear = &ckks::interp::interpret(&module, x).unwrap()[0];
        let (outs, t) = session.run(&module, x).unwrap();
        let enc = &outs[0];
        let errs: Vec<f64> = enc
            .data
            .iter()
            .zip(&clear.data)
            .map(|(a, b)| (a - b).abs())
            .collect();
        let bits = -(errs.iter().sum::<f64>() / errs.len() as f64).log2();
        err_sum += errs.iter().sum::<f64>();
        err_n += errs.len();
        eprintln!(
            "image {i}: class {} (cleartext ckks {}, tract {}, label {}), precision {bits:.1} bits, {:.1} s",
            enc.argmax(),
            clear.argmax(),
            sample.clear.argmax(),
            sample.label,
            (t.encrypt + t.evaluate + t.decrypt).as_secs_f64()
        );
        assert_eq!(
            enc.argmax(),
            clear.argmax(),
            "image {i}: vs the cleartext ckks program"
        );
        assert_eq!(enc.argmax(), sample.clear.argmax(), "image {i}: vs tract");
        assert!(bits >= MIN_PRECISION_BITS, "image {i}: {bits:.1} bits");
    }
    eprintln!(
        "{images} images: precision {:.1} bits over all logits; memory {:?}",
        -(err_sum / err_n as f64).log2(),
        session.memory_use()
    );
}
