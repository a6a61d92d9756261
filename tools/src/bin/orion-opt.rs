//! `orion-opt`: the Orion-RS driver, in the manner of `mlir-opt`.
//!
//! ```text
//! orion-opt net.onnx --lower-to-ckks -o net.ckks.mlir     # compile
//! orion-opt in.mlir                                       # parse, verify, print
//! orion-opt in.mlir --pass pack --print-ir-after-all      # one pass, with dumps
//! orion-opt net.onnx --emit-generic | mlir-opt-19 --allow-unregistered-dialect
//! ```
//!
//! An `.onnx` input is imported (the `import-onnx` stage, printable with
//! `--print-ir-after=import-onnx`); anything else is read as MLIR text in the
//! custom or generic form (`-` reads stdin). Errors are one line on stderr,
//! `file:line:col: error: message` (or `error: message`), and exit code 1.

use clap::{Parser, ValueEnum};
use orion_compiler::compile::{is_pack_level, Preset};
use orion_compiler::passes::pack::Embedding;
use orion_compiler::passes::{self, PassOptions, Statistics};
use orion_compiler::{import_onnx_file, pack_stats, PassManager, PrintIr};
use orion_dialects::tensor::Tensor;
use orion_dialects::verify::verify_module;
use orion_dialects::{parse_module, print_module, Diagnostic, Module, PrintOptions};
use orion_tools::input_files::{check_sample_shape, npy_shape, read_values, IdxShape};
use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The name of the import stage in `--print-ir-after` and `--timing`.
const IMPORT_ONNX: &str = "import-onnx";

#[derive(Clone, Copy, Debug, ValueEnum)]
enum EmbeddingArg {
    Hybrid,
    Square,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ParamsPreset {
    /// log N = 13, the parameters the MNIST MLP example is compiled for.
    MnistMlp,
    /// log N = 14, 11 levels: LeNet-5 with x^2 activations (lenet5-square.onnx).
    Lenet5,
    /// log N = 16, 10 levels between bootstraps of 2^15 slots: Orion's ResNet set.
    ResnetBootstrapped,
    /// log N = 12, 16 levels between bootstraps, INSECURE: tests of bootstrapping.
    BootstrapTest,
}

impl ParamsPreset {
    fn preset(self) -> Preset {
        match self {
            ParamsPreset::MnistMlp => Preset::MnistMlp,
            ParamsPreset::Lenet5 => Preset::Lenet5,
            ParamsPreset::ResnetBootstrapped => Preset::ResnetBootstrapped,
            ParamsPreset::BootstrapTest => Preset::BootstrapTest,
        }
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "orion-opt",
    version,
    about = "Orion-RS optimizer driver: imports ONNX, runs passes, prints MLIR",
    after_help = "Passes run in this order: the --lower-to-ckks pipeline (if given), \
                  then every --pass/--passes in command-line order."
)]
struct Cli {
    /// Input: an .onnx model, or an .mlir file (`-` for stdin).
    #[arg(value_name = "INPUT")]
    input: String,

    /// Output file (`-` for stdout).
    #[arg(short = 'o', long = "output", value_name = "OUT", default_value = "-")]
    output: String,

    /// Run the full lowering pipeline nn -> pack -> ckks.
    #[arg(long)]
    lower_to_ckks: bool,

    /// Run the pass NAME (repeatable; `--passes a,b,c` runs several, in order).
    #[arg(
        long = "pass",
        short = 'p',
        visible_alias = "passes",
        value_name = "NAME",
        value_delimiter = ','
    )]
    passes: Vec<String>,

    /// Print the IR to stderr after every pass (and after import-onnx).
    #[arg(long, visible_alias = "mlir-print-ir-after-all")]
    print_ir_after_all: bool,

    /// Print the IR to stderr after the pass NAME (repeatable; `import-onnx` too).
    #[arg(
        long = "print-ir-after",
        visible_alias = "mlir-print-ir-after",
        value_name = "NAME",
        value_delimiter = ','
    )]
    print_ir_after: Vec<String>,

    /// Print MLIR's generic op form (readable by upstream mlir-opt).
    #[arg(long, visible_alias = "mlir-print-op-generic")]
    emit_generic: bool,

    /// Print a per-pass wall time table to stderr.
    #[arg(long, visible_alias = "mlir-timing")]
    timing: bool,

    /// Print the counters each pass reports to stderr.
    #[arg(long, visible_alias = "mlir-pass-statistics")]
    pass_statistics: bool,

    /// Print per-layer packing statistics of the last pack-level IR (layouts,
    /// diagonals, baby/giant/output rotations, depth, totals) to stderr, or
    /// with --stats=PATH to a file.
    #[arg(
        long,
        value_name = "PATH",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "-"
    )]
    stats: Option<String>,

    /// Calibration inputs for the `calibrate` pass: an MNIST IDX3 image file
    /// (pixels normalised as (p/255 - 0.1307)/0.3081) or a float32/float64
    /// .npy array of one or more stacked inputs of @main.
    #[arg(long, value_name = "FILE")]
    calibration: Option<String>,

    /// How many calibration samples to use (the first N of the file).
    #[arg(long, value_name = "N", default_value_t = 100)]
    calibration_samples: usize,

    /// Skip the first K inputs of the calibration file (e.g. to calibrate
    /// on images that the accuracy is not measured on).
    #[arg(long, value_name = "K", default_value_t = 0)]
    calibration_skip: usize,

    /// Margin `calibrate` widens each observed range by (fraction of its width).
    #[arg(long, value_name = "M")]
    calibration_margin: Option<f64>,

    /// Pad each IDX3 calibration image by this many black pixels on every side.
    #[arg(long, value_name = "PIXELS", default_value_t = 0)]
    pad: usize,

    /// Repeat each IDX3 calibration image into this many channels (`--pad 2
    /// --channels 3`: Fashion-MNIST 28x28 into ResNet-20's 3x32x32).
    #[arg(long, value_name = "C", default_value_t = 1)]
    channels: usize,

    /// CKKS parameter preset the passes compile for.
    #[arg(long, value_enum, value_name = "PRESET", default_value = "mnist-mlp")]
    params: ParamsPreset,

    /// How `pack` embeds a gemm's matrix: "hybrid" (result at its own
    /// period, then rotate-and-sum) or "square" (result at the input's
    /// period, no rotate-and-sum).
    #[arg(long, value_enum, default_value = "hybrid")]
    embedding: EmbeddingArg,

    /// Bound on |output| of the decrypted values, for the last layer's scale
    /// (default: the preset's, 64 for mnist-mlp, 1024 for lenet5).
    #[arg(long, value_name = "B")]
    output_bound: Option<f64>,

    /// Only parse (or import) and verify the input; print nothing.
    #[arg(long, conflicts_with_all = ["no_verify", "lower_to_ckks", "passes"])]
    verify_only: bool,

    /// Skip verification of the input and after each pass.
    #[arg(long)]
    no_verify: bool,
}

fn main() -> ExitCode {
    orion_dialects::install_panic_hook("orion-opt");
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(d) => {
            let _ = writeln!(std::io::stderr(), "{d}");
            ExitCode::FAILURE
        }
    }
}

fn error(msg: impl Into<String>) -> Diagnostic {
    Diagnostic::new(Default::default(), msg)
}

fn dump_ir(name: &str, module: &Module, print: &PrintOptions) {
    let text = print_module(module, print);
    let mut err = std::io::stderr().lock();
    // A closed stderr is no reason to fail the compilation.
    let _ = writeln!(err, "// -----// IR Dump After {name} //----- //");
    let _ = write!(err, "{text}");
    if !text.ends_with('\n') {
        let _ = writeln!(err);
    }
    let _ = writeln!(err);
}

fn is_onnx(input: &str) -> bool {
    Path::new(input)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("onnx"))
}

fn read_mlir(input: &str) -> Result<Module, Diagnostic> {
    let (text, name) = if input == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| error(format!("cannot read stdin: {e}")))?;
        (s, "<stdin>".to_string())
    } else {
        let bytes = orion_dialects::files::read_regular(
            Path::new(input),
            orion_dialects::files::MAX_INPUT_FILE_BYTES,
        )
        .map_err(|e| error(format!("cannot read {e}")))?;
        let s =
            String::from_utf8(bytes).map_err(|e| error(format!("{input}: not UTF-8 text: {e}")))?;
        (s, input.to_string())
    };
    parse_module(&text, &name)
}

fn run(cli: &Cli) -> Result<(), Diagnostic> {
    let print = PrintOptions {
        generic: cli.emit_generic,
    };

    // The passes, in order: the named pipeline, then the single passes.
    let mut names: Vec<&str> = Vec::new();
    if cli.lower_to_ckks {
        names.extend_from_slice(passes::LOWER_TO_CKKS);
    }
    for p in &cli.passes {
        let p = p.trim();
        if p.is_empty() {
            return Err(error("empty pass name in --pass/--passes"));
        }
        names.push(p);
    }
    let known = passes::names();
    for n in &cli.print_ir_after {
        if n != IMPORT_ONNX && !known.contains(&n.as_str()) {
            return Err(error(format!(
                "--print-ir-after: unknown pass '{n}' (known: {IMPORT_ONNX}, {})",
                known.join(", ")
            )));
        }
    }
    let mut pm = PassManager::new();
    pm.verify_each = !cli.no_verify;
    pm.print_ir = if cli.print_ir_after_all {
        PrintIr::AfterAll
    } else if cli.print_ir_after.is_empty() {
        PrintIr::Never
    } else {
        PrintIr::After(cli.print_ir_after.clone())
    };
    for n in &names {
        if !known.contains(n) {
            return Err(error(format!(
                "unknown pass '{n}' (known passes: {})",
                known.join(", ")
            )));
        }
    }

    let mut timings: Vec<(String, Duration)> = Vec::new();
    let total = Instant::now();

    // Read the input.
    let start = Instant::now();
    let mut module = if is_onnx(&cli.input) {
        let m = import_onnx_file(Path::new(&cli.input))?;
        timings.push((IMPORT_ONNX.to_string(), start.elapsed()));
        if pm.should_print(IMPORT_ONNX) {
            dump_ir(IMPORT_ONNX, &m, &print);
        }
        m
    } else {
        let m = read_mlir(&cli.input)?;
        timings.push(("parse".to_string(), start.elapsed()));
        m
    };

    if !cli.no_verify {
        let start = Instant::now();
        verify_module(&module)?;
        timings.push(("verify".to_string(), start.elapsed()));
    }
    if cli.verify_only {
        return Ok(());
    }

    if let Some(b) = cli.output_bound {
        if !(b.is_finite() && b > 0.0) {
            return Err(error(format!(
                "--output-bound must be a positive number, got {b}"
            )));
        }
    }
    let mut opts = PassOptions {
        params: cli.params.preset().params(),
        output_bound: cli
            .output_bound
            .unwrap_or(cli.params.preset().output_bound()),
        embedding: match cli.embedding {
            EmbeddingArg::Hybrid => Embedding::Hybrid,
            EmbeddingArg::Square => Embedding::Square,
        },
        ..PassOptions::default()
    };
    if let Some(m) = cli.calibration_margin {
        opts.calibration_margin = m;
    }
    if let Some(path) = &cli.calibration {
        let idx = IdxShape {
            pad: cli.pad,
            channels: cli.channels.max(1),
        };
        let samples = cli.calibration_skip..cli.calibration_skip + cli.calibration_samples.max(1);
        opts.calibration = read_calibration(path, &module, samples, idx)?;
    }
    for n in &names {
        pm.add_by_name(n, &opts)?;
    }

    // The last pack-level IR, for --stats (the input itself if it is one).
    let mut pack_level = (cli.stats.is_some() && is_pack_level(&module)).then(|| module.clone());
    let result = pm.run_observed(
        &mut module,
        |name, m| dump_ir(name, m, &print),
        |_, m| {
            if cli.stats.is_some() && is_pack_level(m) {
                pack_level = Some(m.clone());
            }
        },
    );
    // Report what ran even when a later pass failed.
    timings.extend(pm.timings.iter().cloned());
    if cli.pass_statistics {
        print_statistics(&pm.statistics);
    }
    // A failure before the pack level is the error to report, not --stats.
    if let (Some(path), Some(packed)) = (&cli.stats, &pack_level) {
        let (rows, depth) = pack_stats::collect(packed)?;
        let mut table = pack_stats::render(&rows, depth);
        if let Some(op) =
            orion_dialects::nn::client_output::ClientOutput::of(packed).map_err(error)?
        {
            table += &format!(
                "// note: the network's final {} is not in the program: the client applies it \
                 to the decrypted logits (orion-run prints both)\n",
                op.name()
            );
        }
        if path == "-" {
            // Reports are best effort: a closed stderr must not abort the run.
            let _ = std::io::stderr().write_all(table.as_bytes());
        } else {
            std::fs::write(path, &table)
                .map_err(|e| error(format!("--stats: cannot write {path}: {e}")))?;
        }
    }
    result?;
    if cli.stats.is_some() && pack_level.is_none() {
        return Err(error(
            "--stats needs the pack level: run a pipeline that reaches it \
             (e.g. --passes canonicalize,pack or --lower-to-ckks) or give a pack-level input",
        ));
    }

    let start = Instant::now();
    let text = print_module(&module, &print);
    write_output(&cli.output, &text)?;
    timings.push(("output".to_string(), start.elapsed()));

    if cli.timing {
        print_timing(&timings, total.elapsed());
    }
    Ok(())
}

fn write_output(path: &str, text: &str) -> Result<(), Diagnostic> {
    if path == "-" {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| error(format!("cannot write to stdout: {e}")))
    } else {
        std::fs::write(path, text).map_err(|e| error(format!("cannot write {path}: {e}")))
    }
}

const RULE: &str =
    "===-------------------------------------------------------------------------===";

fn print_timing(timings: &[(String, Duration)], total: Duration) {
    let total_s = total.as_secs_f64();
    let mut s = String::new();
    s.push_str(RULE);
    s.push_str("\n                         ... Execution time report ...\n");
    s.push_str(RULE);
    s.push('\n');
    s.push_str(&format!("  Total Execution Time: {total_s:.4} seconds\n\n"));
    s.push_str("  ----Wall Time----  ----Name----\n");
    for (name, d) in timings {
        let t = d.as_secs_f64();
        let pct = if total_s > 0.0 {
            100.0 * t / total_s
        } else {
            0.0
        };
        s.push_str(&format!("  {t:8.4} ({pct:5.1}%)  {name}\n"));
    }
    s.push_str(&format!("  {total_s:8.4} (100.0%)  Total\n"));
    // Reports are best effort: a closed stderr must not abort the run.
    let _ = std::io::stderr().write_all(s.as_bytes());
}

fn print_statistics(stats: &[(String, Statistics)]) {
    let mut s = String::new();
    s.push_str(RULE);
    s.push_str("\n                         ... Pass statistics report ...\n");
    s.push_str(RULE);
    s.push('\n');
    for (pass, counters) in stats {
        s.push_str(&format!("{pass}\n"));
        if counters.is_empty() {
            s.push_str("  (no statistics)\n");
        }
        for (name, value) in counters {
            s.push_str(&format!("  ({name}) {value}\n"));
        }
    }
    // Reports are best effort: a closed stderr must not abort the run.
    let _ = std::io::stderr().write_all(s.as_bytes());
}

/// Reads the calibration inputs `samples` (those the file has) shaped like
/// @main's single argument.
fn read_calibration(
    path: &str,
    module: &Module,
    samples: std::ops::Range<usize>,
    idx: IdxShape,
) -> Result<Vec<Tensor>, Diagnostic> {
    let fail = |msg: String| error(format!("--calibration {path}: {msg}"));
    let main = module
        .main()
        .ok_or_else(|| fail("module has no func.func @main".into()))?;
    let arg_types = main.arg_types();
    let shape = match arg_types.as_slice() {
        [t] => t
            .shape()
            .ok_or_else(|| fail(format!("@main's argument is not a tensor: {t}")))?
            .to_vec(),
        _ => {
            return Err(fail(format!(
                "@main takes {} arguments; calibration files feed exactly one",
                arg_types.len()
            )))
        }
    };
    let per: usize = shape.iter().product();
    let bytes = orion_dialects::files::read_regular(
        Path::new(path),
        orion_dialects::files::MAX_INPUT_FILE_BYTES,
    )
    .map_err(fail)?;
    if let Some(file_shape) = npy_shape(&bytes) {
        check_sample_shape(&file_shape, &shape).map_err(fail)?;
    }
    let (image, data) = read_values(&bytes, idx).map_err(fail)?;
    if let Some(image) = image.filter(|&n| n != per) {
        return Err(fail(format!(
            "its images have {image} values, the network's input {shape:?} has {per}"
        )));
    }
    if per == 0 || data.is_empty() || !data.len().is_multiple_of(per) {
        return Err(fail(format!(
            "{} values are not a whole number of inputs of shape {shape:?}",
            data.len()
        )));
    }
    let have = data.len() / per;
    if samples.start >= have {
        return Err(fail(format!(
            "--calibration-skip {} leaves none of its {have} inputs",
            samples.start
        )));
    }
    Ok(data
        .chunks(per)
        .skip(samples.start)
        .take(samples.len())
        .map(|c| Tensor::new(shape.clone(), c.to_vec()))
        .collect())
}
