//! `orion-run`: runs a program of any level on an input.
//!
//! ```text
//! orion-run net.ckks.mlir --input examples/data/mnist-test-1000-images-idx3-ubyte \
//!     --labels examples/data/mnist-test-1000-labels-idx1-ubyte --range 0..10 --compare
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

use clap::Parser;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use npyz::WriterBuilder;
use orion_dialects::tensor::Tensor;
use orion_dialects::Module;
use orion_runtime::interp::{RunOptions, Session, Timings};

#[derive(Parser, Debug)]
#[command(
    name = "orion-run",
    version,
    about = "Run an Orion program (nn, pack or ckks level) on an input; ckks programs run encrypted"
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

fn read_u32_be(b: &[u8], at: usize) -> Result<u32, String> {
    b.get(at..at + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(|| "truncated IDX header".to_string())
}

/// IDX3 (magic 0x803): u8 images; returns (per-image element count, values).
fn read_idx3(bytes: &[u8]) -> Result<(usize, Vec<f64>), String> {
    let n = read_u32_be(bytes, 4)? as usize;
    let rows = read_u32_be(bytes, 8)? as usize;
    let cols = read_u32_be(bytes, 12)? as usize;
    let per = rows.checked_mul(cols).ok_or("IDX dimensions overflow")?;
    let total = n.checked_mul(per).ok_or("IDX dimensions overflow")?;
    let end = total.checked_add(16).ok_or("IDX dimensions overflow")?;
    let data = bytes
        .get(16..end)
        .ok_or_else(|| format!("IDX3 file holds fewer than {n} images of {rows}x{cols}"))?;
    Ok((
        per,
        data.iter()
            .map(|&p| (p as f64 / 255.0 - 0.1307) / 0.3081)
            .collect(),
    ))
}

fn read_labels(path: &Path) -> Result<Vec<u8>, String> {
    let bytes = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if read_u32_be(&bytes, 0)? != 0x801 {
        return Err(format!(
            "{}: not an IDX1 label file (magic 0x00000801)",
            path.display()
        ));
    }
    let n = read_u32_be(&bytes, 4)? as usize;
    bytes
        .get(8..8 + n)
        .map(<[u8]>::to_vec)
        .ok_or_else(|| format!("{}: truncated label file", path.display()))
}

fn read_npy(bytes: &[u8]) -> Result<Vec<f64>, String> {
    let npy = npyz::NpyFile::new(bytes).map_err(|e| format!("not a .npy file: {e}"))?;
    if npy.order() == npyz::Order::Fortran && npy.shape().iter().filter(|&&d| d > 1).count() > 1 {
        return Err("Fortran-order arrays are not supported; save with C order".into());
    }
    let (tc, size) = match npy.dtype() {
        npyz::DType::Plain(ts) => (ts.type_char(), ts.size_field()),
        other => return Err(format!("unsupported dtype {}", other.descr())),
    };
    match (tc, size) {
        (npyz::TypeChar::Float, 4) => Ok(npy
            .into_vec::<f32>()
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(f64::from)
            .collect()),
        (npyz::TypeChar::Float, 8) => npy.into_vec::<f64>().map_err(|e| e.to_string()),
        _ => Err("unsupported dtype: expected float32 or float64".into()),
    }
}

/// All images of the input, each with `per` elements.
fn read_input(path: &Path, per: usize) -> Result<Vec<Vec<f64>>, String> {
    let bytes = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (n, data) = if bytes.starts_with(b"\x93NUMPY") {
        let d = read_npy(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        (per, d)
    } else if read_u32_be(&bytes, 0).ok() == Some(0x803) {
        read_idx3(&bytes).map_err(|e| format!("{}: {e}", path.display()))?
    } else {
        return Err(format!(
            "{}: neither a .npy nor an IDX3 image file",
            path.display()
        ));
    };
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
        Some(p) => read_input(p, per).map_err(|e| format!("error: {e}"))?,
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
        };
        let mut s = Session::new(&module, &opts).map_err(|e| e.to_string())?;
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
    let bar = if progress && count > 1 {
        let pb = ProgressBar::with_draw_target(Some(count as u64), ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template("{bar:30} {pos}/{len} images [{elapsed}<{eta}]")
        {
            pb.set_style(style);
        }
        pb
    } else {
        ProgressBar::hidden()
    };

    let mut outputs: Vec<Tensor> = Vec::new();
    let mut timings: Vec<Timings> = Vec::new();
    let mut correct = 0usize;
    let mut max_rel = 0.0f64;
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
            let agree = c.argmax() == class;
            if !agree {
                disagreements += 1;
            }
            line += &format!(
                " | clear class {} rel err {rel:.2e}{}",
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
    if let (true, Some(s)) = (args.profile, session.as_ref()) {
        println!("op profile over {count} image(s):");
        for (name, d, n) in s.op_profile() {
            println!("  {name:<18} {n:>7} ops {:>10}", ms(d));
        }
    }
    let mut exit = ExitCode::SUCCESS;
    if args.compare && encrypted {
        println!(
            "max relative logit error: {max_rel:.2e} (bound {:.0e})",
            args.bound
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

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
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
    fn idx3_normalisation() {
        let mut b = vec![0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2];
        b.extend([0u8, 255, 51, 0]);
        let (per, v) = read_idx3(&b).unwrap();
        assert_eq!((per, v.len()), (2, 4));
        assert!((v[0] - (-0.1307 / 0.3081)).abs() < 1e-12);
        assert!((v[1] - (1.0 - 0.1307) / 0.3081).abs() < 1e-12);
        assert!(read_idx3(&b[..18]).is_err());
        assert!(read_idx3(&b[..6]).is_err());
    }

    #[test]
    fn npy_roundtrip() {
        let dir = std::env::temp_dir().join(format!("orion-run-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let p = dir.join("x.npy");
        write_npy(&p, &[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.5]).unwrap();
        let imgs = read_input(&p, 3).unwrap();
        assert_eq!(imgs, vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.5]]);
        let e = read_input(&p, 4).unwrap_err();
        assert!(e.contains("4 elements"), "{e}");
        fs::write(&p, b"garbage").unwrap();
        assert!(read_input(&p, 3).is_err());
        fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn medians() {
        let d = |ms| Duration::from_millis(ms);
        assert_eq!(median(vec![d(5), d(1), d(3)]), d(3));
        assert_eq!(median(vec![]), Duration::ZERO);
    }
}
