//! ONNX import of Conv, AveragePool, GlobalAveragePool and Sigmoid on small
//! models built in code: `auto_pad` becomes explicit pads, the imported `nn`
//! module computes what tract computes, and attribute combinations we do not
//! model are errors naming the node.

use orion_compiler::import_onnx::import_onnx_proto;
use orion_dialects::tensor::Tensor;
use orion_dialects::{nn, Attribute, Module};
use tract_onnx::pb::{self, attribute_proto::AttributeType, tensor_proto::DataType};
use tract_onnx::prelude::*;

enum A {
    Int(i64),
    Ints(&'static [i64]),
    Str(&'static str),
}

fn attr(name: &str, a: A) -> pb::AttributeProto {
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
    }
    p
}

fn node(
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

fn value_info(name: &str, shape: Option<&[usize]>) -> pb::ValueInfoProto {
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
fn values(seed: u64, n: usize) -> Vec<f32> {
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

/// One graph input `x`, the given initializers (random values), the nodes,
/// and one output `y`.
fn model(x: &[usize], inits: &[(&str, &[usize])], nodes: Vec<pb::NodeProto>) -> pb::ModelProto {
    let initializer = inits
        .iter()
        .enumerate()
        .map(|(i, (name, shape))| pb::TensorProto {
            name: name.to_string(),
            dims: shape.iter().map(|&d| d as i64).collect(),
            data_type: DataType::Float as i32,
            float_data: values(100 + i as u64, shape.iter().product()),
            ..Default::default()
        })
        .collect();
    pb::ModelProto {
        ir_version: 8,
        opset_import: vec![pb::OperatorSetIdProto {
            domain: String::new(),
            version: 17,
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

fn import(proto: &pb::ModelProto) -> Module {
    let m = import_onnx_proto(proto, None).unwrap_or_else(|d| panic!("{d}"));
    orion_dialects::verify::verify_module(&m).unwrap_or_else(|d| panic!("{d}"));
    m
}

fn import_error(proto: &pb::ModelProto) -> String {
    match import_onnx_proto(proto, None) {
        Ok(_) => panic!("imported without error"),
        Err(d) => d.to_string(),
    }
}

/// max |nn - tract| / max |tract| on one random input.
fn agreement(proto: &pb::ModelProto, module: &Module) -> f64 {
    let shape = module.main().unwrap().arg_types()[0]
        .shape()
        .unwrap()
        .to_vec();
    let data = values(7, shape.iter().product());
    let runnable = tract_onnx::onnx()
        .parse(proto, None)
        .unwrap()
        .model
        .into_optimized()
        .unwrap()
        .into_runnable()
        .unwrap();
    let input = tract_ndarray::ArrayD::from_shape_vec(shape.clone(), data.clone())
        .unwrap()
        .into_tensor();
    let out = runnable.run(tvec!(input.into())).unwrap();
    let view = out[0].to_plain_array_view::<f32>().unwrap();
    let reference = Tensor::new(
        view.shape().to_vec(),
        view.iter().map(|&v| v as f64).collect(),
    );
    let ours = &nn::interpret(module, &[Tensor::from_f32(&shape, &data)]).unwrap()[0];
    assert_eq!(ours.shape, reference.shape);
    ours.max_rel_diff(&reference)
}

fn op_attr(module: &Module, op: &str, key: &str) -> Vec<i64> {
    let f = module.main().unwrap();
    let o = f
        .body
        .iter()
        .find(|o| o.name == op)
        .unwrap_or_else(|| panic!("no {op}"));
    o.attr(key).and_then(Attribute::as_i64_list).unwrap()
}

#[test]
fn conv_variants_agree_with_tract() {
    let conv = |x: &[usize], w: &[usize], bias: bool, attrs: Vec<(&str, A)>| {
        let inputs: &[&str] = if bias { &["x", "w", "b"] } else { &["x", "w"] };
        let b = [w[0]];
        let mut inits: Vec<(&str, &[usize])> = vec![("w", w)];
        if bias {
            inits.push(("b", &b));
        }
        model(
            x,
            &inits,
            vec![node("Conv", "/conv/Conv", inputs, "y", attrs)],
        )
    };
    let cases: Vec<(&str, pb::ModelProto, [i64; 4])> = vec![
        (
            "SAME_UPPER, even kernel",
            conv(
                &[1, 2, 7, 7],
                &[3, 2, 4, 4],
                true,
                vec![("auto_pad", A::Str("SAME_UPPER"))],
            ),
            [1, 1, 2, 2],
        ),
        (
            "SAME_LOWER, even kernel",
            conv(
                &[1, 2, 7, 7],
                &[3, 2, 4, 4],
                true,
                vec![("auto_pad", A::Str("SAME_LOWER"))],
            ),
            [2, 2, 1, 1],
        ),
        (
            "SAME_UPPER, stride 2",
            conv(
                &[1, 2, 8, 7],
                &[3, 2, 3, 3],
                false,
                vec![
                    ("auto_pad", A::Str("SAME_UPPER")),
                    ("strides", A::Ints(&[2, 2])),
                ],
            ),
            [0, 1, 1, 1],
        ),
        (
            "VALID",
            conv(
                &[1, 2, 7, 7],
                &[3, 2, 3, 3],
                true,
                vec![("auto_pad", A::Str("VALID"))],
            ),
            [0, 0, 0, 0],
        ),
        (
            "asymmetric pads, stride 2, dilation 2",
            conv(
                &[1, 3, 9, 10],
                &[4, 3, 3, 2],
                true,
                vec![
                    ("pads", A::Ints(&[1, 0, 2, 3])),
                    ("strides", A::Ints(&[2, 1])),
                    ("dilations", A::Ints(&[2, 2])),
                    ("kernel_shape", A::Ints(&[3, 2])),
                ],
            ),
            [1, 0, 2, 3],
        ),
        (
            "groups 2",
            conv(
                &[1, 4, 6, 6],
                &[6, 2, 3, 3],
                true,
                vec![("group", A::Int(2)), ("pads", A::Ints(&[1, 1, 1, 1]))],
            ),
            [1, 1, 1, 1],
        ),
        (
            "depthwise",
            conv(
                &[1, 4, 6, 6],
                &[4, 1, 3, 3],
                true,
                vec![
                    ("group", A::Int(4)),
                    ("strides", A::Ints(&[2, 2])),
                    ("pads", A::Ints(&[1, 1, 1, 1])),
                ],
            ),
            [1, 1, 1, 1],
        ),
    ];
    for (what, proto, pads) in cases {
        let m = import(&proto);
        assert_eq!(op_attr(&m, "nn.conv2d", "pads"), pads, "{what}");
        let d = agreement(&proto, &m);
        eprintln!("{what}: nn vs tract {d:.2e}");
        assert!(d < 1e-5, "{what}: {d}");
    }
}

#[test]
fn pooling_and_sigmoid_agree_with_tract() {
    let pool = |attrs: Vec<(&str, A)>| {
        model(
            &[1, 3, 7, 6],
            &[],
            vec![
                node("AveragePool", "/pool/AveragePool", &["x"], "p", attrs),
                node("Sigmoid", "/act/Sigmoid", &["p"], "y", vec![]),
            ],
        )
    };
    for (what, proto) in [
        (
            "count_include_pad 0",
            pool(vec![
                ("kernel_shape", A::Ints(&[3, 3])),
                ("strides", A::Ints(&[2, 2])),
                ("pads", A::Ints(&[1, 1, 1, 1])),
            ]),
        ),
        (
            "count_include_pad 1, asymmetric pads",
            pool(vec![
                ("kernel_shape", A::Ints(&[3, 2])),
                ("pads", A::Ints(&[0, 1, 2, 0])),
                ("count_include_pad", A::Int(1)),
            ]),
        ),
        (
            "SAME_UPPER",
            pool(vec![
                ("kernel_shape", A::Ints(&[2, 2])),
                ("strides", A::Ints(&[2, 2])),
                ("auto_pad", A::Str("SAME_UPPER")),
            ]),
        ),
        (
            "ceil_mode 1 without a partial window",
            pool(vec![
                ("kernel_shape", A::Ints(&[3, 2])),
                ("strides", A::Ints(&[2, 2])),
                ("ceil_mode", A::Int(1)),
            ]),
        ),
    ] {
        let m = import(&proto);
        let d = agreement(&proto, &m);
        eprintln!("avgpool {what}: nn vs tract {d:.2e}");
        assert!(d < 1e-5, "{what}: {d}");
    }
    let proto = model(
        &[2, 3, 5, 4],
        &[],
        vec![node("GlobalAveragePool", "/gap", &["x"], "y", vec![])],
    );
    let m = import(&proto);
    assert!(agreement(&proto, &m) < 1e-6);
}

#[test]
fn unsupported_attribute_combinations_name_the_node() {
    let e = import_error(&model(
        &[1, 1, 7, 7],
        &[],
        vec![node(
            "AveragePool",
            "/pool1/AveragePool",
            &["x"],
            "y",
            vec![
                ("kernel_shape", A::Ints(&[2, 2])),
                ("strides", A::Ints(&[2, 2])),
                ("ceil_mode", A::Int(1)),
            ],
        )],
    ));
    eprintln!("{e}");
    assert!(
        e.contains("ONNX node '/pool1/AveragePool' (AveragePool): ceil_mode = 1 is not supported"),
        "{e}"
    );

    let e = import_error(&model(
        &[1, 1, 4, 4, 4],
        &[("w", &[2, 1, 2, 2, 2])],
        vec![node("Conv", "/conv3d/Conv", &["x", "w"], "y", vec![])],
    ));
    eprintln!("{e}");
    assert!(
        e.contains("ONNX node '/conv3d/Conv' (Conv): only 2-D Conv on NCHW input is supported"),
        "{e}"
    );
    assert!(e.contains("a 3-D Conv"), "{e}");

    let e = import_error(&model(
        &[1, 1, 4, 4, 4],
        &[("w", &[2, 1, 2, 2, 2])],
        vec![node(
            "Conv",
            "/conv3d/Conv",
            &["x", "w"],
            "y",
            vec![("kernel_shape", A::Ints(&[2, 2, 2]))],
        )],
    ));
    eprintln!("{e}");
    assert!(
        e.contains("'/conv3d/Conv' (Conv): only 2-D Conv is supported, but attribute 'kernel_shape' = [2, 2, 2] describes a 3-D Conv"),
        "{e}"
    );

    let e = import_error(&model(
        &[1, 1, 6, 6],
        &[("w", &[2, 1, 3, 3])],
        vec![node(
            "Conv",
            "/k/Conv",
            &["x", "w"],
            "y",
            vec![("kernel_shape", A::Ints(&[3, 2]))],
        )],
    ));
    eprintln!("{e}");
    assert!(
        e.contains("'/k/Conv'")
            && e.contains("kernel_shape [3, 2] does not match the weight shape [2, 1, 3, 3]"),
        "{e}"
    );

    let e = import_error(&model(
        &[1, 1, 6, 6],
        &[("w", &[2, 1, 3, 3])],
        vec![node(
            "Conv",
            "/c/Conv",
            &["x", "w"],
            "y",
            vec![
                ("kernel_shape", A::Ints(&[3, 3])),
                ("pads", A::Ints(&[1, 1])),
            ],
        )],
    ));
    eprintln!("{e}");
    assert!(
        e.contains("ONNX node '/c/Conv' (Conv)") && e.contains("pads"),
        "{e}"
    );

    let e = import_error(&model(
        &[1, 1, 6, 6],
        &[],
        vec![node(
            "AveragePool",
            "/p",
            &["x"],
            "y",
            vec![
                ("kernel_shape", A::Ints(&[2, 2])),
                ("auto_pad", A::Str("SAME_MIDDLE")),
            ],
        )],
    ));
    eprintln!("{e}");
    assert!(e.contains("'/p'") && e.contains("auto_pad"), "{e}");
}
