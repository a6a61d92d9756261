//! `orion-run`: runs a program of any level on an input.
//!
//! ```text
//! orion-run net.ckks.mlir --input examples/data/mnist-test-1000-images-idx3-ubyte \
//!     --labels examples/data/mnist-test-1000-labels-idx1-ubyte --range 0..10 --compare
//! ```
//!
//! Client and server apart (keys and ciphertexts in files, see
//! `orion_ckks::serialize`):
//!
//! ```text
//! orion-run keygen  net.ckks.mlir --out-dir keys/            # secret.key public.key eval.keys
//! orion-run encrypt net.ckks.mlir --keys keys/ --input x.npy -o in.ct   # public.key
//! orion-run eval    net.ckks.mlir --keys keys/ in.ct -o out.ct          # eval.keys only
//! orion-run decrypt net.ckks.mlir --keys keys/ out.ct [-o y.npy]        # secret.key
//! ```
//!
//! The file's level decides what runs: a module with `ckks` ops is run
//! encrypted (keygen, encrypt, evaluate, decrypt; `--clear` uses the ckks
//! cleartext reference interpreter instead), a `pack` module by the pack
//! interpreter, an `nn` module by the nn interpreter.

use std::fs;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use npyz::WriterBuilder;
use orion_ckks::serialize::{self, EvaluationKeys, FileError, KeyId};
use orion_ckks::Context;
use orion_dialects::tensor::Tensor;
use orion_dialects::Module;
use orion_runtime::interp::{module_context, RunOptions, Session, SessionKeys, Timings};
use orion_tools::input_files::{read_labels, read_values, IdxShape};

#[derive(Parser, Debug)]
#[command(
    name = "orion-run",
    version,
    about = "Run an Orion program (nn, pack or ckks level) on an input; ckks programs run encrypted",
    after_help = "Client and server apart: `orion-run keygen|encrypt|eval|decrypt --help`."
)]
struct Args {
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
    threads: Option<usize>,
    /// Memory for cached encoded plaintexts, in MiB; past it they are
    /// encoded at each use (default 2048).
    #[arg(long, value_name = "MIB")]
    plaintext_cache_mib: Option<usize>,
    /// Encode the bootstrapping DFT matrices level by level when a
    /// bootstrap runs instead of keeping them (less memory, slower).
    #[arg(long)]
    lazy_bootstrap_matrices: bool,
    #[command(flatten)]
    idx: IdxArgs,
}

/// How IDX3 images become the network's input (ignored for .npy inputs).
#[derive(clap::Args, Debug, Clone, Copy)]
struct IdxArgs {
    /// Pad each IDX3 image by this many black pixels on every side.
    #[arg(long, default_value_t = 0, value_name = "PIXELS")]
    pad: usize,
    /// Repeat each IDX3 image into this many channels (e.g. `--pad 2
    /// --channels 3`: Fashion-MNIST 28x28 into ResNet-20's 3x32x32).
    #[arg(long, default_value_t = 1, value_name = "C")]
    channels: usize,
}

impl IdxArgs {
    fn shape(self) -> IdxShape {
        IdxShape {
            pad: self.pad,
            channels: self.channels.max(1),
        }
    }
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

/// All images of the input, each with `per` elements.
fn read_input(path: &Path, per: usize, idx: IdxShape) -> Result<Vec<Vec<f64>>, String> {
    let bytes = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (image, data) = read_values(&bytes, idx).map_err(|e| format!("{}: {e}", path.display()))?;
    let n = image.unwrap_or(per);
    if n != per || data.is_empty() || data.len() % per != 0 {
        return Err(format!(
            "{}: the program's input has {per} elements, the file holds {} values{}",
            path.display(),
            data.len(),
            if n != per {
                format!(" in images of {n}")
            } else {
                String::new()
            }
        ));
    }
    Ok(data.chunks(per).map(<[f64]>::to_vec).collect())
}

/// The smallest margin, over all ciphertexts of the cleartext run, between
/// `max |slot| * 2^log_scale` and `Q_l / 2`, in bits. A coefficient of the
/// encoding is at most `scale * max |slot|`, so a non-negative margin
/// guarantees that no ciphertext wraps around its modulus; a negative one
/// means it may (it does when the coefficients are that large).
struct HeadroomMin {
    bits: f64,
    label: String,
    level: usize,
    max_abs: f64,
    log_scale: i64,
    log_q: u32,
}

struct Headroom {
    log_q: Vec<u32>,
    min: Option<HeadroomMin>,
}

impl Headroom {
    fn new(module: &Module) -> Headroom {
        Headroom {
            log_q: orion_dialects::ckks::ParamsAttr::of_module(module)
                .map(|p| p.log_q)
                .unwrap_or_default(),
            min: None,
        }
    }

    fn observe(&mut self, module: &Module, op: &orion_dialects::Op, v: &[f64]) {
        let (Some(func), Some(r)) = (module.main(), op.results.first()) else {
            return;
        };
        let Some(ty) = func.values.get(r.0 as usize).map(|d| &d.ty) else {
            return;
        };
        let Ok(ct) = orion_dialects::ckks::CtType::from_type(ty) else {
            return;
        };
        if ct.level >= self.log_q.len() {
            return;
        }
        let log_q: u32 = self.log_q[..=ct.level].iter().sum();
        let max_abs = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        if max_abs == 0.0 {
            return;
        }
        let bits = (log_q as f64 - 1.0) - ct.log_scale as f64 - max_abs.log2();
        if self.min.as_ref().is_none_or(|m| bits < m.bits) {
            self.min = Some(HeadroomMin {
                bits,
                label: op.label(),
                level: ct.level,
                max_abs,
                log_scale: ct.log_scale,
                log_q,
            });
        }
    }
}

fn parse_range(s: &str) -> Result<(usize, usize), String> {
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

fn write_npy(path: &Path, shape: &[usize], data: &[f64]) -> Result<(), String> {
    let err = |e: std::io::Error| format!("{}: {e}", path.display());
    let file = fs::File::create(path).map_err(err)?;
    let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&shape)
        .writer(BufWriter::new(file))
        .begin_nd()
        .map_err(err)?;
    w.extend(data.iter().map(|&v| v as f32)).map_err(err)?;
    w.finish().map_err(err)
}

fn fmt_logits(t: &Tensor) -> String {
    let v: Vec<String> = t.data.iter().map(|v| format!("{v:.4}")).collect();
    format!("[{}]", v.join(", "))
}

fn median(mut v: Vec<Duration>) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn run(args: &Args) -> Result<ExitCode, String> {
    let path = args.file.display().to_string();
    let src = fs::read_to_string(&args.file).map_err(|e| format!("error: {path}: {e}"))?;
    let module = orion_dialects::parse_module(&src, &path).map_err(|d| d.to_string())?;
    orion_dialects::verify::verify_module(&module).map_err(|d| d.to_string())?;
    let func = module
        .main()
        .ok_or("error: module has no func.func @main")?;
    let level = level_of(&module);
    if args.clear && level != Level::Ckks {
        return Err("error: --clear applies to ckks programs".into());
    }
    let arg_types = func.arg_types();
    if arg_types.len() != 1 {
        return Err(format!(
            "error: @main takes {} inputs; orion-run feeds exactly one",
            arg_types.len()
        ));
    }
    let in_shape = arg_types[0]
        .shape()
        .ok_or("error: @main's argument is not a tensor")?
        .to_vec();
    let per: usize = in_shape.iter().product();
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
    let labels = match &args.labels {
        Some(p) => {
            let l = read_labels(p).map_err(|e| format!("error: {e}"))?;
            if l.len() < end {
                return Err(format!(
                    "error: the label file holds {} labels, {end} needed",
                    l.len()
                ));
            }
            Some(l)
        }
        None => None,
    };
    let encrypted = level == Level::Ckks && !args.clear;
    let progress = !args.quiet;
    let count = end - start;
    let mut prepare_time = Duration::ZERO;
    let mut session = if encrypted {
        let opts = RunOptions {
            seed: args.seed,
            progress,
            lazy_bootstrap_matrices: args.lazy_bootstrap_matrices,
        };
        let mut s = Session::new(&module, &opts).map_err(|e| e.to_string())?;
        if let Some(mib) = args.plaintext_cache_mib {
            s.set_cache_budget(mib << 20);
        }
        let t = s.prepare(&module).map_err(|e| e.to_string())?;
        prepare_time = t;
        Some(s)
    } else {
        None
    };
    if let Some(s) = session.as_mut() {
        // With several images, one bar over images instead of one per op.
        s.set_progress(progress && count == 1);
    }
    let bar = orion_runtime::progress::bar(
        progress && count > 1,
        Some(count as u64),
        // No {eta}: indicatif estimates it from ticks, and with one tick per
        // multi-minute image the estimate is noise until several are done.
        "{bar:30} {pos}/{len} images, {elapsed} elapsed",
    );

    let mut outputs: Vec<Tensor> = Vec::new();
    let mut timings: Vec<Timings> = Vec::new();
    let mut correct = 0usize;
    let mut max_rel = 0.0f64;
    // Sum and count of |encrypted - cleartext| over every logit (Orion's
    // precision measure is -log2 of their mean).
    let (mut abs_err_sum, mut abs_err_n) = (0.0f64, 0usize);
    let mut disagreements = 0usize;
    let mut headroom = Headroom::new(&module);
    for (k, i) in (start..end).enumerate() {
        let x = Tensor::new(in_shape.clone(), images[i].clone());
        let outs = match (level, session.as_mut()) {
            (Level::Ckks, Some(s)) => {
                let (o, t) = s
                    .run(&module, std::slice::from_ref(&x))
                    .map_err(|e| e.to_string())?;
                timings.push(t);
                Ok(o)
            }
            (Level::Ckks, None) => {
                orion_dialects::ckks::interp::interpret(&module, std::slice::from_ref(&x))
            }
            (Level::Pack, _) => orion_dialects::pack::interpret(&module, std::slice::from_ref(&x)),
            (Level::Nn, _) => orion_dialects::nn::interpret(&module, std::slice::from_ref(&x)),
        }
        .map_err(|d| d.to_string())?;
        let y = outs
            .into_iter()
            .next()
            .ok_or("error: @main returns nothing")?;
        let class = y.argmax();
        let mut line = format!("image {i}: logits {} class {class}", fmt_logits(&y));
        if let Some(l) = &labels {
            let want = l[i] as usize;
            line += &format!(" label {want}");
            if want == class {
                correct += 1;
            }
        }
        if let (Level::Ckks, Some(t)) = (level, timings.last().filter(|_| encrypted)) {
            line += &format!(" ({} s)", fmt_secs(t.encrypt + t.evaluate + t.decrypt));
        }
        if args.compare && encrypted {
            let clear = orion_dialects::ckks::interp::interpret_observed(
                &module,
                std::slice::from_ref(&x),
                &mut |op, v| headroom.observe(&module, op, v),
            )
            .map_err(|d| d.to_string())?;
            let c = clear.first().ok_or("error: @main returns nothing")?;
            let rel = y.max_rel_diff(c);
            max_rel = max_rel.max(rel);
            let errs: Vec<f64> = y
                .data
                .iter()
                .zip(&c.data)
                .map(|(a, b)| (a - b).abs())
                .collect();
            abs_err_sum += errs.iter().sum::<f64>();
            abs_err_n += errs.len();
            let bits = -(errs.iter().sum::<f64>() / errs.len().max(1) as f64).log2();
            let agree = c.argmax() == class;
            if !agree {
                disagreements += 1;
            }
            line += &format!(
                " | clear class {} rel err {rel:.2e} precision {bits:.1} bits{}",
                c.argmax(),
                if agree { "" } else { " (classes DISAGREE)" }
            );
        }
        bar.suspend(|| println!("{line}"));
        bar.set_position(k as u64 + 1);
        outputs.push(y);
    }
    bar.finish_and_clear();

    if let Some(l) = &labels {
        println!(
            "accuracy: {correct}/{count} = {:.2}%",
            100.0 * correct as f64 / count as f64
        );
        let _ = l;
    }
    if encrypted {
        let keygen = session
            .as_ref()
            .map(Session::keygen_time)
            .unwrap_or_default();
        let med = |f: fn(&Timings) -> Duration| median(timings.iter().map(f).collect());
        let bootstraps = module.main().map_or(0, |f| {
            f.body.iter().filter(|o| o.name == "ckks.bootstrap").count()
        });
        if bootstraps > 0 {
            println!("bootstraps: {bootstraps} per image");
        }
        println!(
            "timings: keygen {} (once); plaintext encoding {} (once); per image (median of {}): encrypt {}, evaluate {}, decrypt {}",
            ms(keygen),
            ms(prepare_time),
            timings.len(),
            ms(med(|t| t.encrypt)),
            ms(med(|t| t.evaluate)),
            ms(med(|t| t.decrypt)),
        );
    }
    if let Some(s) = session.as_ref() {
        let m = s.memory_use();
        let mb = |b: usize| format!("{:.0} MB", b as f64 / 1e6);
        println!(
            "memory: peak RSS {} (keys {}, bootstrapping matrices {}, plaintext cache {})",
            peak_rss().map_or_else(|| "n/a".to_string(), mb),
            mb(m.keys),
            mb(m.bootstrap_matrices),
            mb(m.plaintext_cache),
        );
    }
    if let (true, Some(s)) = (args.profile, session.as_ref()) {
        println!("op profile over {count} image(s):");
        for (name, d, n) in s.op_profile() {
            println!("  {name:<18} {n:>7} ops {:>10}", ms(d));
        }
    }
    let mut exit = ExitCode::SUCCESS;
    if args.compare && encrypted {
        println!(
            "max relative logit error: {max_rel:.2e} (bound {:.0e}); precision {:.1} bits (-log2 of the mean |logit error| over {abs_err_n} logits)",
            args.bound,
            -(abs_err_sum / abs_err_n.max(1) as f64).log2()
        );
        println!(
            "classes agree with the cleartext ckks interpreter: {}/{count}",
            count - disagreements
        );
        if let Some(h) = &headroom.min {
            println!(
                "modulus headroom: min {:.1} bits at {} (level {}, max |slot| {:.3e}, scale 2^{}, Q_l ~ 2^{}){}",
                h.bits,
                h.label,
                h.level,
                h.max_abs,
                h.log_scale,
                h.log_q,
                if h.bits < 0.0 {
                    "; negative: the ciphertext may wrap around its modulus (raise log_q[0..=level] or lower the scale)"
                } else {
                    ""
                }
            );
        }
        if max_rel.is_nan() || max_rel > args.bound {
            eprintln!(
                "error: relative logit error {max_rel:.2e} exceeds the bound {:.0e}",
                args.bound
            );
            exit = ExitCode::FAILURE;
        }
    }
    if let Some(out) = &args.output {
        let first = &outputs[0];
        let (shape, data): (Vec<usize>, Vec<f64>) = if count == 1 {
            (first.shape.clone(), first.data.clone())
        } else {
            let mut shape = vec![count];
            shape.extend(&first.shape);
            (
                shape,
                outputs
                    .iter()
                    .flat_map(|t| t.data.iter().copied())
                    .collect(),
            )
        };
        write_npy(out, &shape, &data).map_err(|e| format!("error: {e}"))?;
    }
    Ok(exit)
}

/// The subcommands that split a ckks program between client and server.
const SUBCOMMANDS: [&str; 4] = ["keygen", "encrypt", "eval", "decrypt"];

#[derive(Parser, Debug)]
#[command(
    name = "orion-run",
    version,
    about = "Run a ckks program with the client (keygen, encrypt, decrypt) and the server (eval) apart"
)]
struct SplitArgs {
    #[command(subcommand)]
    cmd: Cmd,
    /// Worker threads of the CKKS library (rayon pool; default: one per core).
    #[arg(long, global = true)]
    threads: Option<usize>,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Generate the keys of a ckks program: secret.key, public.key and
    /// eval.keys (relinearization key if needed, Galois keys for exactly the
    /// module's ckks.rotations).
    Keygen {
        /// The program (.ckks.mlir).
        file: PathBuf,
        /// Directory to write the key files to (created if needed).
        #[arg(long)]
        out_dir: PathBuf,
        /// Seed of key generation (reproducible keys; tests only).
        #[arg(long)]
        seed: Option<u64>,
        /// No progress output on stderr.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Encrypt an input with the public key (the program's ckks.encrypt ops).
    Encrypt {
        /// The program (.ckks.mlir).
        file: PathBuf,
        /// Key directory (reads public.key only).
        #[arg(long)]
        keys: PathBuf,
        /// Input: .npy or MNIST IDX3 images (as in the one-shot mode).
        #[arg(long)]
        input: PathBuf,
        /// Which image of the input (default 0).
        #[arg(long)]
        index: Option<usize>,
        /// The ciphertext file to write.
        #[arg(long, short)]
        output: PathBuf,
        /// Seed of the encryption randomness (tests only).
        #[arg(long)]
        seed: Option<u64>,
        /// No progress output on stderr.
        #[arg(long, short)]
        quiet: bool,
        #[command(flatten)]
        idx: IdxArgs,
    },
    /// Evaluate the program on encrypted inputs with the evaluation keys only
    /// (every op between encryption and decryption).
    Eval {
        /// The program (.ckks.mlir).
        file: PathBuf,
        /// Key directory (reads eval.keys only).
        #[arg(long)]
        keys: PathBuf,
        /// The input ciphertext file (from `encrypt`).
        ciphertext: PathBuf,
        /// The output ciphertext file to write.
        #[arg(long, short)]
        output: PathBuf,
        /// No progress output on stderr.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Decrypt the program's results with the secret key; prints the logits
    /// and the class.
    Decrypt {
        /// The program (.ckks.mlir).
        file: PathBuf,
        /// Key directory (reads secret.key only).
        #[arg(long)]
        keys: PathBuf,
        /// The output ciphertext file (from `eval`).
        ciphertext: PathBuf,
        /// Write the output tensor here as .npy (float32).
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// No progress output on stderr.
        #[arg(long, short)]
        quiet: bool,
    },
}

const SECRET_KEY: &str = "secret.key";
const PUBLIC_KEY: &str = "public.key";
const EVAL_KEYS: &str = "eval.keys";

fn load_ckks_module(file: &Path) -> Result<Module, String> {
    let path = file.display().to_string();
    let src = fs::read_to_string(file).map_err(|e| format!("error: {path}: {e}"))?;
    let module = orion_dialects::parse_module(&src, &path).map_err(|d| d.to_string())?;
    orion_dialects::verify::verify_module(&module).map_err(|d| d.to_string())?;
    if level_of(&module) != Level::Ckks {
        return Err(format!(
            "error: {path}: not a ckks program (compile it with orion-opt --lower-to-ckks)"
        ));
    }
    Ok(module)
}

fn file_err(path: &Path) -> impl Fn(FileError) -> String + '_ {
    move |e| match e {
        FileError::Io { .. } => format!("error: {e}"),
        e => format!("error: {}: {e}", path.display()),
    }
}

/// Reads and decodes one file with `decode`.
fn load<T>(
    path: &Path,
    ctx: &Context,
    decode: impl Fn(&Context, Vec<u8>) -> Result<T, FileError>,
) -> Result<T, String> {
    let bytes = serialize::read_file(path).map_err(file_err(path))?;
    decode(ctx, bytes).map_err(file_err(path))
}

fn save(path: &Path, bytes: &[u8]) -> Result<(), String> {
    serialize::write_file(path, bytes).map_err(file_err(path))
}

fn fmt_secs(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64())
}

/// Peak resident memory of this process (VmHWM), in bytes, where the OS
/// reports it.
fn peak_rss() -> Option<usize> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let kb: usize = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

fn note(quiet: bool, msg: &str) {
    if !quiet {
        eprintln!("{msg}");
    }
}

fn run_split(cmd: &Cmd) -> Result<ExitCode, String> {
    let rt = |e: orion_runtime::interp::RunError| e.to_string();
    match cmd {
        Cmd::Keygen {
            file,
            out_dir,
            seed,
            quiet,
        } => {
            let module = load_ckks_module(file)?;
            let (ctx, _) = module_context(&module).map_err(rt)?;
            let opts = RunOptions {
                seed: *seed,
                progress: !quiet,
                ..RunOptions::default()
            };
            let start = std::time::Instant::now();
            let keys = SessionKeys::generate(&module, &ctx, &opts).map_err(rt)?;
            let (Some(sk), Some(pk)) = (&keys.secret, &keys.public) else {
                return Err("error: key generation made no secret or public key".into());
            };
            let id = serialize::key_id(pk);
            if keys
                .bootstrap
                .as_ref()
                .is_some_and(|(_, b)| b.has_chained_keys())
            {
                return Err(
                    "error: the module bootstraps with the chained DFT, whose keys are not stored \
                     in evaluation-key files; compile with bootstrap dft = \"bsgs\" or run in one go"
                        .into(),
                );
            }
            let ek = EvaluationKeys {
                relin: keys.relin.clone(),
                galois: keys.galois.clone().unwrap_or_default(),
                encapsulation: keys
                    .bootstrap
                    .as_ref()
                    .and_then(|(_, b)| b.encapsulation().cloned()),
            };
            fs::create_dir_all(out_dir)
                .map_err(|e| format!("error: {}: {e}", out_dir.display()))?;
            let mut sizes = Vec::new();
            for (name, bytes) in [
                (SECRET_KEY, serialize::encode_secret_key(&ctx, sk, id)),
                (PUBLIC_KEY, serialize::encode_public_key(&ctx, pk)),
                (EVAL_KEYS, serialize::encode_eval_keys(&ctx, &ek, id)),
            ] {
                let path = out_dir.join(name);
                note(*quiet, &format!("writing {}", path.display()));
                save(&path, &bytes)?;
                sizes.push(format!("{name} {:.1} MB", bytes.len() as f64 / 1e6));
            }
            println!(
                "keygen: key id {id}; {} Galois key(s), relinearization key {}; wrote {} in {}",
                ek.galois.steps().len(),
                if ek.relin.is_some() { "yes" } else { "no" },
                sizes.join(", "),
                ms(start.elapsed()),
            );
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Encrypt {
            file,
            keys,
            input,
            index,
            output,
            seed,
            quiet,
            idx,
        } => {
            let module = load_ckks_module(file)?;
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
            let in_shape = arg_types[0]
                .shape()
                .ok_or("error: @main's argument is not a tensor")?
                .to_vec();
            let per: usize = in_shape.iter().product();
            let images = read_input(input, per, idx.shape()).map_err(|e| format!("error: {e}"))?;
            let i = index.unwrap_or(0);
            let image = images.get(i).ok_or_else(|| {
                format!(
                    "error: image {i} requested, the input holds {}",
                    images.len()
                )
            })?;
            let (ctx, _) = module_context(&module).map_err(rt)?;
            let (pk, id) = load(&keys.join(PUBLIC_KEY), &ctx, |c, b| {
                serialize::decode_public_key(c, b)
            })?;
            let opts = RunOptions {
                seed: *seed,
                progress: false,
                ..RunOptions::default()
            };
            let client = SessionKeys {
                public: Some(pk),
                ..SessionKeys::default()
            };
            let mut s = Session::from_keys(&module, &ctx, client, &opts).map_err(rt)?;
            let x = Tensor::new(in_shape, image.clone());
            let cts = s.encrypt_inputs(&module, &[x]).map_err(rt)?;
            note(*quiet, &format!("writing {}", output.display()));
            save(output, &serialize::encode_ciphertexts(&ctx, &cts, id))?;
            println!(
                "encrypt: image {i} -> {} ciphertext(s) under key {id}",
                cts.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Eval {
            file,
            keys,
            ciphertext,
            output,
            quiet,
        } => {
            let module = load_ckks_module(file)?;
            let (ctx, _) = module_context(&module).map_err(rt)?;
            let (ek, ek_id) = load(&keys.join(EVAL_KEYS), &ctx, |c, b| {
                serialize::decode_eval_keys(c, b)
            })?;
            let (cts, ct_id) = load(ciphertext, &ctx, serialize::decode_ciphertexts)?;
            check_key(ciphertext, ct_id, "evaluation key set", ek_id)?;
            let server = SessionKeys::evaluation(&module, ek.relin, ek.galois, ek.encapsulation)
                .map_err(rt)?;
            let opts = RunOptions {
                seed: None,
                progress: !quiet,
                ..RunOptions::default()
            };
            let mut s = Session::from_keys(&module, &ctx, server, &opts).map_err(rt)?;
            let prepare = s.prepare(&module).map_err(rt)?;
            let start = std::time::Instant::now();
            let outs = s.evaluate(&module, cts).map_err(rt)?;
            let spent = start.elapsed();
            note(*quiet, &format!("writing {}", output.display()));
            save(output, &serialize::encode_ciphertexts(&ctx, &outs, ct_id))?;
            println!(
                "eval: {} ciphertext(s) at level(s) {:?}; plaintext encoding {}, evaluate {}",
                outs.len(),
                outs.iter().map(|c| c.level).collect::<Vec<_>>(),
                ms(prepare),
                ms(spent)
            );
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Decrypt {
            file,
            keys,
            ciphertext,
            output,
            quiet,
        } => {
            let module = load_ckks_module(file)?;
            let (ctx, _) = module_context(&module).map_err(rt)?;
            let (sk, sk_id) = load(&keys.join(SECRET_KEY), &ctx, |c, b| {
                serialize::decode_secret_key(c, b)
            })?;
            let (cts, ct_id) = load(ciphertext, &ctx, serialize::decode_ciphertexts)?;
            check_key(ciphertext, ct_id, "secret key", sk_id)?;
            let client = SessionKeys {
                secret: Some(sk),
                ..SessionKeys::default()
            };
            let opts = RunOptions {
                seed: None,
                progress: false,
                ..RunOptions::default()
            };
            let mut s = Session::from_keys(&module, &ctx, client, &opts).map_err(rt)?;
            let outs = s.decrypt_outputs(&module, cts).map_err(rt)?;
            let y = outs
                .into_iter()
                .next()
                .ok_or("error: @main returns nothing")?;
            println!("logits {} class {}", fmt_logits(&y), y.argmax());
            if let Some(out) = output {
                note(*quiet, &format!("writing {}", out.display()));
                write_npy(out, &y.shape, &y.data).map_err(|e| format!("error: {e}"))?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn check_key(path: &Path, ct: KeyId, keys: &'static str, ours: KeyId) -> Result<(), String> {
    serialize::check_key(ct, keys, ours).map_err(file_err(path))
}

/// Sizes rayon's global pool, which the CKKS library's parallel loops use.
fn set_threads(threads: Option<usize>) -> Result<(), String> {
    match threads {
        None => Ok(()),
        Some(0) => Err("--threads must be at least 1".into()),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(|e| format!("--threads {n}: {e}")),
    }
}

fn main() -> ExitCode {
    orion_ckks::alloc_tuning::keep_freed_memory();
    let split = std::env::args()
        .nth(1)
        .is_some_and(|a| SUBCOMMANDS.contains(&a.as_str()));
    let result = if split {
        let args = SplitArgs::parse();
        set_threads(args.threads).and_then(|()| run_split(&args.cmd))
    } else {
        let args = Args::parse();
        set_threads(args.threads).and_then(|()| run(&args))
    };
    match result {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("{msg}");
            ExitCode::FAILURE
        }
    }
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

    #[test]
    fn npy_roundtrip() {
        let dir = std::env::temp_dir().join(format!("orion-run-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let p = dir.join("x.npy");
        write_npy(&p, &[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.5]).unwrap();
        let imgs = read_input(&p, 3, IdxShape::default()).unwrap();
        assert_eq!(imgs, vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.5]]);
        let e = read_input(&p, 4, IdxShape::default()).unwrap_err();
        assert!(e.contains("4 elements"), "{e}");
        fs::write(&p, b"garbage").unwrap();
        assert!(read_input(&p, 3, IdxShape::default()).is_err());
        fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn medians() {
        let d = |ms| Duration::from_millis(ms);
        assert_eq!(median(vec![d(5), d(1), d(3)]), d(3));
        assert_eq!(median(vec![]), Duration::ZERO);
    }
}
