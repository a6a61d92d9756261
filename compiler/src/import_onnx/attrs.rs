//! Per-op attributes of the imported nodes: each checked against the
//! node's input shapes and turned into the `nn` op's attributes, or refused
//! with a message that names what is not supported.

use super::{f32_values, Importer};
use orion_dialects::ir::Attribute;
use orion_dialects::nn::conv::{Conv2dAttrs, PoolAttrs};
use tract_onnx::pb::{self, NodeProto};

/// A PRelu's slope: one for all channels (`nn.leaky_relu`'s attributes),
/// or one per channel (see `prelu`).
pub(super) enum PRelu {
    Uniform(Vec<(String, Attribute)>),
    PerChannel(Vec<f32>),
}

impl Importer<'_> {
    /// The values of `node`'s input `i`, which must be a constant (`what`
    /// names it in the error); `None` when the input is absent or empty.
    pub(super) fn constant_input(
        &self,
        node: &NodeProto,
        i: usize,
        what: &str,
    ) -> Result<Option<Vec<f32>>, String> {
        match node.input.get(i).filter(|n| !n.is_empty()) {
            None => Ok(None),
            Some(n) => {
                let t = self
                    .constant(n)
                    .ok_or_else(|| format!("the {what} must be a constant"))?;
                f32_values(&t).map(Some)
            }
        }
    }

    /// A `Conv`'s attributes, checked against its input and weight shapes.
    pub(super) fn conv_attrs(
        &self,
        node: &NodeProto,
        data: &[&String],
    ) -> Result<Vec<(String, Attribute)>, String> {
        let attr = |k: &str| node.attribute.iter().find(|a| a.name == k);
        if data.len() < 2 {
            return Err("needs an input and a weight".into());
        }
        let x = self.spatial_input(data[0], "Conv")?;
        let w = self
            .tensor_type(data[1])?
            .shape()
            .map(<[usize]>::to_vec)
            .unwrap_or_default();
        if w.len() != 4 {
            return Err(format!(
                "weight '{}' must be 4-D [M, C/group, kh, kw], got shape {w:?}",
                data[1]
            ));
        }
        let kernel = [w[2], w[3]];
        if let Some(ks) = attr("kernel_shape") {
            if ks.ints != [w[2] as i64, w[3] as i64] {
                return Err(format!(
                    "kernel_shape {:?} does not match the weight shape {w:?}",
                    ks.ints
                ));
            }
        }
        let strides = pair_attr(node, "strides")?;
        let dilations = pair_attr(node, "dilations")?;
        let groups = attr("group").map_or(1, |a| a.i);
        if groups < 1 {
            return Err(format!("group = {groups} must be positive"));
        }
        let pads = resolve_pads(node, [x[2], x[3]], kernel, strides, dilations)?;
        Ok(Conv2dAttrs {
            strides,
            pads,
            dilations,
            groups: groups as usize,
        }
        .to_attrs())
    }

    /// An `AveragePool`'s attributes; dilations and a `ceil_mode` that adds
    /// a partial window are refused.
    pub(super) fn avgpool_attrs(
        &self,
        node: &NodeProto,
        data: &[&String],
    ) -> Result<Vec<(String, Attribute)>, String> {
        let attr = |k: &str| node.attribute.iter().find(|a| a.name == k);
        let x = self.spatial_input(data[0], &node.op_type)?;
        let kernel = match attr("kernel_shape") {
            Some(a) if a.ints.len() == 2 && a.ints.iter().all(|&k| k >= 1) => {
                [a.ints[0] as usize, a.ints[1] as usize]
            }
            Some(a) => {
                return Err(format!(
                    "kernel_shape must be 2 positive integers, got {:?}",
                    a.ints
                ))
            }
            None => return Err("needs the kernel_shape attribute".into()),
        };
        let strides = pair_attr(node, "strides")?;
        if pair_attr(node, "dilations")? != [1, 1] {
            return Err(format!(
                "dilations {:?} are not supported for pooling (only [1, 1])",
                attr("dilations")
                    .map(|a| a.ints.clone())
                    .unwrap_or_default()
            ));
        }
        let pads = resolve_pads(node, [x[2], x[3]], kernel, strides, [1, 1])?;
        if attr("ceil_mode").is_some_and(|a| a.i != 0) {
            // ceil_mode only matters when it adds a partial window.
            for (i, &len) in [x[2], x[3]].iter().enumerate() {
                let span = len + pads[i] + pads[i + 2] - kernel[i];
                if span % strides[i] != 0 {
                    return Err(format!(
                        "ceil_mode = 1 is not supported: it adds a partial window along {} (input {len}, kernel {}, stride {}, pads {:?})",
                        ["H", "W"][i],
                        kernel[i],
                        strides[i],
                        pads
                    ));
                }
            }
        }
        let count_include_pad = attr("count_include_pad").is_some_and(|a| a.i != 0);
        Ok(PoolAttrs {
            kernel,
            strides,
            pads,
            count_include_pad,
        }
        .to_attrs())
    }

    /// A final `Softmax` / `LogSoftmax` over the last axis: dropped from
    /// the program (its result is its input, the logits) and recorded for
    /// the client, who applies it after decryption.
    pub(super) fn client_output(&mut self, node: &NodeProto, input: &str) -> Result<(), String> {
        use orion_dialects::nn::client_output::ClientOutput;
        let out_name = &node.output[0];
        if !self.graph_outputs.contains(out_name) || self.graph_outputs.len() != 1 {
            return Err(format!(
                "{} is supported only as the network's single output (the client applies it \
                 after decryption); here its result feeds other nodes",
                node.op_type
            ));
        }
        let rank = self.tensor_type(input)?.shape().map_or(0, <[usize]>::len) as i64;
        let axis = node
            .attribute
            .iter()
            .find(|a| a.name == "axis")
            .map_or(-1, |a| a.i);
        if axis.rem_euclid(rank.max(1)) != rank - 1 {
            return Err(format!(
                "{} over axis {axis} of a rank-{rank} tensor; only the last axis is supported",
                node.op_type
            ));
        }
        let v = self.operand(input)?;
        self.values.insert(out_name.clone(), v);
        let op = if node.op_type == "Softmax" {
            ClientOutput::Softmax
        } else {
            ClientOutput::LogSoftmax
        };
        let (k, a) = op.attribute();
        self.module.set_attr(&k, a);
        Ok(())
    }

    /// A `Transpose` is imported only when it keeps the data's order (it
    /// moves axes of size 1 only, as exporters write around a flatten).
    pub(super) fn check_relabelling_transpose(
        &self,
        node: &NodeProto,
        input: &str,
    ) -> Result<(), String> {
        let shape = self
            .tensor_type(input)?
            .shape()
            .map(<[usize]>::to_vec)
            .unwrap_or_default();
        let perm: Vec<usize> = match node.attribute.iter().find(|a| a.name == "perm") {
            Some(a) => a.ints.iter().map(|&p| p as usize).collect(),
            None => (0..shape.len()).rev().collect(),
        };
        let mut sorted = perm.clone();
        sorted.sort_unstable();
        if sorted != (0..shape.len()).collect::<Vec<_>>() {
            return Err(format!(
                "perm {perm:?} is not a permutation of the {} axes",
                shape.len()
            ));
        }
        let moved: Vec<usize> = perm.iter().copied().filter(|&p| shape[p] != 1).collect();
        if moved.windows(2).any(|w| w[0] > w[1]) {
            return Err(format!(
                "perm {perm:?} reorders the data of shape {shape:?}; only transposes that move \
                 axes of size 1 (a relabelling) are supported"
            ));
        }
        Ok(())
    }

    /// A `PRelu` whose slope is one number (for every channel): a leaky
    /// ReLU.
    pub(super) fn prelu_attrs(&self, node: &NodeProto) -> Result<PRelu, String> {
        let slope = self
            .constant_input(node, 1, "slope")?
            .ok_or("the slope must be a constant")?;
        Ok(match slope.split_first() {
            Some((&a, rest)) if rest.iter().all(|&b| b == a) => {
                PRelu::Uniform(vec![("alpha".into(), Attribute::Float(a as f64))])
            }
            _ => PRelu::PerChannel(slope),
        })
    }

    /// A `Clip`'s bounds: attributes before opset 11, constant inputs since;
    /// an absent bound is no bound.
    pub(super) fn clip_attrs(&self, node: &NodeProto) -> Result<Vec<(String, Attribute)>, String> {
        let mut attrs = Vec::new();
        for (i, key) in [(1, "min"), (2, "max")] {
            let bound = match self.constant_input(node, i, &format!("{key} bound"))? {
                Some(v) => match v[..] {
                    [v] => Some(v),
                    _ => return Err(format!("the {key} bound must be a scalar")),
                },
                None => node.attribute.iter().find(|a| a.name == key).map(|a| a.f),
            };
            match bound {
                Some(v) if v.is_finite() => attrs.push((key.into(), Attribute::Float(v as f64))),
                Some(v) if v.is_nan() => return Err(format!("the {key} bound is NaN")),
                _ => {}
            }
        }
        Ok(attrs)
    }

    /// A `Pad` with zeros: pads from the attribute (before opset 11) or the
    /// constant input, over every axis.
    pub(super) fn pad_attrs(&self, node: &NodeProto) -> Result<Vec<(String, Attribute)>, String> {
        let attr = |k: &str| node.attribute.iter().find(|a| a.name == k);
        let mode = attr("mode").map_or("constant".into(), |a| {
            String::from_utf8_lossy(&a.s).into_owned()
        });
        if mode != "constant" {
            return Err(format!(
                "mode '{mode}' is not supported; only zero padding (mode 'constant') is"
            ));
        }
        if node.input.get(3).is_some_and(|n| !n.is_empty()) {
            return Err(
                "padding selected axes ('axes' input) is not supported; give pads for every axis"
                    .into(),
            );
        }
        let value = match self.constant_input(node, 2, "padding value")? {
            Some(v) => v.first().copied().unwrap_or(0.0),
            None => attr("value").map_or(0.0, |a| a.f),
        };
        if value != 0.0 {
            return Err(format!(
                "padding with {value} is not supported; only zeros are"
            ));
        }
        let pads: Vec<i64> = match self.constant_input(node, 1, "pads")? {
            Some(v) => v.iter().map(|&p| p as i64).collect(),
            None => attr("pads").map(|a| a.ints.clone()).ok_or("needs pads")?,
        };
        if pads.iter().any(|&p| p < 0) {
            return Err(format!(
                "negative pads {pads:?} (cropping) are not supported"
            ));
        }
        Ok(vec![("pads".into(), Attribute::I64Array(pads))])
    }

    /// A `Pow` by a constant scalar exponent.
    pub(super) fn pow_attrs(&self, node: &NodeProto) -> Result<Vec<(String, Attribute)>, String> {
        let e = self
            .constant_input(node, 1, "exponent")?
            .ok_or("the exponent must be a constant")?;
        if e.len() != 1 {
            return Err("the exponent must be a scalar".into());
        }
        Ok(vec![("exponent".into(), Attribute::Float(e[0] as f64))])
    }
}

/// Float attributes copied under the same name, with their ONNX defaults.
pub(super) fn float_attrs(node: &NodeProto, keys: &[(&str, f32)]) -> Vec<(String, Attribute)> {
    keys.iter()
        .map(|&(k, default)| {
            let v = node
                .attribute
                .iter()
                .find(|a| a.name == k)
                .map_or(default, |a| a.f);
            (k.to_string(), Attribute::Float(v as f64))
        })
        .collect()
}

/// A `Gemm`'s transposes and scale factors.
pub(super) fn gemm_attrs(node: &NodeProto) -> Vec<(String, Attribute)> {
    let attr = |k: &str| node.attribute.iter().find(|a| a.name == k);
    let mut attrs = Vec::new();
    for (onnx, ours) in [("transA", "trans_a"), ("transB", "trans_b")] {
        if let Some(a) = attr(onnx) {
            attrs.push((ours.into(), Attribute::Bool(a.i != 0)));
        }
    }
    for k in ["alpha", "beta"] {
        if let Some(a) = attr(k) {
            attrs.push((k.into(), Attribute::Float(a.f as f64)));
        }
    }
    attrs
}

/// Shape-independent checks of Conv / AveragePool attributes, made before
/// tract sees the model so that a bad combination is reported for its node.
pub(super) fn check_spatial_attrs(node: &NodeProto, graph: &pb::GraphProto) -> Result<(), String> {
    let op = node.op_type.as_str();
    if !matches!(op, "Conv" | "AveragePool" | "MaxPool") {
        return Ok(());
    }
    for a in &node.attribute {
        let per_axis = match a.name.as_str() {
            "kernel_shape" | "strides" | "dilations" => 1,
            "pads" => 2,
            _ => continue,
        };
        if a.ints.len() != 2 * per_axis {
            return Err(if a.ints.len() % per_axis == 0 {
                format!(
                    "only 2-D {op} is supported, but attribute '{}' = {:?} describes a {}-D {op}",
                    a.name,
                    a.ints,
                    a.ints.len() / per_axis
                )
            } else {
                format!(
                    "attribute 'pads' = {:?} must have two entries per spatial axis",
                    a.ints
                )
            });
        }
    }
    let kernel_shape = node.attribute.iter().find(|a| a.name == "kernel_shape");
    let weight = node
        .input
        .get(1)
        .and_then(|w| graph.initializer.iter().find(|t| &t.name == w));
    if let (Some(k), Some(w), "Conv") = (kernel_shape, weight, op) {
        if w.dims.get(2..) != Some(&k.ints[..]) {
            return Err(format!(
                "kernel_shape {:?} does not match the weight shape {:?}",
                k.ints, w.dims
            ));
        }
    }
    if let Some(a) = node.attribute.iter().find(|a| a.name == "auto_pad") {
        let mode = String::from_utf8_lossy(&a.s);
        if !matches!(
            mode.as_ref(),
            "NOTSET" | "VALID" | "SAME_UPPER" | "SAME_LOWER"
        ) {
            return Err(format!(
                "auto_pad '{mode}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER"
            ));
        }
    }
    Ok(())
}

/// A two-entry spatial attribute (`strides`, `dilations`), 1 when absent.
fn pair_attr(node: &NodeProto, key: &str) -> Result<[usize; 2], String> {
    match node.attribute.iter().find(|a| a.name == key) {
        None => Ok([1, 1]),
        Some(a) if a.ints.len() == 2 && a.ints.iter().all(|&v| v >= 1) => {
            Ok([a.ints[0] as usize, a.ints[1] as usize])
        }
        Some(a) => Err(format!(
            "{key} must be 2 positive integers for a 2-D op, got {:?}",
            a.ints
        )),
    }
}

/// Explicit `[top, left, bottom, right]` pads from `pads` or `auto_pad`.
/// SAME_UPPER / SAME_LOWER give ceil(input / stride) outputs and put the odd
/// padding element at the end / the beginning, as ONNX specifies.
fn resolve_pads(
    node: &NodeProto,
    input: [usize; 2],
    kernel: [usize; 2],
    strides: [usize; 2],
    dilations: [usize; 2],
) -> Result<[usize; 4], String> {
    let attr = |k: &str| node.attribute.iter().find(|a| a.name == k);
    let auto_pad = attr("auto_pad")
        .map(|a| String::from_utf8_lossy(&a.s).into_owned())
        .unwrap_or_default();
    match auto_pad.as_str() {
        "" | "NOTSET" => match attr("pads") {
            None => Ok([0; 4]),
            Some(a) if a.ints.len() == 4 && a.ints.iter().all(|&p| p >= 0) => Ok([
                a.ints[0] as usize,
                a.ints[1] as usize,
                a.ints[2] as usize,
                a.ints[3] as usize,
            ]),
            Some(a) => Err(format!(
                "pads must be 4 non-negative integers [top, left, bottom, right], got {:?}",
                a.ints
            )),
        },
        "VALID" => Ok([0; 4]),
        mode @ ("SAME_UPPER" | "SAME_LOWER") => {
            let mut pads = [0; 4];
            for i in 0..2 {
                let out = input[i].div_ceil(strides[i]);
                let span = dilations[i] * (kernel[i] - 1) + 1;
                let total = ((out - 1) * strides[i] + span).saturating_sub(input[i]);
                let (small, large) = (total / 2, total - total / 2);
                (pads[i], pads[i + 2]) = if mode == "SAME_UPPER" {
                    (small, large)
                } else {
                    (large, small)
                };
            }
            Ok(pads)
        }
        other => Err(format!(
            "auto_pad '{other}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER"
        )),
    }
}
