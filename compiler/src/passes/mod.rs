//! The passes, one per file, and their registry by name.

pub mod approximate_activations;
pub mod calibrate;
pub mod canonicalize;
pub mod expand_maxpool;
pub mod fuse_activations;
pub mod lower_to_ckks;
pub mod optimize_ckks;
pub mod pack;
pub mod place_bootstraps;
pub mod schedule_ckks;

use orion_dialects::ckks::ParamsAttr;
use orion_dialects::{Diagnostic, Module};

/// Named counters a pass reports (`orion-opt --pass-statistics`), e.g.
/// `("rescales-removed", 112)`.
pub type Statistics = Vec<(String, i64)>;

/// A module-to-module transformation.
pub trait Pass {
    /// The name users give on the command line (`--pass NAME`).
    fn name(&self) -> &'static str;
    fn run(&self, module: &mut Module) -> Result<Statistics, Diagnostic>;
}

/// Options shared by the passes that need them.
#[derive(Clone, Debug)]
pub struct PassOptions {
    /// CKKS parameters the program is compiled for; they fix the slot count.
    pub params: ParamsAttr,
    /// Inputs `calibrate` runs through the `nn` interpreter (one tensor per
    /// argument of `@main`, sample after sample).
    pub calibration: Vec<orion_dialects::tensor::Tensor>,
    /// Margin `calibrate` widens each observed range by, as a fraction of
    /// its width on each side (default 0.1).
    pub calibration_margin: f64,
    /// Largest absolute value the program's outputs may take. At level 0 the
    /// modulus leaves little headroom above the scale, so `lower-to-ckks`
    /// lowers the last layer's scale to keep this bound decryptable.
    pub output_bound: f64,
    /// How `pack` embeds a gemm's matrix (see [`pack::Embedding`]).
    pub embedding: pack::Embedding,
}

impl Default for PassOptions {
    fn default() -> Self {
        PassOptions {
            params: ParamsAttr::mnist_mlp(),
            calibration: Vec::new(),
            calibration_margin: calibrate::DEFAULT_MARGIN,
            output_bound: lower_to_ckks::DEFAULT_OUTPUT_BOUND,
            embedding: pack::Embedding::Hybrid,
        }
    }
}

/// The `--lower-to-ckks` pipeline, after import.
/// `calibrate` and `approximate-activations` do nothing to polynomial
/// networks, and `place-bootstraps` nothing to networks within the levels.
pub const LOWER_TO_CKKS: &[&str] = &[
    "fuse-activations",
    "canonicalize",
    "expand-maxpool",
    "calibrate",
    "approximate-activations",
    "pack",
    "place-bootstraps",
    "lower-to-ckks",
    "optimize-ckks",
    "schedule-ckks",
];

pub fn names() -> Vec<&'static str> {
    vec![
        "fuse-activations",
        "canonicalize",
        "expand-maxpool",
        "calibrate",
        "approximate-activations",
        "pack",
        "place-bootstraps",
        "lower-to-ckks",
        "optimize-ckks",
        "schedule-ckks",
    ]
}

pub fn by_name(name: &str, opts: &PassOptions) -> Option<Box<dyn Pass>> {
    Some(match name {
        "fuse-activations" => Box::new(fuse_activations::FuseActivations),
        "canonicalize" => Box::new(canonicalize::Canonicalize),
        "expand-maxpool" => Box::new(expand_maxpool::ExpandMaxpool),
        "calibrate" => Box::new(calibrate::Calibrate::new(opts)),
        "approximate-activations" => {
            Box::new(approximate_activations::ApproximateActivations::default())
        }
        "pack" => Box::new(pack::Pack::new(opts)),
        "place-bootstraps" => Box::new(place_bootstraps::PlaceBootstraps::new(opts)),
        "lower-to-ckks" => Box::new(lower_to_ckks::LowerToCkks::new(opts)),
        "optimize-ckks" => Box::new(optimize_ckks::OptimizeCkks::new()),
        "schedule-ckks" => Box::new(schedule_ckks::ScheduleCkks),
        _ => return None,
    })
}
