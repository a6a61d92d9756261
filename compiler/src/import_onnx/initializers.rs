//! Checks of a model's initializers before tract reads them, so that a bad
//! one is an error naming it instead of tract's panic, a shape error that
//! names nothing, a huge allocation, or a read that never ends:
//!
//! - the element count of its dims is computable and at most
//!   `MAX_TENSOR_ELEMENTS`;
//! - the data it holds (raw bytes, a typed list, or an external file) is
//!   exactly that many elements of its type;
//! - external data is a regular file (not a FIFO, device or socket) inside
//!   the model's directory, at least `offset + length` bytes long.

use std::path::{Component, Path};

use orion_dialects::ir::limits::{checked_product, MAX_TENSOR_ELEMENTS};
use tract_onnx::pb::{self, tensor_proto::DataType, TensorProto};

/// Bytes per element of an ONNX data type, where fixed.
fn element_bytes(t: i32) -> Option<u64> {
    Some(match DataType::try_from(t).ok()? {
        DataType::Uint8 | DataType::Int8 | DataType::Bool => 1,
        DataType::Uint16 | DataType::Int16 | DataType::Float16 | DataType::Bfloat16 => 2,
        DataType::Float | DataType::Int32 | DataType::Uint32 => 4,
        DataType::Int64 | DataType::Uint64 | DataType::Double | DataType::Complex64 => 8,
        DataType::Complex128 => 16,
        _ => return None,
    })
}

/// Elements a typed-list field holds for data type `t`.
fn typed_elements(t: &TensorProto) -> u64 {
    let n = match DataType::try_from(t.data_type) {
        Ok(DataType::Float | DataType::Complex64) => t.float_data.len(),
        Ok(DataType::Int64) => t.int64_data.len(),
        Ok(DataType::Double | DataType::Complex128) => t.double_data.len(),
        Ok(DataType::Uint32 | DataType::Uint64) => t.uint64_data.len(),
        _ => t.int32_data.len(),
    };
    n as u64
}

/// Checks one initializer (see the module documentation).
pub fn check_initializer(t: &TensorProto, model_dir: Option<&str>) -> Result<(), String> {
    let name = &t.name;
    let dims: Vec<usize> = t
        .dims
        .iter()
        .map(|&d| {
            usize::try_from(d).map_err(|_| format!("initializer '{name}': negative dimension {d}"))
        })
        .collect::<Result<_, _>>()?;
    let count = match checked_product(&dims) {
        Some(n) if n <= MAX_TENSOR_ELEMENTS => n as u64,
        _ => {
            return Err(format!(
                "initializer '{name}': shape {dims:?} holds more than the {MAX_TENSOR_ELEMENTS} elements a tensor may have"
            ))
        }
    };
    let Some(size) = element_bytes(t.data_type) else {
        return Ok(()); // strings and the like: tract decides
    };
    let want = count * size;
    let external = t.data_location == Some(pb::tensor_proto::DataLocation::External as i32);
    if external {
        return check_external(t, model_dir, want);
    }
    let have = if !t.raw_data.is_empty() {
        t.raw_data.len() as u64
    } else {
        typed_elements(t) * size
    };
    if have != want {
        return Err(format!(
            "initializer '{name}': shape {dims:?} needs {count} elements ({want} bytes), it holds {have} bytes of data"
        ));
    }
    Ok(())
}

fn check_external(t: &TensorProto, model_dir: Option<&str>, want: u64) -> Result<(), String> {
    let name = &t.name;
    let entry = |k: &str| {
        t.external_data
            .iter()
            .find(|e| e.key == k)
            .map(|e| e.value.as_str())
    };
    let location = entry("location")
        .ok_or_else(|| format!("initializer '{name}': external data without a 'location'"))?;
    let number = |k: &str| -> Result<Option<u64>, String> {
        entry(k)
            .map(|v| {
                v.parse::<u64>().map_err(|_| {
                    format!("initializer '{name}': external data '{k}' = {v:?} is not a byte count")
                })
            })
            .transpose()
    };
    let (offset, length) = (number("offset")?.unwrap_or(0), number("length")?);
    let dir = model_dir.ok_or_else(|| {
        format!("initializer '{name}': external data '{location}' needs the model's directory (import the model from its file)")
    })?;
    let rel = Path::new(location);
    if rel.is_absolute() || rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(format!(
            "initializer '{name}': external data location '{location}' must be a relative path inside the model's directory"
        ));
    }
    let path = Path::new(dir).join(rel);
    let meta = std::fs::metadata(&path).map_err(|e| {
        format!(
            "initializer '{name}': external data {}: {e}",
            path.display()
        )
    })?;
    if !meta.is_file() {
        return Err(format!(
            "initializer '{name}': external data {} is not a regular file",
            path.display()
        ));
    }
    let length = length.unwrap_or(want);
    if length != want {
        return Err(format!(
            "initializer '{name}': external data holds {length} bytes, the shape needs {want}"
        ));
    }
    if offset
        .checked_add(length)
        .is_none_or(|end| end > meta.len())
    {
        return Err(format!(
            "initializer '{name}': external data {} has {} bytes, {length} wanted from offset {offset}",
            path.display(),
            meta.len()
        ));
    }
    Ok(())
}
