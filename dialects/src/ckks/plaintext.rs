//! What a `ckks.encode` op encodes, written compactly as a dictionary that
//! points at the layer's weights; the slot vector is derived here, by the
//! same code the `pack` interpreter uses, never stored in the file.
//!
//! ```text
//! %p = ckks.encode {value = {kind = "diagonal", weights = dense_resource<fc1_weight> : tensor<128x784xf32>,
//!        input = !pack.vec<slots = 4096, size = 784, period = 1024>, baby_steps = 16, index = 17, giant = 16}}
//! %c = ckks.encode {value = {kind = "diagonal", map = "conv2d", weights = dense_resource<conv1_weight> : tensor<6x1x5x5xf32>,
//!        input_shape = array<i64: 1, 1, 28, 28>, strides = ..., pads = ..., dilations = ..., groups = 1,
//!        input = !pack.vec<..>, baby_steps = 128, index = 7407, giant = 7296}}
//! %m = ckks.encode {value = {kind = "diagonal", map = "conv2d", ..., input = !pack.vec<..>,
//!        output = !pack.vec<slots = 32768, size = 8192, period = 8192, shape = [32, 16, 16], gap = 2>, ...}}
//! %b = ckks.encode {value = {kind = "vector", values = dense_resource<fc1_bias> : tensor<128xf32>,
//!        layout = !pack.vec<slots = 4096, size = 128, period = 128>}}
//! %cb = ckks.encode {value = {kind = "vector", values = dense_resource<conv1_bias> : tensor<6xf32>,
//!        layout = !pack.vec<slots = 8192, size = 4704, period = 8192>, repeat = 784}}
//! ```

use crate::ir::{Attribute, Module};
use crate::pack::{LinearMap, LinearPlan, VecLayout};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A diagonal of the linear map `map` describes (the `pack.linear` op's map
/// attributes, see `pack::linear_map`: `weights` for a dense matrix; `map`,
/// `weights`, `input_shape` and the conv/pool attributes otherwise), from
/// the `input` to the `output` layout. The output layout is written only
/// when it is not the 1-D one of the map's rows, its default.
pub fn diagonal_attr(
    map: &[(String, Attribute)],
    input: &VecLayout,
    output: &VecLayout,
    baby_steps: usize,
    index: usize,
    giant: usize,
) -> Attribute {
    let mut d = vec![("kind".to_string(), Attribute::String("diagonal".into()))];
    d.extend(map.iter().cloned());
    d.push(("input".into(), Attribute::Type(input.to_type())));
    if VecLayout::replicated(output.slots, output.size).as_ref() != Ok(output) {
        d.push(("output".into(), Attribute::Type(output.to_type())));
    }
    d.extend([
        ("baby_steps".into(), Attribute::Int(baby_steps as i64)),
        ("index".into(), Attribute::Int(index as i64)),
        ("giant".into(), Attribute::Int(giant as i64)),
    ]);
    Attribute::Dict(d)
}

pub fn vector_attr(values: &Attribute, layout: &VecLayout) -> Attribute {
    vector_attr_repeated(values, layout, 1)
}

/// A vector whose every value fills `repeat` consecutive elements (a conv's
/// per-channel bias); `repeat` is written only when it is not 1.
pub fn vector_attr_repeated(values: &Attribute, layout: &VecLayout, repeat: usize) -> Attribute {
    let mut d = vec![
        ("kind".into(), Attribute::String("vector".into())),
        ("values".into(), values.clone()),
        ("layout".into(), Attribute::Type(layout.to_type())),
    ];
    if repeat != 1 {
        d.push(("repeat".into(), Attribute::Int(repeat as i64)));
    }
    Attribute::Dict(d)
}

type PlanCache = Mutex<HashMap<(String, u64), Arc<LinearPlan>>>;

/// Plans by (encode value without its diagonal index, hash of the weights):
/// `materialize` runs once per diagonal, and a plan costs O(nnz) to build.
fn plan_cache() -> &'static PlanCache {
    static CACHE: std::sync::OnceLock<PlanCache> = std::sync::OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The plan of a diagonal encode value, from the cache when possible.
fn diagonal_plan(value: &Attribute, module: &Module) -> Result<Arc<LinearPlan>, String> {
    let Attribute::Dict(entries) = value else {
        return Err("encode value must be a dictionary".into());
    };
    let described: Vec<(String, Attribute)> = entries
        .iter()
        .filter(|(k, _)| k != "index" && k != "giant" && k != "kind")
        .cloned()
        .collect();
    let weights_hash = match value.dict_get("weights") {
        Some(w) => {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            for v in module.resource_f32(w)? {
                v.to_bits().hash(&mut h);
            }
            h.finish()
        }
        None => 0,
    };
    let key = (Attribute::Dict(described.clone()).to_string(), weights_hash);
    if let Some(p) = plan_cache().lock().expect("plan cache").get(&key) {
        return Ok(p.clone());
    }
    let map = LinearMap::from_attrs(&described, module)?;
    let input = get_layout(value, "input")?;
    let output = match value.dict_get("output") {
        Some(_) => get_layout(value, "output")?,
        None => VecLayout::replicated(input.slots, map.rows())?,
    };
    let plan = Arc::new(LinearPlan::new(
        &map,
        &input,
        &output,
        get_usize(value, "baby_steps")?,
    )?);
    let mut cache = plan_cache().lock().expect("plan cache");
    if cache.len() >= 64 {
        cache.clear();
    }
    cache.insert(key, plan.clone());
    Ok(plan)
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
            let plan = diagonal_plan(value, module)?;
            let index = get_usize(value, "index")?;
            if index >= plan.diagonal_range {
                return Err(format!(
                    "diagonal index {index} out of range (< {})",
                    plan.diagonal_range
                ));
            }
            Ok(plan.diagonal_slots(index, get_usize(value, "giant")?))
        }
        Some("vector") => {
            let values = module.resource_f32(get(value, "values")?)?;
            let layout = get_layout(value, "layout")?;
            let repeat = match value.dict_get("repeat") {
                Some(_) => get_usize(value, "repeat")?.max(1),
                None => 1,
            };
            let values: Vec<f64> = values
                .iter()
                .flat_map(|&v| std::iter::repeat_n(v as f64, repeat))
                .collect();
            if values.len() != layout.size {
                return Err(format!(
                    "{} values for a layout of size {}",
                    values.len(),
                    layout.size
                ));
            }
            Ok(layout.pack(&values))
        }
        _ => Err("encode value: 'kind' must be \"diagonal\" or \"vector\"".into()),
    }
}
