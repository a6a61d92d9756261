//! Files in and out of `orion-run`: programs, input images, output
//! tensors, key and ciphertext files (errors name the file).

use std::fs;
use std::io::BufWriter;
use std::path::Path;

use npyz::WriterBuilder;
use orion_dialects::Module;
use orion_runtime::Error;
use orion_tools::input_files::{read_values, IdxShape};

/// How IDX3 images become the network's input (ignored for .npy inputs).
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct IdxArgs {
    /// Pad each IDX3 image by this many black pixels on every side.
    #[arg(long, default_value_t = 0, value_name = "PIXELS")]
    pad: usize,
    /// Repeat each IDX3 image into this many channels (e.g. `--pad 2
    /// --channels 3`: Fashion-MNIST 28x28 into ResNet-20's 3x32x32).
    #[arg(long, default_value_t = 1, value_name = "C")]
    channels: usize,
}

impl IdxArgs {
    pub fn shape(self) -> IdxShape {
        IdxShape {
            pad: self.pad,
            channels: self.channels.max(1),
        }
    }
}

/// The names of the key files in a key directory.
pub const SECRET_KEY: &str = "secret.key";
pub const PUBLIC_KEY: &str = "public.key";
pub const EVAL_KEYS: &str = "eval.keys";

/// Parses and verifies a program of any level.
pub fn load_module(file: &Path) -> Result<Module, String> {
    let path = file.display().to_string();
    let src =
        orion_dialects::files::read_regular_text(file, orion_dialects::files::MAX_INPUT_FILE_BYTES)
            .map_err(|e| format!("error: {e}"))?;
    let module = orion_dialects::parse_module(&src, &path).map_err(|d| d.to_string())?;
    orion_dialects::verify::verify_module(&module).map_err(|d| d.to_string())?;
    Ok(module)
}

/// All images of the input, each with `per` elements.
pub fn read_input(path: &Path, per: usize, idx: IdxShape) -> Result<Vec<Vec<f64>>, String> {
    let bytes =
        orion_dialects::files::read_regular(path, orion_dialects::files::MAX_INPUT_FILE_BYTES)?;
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

/// Writes `data` as a float32 .npy array of `shape`.
pub fn write_npy(path: &Path, shape: &[usize], data: &[f64]) -> Result<(), String> {
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

/// Reads a key or ciphertext file and hands its bytes to `decode`; an error
/// of either names the file.
pub fn load<T>(path: &Path, decode: impl FnOnce(Vec<u8>) -> Result<T, Error>) -> Result<T, String> {
    let bytes = orion_ckks::serialize::read_file(path).map_err(|e| Error::from(e).to_string())?;
    decode(bytes).map_err(|e| e.in_file(path).to_string())
}

/// Writes a key or ciphertext file.
pub fn save(path: &Path, bytes: &[u8]) -> Result<(), String> {
    orion_ckks::serialize::write_file(path, bytes).map_err(|e| Error::from(e).to_string())
}

/// A message on stderr unless `quiet`.
pub fn note(quiet: bool, msg: &str) {
    if !quiet {
        eprintln!("{msg}");
    }
}

/// The one input image `index` (default 0) of `path`, shaped for `program`.
pub fn read_image(
    path: &Path,
    shape: &[usize],
    index: Option<usize>,
    idx: IdxShape,
) -> Result<(usize, Vec<f64>), String> {
    let per: usize = shape.iter().product();
    let images = read_input(path, per, idx).map_err(|e| format!("error: {e}"))?;
    let i = index.unwrap_or(0);
    let n = images.len();
    let image = images
        .into_iter()
        .nth(i)
        .ok_or_else(|| format!("error: image {i} requested, the input holds {n}"))?;
    Ok((i, image))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
