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

mod attrs;

use attrs::{check_spatial_attrs, float_attrs, gemm_attrs};
mod initializers;
mod one_d;
mod prelu;
mod reduce_mean;

use orion_dialects::ir::{Attribute, ElemType, Func, Location, Module, Op, Type, ValueId};
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
    // With one slope for all channels (PyTorch's default nn.PReLU());
    // a slope per channel becomes a ReLU and two channel scalings (prelu.rs).
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
    // Relabellings of the same data order: reshapes.
    ("Squeeze", "nn.reshape"),
    ("Unsqueeze", "nn.reshape"),
    ("Transpose", "nn.reshape"),
    ("BatchNormalization", "nn.batchnorm"),
    ("Conv", "nn.conv2d"),
    ("AveragePool", "nn.avgpool"),
    ("MaxPool", "nn.maxpool"),
    // Zero padding; canonicalize folds it into the conv or pool it feeds.
    ("Pad", "nn.pad"),
    ("Concat", "nn.concat"),
    ("GlobalAveragePool", "nn.global_avgpool"),
    // Over spatial axes: an average pool over them (reduce_mean.rs).
    ("ReduceMean", "nn.avgpool"),
    ("Constant", "nn.constant"),
    // Only as the network's last op: left to the client (see
    // `orion_dialects::nn::client_output`).
    ("Softmax", ""),
    ("LogSoftmax", ""),
    ("Identity", ""),
    ("Dropout", ""),
];

/// Inputs of a node that carry data (the rest are shapes or options).
fn data_inputs(node: &NodeProto) -> &[String] {
    let n = match node.op_type.as_str() {
        "Reshape" | "Pow" | "Dropout" | "ReduceMean" | "Clip" | "PRelu" | "Squeeze"
        | "Unsqueeze" | "Pad" => 1,
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
    let proto = &*one_d::to_2d(proto);
    let graph = proto.graph.as_ref().expect("checked above");
    for node in &graph.node {
        for t in node.attribute.iter().filter_map(|a| a.t.as_ref()) {
            initializers::check_initializer(t, model_dir).map_err(|m| node_err(node, m))?;
        }
        check_before_tract(node).map_err(|m| node_err(node, m))?;
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
        graph_outputs: graph.output.iter().map(|o| o.name.clone()).collect(),
        outlets: &parsed.outlets_by_name,
        module: Module::default(),
        func: Func::new("main"),
        values: HashMap::new(),
    }
    .run(graph, &live)
}

/// Largest kernel, stride, dilation or pad per axis (the slots of a
/// ciphertext hold at most 2^17 values).
const MAX_WINDOW: i64 = 1 << 16;

/// Attributes that tract trusts and would loop or crash on, checked on every
/// node (shape computations included, which tract evaluates): a Transpose
/// whose `perm` is not a permutation makes tract's cycle decomposition grow
/// without bound, a huge window makes it allocate by the window (both
/// fuzzer findings).
fn check_before_tract(node: &NodeProto) -> Result<(), String> {
    // Window sizes tract allocates by (a kernel of 2^40 took 24 GB).
    for a in &node.attribute {
        if matches!(
            a.name.as_str(),
            "kernel_shape" | "strides" | "dilations" | "pads"
        ) && a.ints.iter().any(|&v| !(0..=MAX_WINDOW).contains(&v))
        {
            return Err(format!(
                "attribute '{}' = {:?} is outside 0..={MAX_WINDOW} per axis",
                a.name, a.ints
            ));
        }
    }
    if node.op_type == "Transpose" {
        if let Some(perm) = node.attribute.iter().find(|a| a.name == "perm") {
            let mut sorted = perm.ints.clone();
            sorted.sort_unstable();
            if sorted.iter().enumerate().any(|(i, &p)| p != i as i64) {
                return Err(format!(
                    "perm {:?} is not a permutation of the axes",
                    perm.ints
                ));
            }
        }
    }
    Ok(())
}

/// What a user can do about an op the importer does not map.
fn unsupported_hint(op_type: &str) -> Option<&'static str> {
    Some(match op_type {
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
    /// Names of the graph's outputs.
    graph_outputs: Vec<String>,
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
        let v = self.push_constant(
            name,
            &data,
            tensor.shape(),
            Location::Name(name.to_string()),
        );
        self.func.values[v.0 as usize].name = Some(value_name(name));
        self.values.insert(name.to_string(), v);
        Ok(v)
    }

    /// An `nn.constant` of `data` in `shape`, its blob a resource named
    /// after `hint`.
    fn push_constant(
        &mut self,
        hint: &str,
        data: &[f32],
        shape: &[usize],
        loc: Location,
    ) -> ValueId {
        let ty = Type::f32_tensor(shape);
        let res = self.module.add_f32_resource(hint, data);
        let value = Attribute::DenseResource {
            name: res,
            ty: ty.clone(),
        };
        self.func.push_op(
            "nn.constant",
            vec![],
            vec![("value".into(), value)],
            vec![ty],
            loc,
        )[0]
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
            "Softmax" | "LogSoftmax" => return self.client_output(node, data[0]),
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
            "MaxPool" => {
                let mut attrs = self.avgpool_attrs(node, &data)?;
                attrs.retain(|(k, _)| k != "count_include_pad");
                attrs
            }
            "GlobalAveragePool" => {
                self.spatial_input(data[0], "GlobalAveragePool")?;
                Vec::new()
            }
            "ReduceMean" => return self.reduce_mean(node, data[0]),
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
            "PRelu" => match self.prelu_attrs(node)? {
                attrs::PRelu::Uniform(attrs) => attrs,
                attrs::PRelu::PerChannel(slope) => return self.prelu_per_channel(node, &slope),
            },
            "Transpose" => {
                self.check_relabelling_transpose(node, data[0])?;
                Vec::new()
            }
            "Clip" => self.clip_attrs(node)?,
            "Pad" => self.pad_attrs(node)?,
            "Concat" => {
                let rank = self
                    .tensor_type(out_name)?
                    .shape()
                    .map_or(0, <[usize]>::len) as i64;
                let axis = attr("axis").ok_or("needs an 'axis' attribute")?.i;
                if !(-rank..rank).contains(&axis) {
                    return Err(format!("axis {axis} out of range for rank {rank}"));
                }
                vec![("axis".into(), Attribute::Int(axis.rem_euclid(rank)))]
            }
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
