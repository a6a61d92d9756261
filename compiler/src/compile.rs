//! The compiler as one call, for front ends other than `orion-opt` (the
//! Python package): ONNX bytes and options in, the program at each level
//! out.
//!
//! ```no_run
//! use orion_compiler::compile::{compile_onnx, CompileOptions, Preset};
//!
//! let onnx = std::fs::read("examples/mnist-mlp/mlp.onnx").unwrap();
//! let out = compile_onnx(&onnx, None, &CompileOptions::for_preset(Preset::MnistMlp)).unwrap();
//! println!("{}", orion_dialects::print_module(&out.ckks, &Default::default()));
//! ```

use std::time::Duration;

use orion_dialects::ckks::params::LENET5_OUTPUT_BOUND;
use orion_dialects::ckks::ParamsAttr;
use orion_dialects::tensor::Tensor;
use orion_dialects::{verify::verify_module, Diagnostic, Module};

use crate::passes::{self, lower_to_ckks, pack::Embedding, PassOptions, Statistics};
use crate::{import_onnx_bytes, PassManager};

/// The named CKKS parameter sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// log N = 13, 5 levels: the MNIST MLP example.
    MnistMlp,
    /// log N = 14, 11 levels: LeNet-5 with x^2 activations.
    Lenet5,
    /// log N = 16, 10 levels between bootstraps of 2^15 slots: Orion's
    /// ResNet set.
    ResnetBootstrapped,
    /// log N = 12, 16 levels between bootstraps, INSECURE: tests of
    /// bootstrapping.
    BootstrapTest,
}

impl Preset {
    /// Every preset with its name, as the tools spell it.
    pub const ALL: [(&'static str, Preset); 4] = [
        ("mnist-mlp", Preset::MnistMlp),
        ("lenet5", Preset::Lenet5),
        ("resnet-bootstrapped", Preset::ResnetBootstrapped),
        ("bootstrap-test", Preset::BootstrapTest),
    ];

    /// The preset called `name`, or an error listing them.
    pub fn by_name(name: &str) -> Result<Preset, String> {
        Preset::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, p)| p)
            .ok_or_else(|| {
                let names: Vec<&str> = Preset::ALL.iter().map(|(n, _)| *n).collect();
                format!(
                    "unknown parameter preset '{name}' (known: {})",
                    names.join(", ")
                )
            })
    }

    /// Its parameters.
    pub fn params(self) -> ParamsAttr {
        match self {
            Preset::MnistMlp => ParamsAttr::mnist_mlp(),
            Preset::Lenet5 => ParamsAttr::lenet5_square(),
            Preset::ResnetBootstrapped => ParamsAttr::resnet_bootstrapped(),
            Preset::BootstrapTest => ParamsAttr::bootstrap_test(),
        }
    }

    /// Bound on |output| the last layer's scale leaves room for.
    pub fn output_bound(self) -> f64 {
        match self {
            Preset::Lenet5 => LENET5_OUTPUT_BOUND,
            _ => lower_to_ckks::DEFAULT_OUTPUT_BOUND,
        }
    }
}

/// What [`compile_onnx`] compiles for.
#[derive(Clone, Debug)]
pub struct CompileOptions {
    /// The passes' options: parameters, calibration inputs and margin,
    /// output bound, embedding.
    pub passes: PassOptions,
}

impl CompileOptions {
    /// The options of a preset, with no calibration inputs.
    pub fn for_preset(preset: Preset) -> CompileOptions {
        CompileOptions {
            passes: PassOptions {
                params: preset.params(),
                output_bound: preset.output_bound(),
                embedding: Embedding::Hybrid,
                ..PassOptions::default()
            },
        }
    }

    /// Adds calibration inputs (one tensor per sample, shaped like the
    /// network's input).
    pub fn with_calibration(mut self, samples: Vec<Tensor>) -> CompileOptions {
        self.passes.calibration = samples;
        self
    }
}

/// The program at each level of the pipeline, and what each pass reported.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// As imported (the `nn` level).
    pub nn: Module,
    /// The last `pack`-level IR (after bootstrap placement).
    pub pack: Option<Module>,
    /// The `ckks` program.
    pub ckks: Module,
    /// Wall time per pass.
    pub timings: Vec<(String, Duration)>,
    /// Counters per pass.
    pub statistics: Vec<(String, Statistics)>,
}

/// Imports `onnx` (external data, if any, relative to `model_dir`) and
/// compiles it with [`compile_module`].
pub fn compile_onnx(
    onnx: &[u8],
    model_dir: Option<&str>,
    opts: &CompileOptions,
) -> Result<Compiled, Diagnostic> {
    compile_module(import_onnx_bytes(onnx, model_dir)?, opts)
}

/// Runs the `--lower-to-ckks` pipeline on an `nn` module, verifying it
/// first and after each pass.
pub fn compile_module(nn: Module, opts: &CompileOptions) -> Result<Compiled, Diagnostic> {
    verify_module(&nn)?;
    let mut pm = PassManager::new();
    for name in passes::LOWER_TO_CKKS {
        pm.add_by_name(name, &opts.passes)?;
    }
    let mut module = nn.clone();
    let mut pack = None;
    pm.run_observed(
        &mut module,
        |_, _| {},
        |_, m| {
            if is_pack_level(m) {
                pack = Some(m.clone());
            }
        },
    )?;
    Ok(Compiled {
        nn,
        pack,
        ckks: module,
        timings: pm.timings,
        statistics: pm.statistics,
    })
}

/// Whether `@main` holds `pack` ops and no `ckks` ones.
pub fn is_pack_level(module: &Module) -> bool {
    module.main().is_some_and(|f| {
        f.body.iter().any(|o| o.name.starts_with("pack."))
            && !f.body.iter().any(|o| o.name.starts_with("ckks."))
    })
}
