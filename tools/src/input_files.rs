//! Reading input tensors: `.npy` (float32/float64, C order) and MNIST IDX
//! files. IDX3 pixels are normalised as the example networks were trained:
//! (p / 255 - 0.1307) / 0.3081. Both tools read calibration and inference
//! inputs through here, so they agree on formats and normalisation.

use std::path::Path;

fn read_u32_be(b: &[u8], at: usize) -> Result<u32, String> {
    b.get(at..at + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(|| "truncated IDX header".to_string())
}

/// IDX3 (magic 0x803): u8 images; returns (per-image element count, values).
pub fn read_idx3(bytes: &[u8]) -> Result<(usize, Vec<f64>), String> {
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

/// IDX1 (magic 0x801) labels.
pub fn read_labels(path: &Path) -> Result<Vec<u8>, String> {
    let bytes =
        orion_dialects::files::read_regular(path, orion_dialects::files::MAX_INPUT_FILE_BYTES)?;
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

pub fn read_npy(bytes: &[u8]) -> Result<Vec<f64>, String> {
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

/// The shape a `.npy` file declares, if `bytes` are one.
pub fn npy_shape(bytes: &[u8]) -> Option<Vec<usize>> {
    let npy = npyz::NpyFile::new(bytes).ok()?;
    Some(npy.shape().iter().map(|&d| d as usize).collect())
}

/// Whether an array of `shape` holds whole inputs of `input`'s shape: one
/// (`input` itself) or a stack of them (`[k, ...input]`, or
/// `[k, ...input[1..]]` when the input's batch dimension is 1). Anything
/// else would be a silent reshape of someone else's data.
pub fn check_sample_shape(shape: &[usize], input: &[usize]) -> Result<usize, String> {
    let unbatched = match input.split_first() {
        Some((1, rest)) => Some(rest),
        _ => None,
    };
    if shape == input {
        return Ok(1);
    }
    match shape.split_first() {
        Some((&k, rest)) if rest == input || Some(rest) == unbatched => Ok(k),
        _ => Err(format!(
            "an array of shape {shape:?} does not hold inputs of shape {input:?} (give \
             {input:?} or [samples, {}])",
            unbatched
                .unwrap_or(input)
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// How IDX3 images are shaped into a network's input: each normalised
/// `rows x cols` image padded by `pad` pixels of value 0 on every side (the
/// normalised black, as if padded before normalising) and repeated into
/// `channels` planes. Fashion-MNIST into the CIFAR-shaped ResNet-20 is
/// `pad 2, channels 3` (28x28 -> 3x32x32).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdxShape {
    pub pad: usize,
    pub channels: usize,
}

impl Default for IdxShape {
    fn default() -> Self {
        IdxShape {
            pad: 0,
            channels: 1,
        }
    }
}

impl IdxShape {
    fn apply(&self, rows: usize, cols: usize, data: Vec<f64>) -> (usize, Vec<f64>) {
        if *self == IdxShape::default() {
            return (rows * cols, data);
        }
        let (h, w) = (rows + 2 * self.pad, cols + 2 * self.pad);
        let black = (0.0 / 255.0 - 0.1307) / 0.3081;
        let mut out = Vec::with_capacity(data.len() / (rows * cols).max(1) * h * w * self.channels);
        for image in data.chunks(rows * cols) {
            let mut plane = vec![black; h * w];
            for (y, row) in image.chunks(cols).enumerate() {
                let at = (y + self.pad) * w + self.pad;
                plane[at..at + cols].copy_from_slice(row);
            }
            for _ in 0..self.channels {
                out.extend_from_slice(&plane);
            }
        }
        (h * w * self.channels, out)
    }
}

/// The values of a `.npy` or IDX3 file, with the image size an IDX3 file
/// declares after `idx` shaping (`None` for `.npy`, whose values the caller
/// splits itself; `idx` does not apply to it).
pub fn read_values(bytes: &[u8], idx: IdxShape) -> Result<(Option<usize>, Vec<f64>), String> {
    if bytes.starts_with(b"\x93NUMPY") {
        if idx != IdxShape::default() {
            return Err("--pad and --channels shape IDX images; a .npy input must already have the network's shape".into());
        }
        Ok((None, read_npy(bytes)?))
    } else if read_u32_be(bytes, 0).ok() == Some(0x803) {
        let (_, data) = read_idx3(bytes)?;
        let (rows, cols) = (
            read_u32_be(bytes, 8)? as usize,
            read_u32_be(bytes, 12)? as usize,
        );
        let (per, data) = idx.apply(rows, cols, data);
        Ok((Some(per), data))
    } else {
        Err("neither a .npy file nor an IDX3 image file".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_shapes_must_match_the_input() {
        assert_eq!(check_sample_shape(&[1, 8], &[1, 8]), Ok(1));
        assert_eq!(check_sample_shape(&[5, 1, 8], &[1, 8]), Ok(5));
        assert_eq!(check_sample_shape(&[5, 8], &[1, 8]), Ok(5));
        assert_eq!(check_sample_shape(&[3, 1, 28, 28], &[1, 1, 28, 28]), Ok(3));
        // Same element count, another shape: refused, not reshaped.
        let e = check_sample_shape(&[1, 2, 2, 2], &[1, 8]).unwrap_err();
        assert!(
            e.contains("[1, 2, 2, 2]") && e.contains("[samples, 8]"),
            "{e}"
        );
        assert!(check_sample_shape(&[2, 4], &[1, 8]).is_err());
        assert!(check_sample_shape(&[16], &[1, 8]).is_err());
    }

    #[test]
    fn idx_images_are_padded_and_repeated() {
        // Two 1x2 images, pixels 255 and 0.
        let b = vec![
            0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 255, 0, 0, 255,
        ];
        let shape = IdxShape {
            pad: 1,
            channels: 2,
        };
        let (per, v) = read_values(&b, shape).unwrap();
        let per = per.unwrap();
        // 3x4 planes, two channels each.
        assert_eq!(per, 2 * 3 * 4);
        assert_eq!(v.len(), 2 * per);
        let black = -0.1307 / 0.3081;
        let white = (1.0 - 0.1307) / 0.3081;
        let first = [
            black, black, black, black, black, white, black, black, black, black, black, black,
        ];
        for (got, want) in v[..12].iter().zip(&first) {
            assert!((got - want).abs() < 1e-12);
        }
        assert_eq!(v[..12], v[12..24], "channels repeat the plane");
        assert!(
            (v[24 + 6] - white).abs() < 1e-12,
            "second image, pixel (0, 1)"
        );
        let npy = b"\x93NUMPY".to_vec();
        assert!(read_values(&npy, shape).unwrap_err().contains("IDX images"));
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
        assert_eq!(read_values(&b, IdxShape::default()).unwrap().0, Some(2));
        assert!(read_values(b"garbage", IdxShape::default()).is_err());
    }
}
