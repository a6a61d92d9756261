//! `Program`: a compiled network (its IR at each level, its statistics) and
//! the cleartext and one-call encrypted runs.

use std::path::PathBuf;
use std::sync::Arc;

use orion_compiler::compile::{compile_module, CompileOptions, Preset};
use orion_compiler::import_onnx_bytes;
use orion_compiler::passes::pack::Embedding;
use orion_dialects::tensor::Tensor;
use orion_dialects::{print_module, Module, PrintOptions};
use orion_runtime::{LocalRun, RunOptions};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::arrays::{input_tensor, to_numpy, values};
use crate::errors::orion_err;

/// A compiled CKKS program; the IR of each level it went through when it
/// was compiled here.
#[pyclass(module = "orion_rs._native", name = "Program", frozen)]
pub struct Program {
    pub(crate) inner: Arc<orion_runtime::Program>,
    nn: Option<Module>,
    pack: Option<Module>,
}

/// The names of the CKKS parameter presets.
#[pyfunction]
pub fn presets() -> Vec<&'static str> {
    Preset::ALL.iter().map(|(n, _)| *n).collect()
}

fn preset(params: &str) -> PyResult<Preset> {
    if params == "auto" {
        return Err(orion_err(format!(
            "error: params=\"auto\": automatic parameters are not implemented yet; give a preset ({})",
            presets().join(", ")
        )));
    }
    Preset::by_name(params).map_err(|e| orion_err(format!("error: {e}")))
}

/// Compiles ONNX bytes; see `orion_rs.compile` for the arguments.
#[pyfunction]
#[pyo3(signature = (onnx, *, params = "mnist-mlp", calibration = None, calibration_margin = None,
                    output_bound = None, embedding = "hybrid", name = "model.onnx", model_dir = None))]
#[allow(clippy::too_many_arguments)]
pub fn compile_onnx(
    py: Python<'_>,
    onnx: Vec<u8>,
    params: &str,
    calibration: Option<Bound<'_, PyAny>>,
    calibration_margin: Option<f64>,
    output_bound: Option<f64>,
    embedding: &str,
    name: &str,
    model_dir: Option<String>,
) -> PyResult<Program> {
    let preset = preset(params)?;
    let mut opts = CompileOptions::for_preset(preset);
    opts.passes.embedding = match embedding {
        "hybrid" => Embedding::Hybrid,
        "square" => Embedding::Square,
        e => {
            return Err(orion_err(format!(
                "error: embedding '{e}': \"hybrid\" or \"square\""
            )))
        }
    };
    if let Some(b) = output_bound {
        if !(b.is_finite() && b > 0.0) {
            return Err(orion_err(format!(
                "error: output_bound must be a positive number, got {b}"
            )));
        }
        opts.passes.output_bound = b;
    }
    if let Some(m) = calibration_margin {
        opts.passes.calibration_margin = m;
    }
    let calibration = calibration.map(|c| values(&c)).transpose()?;
    let name = name.to_string();
    let compiled = py.detach(move || {
        let nn =
            import_onnx_bytes(&onnx, model_dir.as_deref()).map_err(|d| format!("{name}: {d}"))?;
        if let Some((shape, data)) = calibration {
            opts.passes.calibration = calibration_samples(&nn, &shape, data)?;
        }
        let compiled = compile_module(nn, &opts).map_err(|d| d.to_string())?;
        let program =
            orion_runtime::Program::from_module(compiled.ckks, &name).map_err(|e| e.to_string())?;
        Ok::<_, String>((compiled.nn, compiled.pack, program))
    });
    let (nn, pack, program) = compiled.map_err(orion_err)?;
    Ok(Program {
        inner: Arc::new(program),
        nn: Some(nn),
        pack,
    })
}

/// Calibration samples from an array of one input (its shape) or of
/// several stacked along a first axis.
fn calibration_samples(
    nn: &Module,
    shape: &[usize],
    data: Vec<f64>,
) -> Result<Vec<Tensor>, String> {
    let input: Vec<usize> = nn
        .main()
        .and_then(|f| {
            f.arg_types()
                .first()
                .and_then(|t| t.shape().map(<[usize]>::to_vec))
        })
        .ok_or("error: the network's @main takes no tensor")?;
    let per: usize = input.iter().product();
    if per == 0 || data.is_empty() || !data.len().is_multiple_of(per) {
        return Err(format!(
            "error: calibration: an array of shape {shape:?} is not a stack of inputs of shape {input:?}"
        ));
    }
    if let Some(i) = data.iter().position(|v| !v.is_finite()) {
        return Err(format!(
            "error: calibration: element {i} is {}, not a finite number",
            data[i]
        ));
    }
    Ok(data
        .chunks(per)
        .map(|c| Tensor::new(input.clone(), c.to_vec()))
        .collect())
}

#[pymethods]
impl Program {
    /// Reads a compiled `ckks` program (`.ckks.mlir`).
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Program> {
        let program = py
            .detach(|| orion_runtime::Program::load(&path))
            .map_err(orion_err)?;
        Ok(Program {
            inner: Arc::new(program),
            nn: None,
            pack: None,
        })
    }

    /// Parses a compiled `ckks` program's text (`name` is used in messages).
    #[staticmethod]
    #[pyo3(signature = (text, name = "<string>"))]
    fn parse(text: &str, name: &str) -> PyResult<Program> {
        let program = orion_runtime::Program::parse(text, name).map_err(orion_err)?;
        Ok(Program {
            inner: Arc::new(program),
            nn: None,
            pack: None,
        })
    }

    /// The shape of the network's input.
    #[getter]
    fn input_shape(&self) -> Vec<usize> {
        self.inner.input_shape().to_vec()
    }

    /// The program's name (the model's file name).
    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }

    /// Bootstraps one inference runs.
    #[getter]
    fn bootstraps(&self) -> usize {
        self.inner.bootstraps()
    }

    /// The network's final op left to the client ("softmax" or
    /// "log_softmax"), or None: the program returns logits either way.
    #[getter]
    fn client_output(&self) -> PyResult<Option<&'static str>> {
        use orion_dialects::nn::client_output::ClientOutput;
        let op = ClientOutput::of(self.inner.module()).map_err(orion_err)?;
        Ok(op.map(ClientOutput::name))
    }

    /// `client_output` applied to decrypted logits (over the last axis);
    /// the logits themselves when there is none.
    fn apply_client_output<'py>(
        &self,
        py: Python<'py>,
        logits: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        use orion_dialects::nn::client_output::ClientOutput;
        let (shape, data) = values(logits)?;
        let t = Tensor::new(shape, data);
        let out = match ClientOutput::of(self.inner.module()).map_err(orion_err)? {
            Some(op) => op.apply(&t),
            None => t,
        };
        Ok(to_numpy(py, out)?.into_any())
    }

    /// Per-layer packing statistics (layouts, diagonals, rotations,
    /// levels), as `orion-opt --stats` prints them.
    fn stats(&self) -> PyResult<String> {
        let pack = self.pack.as_ref().ok_or_else(|| {
            orion_err("error: stats: this program was loaded at the ckks level; compile it to see its pack-level statistics")
        })?;
        let (rows, depth) = orion_compiler::pack_stats::collect(pack).map_err(orion_err)?;
        Ok(orion_compiler::pack_stats::render(&rows, depth))
    }

    /// The IR at `level` ("nn", "pack" or "ckks") as MLIR text; `generic`
    /// prints MLIR's generic form (readable by upstream `mlir-opt`).
    #[pyo3(signature = (level = "ckks", generic = false))]
    fn ir(&self, level: &str, generic: bool) -> PyResult<String> {
        let module = match level {
            "ckks" => Some(self.inner.module()),
            "pack" => self.pack.as_ref(),
            "nn" => self.nn.as_ref(),
            other => {
                return Err(orion_err(format!(
                    "error: ir: unknown level '{other}' (nn, pack or ckks)"
                )))
            }
        };
        let module = module.ok_or_else(|| {
            orion_err(format!(
                "error: ir: the {level} level is not kept for a program loaded at the ckks level"
            ))
        })?;
        Ok(print_module(module, &PrintOptions { generic }))
    }

    /// Writes the `ckks` program (what `orion-run` and `Program.load` read).
    fn save(&self, path: PathBuf) -> PyResult<()> {
        let text = print_module(self.inner.module(), &PrintOptions::default());
        std::fs::write(&path, text)
            .map_err(|e| orion_err(format!("error: {}: {e}", path.display())))
    }

    /// The program's output on `x` in the clear, by the reference
    /// interpreter of the ckks dialect (what an encrypted run approximates).
    fn run_clear<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let x = input_tensor(x, self.inner.input_shape())?;
        let program = self.inner.clone();
        let y = py
            .detach(move || program.run_clear(&x))
            .map_err(orion_err)?;
        first_output(py, y)
    }

    /// Keygen, encryption, evaluation and decryption in one call, and a
    /// report against the cleartext run: `(output, report)` with report keys
    /// `max_abs_error`, `bits` (-log2 of the mean |error|, Orion's measure),
    /// `bits_per_output`, `class`, `clear_class`, `seconds`.
    #[pyo3(signature = (x, *, seed = None, quiet = true))]
    fn run_encrypted<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        seed: Option<u64>,
        quiet: bool,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyDict>)> {
        let x = input_tensor(x, self.inner.input_shape())?;
        let program = self.inner.clone();
        let opts = RunOptions {
            seed,
            progress: !quiet,
            ..RunOptions::default()
        };
        let (y, clear, timings) = py
            .detach(move || {
                let clear = program.run_clear(&x)?;
                let mut local = LocalRun::new(program, &opts)?;
                let (y, t) = local.run(&x)?;
                Ok::<_, orion_runtime::Error>((y, clear, t))
            })
            .map_err(orion_err)?;
        let (y, c) = match (y.into_iter().next(), clear.into_iter().next()) {
            (Some(y), Some(c)) => (y, c),
            _ => return Err(orion_err("error: the program returns nothing")),
        };
        if let Some(i) = y.data.iter().position(|v| !v.is_finite()) {
            return Err(orion_err(format!(
                "error: the decrypted output {i} is {}: the encrypted run failed numerically",
                y.data[i]
            )));
        }
        let errs: Vec<f64> = y
            .data
            .iter()
            .zip(&c.data)
            .map(|(a, b)| (a - b).abs())
            .collect();
        let report = PyDict::new(py);
        report.set_item("max_abs_error", errs.iter().fold(0.0f64, |m, &e| m.max(e)))?;
        report.set_item(
            "bits",
            -(errs.iter().sum::<f64>() / errs.len().max(1) as f64).log2(),
        )?;
        report.set_item(
            "bits_per_output",
            errs.iter().map(|e| -e.log2()).collect::<Vec<f64>>(),
        )?;
        report.set_item("class", y.argmax())?;
        report.set_item("clear_class", c.argmax())?;
        report.set_item(
            "seconds",
            (timings.keygen + timings.encrypt + timings.evaluate + timings.decrypt).as_secs_f64(),
        )?;
        Ok((to_numpy(py, y)?.into_any(), report))
    }

    fn __repr__(&self) -> String {
        format!(
            "Program({:?}, input_shape={:?}, bootstraps={})",
            self.inner.name(),
            self.inner.input_shape(),
            self.inner.bootstraps()
        )
    }
}

/// The first output of a run, as an array.
pub fn first_output(py: Python<'_>, outs: Vec<Tensor>) -> PyResult<Bound<'_, PyAny>> {
    let y = outs
        .into_iter()
        .next()
        .ok_or_else(|| orion_err("error: the program returns nothing"))?;
    Ok(to_numpy(py, y)?.into_any())
}
