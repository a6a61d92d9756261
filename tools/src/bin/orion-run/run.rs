//! `orion-run FILE`: runs a program of any level on one or more input
//! images. A `ckks` program runs encrypted (keygen, encrypt, evaluate,
//! decrypt in one process; `--clear` uses the ckks cleartext reference
//! interpreter instead), a `pack` module runs on the pack interpreter, an
//! `nn` module on the nn interpreter.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use orion_dialects::tensor::Tensor;
use orion_dialects::Module;
use orion_runtime::{LocalRun, Program, RunOptions, Timings};
use orion_tools::input_files::read_labels;

use crate::io::{load_module, read_input, write_npy, IdxArgs};
use crate::report::{fmt_output, fmt_secs, median, ms, peak_rss, Comparison, Headroom};

#[derive(Parser, Debug)]
#[command(
    name = "orion-run",
    version,
    about = "Run an Orion program (nn, pack or ckks level) on an input; ckks programs run encrypted",
    after_help = "Client and server apart: `orion-run keygen|encrypt|eval|decrypt --help`."
)]
pub struct RunArgs {
    /// The program (.mlir), at the nn, pack or ckks level.
    file: PathBuf,
    /// Input: a .npy array (float32/float64; the input's element count, or a
    /// multiple of it for several stacked images), or an MNIST IDX3 image file
    /// (u8 pixels, normalised as (pixel/255 - 0.1307)/0.3081 as in
    /// torchvision/Orion). Default: zeros.
    #[arg(long)]
    input: Option<PathBuf>,
    /// Write the output tensor here as .npy (float32); for a range, stacked
    /// as [count, ...].
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Which image of the input to run (default 0).
    #[arg(long, conflicts_with = "range")]
    index: Option<usize>,
    /// Run images A..B (end exclusive).
    #[arg(long)]
    range: Option<String>,
    /// MNIST IDX1 label file: print the accuracy over the images run.
    #[arg(long)]
    labels: Option<PathBuf>,
    /// Seed of key generation and encryption (reproducible runs).
    #[arg(long)]
    seed: Option<u64>,
    /// Run a ckks program through the cleartext ckks interpreter instead.
    #[arg(long)]
    clear: bool,
    /// On an encrypted run, also run the cleartext ckks interpreter and
    /// report the maximal logit error relative to the largest logit.
    #[arg(long)]
    compare: bool,
    /// Bound on the relative logit error checked by --compare (exit 1 above it).
    #[arg(long, default_value_t = 1e-2)]
    bound: f64,
    /// Print the time spent per ckks op kind (encrypted runs).
    #[arg(long)]
    profile: bool,
    /// No progress output on stderr.
    #[arg(long, short)]
    quiet: bool,
    /// Worker threads of the CKKS library (rayon pool; default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Memory for cached encoded plaintexts, in MiB; past it they are
    /// encoded at each use (default 2048).
    #[arg(long, value_name = "MIB")]
    plaintext_cache_mib: Option<usize>,
    /// Encode the bootstrapping DFT matrices level by level when a
    /// bootstrap runs instead of keeping them (less memory, slower).
    #[arg(long)]
    lazy_bootstrap_matrices: bool,
    /// Hold each evaluation key's uniform half as a 32-byte seed expanded
    /// at every key switch: half the key memory, slower key switches.
    #[arg(long)]
    seeded_keys: bool,
    /// Memory the encrypted run may take, in MiB: over it, bootstrapping
    /// matrices are encoded on use, keys are held seeded and the plaintext
    /// cache shrinks; what
    /// still does not fit is refused before keygen (the machine's
    /// available memory is a bound in any case).
    #[arg(long, value_name = "MIB")]
    memory_budget: Option<usize>,
    #[command(flatten)]
    idx: IdxArgs,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Level {
    Nn,
    Pack,
    Ckks,
}

fn level_of(module: &Module) -> Level {
    let ops = || module.funcs.iter().flat_map(|f| f.body.iter());
    if ops().any(|op| op.dialect() == "ckks") {
        Level::Ckks
    } else if ops().any(|op| op.dialect() == "pack") {
        Level::Pack
    } else {
        Level::Nn
    }
}

pub fn parse_range(s: &str) -> Result<(usize, usize), String> {
    let (a, b) = s.split_once("..").ok_or("--range takes A..B")?;
    let a: usize = a
        .trim()
        .parse()
        .map_err(|_| format!("bad range start '{a}'"))?;
    let b: usize = b
        .trim()
        .parse()
        .map_err(|_| format!("bad range end '{b}'"))?;
    if b <= a {
        return Err(format!("empty range {a}..{b}"));
    }
    Ok((a, b))
}

/// How the images run: encrypted, or through a cleartext interpreter.
enum Runner {
    Encrypted {
        program: Arc<Program>,
        local: Box<LocalRun>,
        /// Time spent encoding the plaintexts before the first image.
        prepare: Duration,
    },
    Clear {
        module: Module,
        level: Level,
    },
}

impl Runner {
    fn new(args: &RunArgs, module: Module, count: usize) -> Result<Runner, String> {
        let level = level_of(&module);
        if args.clear && level != Level::Ckks {
            return Err("error: --clear applies to ckks programs".into());
        }
        if level != Level::Ckks || args.clear {
            return Ok(Runner::Clear { module, level });
        }
        let name = args.file.display().to_string();
        let program = Arc::new(Program::from_module(module, &name).map_err(|e| e.to_string())?);
        let opts = RunOptions {
            seed: args.seed,
            progress: !args.quiet,
            lazy_bootstrap_matrices: args.lazy_bootstrap_matrices,
            seeded_keys: args.seeded_keys,
            plaintext_cache_bytes: args.plaintext_cache_mib.map(|mib| mib << 20),
            memory_budget: args.memory_budget.map(|mib| mib << 20),
        };
        let mut local = LocalRun::new(program.clone(), &opts).map_err(|e| e.to_string())?;
        if !args.quiet {
            eprintln!("memory estimate: {}", local.memory_estimate());
        }
        let prepare = local.prepare().map_err(|e| e.to_string())?;
        // With several images, one bar over images instead of one per op.
        local.session_mut().set_progress(!args.quiet && count == 1);
        Ok(Runner::Encrypted {
            program,
            local: Box::new(local),
            prepare,
        })
    }

    fn module(&self) -> &Module {
        match self {
            Runner::Encrypted { program, .. } => program.module(),
            Runner::Clear { module, .. } => module,
        }
    }

    /// The first output of `@main` on `x`, and the phases' times if it ran
    /// encrypted.
    fn run(&mut self, x: &Tensor) -> Result<(Tensor, Option<Timings>), String> {
        let xs = std::slice::from_ref(x);
        let (outs, timings) = match self {
            Runner::Encrypted { local, .. } => {
                let (o, t) = local.run(x).map_err(|e| e.to_string())?;
                (o, Some(t))
            }
            Runner::Clear { module, level } => {
                let outs = match level {
                    Level::Ckks => orion_dialects::ckks::interp::interpret(module, xs),
                    Level::Pack => orion_dialects::pack::interpret(module, xs),
                    Level::Nn => orion_dialects::nn::interpret(module, xs),
                }
                .map_err(|d| d.to_string())?;
                (outs, None)
            }
        };
        let y = outs
            .into_iter()
            .next()
            .ok_or("error: @main returns nothing")?;
        if let Some(j) = y.data.iter().position(|v| !v.is_finite()) {
            return Err(format!(
                "error: output element {j} is {}: the run failed numerically (no class is printed)",
                y.data[j]
            ));
        }
        Ok((y, timings))
    }
}

/// The images `start..end` of the input (zeros without `--input`).
fn select_images(args: &RunArgs, shape: &[usize]) -> Result<(usize, Vec<Vec<f64>>), String> {
    let per: usize = shape.iter().product();
    if args.input.is_none() {
        orion_dialects::ir::limits::check_memory("a zero input", per.saturating_mul(8))
            .map_err(|e| format!("error: {e}"))?;
    }
    let images = match &args.input {
        Some(p) => read_input(p, per, args.idx.shape()).map_err(|e| format!("error: {e}"))?,
        None => vec![vec![0.0; per]],
    };
    let (start, end) = match (&args.range, args.index) {
        (Some(r), _) => parse_range(r).map_err(|e| format!("error: {e}"))?,
        (None, i) => {
            let i = i.unwrap_or(0);
            (i, i + 1)
        }
    };
    if end > images.len() {
        return Err(format!(
            "error: images {start}..{end} requested, the input holds {}",
            images.len()
        ));
    }
    let images: Vec<Vec<f64>> = images.into_iter().take(end).skip(start).collect();
    for (k, image) in images.iter().enumerate() {
        if let Some(j) = image.iter().position(|v| !v.is_finite()) {
            return Err(format!(
                "error: input: image {} element {j} is {}, not a finite number",
                start + k,
                image[j]
            ));
        }
    }
    Ok((start, images))
}

fn labels(args: &RunArgs, end: usize) -> Result<Option<Vec<u8>>, String> {
    let Some(p) = &args.labels else {
        return Ok(None);
    };
    let l = read_labels(p).map_err(|e| format!("error: {e}"))?;
    if l.len() < end {
        return Err(format!(
            "error: the label file holds {} labels, {end} needed",
            l.len()
        ));
    }
    Ok(Some(l))
}

fn input_shape(module: &Module) -> Result<Vec<usize>, String> {
    let func = module
        .main()
        .ok_or("error: module has no func.func @main")?;
    let arg_types = func.arg_types();
    if arg_types.len() != 1 {
        return Err(format!(
            "error: @main takes {} inputs; orion-run feeds exactly one",
            arg_types.len()
        ));
    }
    Ok(arg_types[0]
        .shape()
        .ok_or("error: @main's argument is not a tensor")?
        .to_vec())
}

pub fn run(args: &RunArgs) -> Result<ExitCode, String> {
    let module = load_module(&args.file)?;
    let in_shape = input_shape(&module)?;
    let (start, images) = select_images(args, &in_shape)?;
    let count = images.len();
    let labels = labels(args, start + count)?;
    let mut runner = Runner::new(args, module, count)?;
    let encrypted = matches!(runner, Runner::Encrypted { .. });
    let bar = orion_runtime::progress::bar(
        !args.quiet && count > 1,
        Some(count as u64),
        // No {eta}: indicatif estimates it from ticks, and with one tick per
        // multi-minute image the estimate is noise until several are done.
        "{bar:30} {pos}/{len} images, {elapsed} elapsed",
    );
    let mut outputs: Vec<Tensor> = Vec::new();
    let mut timings: Vec<Timings> = Vec::new();
    let mut correct = 0usize;
    let mut comparison = Comparison::default();
    let mut headroom = Headroom::new(runner.module());
    for (k, image) in images.into_iter().enumerate() {
        let i = start + k;
        let x = Tensor::new(in_shape.clone(), image);
        let (y, t) = runner.run(&x)?;
        let class = y.argmax();
        let mut line = format!(
            "image {i}: {} class {class}",
            fmt_output(runner.module(), &y)?
        );
        if let Some(l) = &labels {
            let want = l[i] as usize;
            line += &format!(" label {want}");
            correct += usize::from(want == class);
        }
        if let Some(t) = t {
            line += &format!(" ({} s)", fmt_secs(t.encrypt + t.evaluate + t.decrypt));
            timings.push(t);
        }
        if args.compare && encrypted {
            let module = runner.module();
            let clear = orion_dialects::ckks::interp::interpret_observed(
                module,
                std::slice::from_ref(&x),
                &mut |op, v| headroom.observe(module, op, v),
            )
            .map_err(|d| d.to_string())?;
            let c = clear.first().ok_or("error: @main returns nothing")?;
            line += &comparison.add(&y, c);
        }
        bar.suspend(|| println!("{line}"));
        bar.set_position(k as u64 + 1);
        outputs.push(y);
    }
    bar.finish_and_clear();
    if labels.is_some() {
        println!(
            "accuracy: {correct}/{count} = {:.2}%",
            100.0 * correct as f64 / count as f64
        );
    }
    if let Runner::Encrypted {
        program,
        local,
        prepare,
    } = &runner
    {
        print_encrypted_summary(args, program, local, *prepare, &timings, count);
    }
    let mut exit = ExitCode::SUCCESS;
    if args.compare && encrypted {
        println!("{}", comparison.summary(args.bound));
        println!(
            "classes agree with the cleartext ckks interpreter: {}/{count}",
            count - comparison.disagreements
        );
        if let Some(line) = headroom.summary() {
            println!("{line}");
        }
        let max_rel = comparison.max_rel;
        if max_rel.is_nan() || max_rel > args.bound {
            eprintln!(
                "error: relative logit error {max_rel:.2e} exceeds the bound {:.0e}",
                args.bound
            );
            exit = ExitCode::FAILURE;
        }
    }
    if let Some(out) = &args.output {
        write_outputs(out, &outputs).map_err(|e| format!("error: {e}"))?;
    }
    Ok(exit)
}

/// Bootstraps, timings per phase, memory and the op profile of an
/// encrypted run.
fn print_encrypted_summary(
    args: &RunArgs,
    program: &Program,
    local: &LocalRun,
    prepare: Duration,
    timings: &[Timings],
    count: usize,
) {
    let s = local.session();
    let med = |f: fn(&Timings) -> Duration| median(timings.iter().map(f).collect());
    let bootstraps = program.bootstraps();
    if bootstraps > 0 {
        println!("bootstraps: {bootstraps} per image");
    }
    println!(
        "timings: keygen {} (once); plaintext encoding {} (once); per image (median of {}): encrypt {}, evaluate {}, decrypt {}",
        ms(s.keygen_time()),
        ms(prepare),
        timings.len(),
        ms(med(|t| t.encrypt)),
        ms(med(|t| t.evaluate)),
        ms(med(|t| t.decrypt)),
    );
    let m = s.memory_use();
    let mb = |b: usize| format!("{:.0} MB", b as f64 / 1e6);
    println!(
        "memory: peak RSS {} (keys {}, bootstrapping matrices {}, plaintext cache {}); estimated before keygen {}",
        peak_rss().map_or_else(|| "n/a".to_string(), mb),
        mb(m.keys),
        mb(m.bootstrap_matrices),
        mb(m.plaintext_cache),
        mb(local.memory_estimate().total()),
    );
    if args.profile {
        println!("op profile over {count} image(s):");
        for (name, d, n) in s.op_profile() {
            println!("  {name:<18} {n:>7} ops {:>10}", ms(d));
        }
    }
}

/// One output tensor as is, several stacked as [count, ...].
fn write_outputs(out: &std::path::Path, outputs: &[Tensor]) -> Result<(), String> {
    let first = &outputs[0];
    if outputs.len() == 1 {
        return write_npy(out, &first.shape, &first.data);
    }
    let mut shape = vec![outputs.len()];
    shape.extend(&first.shape);
    let data: Vec<f64> = outputs
        .iter()
        .flat_map(|t| t.data.iter().copied())
        .collect();
    write_npy(out, &shape, &data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("3..7"), Ok((3, 7)));
        assert!(parse_range("7..3").is_err());
        assert!(parse_range("7").is_err());
        assert!(parse_range("a..3").is_err());
    }
}
