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
//!
//! With layouts over several ciphertexts, `block = array<i64: j, i>` picks
//! the diagonal of the block matrix `A_ji` (output ciphertext `j`, input
//! ciphertext `i`), and a vector's `block = j` its `j`-th ciphertext.

use crate::ir::{Attribute, Module};
use crate::pack::{BlockedPlan, LinearMap, VecLayout};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A diagonal of the linear map `map` describes (the `pack.linear` op's map
/// attributes, see `pack::linear_map`: `weights` for a dense matrix; `map`,
/// `weights`, `input_shape` and the conv/pool attributes otherwise), from
/// the `input` to the `output` layout. The output layout is written only
/// when it is not the 1-D one of the map's rows, its default.
#[allow(clippy::too_many_arguments)]
pub fn diagonal_attr(
    map: &[(String, Attribute)],
    input: &VecLayout,
    output: &VecLayout,
    block: Option<(usize, usize)>,
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
    d.push(("baby_steps".into(), Attribute::Int(baby_steps as i64)));
    if let Some((j, i)) = block {
        d.push((
            "block".into(),
            Attribute::I64Array(vec![j as i64, i as i64]),
        ));
    }
    d.extend([
        ("index".into(), Attribute::Int(index as i64)),
        ("giant".into(), Attribute::Int(giant as i64)),
    ]);
    Attribute::Dict(d)
}

pub fn vector_attr(values: &Attribute, layout: &VecLayout) -> Attribute {
    vector_attr_repeated(values, layout, 1, None)
}

/// A vector whose every value fills `repeat` consecutive elements (a conv's
/// per-channel bias), ciphertext `block` of a layout over several;
/// `repeat` is written only when it is not 1.
pub fn vector_attr_repeated(
    values: &Attribute,
    layout: &VecLayout,
    repeat: usize,
    block: Option<usize>,
) -> Attribute {
    let mut d = vec![
        ("kind".into(), Attribute::String("vector".into())),
        ("values".into(), values.clone()),
        ("layout".into(), Attribute::Type(layout.to_type())),
    ];
    if repeat != 1 {
        d.push(("repeat".into(), Attribute::Int(repeat as i64)));
    }
    if let Some(j) = block {
        d.push(("block".into(), Attribute::Int(j as i64)));
    }
    Attribute::Dict(d)
}

/// The weights' bytes, held so that their address identifies them.
type Weights = Option<Arc<[u8]>>;
type PlanCache = Mutex<HashMap<(String, usize), (Weights, Arc<BlockedPlan>)>>;

/// The nonzeros the plan cache may hold (8 bytes each: 512 MiB).
const PLAN_CACHE_NONZEROS: usize = 1 << 26;

/// Plans by (encode value without its diagonal index, address of the
/// weights' bytes): `materialize` runs once per diagonal, and a plan costs
/// O(nnz) to build. The entry holds the bytes, so their address cannot be
/// reused by other weights while it is in the cache.
fn plan_cache() -> &'static PlanCache {
    static CACHE: std::sync::OnceLock<PlanCache> = std::sync::OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// A diagonal encode value's map description (without its diagonal index)
/// and the cache key that identifies it: the description's text and the
/// address of the weights' bytes.
struct Described {
    entries: Vec<(String, Attribute)>,
    weights: Weights,
    key: (String, usize),
}

fn described(value: &Attribute, module: &Module) -> Result<Described, String> {
    let Attribute::Dict(entries) = value else {
        return Err("encode value must be a dictionary".into());
    };
    let entries: Vec<(String, Attribute)> = entries
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "index" | "giant" | "kind" | "block"))
        .cloned()
        .collect();
    // Inline (dense) weights are part of the description itself.
    let weights: Weights = match value.dict_get("weights") {
        Some(Attribute::DenseResource { name, .. }) => {
            module.resource(name).map(|r| r.data.clone())
        }
        _ => None,
    };
    let address = weights.as_ref().map_or(0, |w| w.as_ptr() as usize);
    let key = (Attribute::Dict(entries.clone()).to_string(), address);
    Ok(Described {
        entries,
        weights,
        key,
    })
}

/// The map, input and output layouts of a diagonal encode value.
fn map_and_layouts(
    value: &Attribute,
    entries: &[(String, Attribute)],
    module: &Module,
) -> Result<(LinearMap, VecLayout, VecLayout), String> {
    let map = LinearMap::from_attrs(entries, module)?;
    let input = get_layout(value, "input")?;
    let output = match value.dict_get("output") {
        Some(_) => get_layout(value, "output")?,
        None => VecLayout::replicated(input.slots, map.rows())?,
    };
    Ok((map, input, output))
}

/// The plan of a diagonal encode value, from the cache when possible.
fn diagonal_plan(value: &Attribute, module: &Module) -> Result<Arc<BlockedPlan>, String> {
    let d = described(value, module)?;
    if let Some((_, p)) = plan_cache().lock().expect("plan cache").get(&d.key) {
        return Ok(p.clone());
    }
    let (map, input, output) = map_and_layouts(value, &d.entries, module)?;
    let plan = Arc::new(BlockedPlan::new(
        &map,
        &input,
        &output,
        get_usize(value, "baby_steps")?,
    )?);
    let mut cache = plan_cache().lock().expect("plan cache");
    // Bounded by the nonzeros held, not the plan count: a deep network's
    // 3x3 convs hold tens of millions each, and its diagonals are derived
    // layer after layer, so the cache need not hold more than a few.
    let held: usize = cache.values().map(|(_, p)| p.nonzeros()).sum();
    if cache.len() >= 64 || held + plan.nonzeros() > PLAN_CACHE_NONZEROS {
        cache.clear();
    }
    cache.insert(d.key, (d.weights, plan.clone()));
    Ok(plan)
}

/// Layouts of the map descriptions already checked, by the plan cache's key.
type CheckedMaps = Mutex<HashMap<(String, usize), (Weights, VecLayout, VecLayout)>>;

fn checked_maps() -> &'static CheckedMaps {
    static CHECKED: std::sync::OnceLock<CheckedMaps> = std::sync::OnceLock::new();
    CHECKED.get_or_init(Default::default)
}

/// The number of slots a `ckks.encode` value encodes, checked without
/// deriving them (the verifier's view): a diagonal's map, layouts, block
/// and index are checked, not its slots. Deriving every diagonal of CIFAR
/// ResNet-18 (50160, each needing its layer's plan) after each pass was
/// most of its compile outside the passes.
pub fn encoded_slots(value: &Attribute, module: &Module) -> Result<usize, String> {
    if get(value, "kind")?.as_str() != Some("diagonal") {
        return Ok(materialize(value, module)?.len());
    }
    let d = described(value, module)?;
    let cached = checked_maps()
        .lock()
        .expect("checked maps")
        .get(&d.key)
        .cloned();
    let (input, output) = match cached {
        Some((_, input, output)) => (input, output),
        None => {
            let (map, input, output) = map_and_layouts(value, &d.entries, module)?;
            crate::pack::linear::check_layouts(&map, &input, &output)?;
            let range = input.period.min(output.period);
            crate::pack::linear::check_baby_steps(get_usize(value, "baby_steps")?, range)?;
            let mut checked = checked_maps().lock().expect("checked maps");
            if checked.len() >= 4096 {
                checked.clear();
            }
            checked.insert(d.key, (d.weights, input.clone(), output.clone()));
            (input, output)
        }
    };
    let (j, i) = block_of(value)?;
    if j >= output.blocks() || i >= input.blocks() {
        return Err(format!(
            "block ({j}, {i}) of a {}x{} block matrix",
            output.blocks(),
            input.blocks()
        ));
    }
    let range = input.period.min(output.period);
    let index = get_usize(value, "index")?;
    if index >= range {
        return Err(format!("diagonal index {index} out of range (< {range})"));
    }
    get_usize(value, "giant")?;
    Ok(input.slots)
}

/// A diagonal's `block = [output block, input block]`, (0, 0) when absent.
fn block_of(value: &Attribute) -> Result<(usize, usize), String> {
    match value.dict_get("block") {
        None => Ok((0, 0)),
        Some(b) => match b.as_i64_list().as_deref() {
            Some(&[j, i]) if j >= 0 && i >= 0 => Ok((j as usize, i as usize)),
            _ => Err("encode value: 'block' must be [output block, input block]".into()),
        },
    }
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
            let blocked = diagonal_plan(value, module)?;
            let (j, i) = block_of(value)?;
            let plan = blocked
                .block(j, i)
                .ok_or_else(|| format!("block ({j}, {i}) of the matrix is zero or out of range"))?;
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
            let block = match value.dict_get("block") {
                None => 0,
                Some(_) => get_usize(value, "block")?,
            };
            if block >= layout.blocks() {
                return Err(format!(
                    "block {block} of a layout over {} ciphertext(s)",
                    layout.blocks()
                ));
            }
            let slots = layout.pack(&values);
            let n = layout.slots;
            Ok(slots[block * n..(block + 1) * n].to_vec())
        }
        _ => Err("encode value: 'kind' must be \"diagonal\" or \"vector\"".into()),
    }
}
