//! Reading input tensors: `.npy` (float32/float64, C order) and MNIST IDX
//! files. IDX3 pixels are normalised as the example networks were trained:
//! (p / 255 - 0.1307) / 0.3081. Both tools read calibration and inference
//! inputs through here, so they agree on formats and normalisation.

use std::fs;
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

/// The values of a `.npy` or IDX3 file, with the image size an IDX3 file
/// declares (`None` for `.npy`, whose values the caller splits itself).
pub fn read_values(bytes: &[u8]) -> Result<(Option<usize>, Vec<f64>), String> {
    if bytes.starts_with(b"\x93NUMPY") {
        Ok((None, read_npy(bytes)?))
    } else if read_u32_be(bytes, 0).ok() == Some(0x803) {
        let (per, data) = read_idx3(bytes)?;
        Ok((Some(per), data))
    } else {
        Err("neither a .npy file nor an IDX3 image file".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(read_values(&b).unwrap().0, Some(2));
        assert!(read_values(b"garbage").is_err());
    }
}
