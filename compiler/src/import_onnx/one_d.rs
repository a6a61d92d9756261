//! 1-D convolutions and pools (time series, audio) as the 2-D ops of
//! height 1, rewritten in the ONNX graph before anything reads it: the
//! input gains an axis of size 1, the op becomes 2-D, and the result loses
//! the axis again. The reshapes import as `nn.reshape`, so packing,
//! bootstrapping and lowering see an ordinary 2-D network.
//!
//! ```text
//! y = Conv(x [N,C,L], w [M,C/g,k]) {kernel_shape = [k], strides = [s], pads = [b, e]}
//!   =>
//! x2 = Unsqueeze(x, axes = [2])                                   [N,C,1,L]
//! y2 = Conv(x2, w [M,C/g,1,k]) {kernel_shape = [1, k], strides = [1, s], pads = [0, b, 0, e]}
//! y  = Squeeze(y2, axes = [2])                                    [N,M,L']
//! ```
//!
//! A 1-D op is recognised by its attributes (`kernel_shape` of one entry)
//! or, without `kernel_shape`, by a rank of 3 that the graph tells without
//! shape inference (see `ranks`): a Conv's weight initializer or input, a
//! GlobalAveragePool's input. A weight that is not an initializer is left
//! alone (the 2-D import then says it must be 4-D).

use std::borrow::Cow;
use std::collections::HashMap;
use tract_onnx::pb::{self, tensor_proto::DataType, AttributeProto, NodeProto};

/// Ops rewritten when 1-D.
const SPATIAL: &[&str] = &["Conv", "AveragePool", "MaxPool", "GlobalAveragePool"];

/// The initializer holding `[2]`, the axis the rewrite adds (opset >= 13
/// takes Squeeze and Unsqueeze axes as an input).
const AXES: &str = "orion_1d_axis";

/// `proto` with every 1-D convolution and pool made 2-D (borrowed as is
/// when there is none).
pub(super) fn to_2d(proto: &pb::ModelProto) -> Cow<'_, pb::ModelProto> {
    let Some(graph) = proto.graph.as_ref() else {
        return Cow::Borrowed(proto);
    };
    let ranks = ranks(graph);
    let one_d: Vec<usize> = (0..graph.node.len())
        .filter(|&i| is_1d(&graph.node[i], &ranks))
        .collect();
    if one_d.is_empty() {
        return Cow::Borrowed(proto);
    }
    let opset = proto
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map_or(13, |o| o.version);
    let mut proto = proto.clone();
    let graph = proto.graph.as_mut().expect("checked above");
    let axes_as_input = opset >= 13;
    if axes_as_input {
        graph.initializer.push(pb::TensorProto {
            name: AXES.into(),
            dims: vec![1],
            data_type: DataType::Int64 as i32,
            int64_data: vec![2],
            ..Default::default()
        });
    }
    let mut uses: HashMap<String, usize> = HashMap::new();
    for input in graph.node.iter().flat_map(|n| &n.input) {
        *uses.entry(input.clone()).or_default() += 1;
    }
    let mut nodes = Vec::with_capacity(graph.node.len() + 2 * one_d.len());
    let old = std::mem::take(&mut graph.node);
    for (i, mut node) in old.into_iter().enumerate() {
        if !one_d.contains(&i) || node.input.is_empty() || node.output.is_empty() {
            nodes.push(node);
            continue;
        }
        let label = if node.name.is_empty() {
            node.output[0].clone()
        } else {
            node.name.clone()
        };
        let x = node.input[0].clone();
        let y = node.output[0].clone();
        let (x2, y2) = (format!("{y}__2d_input"), format!("{y}__2d"));
        nodes.push(reshape(
            "Unsqueeze",
            &format!("{label}/to_2d"),
            &x,
            &x2,
            axes_as_input,
        ));
        node.input[0] = x2;
        node.output[0] = y2.clone();
        widen_attributes(&mut node);
        if node.op_type == "Conv" {
            if let Some(w) = node.input.get(1).cloned() {
                let shared = uses.get(&w).copied().unwrap_or(0) > 1;
                widen_weight(graph, &mut node, &w, shared.then_some(i));
            }
        }
        nodes.push(node);
        nodes.push(reshape(
            "Squeeze",
            &format!("{label}/to_1d"),
            &y2,
            &y,
            axes_as_input,
        ));
    }
    graph.node = nodes;
    Cow::Owned(proto)
}

fn is_1d(node: &NodeProto, ranks: &HashMap<String, usize>) -> bool {
    if !SPATIAL.contains(&node.op_type.as_str()) || !node.domain.is_empty() {
        return false;
    }
    let rank = |i: usize| node.input.get(i).and_then(|n| ranks.get(n)).copied();
    if let Some(k) = node.attribute.iter().find(|a| a.name == "kernel_shape") {
        // An input of another known rank is left to the 2-D checks' error.
        return k.ints.len() == 1 && rank(0).is_none_or(|r| r == 3);
    }
    match node.op_type.as_str() {
        "Conv" => rank(1) == Some(3) || rank(0) == Some(3),
        "GlobalAveragePool" => rank(0) == Some(3),
        _ => false,
    }
}

/// The ranks of the tensors whose rank the graph tells without shape
/// inference: graph inputs, initializers, and what flows from them through
/// ops that keep the rank (convolutions, pools, element-wise ops) or set it
/// (Flatten, Gemm, MatMul of matrices).
fn ranks(graph: &pb::GraphProto) -> HashMap<String, usize> {
    let mut ranks: HashMap<String, usize> = HashMap::new();
    for v in &graph.input {
        if let Some(pb::type_proto::Value::TensorType(t)) =
            v.r#type.as_ref().and_then(|t| t.value.as_ref())
        {
            if let Some(shape) = &t.shape {
                ranks.insert(v.name.clone(), shape.dim.len());
            }
        }
    }
    for t in &graph.initializer {
        ranks.insert(t.name.clone(), t.dims.len());
    }
    for node in &graph.node {
        let first = node.input.first().and_then(|n| ranks.get(n)).copied();
        let rank = match node.op_type.as_str() {
            "Flatten" | "Gemm" => Some(2),
            "Conv" | "AveragePool" | "MaxPool" | "GlobalAveragePool" | "BatchNormalization"
            | "Relu" | "LeakyRelu" | "PRelu" | "Clip" | "Sigmoid" | "Tanh" | "Erf" | "Softplus"
            | "Elu" | "Mish" | "Gelu" | "HardSigmoid" | "HardSwish" | "Identity" | "Dropout" => {
                first
            }
            "Add" | "Sub" | "Mul" | "Div" => node
                .input
                .iter()
                .map(|n| ranks.get(n).copied())
                .collect::<Option<Vec<_>>>()
                .and_then(|r| r.into_iter().max()),
            _ => None,
        };
        if let (Some(r), Some(out)) = (rank, node.output.first()) {
            ranks.insert(out.clone(), r);
        }
    }
    ranks
}

/// Squeeze / Unsqueeze of axis 2.
fn reshape(op: &str, name: &str, input: &str, output: &str, axes_as_input: bool) -> NodeProto {
    let mut node = NodeProto {
        op_type: op.into(),
        name: name.into(),
        input: vec![input.into()],
        output: vec![output.into()],
        ..Default::default()
    };
    if axes_as_input {
        node.input.push(AXES.into());
    } else {
        node.attribute.push(AttributeProto {
            name: "axes".into(),
            ints: vec![2],
            r#type: pb::attribute_proto::AttributeType::Ints as i32,
            ..Default::default()
        });
    }
    node
}

/// Spatial attributes of one axis as two: height 1 in front.
fn widen_attributes(node: &mut NodeProto) {
    for a in &mut node.attribute {
        match a.name.as_str() {
            "kernel_shape" | "strides" | "dilations" if a.ints.len() == 1 => {
                a.ints.insert(0, 1);
            }
            "pads" if a.ints.len() == 2 => a.ints = vec![0, a.ints[0], 0, a.ints[1]],
            _ => {}
        }
    }
}

/// The weight initializer `name` as `[M, C/g, 1, k]`: reshaped in place,
/// or as a copy (named after node `copy_for`) when other nodes read it too.
fn widen_weight(
    graph: &mut pb::GraphProto,
    node: &mut NodeProto,
    name: &str,
    copy_for: Option<usize>,
) {
    let Some(at) = graph.initializer.iter().position(|t| t.name == name) else {
        return;
    };
    if graph.initializer[at].dims.len() != 3 {
        return;
    }
    // Declared shapes of the weight (dynamo's value_info, initializers
    // listed as graph inputs) would contradict the new one.
    if copy_for.is_none() {
        graph.value_info.retain(|v| v.name != name);
        graph.input.retain(|v| v.name != name);
    }
    let t = if let Some(i) = copy_for {
        let mut copy = graph.initializer[at].clone();
        copy.name = format!("{name}__2d_{i}");
        node.input[1] = copy.name.clone();
        graph.initializer.push(copy);
        graph.initializer.last_mut().expect("pushed")
    } else {
        &mut graph.initializer[at]
    };
    t.dims.insert(2, 1);
}
