//! What a `ckks.encode` op encodes, written compactly as a dictionary that
//! points at the layer's weights; the slot vector is derived here, by the
//! same code the `pack` interpreter uses, never stored in the file.
//!
//! ```text
//! %p = ckks.encode {value = {kind = "diagonal", weights = dense_resource<fc1_weight> : tensor<128x784xf32>,
//!        input = !pack.vec<slots = 4096, size = 784, period = 1024>, baby_steps = 16, index = 17, giant = 16}}
//! %b = ckks.encode {value = {kind = "vector", values = dense_resource<fc1_bias> : tensor<128xf32>,
//!        layout = !pack.vec<slots = 4096, size = 128, period = 128>}}
//! ```

use crate::ir::{Attribute, Module};
use crate::pack::{LinearPlan, VecLayout};

pub fn diagonal_attr(
    weights: &Attribute,
    input: &VecLayout,
    baby_steps: usize,
    index: usize,
    giant: usize,
) -> Attribute {
    Attribute::Dict(vec![
        ("kind".into(), Attribute::String("diagonal".into())),
        ("weights".into(), weights.clone()),
        ("input".into(), Attribute::Type(input.to_type())),
        ("baby_steps".into(), Attribute::Int(baby_steps as i64)),
        ("index".into(), Attribute::Int(index as i64)),
        ("giant".into(), Attribute::Int(giant as i64)),
    ])
}

pub fn vector_attr(values: &Attribute, layout: &VecLayout) -> Attribute {
    Attribute::Dict(vec![
        ("kind".into(), Attribute::String("vector".into())),
        ("values".into(), values.clone()),
        ("layout".into(), Attribute::Type(layout.to_type())),
    ])
}

fn get<'a>(a: &'a Attribute, k: &str) -> Result<&'a Attribute, String> {
    a.dict_get(k)
        .ok_or_else(|| format!("encode value lacks '{k}'"))
}

fn get_usize(a: &Attribute, k: &str) -> Result<usize, String> {
    get(a, k)?
        .as_int()
        .filter(|&v| v >= 0)
        .map(|v| v as usize)
        .ok_or_else(|| format!("encode value: '{k}' must be a non-negative integer"))
}

fn get_layout(a: &Attribute, k: &str) -> Result<VecLayout, String> {
    VecLayout::from_type(
        get(a, k)?
            .as_type()
            .ok_or_else(|| format!("encode value: '{k}' must be a !pack.vec type"))?,
    )
}

/// The slot vector a `ckks.encode` value describes.
pub fn materialize(value: &Attribute, module: &Module) -> Result<Vec<f64>, String> {
    match get(value, "kind")?.as_str() {
        Some("diagonal") => {
            let wattr = get(value, "weights")?;
            let (rows, cols) = match wattr {
                Attribute::DenseResource { ty, .. } | Attribute::Dense { ty, .. } => {
                    match ty.shape() {
                        Some(&[r, c]) => (r, c),
                        _ => return Err("diagonal weights must be 2-D".into()),
                    }
                }
                _ => return Err("diagonal weights must be a dense_resource".into()),
            };
            let weights = module.resource_f32(wattr)?;
            let input = get_layout(value, "input")?;
            let plan = LinearPlan::new(
                &weights,
                rows,
                cols,
                &input,
                get_usize(value, "baby_steps")?,
            )?;
            let index = get_usize(value, "index")?;
            if index >= plan.out_period {
                return Err(format!(
                    "diagonal index {index} out of range (< {})",
                    plan.out_period
                ));
            }
            Ok(plan.diagonal_slots(&weights, index, get_usize(value, "giant")?))
        }
        Some("vector") => {
            let values = module.resource_f32(get(value, "values")?)?;
            let layout = get_layout(value, "layout")?;
            if values.len() != layout.size {
                return Err(format!(
                    "{} values for a layout of size {}",
                    values.len(),
                    layout.size
                ));
            }
            Ok(layout.pack(&values.iter().map(|&v| v as f64).collect::<Vec<_>>()))
        }
        _ => Err("encode value: 'kind' must be \"diagonal\" or \"vector\"".into()),
    }
}
