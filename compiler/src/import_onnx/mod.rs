//! ONNX -> `nn`: one `nn` op per ONNX node, shapes from tract's analysis,
//! weights into the module's resource section.
//!
//! ```text
//! Gemm(input, fc1.weight, fc1.bias) {transB = 1}     (ONNX node "/fc1/Gemm")
//!   =>
//! %w = nn.constant {value = dense_resource<fc1_weight> : tensor<128x784xf32>} : tensor<128x784xf32>
//! %b = nn.constant {value = dense_resource<fc1_bias> : tensor<128xf32>} : tensor<128xf32>
//! %0 = nn.gemm %input, %w, %b {trans_b = true} : (...) -> tensor<1x128xf32> loc("/fc1/Gemm")
//! ```
//!
//! Only the nodes that carry tensor data to the outputs are imported: the
//! shape arithmetic PyTorch emits in front of a `Reshape` (Shape, Gather,
//! Concat, ...) is folded by tract and the reshape takes its result type.

mod initializers;

use orion_dialects::ir::{Attribute, ElemType, Func, Location, Module, Op, Type, ValueId};
use orion_dialects::nn::conv::{Conv2dAttrs, PoolAttrs};
use orion_dialects::nn::infer_result_types;
use orion_dialects::Diagnostic;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use tract_onnx::pb::{self, NodeProto};
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid;

/// ONNX ops the importer maps, with the `nn` op each becomes.
const SUPPORTED: &[(&str, &str)] = &[
    ("Gemm", "nn.gemm"),
    ("MatMul", "nn.matmul"),
    ("Add", "nn.add"),
    ("Sub", "nn.sub"),
    ("Mul", "nn.mul"),
    ("Div", "nn.div"),
    ("Relu", "nn.relu"),
    ("LeakyRelu", "nn.leaky_relu"),
    // With one slope for all channels (PyTorch's default nn.PReLU()).
    ("PRelu", "nn.leaky_relu"),
    ("Clip", "nn.clip"),
    ("HardSigmoid", "nn.hard_sigmoid"),
    ("HardSwish", "nn.hard_swish"),
    ("Sigmoid", "nn.sigmoid"),
    ("Tanh", "nn.tanh"),
    ("Erf", "nn.erf"),
    ("Softplus", "nn.softplus"),
    ("Elu", "nn.elu"),
    ("Mish", "nn.mish"),
    ("Gelu", "nn.gelu"),
    ("Neg", "nn.neg"),
    // Comparisons and selection, for the guards exporters write around an
    // activation (softplus's `where(x > 20, x, softplus(x))`); only
    // `fuse-activations` makes them packable.
    ("Greater", "nn.greater"),
    ("Less", "nn.less"),
    ("Where", "nn.where"),
    ("Pow", "nn.pow"),
    ("Flatten", "nn.flatten"),
    ("Reshape", "nn.reshape"),
    ("BatchNormalization", "nn.batchnorm"),
    ("Conv", "nn.conv2d"),
    ("AveragePool", "nn.avgpool"),
    ("GlobalAveragePool", "nn.global_avgpool"),
    // Only over both spatial axes with keepdims, which is how PyTorch's
    // dynamo exporter writes a global average pool.
    ("ReduceMean", "nn.global_avgpool"),
    ("Constant", "nn.constant"),
    ("Identity", ""),
    ("Dropout", ""),
];

/// Inputs of a node that carry data (the rest are shapes or options).
fn data_inputs(node: &NodeProto) -> &[String] {
    let n = match node.op_type.as_str() {
        "Reshape" | "Pow" | "Dropout" | "ReduceMean" | "Clip" | "PRelu" => 1,
        _ => node.input.len(),
    };
    &node.input[..n.min(node.input.len())]
}

fn err(msg: impl Into<String>) -> Diagnostic {
    Diagnostic::new(Location::Unknown, msg)
}

fn node_err(node: &NodeProto, msg: impl std::fmt::Display) -> Diagnostic {
    Diagnostic::new(
        Location::Name(node_label(node)),
        format!("ONNX node '{}' ({}): {msg}", node_label(node), node.op_type),
    )
}

fn node_label(node: &NodeProto) -> String {
    if node.name.is_empty() {
        node.output.first().cloned().unwrap_or_default()
    } else {
        node.name.clone()
    }
}

/// Runs tract code that may panic on malformed models, turning a panic into
/// an error instead of a crash.
fn guarded<T>(what: &str, f: impl FnOnce() -> TractResult<T>) -> Result<T, Diagnostic> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    match out {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(err(format!("{what}: {e:#}"))),
        Err(_) => Err(err(format!(
            "{what}: tract failed on this model (malformed or unsupported content)"
        ))),
    }
}

/// Reads an ONNX file into an `nn`-level module.
pub fn import_onnx_file(path: &Path) -> Result<Module, Diagnostic> {
    let bytes =
        orion_dialects::files::read_regular(path, orion_dialects::files::MAX_INPUT_FILE_BYTES)
            .map_err(|e| err(format!("cannot read {e}")))?;
    let dir = path.parent().and_then(|d| d.to_str()).map(str::to_string);
    import_onnx_bytes(&bytes, dir.as_deref())
        .map_err(|d| Diagnostic::new(d.loc, format!("{}: {}", path.display(), d.message)))
}

/// Imports ONNX bytes; the module is verified (an input shape beyond the
/// IR's limits, say, is an error here, not in a later pass).
pub fn import_onnx_bytes(bytes: &[u8], model_dir: Option<&str>) -> Result<Module, Diagnostic> {
    let onnx = tract_onnx::onnx();
    let proto = guarded("not a valid ONNX model", || {
        onnx.proto_model_for_read(&mut &bytes[..])
    })?;
    let module = import_onnx_proto(&proto, model_dir)?;
    orion_dialects::verify::verify_module(&module)?;
    Ok(module)
}

/// Imports an already decoded ONNX model (tests build small ones in code).
pub fn import_onnx_proto(
    proto: &pb::ModelProto,
    model_dir: Option<&str>,
) -> Result<Module, Diagnostic> {
    let onnx = tract_onnx::onnx();
    let graph = proto
        .graph
        .as_ref()
        .ok_or_else(|| err("the ONNX model has no graph"))?;
    for t in &graph.initializer {
        initializers::check_initializer(t, model_dir).map_err(err)?;
    }
    for node in &graph.node {
        for t in node.attribute.iter().filter_map(|a| a.t.as_ref()) {
            initializers::check_initializer(t, model_dir).map_err(|m| node_err(node, m))?;
        }
    }
    let live = live_nodes(graph)?;
    check_supported(live.iter().map(|&i| &graph.node[i]))?;
    for node in live.iter().map(|&i| &graph.node[i]) {
        check_spatial_attrs(node, graph).map_err(|m| node_err(node, m))?;
    }
    let for_tract = without_batchnorm(proto);
    let mut parsed = guarded("tract could not load the ONNX model", || {
        onnx.parse(&for_tract, model_dir)
    })?;
    if !parsed.unresolved_inputs.is_empty() {
        return Err(err(format!(
            "unresolved graph inputs: {:?}",
            parsed.unresolved_inputs
        )));
    }
    guarded("shape inference failed", || {
        parsed.model.analyse(false)?;
        Ok(())
    })?;
    Importer {
        model: &parsed.model,
        outlets: &parsed.outlets_by_name,
        module: Module::default(),
        func: Func::new("main"),
        values: HashMap::new(),
    }
    .run(graph, &live)
}

/// What a user can do about an op the importer does not map.
fn unsupported_hint(op_type: &str) -> Option<&'static str> {
    Some(match op_type {
        "Softmax" | "LogSoftmax" => {
            "export the network without its final softmax and apply it to the decrypted logits \
             (it does not change the class)"
        }
        "MaxPool" => "not supported yet; AveragePool is",
        "Concat" => "not supported yet (only in shape computations, which tract folds)",
        "BatchNormalization" | "InstanceNormalization" | "LayerNormalization" => {
            "only BatchNormalization after a Conv or Gemm, folded into it, is supported"
        }
        _ => return None,
    })
}

/// Every live node of an op type the importer does not map, in one
/// error (node name, op type, and a hint where there is one).
fn check_supported<'a>(nodes: impl Iterator<Item = &'a NodeProto>) -> Result<(), Diagnostic> {
    let unsupported: Vec<&NodeProto> = nodes
        .filter(|node| {
            !SUPPORTED.iter().any(|(t, _)| *t == node.op_type)
                || !node.domain.is_empty() && node.domain != "ai.onnx"
        })
        .collect();
    let describe = |node: &NodeProto| {
        let op = if node.domain.is_empty() {
            node.op_type.clone()
        } else {
            format!("{}.{}", node.domain, node.op_type)
        };
        let hint = unsupported_hint(&op).map_or(String::new(), |h| format!(": {h}"));
        (op, hint)
    };
    match unsupported[..] {
        [] => Ok(()),
        [node] => {
            let (op, hint) = describe(node);
            Err(node_err(node, format!("unsupported op type '{op}'{hint}")))
        }
        [first, ..] => {
            let list: Vec<String> = unsupported
                .iter()
                .map(|n| {
                    let (op, hint) = describe(n);
                    format!("'{}' ({op}{hint})", node_label(n))
                })
                .collect();
            Err(Diagnostic::new(
                Location::Name(node_label(first)),
                format!(
                    "{} ONNX nodes have unsupported op types: {}",
                    unsupported.len(),
                    list.join(", ")
                ),
            ))
        }
    }
}

/// The model tract analyses: each `BatchNormalization` replaced by an
/// `Identity` of its input. tract's shape rules for it index the channel
/// axis without a bounds check (a rank-0 or rank-1 input is undefined
/// behaviour, a crash the fuzzer found); its result has the shape of its
/// input, and our own rules (`nn.batchnorm`) check its parameters.
fn without_batchnorm(proto: &pb::ModelProto) -> std::borrow::Cow<'_, pb::ModelProto> {
    let has_bn = |g: &pb::GraphProto| g.node.iter().any(|n| n.op_type == "BatchNormalization");
    if !proto.graph.as_ref().is_some_and(has_bn) {
        return std::borrow::Cow::Borrowed(proto);
    }
    let mut copy = proto.clone();
    for node in copy.graph.iter_mut().flat_map(|g| g.node.iter_mut()) {
        if node.op_type == "BatchNormalization" && node.domain.is_empty() {
            node.op_type = "Identity".into();
            node.input.truncate(1);
            node.output.truncate(1);
            node.attribute.clear();
        }
    }
    std::borrow::Cow::Owned(copy)
}

/// Indices of the nodes whose outputs reach a graph output through data
/// inputs, in graph order.
fn live_nodes(graph: &pb::GraphProto) -> Result<Vec<usize>, Diagnostic> {
    let producer: HashMap<&str, usize> = graph
        .node
        .iter()
        .enumerate()
        .flat_map(|(i, n)| n.output.iter().map(move |o| (o.as_str(), i)))
        .collect();
    let mut live = HashSet::new();
    let mut stack: Vec<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
    while let Some(name) = stack.pop() {
        if let Some(&i) = producer.get(name) {
            if live.insert(i) {
                stack.extend(data_inputs(&graph.node[i]).iter().map(String::as_str));
            }
        }
    }
    let mut live: Vec<usize> = live.into_iter().collect();
    live.sort_unstable();
    Ok(live)
}

struct Importer<'a> {
    model: &'a InferenceModel,
    outlets: &'a HashMap<String, OutletId>,
    module: Module,
    func: Func,
    values: HashMap<String, ValueId>,
}

impl Importer<'_> {
    fn run(mut self, graph: &pb::GraphProto, live: &[usize]) -> Result<Module, Diagnostic> {
        let initializers: HashSet<&str> =
            graph.initializer.iter().map(|t| t.name.as_str()).collect();
        for input in graph
            .input
            .iter()
            .filter(|i| !initializers.contains(i.name.as_str()))
        {
            let ty = self.tensor_type(&input.name).map_err(err)?;
            let v = self.func.add_arg(ty, Some(value_name(&input.name)));
            self.values.insert(input.name.clone(), v);
        }
        for node in live.iter().map(|&i| &graph.node[i]) {
            self.import_node(node).map_err(|m| node_err(node, m))?;
        }
        let mut outs = Vec::new();
        for o in &graph.output {
            outs.push(self.operand(&o.name).map_err(err)?);
        }
        self.func
            .push_op("func.return", outs, vec![], vec![], Location::Unknown);
        self.module.funcs.push(self.func);
        Ok(self.module)
    }

    fn fact(&self, name: &str) -> Result<&InferenceFact, String> {
        let outlet = self
            .outlets
            .get(name)
            .ok_or_else(|| format!("tensor '{name}' is unknown to tract"))?;
        self.model.outlet_fact(*outlet).map_err(|e| e.to_string())
    }

    fn tensor_type(&self, name: &str) -> Result<Type, String> {
        let fact = self.fact(name)?;
        let shape = fact
            .shape
            .as_concrete_finite()
            .ok()
            .flatten()
            .ok_or_else(|| format!("tensor '{name}' has no static shape ({fact:?}); export with fixed input shapes"))?;
        match fact.datum_type.concretize() {
            // Booleans (comparisons) are 1.0 / 0.0.
            Some(DatumType::F32) | Some(DatumType::Bool) | None => {
                Ok(Type::tensor(&shape, ElemType::F32))
            }
            Some(dt) => Err(format!(
                "tensor '{name}' has element type {dt:?}; only f32 data is supported"
            )),
        }
    }

    /// Shape of the NCHW input of a 2-D convolution or pooling node.
    fn spatial_input(&self, name: &str, what: &str) -> Result<Vec<usize>, String> {
        let shape = self
            .tensor_type(name)?
            .shape()
            .map(<[usize]>::to_vec)
            .unwrap_or_default();
        if shape.len() != 4 {
            return Err(format!(
                "only 2-D {what} on NCHW input is supported, but input '{name}' has shape {shape:?} (rank {}, a {}-D {what})",
                shape.len(),
                shape.len().saturating_sub(2)
            ));
        }
        Ok(shape)
    }

    /// A constant tensor's value, if tract knows it.
    fn constant(&self, name: &str) -> Option<Arc<Tensor>> {
        self.fact(name).ok()?.value.concretize()
    }

    /// The SSA value of an ONNX tensor; constants become `nn.constant` ops
    /// (once each) backed by a resource blob.
    fn operand(&mut self, name: &str) -> Result<ValueId, String> {
        if let Some(&v) = self.values.get(name) {
            return Ok(v);
        }
        let tensor = self.constant(name).ok_or_else(|| {
            format!("input '{name}' is neither computed by an imported node nor a constant")
        })?;
        let data = f32_values(&tensor).map_err(|e| format!("constant '{name}': {e}"))?;
        let ty = Type::f32_tensor(tensor.shape());
        let res = self.module.add_f32_resource(name, &data);
        let v = self.func.push_op(
            "nn.constant",
            vec![],
            vec![(
                "value".into(),
                Attribute::DenseResource {
                    name: res,
                    ty: ty.clone(),
                },
            )],
            vec![ty],
            Location::Name(name.to_string()),
        )[0];
        self.func.values[v.0 as usize].name = Some(value_name(name));
        self.values.insert(name.to_string(), v);
        Ok(v)
    }

    fn import_node(&mut self, node: &NodeProto) -> Result<(), String> {
        let out_name = node.output.first().ok_or("node has no output")?;
        let nn_name = SUPPORTED
            .iter()
            .find(|(t, _)| *t == node.op_type)
            .map(|(_, n)| *n)
            .unwrap_or("");
        let attr = |k: &str| node.attribute.iter().find(|a| a.name == k);
        let mut data: Vec<&String> = data_inputs(node).iter().filter(|s| !s.is_empty()).collect();
        let attrs = match node.op_type.as_str() {
            "Identity" | "Dropout" => {
                let v = self.operand(data[0])?;
                self.values.insert(out_name.clone(), v);
                return Ok(());
            }
            // Materialised lazily by `operand` when a node uses it.
            "Constant" => return Ok(()),
            "Gemm" => gemm_attrs(node),
            "Flatten" => vec![(
                "axis".into(),
                Attribute::Int(attr("axis").map_or(1, |a| a.i)),
            )],
            "BatchNormalization" => {
                data.truncate(5);
                vec![(
                    "epsilon".into(),
                    Attribute::Float(attr("epsilon").map_or(1e-5, |a| a.f) as f64),
                )]
            }
            "Conv" => self.conv_attrs(node, &data)?,
            "AveragePool" => self.avgpool_attrs(node, &data)?,
            "GlobalAveragePool" => {
                self.spatial_input(data[0], "GlobalAveragePool")?;
                Vec::new()
            }
            "ReduceMean" => {
                self.check_reduce_mean(node, &data)?;
                Vec::new()
            }
            "Pow" => self.pow_attrs(node)?,
            "LeakyRelu" => float_attrs(node, &[("alpha", 0.01)]),
            "HardSigmoid" => float_attrs(node, &[("alpha", 0.2), ("beta", 0.5)]),
            "Elu" => float_attrs(node, &[("alpha", 1.0)]),
            "Gelu" => match attr("approximate").map(|a| String::from_utf8_lossy(&a.s)) {
                None => Vec::new(),
                Some(mode) if mode == "none" || mode == "tanh" => {
                    vec![("approximate".into(), Attribute::String(mode.into_owned()))]
                }
                Some(mode) => {
                    return Err(format!("approximate = '{mode}' is not 'none' or 'tanh'"))
                }
            },
            "PRelu" => self.prelu_attrs(node)?,
            "Clip" => self.clip_attrs(node)?,
            _ => Vec::new(),
        };
        let operands = data
            .iter()
            .map(|n| self.operand(n))
            .collect::<Result<Vec<_>, _>>()?;
        let ty = self.tensor_type(out_name)?;
        // Our shape rules must agree with tract's analysis; a disagreement is
        // an attribute combination we do not model.
        let probe = Op {
            name: nn_name.into(),
            operands: operands.clone(),
            results: vec![],
            attrs: attrs.clone(),
            loc: Location::Unknown,
        };
        let operand_types: Vec<Type> = operands.iter().map(|&v| self.func.ty(v).clone()).collect();
        let ours = infer_result_types(&probe, &operand_types, std::slice::from_ref(&ty))?;
        if ours.first() != Some(&ty) {
            return Err(format!(
                "tract infers the result type {ty}, but the {nn_name} op gives {:?}",
                ours
            ));
        }
        let v = self.func.push_op(
            nn_name,
            operands,
            attrs,
            vec![ty],
            Location::Name(node_label(node)),
        )[0];
        self.values.insert(out_name.clone(), v);
        Ok(())
    }

    /// A `Conv`'s attributes, checked against its input and weight shapes.
    fn conv_attrs(
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
    fn avgpool_attrs(
        &self,
        node: &NodeProto,
        data: &[&String],
    ) -> Result<Vec<(String, Attribute)>, String> {
        let attr = |k: &str| node.attribute.iter().find(|a| a.name == k);
        let x = self.spatial_input(data[0], "AveragePool")?;
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

    /// A `ReduceMean` is imported only as a global average pool.
    fn check_reduce_mean(&self, node: &NodeProto, data: &[&String]) -> Result<(), String> {
        let attr = |k: &str| node.attribute.iter().find(|a| a.name == k);
        self.spatial_input(data[0], "ReduceMean")?;
        // Opset 18 moved `axes` from an attribute to an input.
        let axes: Vec<i64> = match (attr("axes"), node.input.get(1)) {
            (Some(a), _) => a.ints.clone(),
            (None, Some(n)) if !n.is_empty() => {
                let t = self.constant(n).ok_or("the axes must be a constant")?;
                f32_values(&t)?.iter().map(|&v| v as i64).collect()
            }
            _ => Vec::new(),
        };
        let mut axes: Vec<i64> = axes.iter().map(|&a| a.rem_euclid(4)).collect();
        axes.sort_unstable();
        let keepdims = attr("keepdims").map_or(1, |a| a.i);
        if axes != [2, 3] || keepdims != 1 {
            return Err(format!(
                "ReduceMean over axes {axes:?} with keepdims = {keepdims} is not supported; \
                 only a global average pool (axes [2, 3], keepdims = 1) is"
            ));
        }
        Ok(())
    }

    /// A `PRelu` whose slope is one number (for every channel): a leaky
    /// ReLU.
    fn prelu_attrs(&self, node: &NodeProto) -> Result<Vec<(String, Attribute)>, String> {
        let slope = node
            .input
            .get(1)
            .and_then(|n| self.constant(n))
            .ok_or("the slope must be a constant")?;
        let slope = f32_values(&slope)?;
        match slope.split_first() {
            Some((&a, rest)) if rest.iter().all(|&b| b == a) => {
                Ok(vec![("alpha".into(), Attribute::Float(a as f64))])
            }
            _ => Err(format!(
                "a slope per channel ({} values) is not supported yet; only one slope for all \
                 channels (nn.PReLU() with num_parameters = 1)",
                slope.len()
            )),
        }
    }

    /// A `Clip`'s bounds: attributes before opset 11, constant inputs since;
    /// an absent bound is no bound.
    fn clip_attrs(&self, node: &NodeProto) -> Result<Vec<(String, Attribute)>, String> {
        let mut attrs = Vec::new();
        for (i, key) in [(1, "min"), (2, "max")] {
            let bound = match node.input.get(i).filter(|n| !n.is_empty()) {
                Some(n) => {
                    let t = self
                        .constant(n)
                        .ok_or_else(|| format!("the {key} bound must be a constant"))?;
                    match f32_values(&t)?[..] {
                        [v] => Some(v),
                        _ => return Err(format!("the {key} bound must be a scalar")),
                    }
                }
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

    /// A `Pow` by a constant scalar exponent.
    fn pow_attrs(&self, node: &NodeProto) -> Result<Vec<(String, Attribute)>, String> {
        let e = node
            .input
            .get(1)
            .and_then(|n| self.constant(n))
            .ok_or("the exponent must be a constant")?;
        let e = f32_values(&e)?;
        if e.len() != 1 {
            return Err("the exponent must be a scalar".into());
        }
        Ok(vec![("exponent".into(), Attribute::Float(e[0] as f64))])
    }
}

/// Float attributes copied under the same name, with their ONNX defaults.
fn float_attrs(node: &NodeProto, keys: &[(&str, f32)]) -> Vec<(String, Attribute)> {
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
fn gemm_attrs(node: &NodeProto) -> Vec<(String, Attribute)> {
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
fn check_spatial_attrs(node: &NodeProto, graph: &pb::GraphProto) -> Result<(), String> {
    let op = node.op_type.as_str();
    if !matches!(op, "Conv" | "AveragePool") {
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

/// ONNX tensor names such as `/fc1/Gemm_output_0` as SSA name hints.
fn value_name(onnx: &str) -> String {
    let s: String = onnx
        .trim_start_matches('/')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("v{s}")
    } else {
        s
    }
}

fn f32_values(t: &Tensor) -> Result<Vec<f32>, String> {
    let t = t.cast_to::<f32>().map_err(|e| e.to_string())?;
    let view = t.to_plain_array_view::<f32>().map_err(|e| e.to_string())?;
    Ok(view.iter().copied().collect())
}
