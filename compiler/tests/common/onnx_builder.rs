//! Small ONNX models built in code, and tract's inference of them as the
//! reference: for import tests of op variants no exporter needs to write.

use orion_compiler::import_onnx::import_onnx_proto;
use orion_dialects::tensor::Tensor;
use orion_dialects::{nn, Module};
use tract_onnx::pb::{self, attribute_proto::AttributeType, tensor_proto::DataType};
use tract_onnx::prelude::*;

/// An attribute value.
pub enum A {
    Int(i64),
    Ints(&'static [i64]),
    Str(&'static str),
    Float(f32),
}

pub fn attr(name: &str, a: A) -> pb::AttributeProto {
    let mut p = pb::AttributeProto {
        name: name.into(),
        ..Default::default()
    };
    match a {
        A::Int(i) => {
            p.i = i;
            p.r#type = AttributeType::Int as i32;
        }
        A::Ints(v) => {
            p.ints = v.to_vec();
            p.r#type = AttributeType::Ints as i32;
        }
        A::Str(s) => {
            p.s = s.as_bytes().to_vec();
            p.r#type = AttributeType::String as i32;
        }
        A::Float(f) => {
            p.f = f;
            p.r#type = AttributeType::Float as i32;
        }
    }
    p
}

pub fn node(
    op: &str,
    name: &str,
    inputs: &[&str],
    output: &str,
    attrs: Vec<(&str, A)>,
) -> pb::NodeProto {
    pb::NodeProto {
        op_type: op.into(),
        name: name.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        attribute: attrs.into_iter().map(|(k, a)| attr(k, a)).collect(),
        ..Default::default()
    }
}

pub fn value_info(name: &str, shape: Option<&[usize]>) -> pb::ValueInfoProto {
    use pb::tensor_shape_proto::{dimension::Value, Dimension};
    let shape = shape.map(|s| pb::TensorShapeProto {
        dim: s
            .iter()
            .map(|&d| Dimension {
                value: Some(Value::DimValue(d as i64)),
                ..Default::default()
            })
            .collect(),
    });
    pb::ValueInfoProto {
        name: name.into(),
        r#type: Some(pb::TypeProto {
            value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                elem_type: DataType::Float as i32,
                shape,
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Deterministic values in [-1, 1).
pub fn values(seed: u64, n: usize) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E3779B97F4A7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// An f32 initializer with the given values.
pub fn init(name: &str, shape: &[usize], data: Vec<f32>) -> pb::TensorProto {
    pb::TensorProto {
        name: name.to_string(),
        dims: shape.iter().map(|&d| d as i64).collect(),
        data_type: DataType::Float as i32,
        float_data: data,
        ..Default::default()
    }
}

/// One graph input `x`, the initializers, the nodes, and one output `y`,
/// at ONNX opset `opset`.
pub fn model_at(
    opset: i64,
    x: &[usize],
    initializer: Vec<pb::TensorProto>,
    nodes: Vec<pb::NodeProto>,
) -> pb::ModelProto {
    pb::ModelProto {
        ir_version: 8,
        opset_import: vec![pb::OperatorSetIdProto {
            domain: String::new(),
            version: opset,
        }],
        graph: Some(pb::GraphProto {
            name: "g".into(),
            node: nodes,
            initializer,
            input: vec![value_info("x", Some(x))],
            output: vec![value_info("y", None)],
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// [`model_at`] opset 17 with random initializers of the given shapes.
pub fn model(x: &[usize], inits: &[(&str, &[usize])], nodes: Vec<pb::NodeProto>) -> pb::ModelProto {
    let initializer = inits
        .iter()
        .enumerate()
        .map(|(i, (name, shape))| init(name, shape, values(100 + i as u64, shape.iter().product())))
        .collect();
    model_at(17, x, initializer, nodes)
}

/// Imports and verifies `proto`, panicking with the diagnostic.
pub fn import(proto: &pb::ModelProto) -> Module {
    let m = import_onnx_proto(proto, None).unwrap_or_else(|d| panic!("{d}"));
    orion_dialects::verify::verify_module(&m).unwrap_or_else(|d| panic!("{d}"));
    m
}

/// The import error of `proto` (which must fail).
pub fn import_error(proto: &pb::ModelProto) -> String {
    match import_onnx_proto(proto, None) {
        Ok(_) => panic!("imported without error"),
        Err(d) => d.to_string(),
    }
}

/// The names of `@main`'s ops, in order.
pub fn op_names(module: &Module) -> Vec<&str> {
    module
        .main()
        .unwrap()
        .body
        .iter()
        .map(|o| o.name.as_str())
        .collect()
}

/// tract's output on `input`.
pub fn tract_output(proto: &pb::ModelProto, input: &Tensor) -> Tensor {
    let runnable = tract_onnx::onnx()
        .parse(proto, None)
        .unwrap()
        .model
        .into_optimized()
        .unwrap()
        .into_runnable()
        .unwrap();
    let data: Vec<f32> = input.data.iter().map(|&v| v as f32).collect();
    let x = tract_ndarray::ArrayD::from_shape_vec(input.shape.clone(), data)
        .unwrap()
        .into_tensor();
    let out = runnable.run(tvec!(x.into())).unwrap();
    let view = out[0].to_plain_array_view::<f32>().unwrap();
    Tensor::new(
        view.shape().to_vec(),
        view.iter().map(|&v| v as f64).collect(),
    )
}

/// max |nn - tract| / max |tract| on one random input.
pub fn agreement(proto: &pb::ModelProto, module: &Module) -> f64 {
    let shape = module.main().unwrap().arg_types()[0]
        .shape()
        .unwrap()
        .to_vec();
    let data = values(7, shape.iter().product());
    let input = Tensor::from_f32(&shape, &data);
    let reference = tract_output(proto, &input);
    let ours = &nn::interpret(module, &[input]).unwrap()[0];
    assert_eq!(ours.shape, reference.shape);
    ours.max_rel_diff(&reference)
}
