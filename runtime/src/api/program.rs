//! A compiled `ckks` program: parsed, verified, with its CKKS context.

use std::path::Path;
use std::sync::Arc;

use orion_ckks::serialize::params_fingerprint;
use orion_ckks::Context;
use orion_dialects::tensor::Tensor;
use orion_dialects::Module;

use super::Error;
use crate::interp::{
    estimate_memory, evaluation_bytes, module_context, MemoryEstimate, RunOptions,
};

/// Largest program text read (a ResNet-50's weights as hex are ~200 MB).
const MAX_PROGRAM_BYTES: u64 = 4 << 30;

/// A `ckks` program that takes one tensor and returns tensors, ready to be
/// run by a [`Client`](super::Client) and a [`Server`](super::Server).
/// Shared between them (`Arc`): the context (primes and NTT tables) is
/// built once.
#[derive(Debug)]
pub struct Program {
    name: String,
    module: Module,
    ctx: Arc<Context>,
    input_shape: Vec<usize>,
}

impl Program {
    /// Reads, parses and verifies the program in `path` (a regular file).
    pub fn load(path: &Path) -> Result<Program, Error> {
        let name = path.display().to_string();
        let text =
            orion_dialects::files::read_regular_text(path, MAX_PROGRAM_BYTES).map_err(|e| {
                Error::Unsupported {
                    name: name.clone(),
                    message: e
                        .strip_prefix(&format!("{name}: "))
                        .unwrap_or(&e)
                        .to_string(),
                }
            })?;
        Program::parse(&text, &name)
    }

    /// Parses and verifies a program's text; `name` is used in messages
    /// (`name:line:col: error: ...`).
    pub fn parse(text: &str, name: &str) -> Result<Program, Error> {
        let module = orion_dialects::parse_module(text, name).map_err(Error::Program)?;
        orion_dialects::verify::verify_module(&module).map_err(Error::Program)?;
        Program::from_module(module, name)
    }

    /// A verified module as a program: it must be at the `ckks` level and
    /// take one tensor.
    pub fn from_module(module: Module, name: &str) -> Result<Program, Error> {
        let unsupported = |message: &str| Error::Unsupported {
            name: name.to_string(),
            message: message.to_string(),
        };
        let func = module
            .main()
            .ok_or_else(|| unsupported("module has no func.func @main"))?;
        if !func.body.iter().any(|op| op.dialect() == "ckks") {
            return Err(unsupported(
                "not a ckks program (compile it with orion-opt --lower-to-ckks)",
            ));
        }
        let args = func.arg_types();
        if args.len() != 1 {
            return Err(unsupported(&format!(
                "@main takes {} inputs; a program here takes exactly one",
                args.len()
            )));
        }
        let input_shape = args[0]
            .shape()
            .ok_or_else(|| unsupported("@main's argument is not a tensor"))?
            .to_vec();
        let (ctx, _) = module_context(&module)?;
        Ok(Program {
            name: name.to_string(),
            module,
            ctx,
            input_shape,
        })
    }

    /// The name given at load (the file's path).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The program's IR.
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// The CKKS context of its parameters.
    pub fn context(&self) -> &Arc<Context> {
        &self.ctx
    }

    /// The shape of the one input tensor.
    pub fn input_shape(&self) -> &[usize] {
        &self.input_shape
    }

    /// The fingerprint of its parameters, as key and ciphertext files
    /// carry it.
    pub fn params_fingerprint(&self) -> u64 {
        params_fingerprint(&self.ctx)
    }

    /// An estimate of the memory one evaluation takes beyond the keys and
    /// cached plaintexts, in bytes (see `interp::evaluation_bytes`). For
    /// admission control (refuse before allocating), not a bound.
    pub fn evaluation_bytes(&self) -> usize {
        self.module
            .main()
            .map_or(0, |f| evaluation_bytes(f, &self.ctx, self.bootstraps() > 0))
    }

    /// What a session of this program holds with `opts`: keys,
    /// bootstrapping matrices, one evaluation, cached plaintexts.
    pub fn memory_estimate(&self, opts: &RunOptions) -> Result<MemoryEstimate, Error> {
        Ok(estimate_memory(&self.module, &self.ctx, opts)?)
    }

    /// `opts` adapted to their memory budget, and the estimate with them:
    /// over the budget, the bootstrapping matrices are encoded on use, then
    /// the keys are held seeded, then the plaintext cache shrinks to what
    /// is left; what still exceeds the
    /// budget or the machine's available memory is refused, before any
    /// allocation. `parts` picks what counts (a client holds only keys).
    pub fn fit_memory(
        &self,
        opts: &RunOptions,
        what: &str,
        parts: impl Fn(&MemoryEstimate) -> MemoryEstimate,
    ) -> Result<(RunOptions, MemoryEstimate), Error> {
        let mut opts = opts.clone();
        let mut estimate = parts(&self.memory_estimate(&opts)?);
        if let Some(budget) = opts.memory_budget {
            if estimate.total() > budget && estimate.bootstrap_matrices > 0 {
                opts.lazy_bootstrap_matrices = true;
                estimate = parts(&self.memory_estimate(&opts)?);
            }
            if estimate.total() > budget && !opts.seeded_keys {
                opts.seeded_keys = true;
                estimate = parts(&self.memory_estimate(&opts)?);
            }
            let rest = estimate.total() - estimate.plaintext_cache;
            if estimate.total() > budget && rest < budget {
                opts.plaintext_cache_bytes = Some(budget - rest);
                estimate = parts(&self.memory_estimate(&opts)?);
            }
        }
        estimate
            .check(what, opts.memory_budget)
            .map_err(Error::Resources)?;
        Ok((opts, estimate))
    }

    /// How many `ckks.bootstrap` ops one run executes.
    pub fn bootstraps(&self) -> usize {
        self.module.main().map_or(0, |f| {
            f.body.iter().filter(|o| o.name == "ckks.bootstrap").count()
        })
    }

    /// Checks that `x` is an input of this program: its shape, and finite
    /// values (a NaN or an infinity cannot be encoded).
    pub fn check_input(&self, x: &Tensor) -> Result<(), Error> {
        if x.shape != self.input_shape {
            return Err(Error::Input(format!(
                "shape {:?}, the program takes {:?}",
                x.shape, self.input_shape
            )));
        }
        if let Some(i) = x.data.iter().position(|v| !v.is_finite()) {
            return Err(Error::Input(format!(
                "element {i} is {}, not a finite number",
                x.data[i]
            )));
        }
        Ok(())
    }

    /// Runs the program on `x` in the clear, through the reference
    /// interpreter of the `ckks` dialect (what an encrypted run
    /// approximates).
    pub fn run_clear(&self, x: &Tensor) -> Result<Vec<Tensor>, Error> {
        self.check_input(x)?;
        orion_dialects::ckks::interp::interpret(&self.module, std::slice::from_ref(x))
            .map_err(Error::Program)
    }
}
