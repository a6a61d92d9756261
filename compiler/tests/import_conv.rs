//! ONNX import of Conv, AveragePool, GlobalAveragePool and Sigmoid on small
//! models built in code: `auto_pad` becomes explicit pads, the imported `nn`
//! module computes what tract computes, and attribute combinations we do not
//! model are errors naming the node.

use orion_dialects::{Attribute, Module};
use tract_onnx::pb;

mod common;
use common::onnx_builder::{agreement, import, import_error, model, node, op_names, A};

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

/// Ops whose tract shape rules index the input's channel and spatial axes
/// without bounds checks (undefined behaviour on a low rank, found by the
/// fuzzer): a low-rank input is an error naming the node, never a crash.
#[test]
fn low_rank_inputs_of_spatial_ops_are_errors() {
    let cases = [
        (
            "/bn",
            model(
                &[16],
                &[("s", &[16]), ("b", &[16]), ("m", &[16]), ("v", &[16])],
                vec![node(
                    "BatchNormalization",
                    "/bn",
                    &["x", "s", "b", "m", "v"],
                    "y",
                    vec![],
                )],
            ),
        ),
        (
            "/conv",
            model(
                &[1, 16],
                &[("w", &[2, 1, 3])],
                vec![node("Conv", "/conv", &["x", "w"], "y", vec![])],
            ),
        ),
        (
            "/pool",
            model(
                &[16],
                &[],
                vec![node(
                    "AveragePool",
                    "/pool",
                    &["x"],
                    "y",
                    vec![("kernel_shape", A::Ints(&[2]))],
                )],
            ),
        ),
        (
            "/gap",
            model(
                &[16],
                &[],
                vec![node("GlobalAveragePool", "/gap", &["x"], "y", vec![])],
            ),
        ),
    ];
    for (name, proto) in cases.into_iter().rev() {
        let e = import_error(&proto);
        eprintln!("{name}: {e}");
        assert!(e.contains(name), "{name}: {e}");
    }
}

/// Squeeze, Unsqueeze and a Transpose that moves only axes of size 1 keep
/// the data's order: they import as reshapes and compute what tract does;
/// a Transpose that reorders data is refused, naming the node.
#[test]
fn relabellings_import_as_reshapes() {
    use tract_onnx::pb::tensor_proto::DataType;
    let axes = |name: &str, v: &[i64]| pb::TensorProto {
        name: name.into(),
        dims: vec![v.len() as i64],
        data_type: DataType::Int64 as i32,
        int64_data: v.to_vec(),
        ..Default::default()
    };
    let mut squeeze = model(
        &[1, 4, 1, 1],
        &[],
        vec![
            node("Squeeze", "/squeeze", &["x", "ax"], "s", vec![]),
            node("Unsqueeze", "/unsqueeze", &["s", "ax2"], "u", vec![]),
            node(
                "Transpose",
                "/transpose",
                &["u"],
                "y",
                vec![("perm", A::Ints(&[0, 2, 1]))],
            ),
        ],
    );
    let g = squeeze.graph.as_mut().unwrap();
    g.initializer.push(axes("ax", &[2, 3]));
    g.initializer.push(axes("ax2", &[1]));
    let m = import(&squeeze);
    let ops = op_names(&m);
    assert_eq!(
        ops,
        ["nn.reshape", "nn.reshape", "nn.reshape", "func.return"]
    );
    assert!(agreement(&squeeze, &m) < 1e-6);

    let reorder = model(
        &[1, 2, 3],
        &[],
        vec![node(
            "Transpose",
            "/transpose",
            &["x"],
            "y",
            vec![("perm", A::Ints(&[0, 2, 1]))],
        )],
    );
    let e = import_error(&reorder);
    assert!(
        e.contains("'/transpose' (Transpose)") && e.contains("reorders the data"),
        "{e}"
    );
}

/// 1-D convolutions and pools (Conv1d, depthwise with dilation, AvgPool1d,
/// a global pool after them) become the 2-D ops of height 1 and compute
/// what tract computes on the original 1-D graph.
#[test]
fn one_d_convolutions_and_pools_agree_with_tract() {
    let cases: Vec<(&str, pb::ModelProto, &str)> = vec![
        (
            "conv1d",
            model(
                &[1, 2, 16],
                &[("w", &[3, 2, 3]), ("b", &[3])],
                vec![node(
                    "Conv",
                    "/conv/Conv",
                    &["x", "w", "b"],
                    "y",
                    vec![
                        ("kernel_shape", A::Ints(&[3])),
                        ("pads", A::Ints(&[1, 1])),
                        ("strides", A::Ints(&[2])),
                    ],
                )],
            ),
            "nn.conv2d",
        ),
        (
            "conv1d without kernel_shape",
            model(
                &[1, 2, 16],
                &[("w", &[3, 2, 3])],
                vec![node("Conv", "/conv/Conv", &["x", "w"], "y", vec![])],
            ),
            "nn.conv2d",
        ),
        (
            "depthwise conv1d, dilated",
            model(
                &[1, 4, 12],
                &[("w", &[4, 1, 3])],
                vec![node(
                    "Conv",
                    "/dw/Conv",
                    &["x", "w"],
                    "y",
                    vec![
                        ("group", A::Int(4)),
                        ("dilations", A::Ints(&[2])),
                        ("pads", A::Ints(&[2, 2])),
                    ],
                )],
            ),
            "nn.conv2d",
        ),
        (
            "avgpool1d",
            model(
                &[1, 2, 12],
                &[],
                vec![node(
                    "AveragePool",
                    "/pool/AveragePool",
                    &["x"],
                    "y",
                    vec![("kernel_shape", A::Ints(&[2])), ("strides", A::Ints(&[2]))],
                )],
            ),
            "nn.avgpool",
        ),
        (
            "conv1d, relu, global pool",
            model(
                &[1, 2, 16],
                &[("w", &[3, 2, 3])],
                vec![
                    node("Conv", "/conv/Conv", &["x", "w"], "c", vec![]),
                    node("Relu", "/relu/Relu", &["c"], "r", vec![]),
                    node(
                        "GlobalAveragePool",
                        "/gap/GlobalAveragePool",
                        &["r"],
                        "y",
                        vec![],
                    ),
                ],
            ),
            "nn.global_avgpool",
        ),
    ];
    for (what, proto, op) in cases {
        let m = import(&proto);
        let ops = op_names(&m);
        assert!(ops.contains(&op), "{what}: {ops:?}");
        let err = agreement(&proto, &m);
        assert!(err < 1e-5, "{what}: nn vs tract {err:.2e}");
    }
}

/// A zero Pad before an average pool (or a conv) folds into its pads, the
/// pool then counting the padding: the same output as tract's of the
/// unfolded graph.
#[test]
fn zero_pads_fold_into_pools_and_convs() {
    use orion_compiler::passes::{canonicalize::Canonicalize, Pass};
    use tract_onnx::pb::tensor_proto::DataType;
    for (op, attrs, inits) in [
        (
            "AveragePool",
            vec![("kernel_shape", A::Ints(&[3, 3]))],
            Vec::<(&str, &[usize])>::new(),
        ),
        ("Conv", vec![], vec![("w", &[3usize, 2, 3, 3][..])]),
    ] {
        let inputs: &[&str] = if op == "Conv" { &["p", "w"] } else { &["p"] };
        let mut proto = model(
            &[1, 2, 6, 6],
            &inits,
            vec![
                node("Pad", "/pad/Pad", &["x", "pads"], "p", vec![]),
                node(op, "/op", inputs, "y", attrs),
            ],
        );
        proto
            .graph
            .as_mut()
            .unwrap()
            .initializer
            .push(pb::TensorProto {
                name: "pads".into(),
                dims: vec![8],
                data_type: DataType::Int64 as i32,
                int64_data: vec![0, 0, 1, 2, 0, 0, 1, 0],
                ..Default::default()
            });
        let mut m = import(&proto);
        let stats = Canonicalize.run(&mut m).unwrap();
        assert!(
            stats.contains(&("pads-folded".into(), 1)),
            "{op}: {stats:?}"
        );
        let ops = op_names(&m);
        assert!(!ops.contains(&"nn.pad"), "{op}: {ops:?}");
        let err = agreement(&proto, &m);
        assert!(err < 1e-5, "{op}: folded pad vs tract {err:.2e}");
    }
}

/// MaxPool (2x2 stride 2; 3x3 stride 2 with padding after a ReLU, as in
/// ResNet's stem) imports as `nn.maxpool`, computes what tract computes,
/// and `expand-maxpool` (one-hot depthwise views and a tree of `nn.max`)
/// computes it exactly too; padding an input that may be negative is
/// refused, naming the layer.
#[test]
fn maxpools_import_and_expand_exactly() {
    use orion_compiler::passes::{expand_maxpool::ExpandMaxpool, Pass};
    let plain = model(
        &[1, 2, 6, 6],
        &[],
        vec![node(
            "MaxPool",
            "/pool/MaxPool",
            &["x"],
            "y",
            vec![
                ("kernel_shape", A::Ints(&[2, 2])),
                ("strides", A::Ints(&[2, 2])),
            ],
        )],
    );
    let padded = model(
        &[1, 2, 7, 7],
        &[],
        vec![
            node("Relu", "/relu/Relu", &["x"], "r", vec![]),
            node(
                "MaxPool",
                "/pool/MaxPool",
                &["r"],
                "y",
                vec![
                    ("kernel_shape", A::Ints(&[3, 3])),
                    ("strides", A::Ints(&[2, 2])),
                    ("pads", A::Ints(&[1, 1, 1, 1])),
                ],
            ),
        ],
    );
    // An Inception block's pool branch: a padded pool of a concatenation
    // of ReLUs, after a pool of a ReLU (never negative either).
    let after_concat = model(
        &[1, 2, 8, 8],
        &[],
        vec![
            node("Relu", "/relu/Relu", &["x"], "r", vec![]),
            node(
                "MaxPool",
                "/pool1/MaxPool",
                &["r"],
                "p",
                vec![
                    ("kernel_shape", A::Ints(&[2, 2])),
                    ("strides", A::Ints(&[2, 2])),
                ],
            ),
            node(
                "Concat",
                "/cat",
                &["p", "p"],
                "c",
                vec![("axis", A::Int(1))],
            ),
            node(
                "MaxPool",
                "/pool2/MaxPool",
                &["c"],
                "y",
                vec![
                    ("kernel_shape", A::Ints(&[3, 3])),
                    ("pads", A::Ints(&[1, 1, 1, 1])),
                ],
            ),
        ],
    );
    for (what, proto, maxima) in [
        ("2x2", &plain, 3),
        ("3x3 padded", &padded, 8),
        ("padded after a concat", &after_concat, 11),
    ] {
        let m = import(proto);
        assert!(op_names(&m).contains(&"nn.maxpool"), "{what}");
        assert!(agreement(proto, &m) < 1e-6, "{what}: nn.maxpool vs tract");
        let mut expanded = m.clone();
        let stats = ExpandMaxpool.run(&mut expanded).unwrap();
        assert!(
            stats.contains(&("maxima".into(), maxima)),
            "{what}: {stats:?}"
        );
        assert!(!op_names(&expanded).contains(&"nn.maxpool"));
        assert!(
            agreement(proto, &expanded) < 1e-6,
            "{what}: expanded vs tract"
        );
    }
    let negative = model(
        &[1, 2, 7, 7],
        &[],
        vec![node(
            "MaxPool",
            "/pool/MaxPool",
            &["x"],
            "y",
            vec![
                ("kernel_shape", A::Ints(&[3, 3])),
                ("pads", A::Ints(&[1, 1, 1, 1])),
            ],
        )],
    );
    let mut m = import(&negative);
    let e = ExpandMaxpool.run(&mut m).unwrap_err().to_string();
    assert!(
        e.contains("/pool/MaxPool") && e.contains("may be negative"),
        "{e}"
    );
}

/// A Transpose whose `perm` is not a permutation, even in a shape
/// computation that tract evaluates, or a huge pooling window, is an error
/// naming the node (tract would grow without bound: fuzzer findings).
#[test]
fn transposes_must_permute() {
    let proto = model(
        &[1, 2, 3],
        &[],
        vec![node(
            "Transpose",
            "/bad/Transpose",
            &["x"],
            "y",
            vec![("perm", A::Ints(&[1, 1, 0]))],
        )],
    );
    let e = import_error(&proto);
    assert!(
        e.contains("'/bad/Transpose' (Transpose)") && e.contains("not a permutation"),
        "{e}"
    );
    // A window of 2^40 (tract allocated 24 GB for it), refused up front.
    let huge = model(
        &[1, 1, 8, 8],
        &[],
        vec![node(
            "MaxPool",
            "/huge/MaxPool",
            &["x"],
            "y",
            vec![("kernel_shape", A::Ints(&[1 << 40, 3]))],
        )],
    );
    let e = import_error(&huge);
    assert!(
        e.contains("'/huge/MaxPool'") && e.contains("kernel_shape"),
        "{e}"
    );
}

/// Concat along channels (three operands, a negative axis), along the
/// feature axis of a flattened tensor, and with the input itself imports
/// as `nn.concat` and computes what tract computes; an axis outside the
/// rank is an error naming the node.
#[test]
fn concats_import_and_agree_with_tract() {
    let conv = |name: &str, w: &str, out: &str| {
        node(
            "Conv",
            name,
            &["x", w],
            out,
            vec![("pads", A::Ints(&[1, 1, 1, 1]))],
        )
    };
    let cases = [
        (
            "three operands, axis -3",
            model(
                &[1, 2, 5, 5],
                &[("w1", &[3, 2, 3, 3]), ("w2", &[1, 2, 3, 3])],
                vec![
                    conv("/c1", "w1", "a"),
                    conv("/c2", "w2", "b"),
                    node("Relu", "/r", &["b"], "rb", vec![]),
                    node(
                        "Concat",
                        "/cat",
                        &["a", "x", "rb"],
                        "y",
                        vec![("axis", A::Int(-3))],
                    ),
                ],
            ),
            [1, 6, 5, 5],
        ),
        (
            "flattened features",
            model(
                &[1, 2, 5, 5],
                &[("w1", &[3, 2, 3, 3])],
                vec![
                    conv("/c1", "w1", "a"),
                    node("Flatten", "/fa", &["a"], "fa", vec![]),
                    node("Flatten", "/fx", &["x"], "fx", vec![]),
                    node(
                        "Concat",
                        "/cat",
                        &["fx", "fa"],
                        "y",
                        vec![("axis", A::Int(1))],
                    ),
                ],
            ),
            [1, 125, 1, 1],
        ),
    ];
    for (what, proto, shape) in cases {
        let m = import(&proto);
        assert!(op_names(&m).contains(&"nn.concat"), "{what}");
        let f = m.main().unwrap();
        let cat = f.body.iter().find(|o| o.name == "nn.concat").unwrap();
        let n: usize = f.ty(cat.result()).shape().unwrap().iter().product();
        assert_eq!(n, shape.iter().product::<usize>(), "{what}");
        let err = agreement(&proto, &m);
        assert!(err < 1e-6, "{what}: nn.concat vs tract {err:.2e}");
    }
    let bad = model(
        &[1, 2, 5, 5],
        &[],
        vec![node(
            "Concat",
            "/cat",
            &["x", "x"],
            "y",
            vec![("axis", A::Int(4))],
        )],
    );
    let e = import_error(&bad);
    assert!(e.contains("/cat"), "{e}");
}

/// A PRelu with a slope per channel after a convolution (PyTorch's
/// `nn.PReLU(C)`, slope [C, 1, 1]) imports as a ReLU and two 1x1
/// depthwise scalings and computes what tract computes; a slope that is
/// neither one value nor one per channel is an error naming the node.
#[test]
fn per_channel_prelu_after_a_conv_agrees_with_tract() {
    let proto = |slope: &'static [usize]| {
        model(
            &[1, 2, 5, 5],
            &[("w", &[3, 2, 3, 3]), ("slope", slope)],
            vec![
                node(
                    "Conv",
                    "/conv",
                    &["x", "w"],
                    "c",
                    vec![("pads", A::Ints(&[1, 1, 1, 1]))],
                ),
                node("PRelu", "/prelu", &["c", "slope"], "y", vec![]),
            ],
        )
    };
    let good = proto(&[3, 1, 1]);
    let m = import(&good);
    let ops = op_names(&m);
    assert_eq!(
        ops.iter().filter(|&&o| o == "nn.conv2d").count(),
        3,
        "{ops:?}"
    );
    assert!(
        ops.contains(&"nn.relu") && ops.contains(&"nn.add"),
        "{ops:?}"
    );
    let err = agreement(&good, &m);
    assert!(err < 1e-6, "per-channel PRelu vs tract {err:.2e}");
    let e = import_error(&proto(&[2, 1, 1]));
    assert!(e.contains("/prelu"), "{e}");
}

/// ReduceMean over the spatial axes, kept or not (`x.mean((2, 3))`,
/// `x.mean(-1)`, the opset-18 axes input), imports as an average pool over
/// them (a reshape when the axes go) and computes what tract computes; a
/// mean over the channels is an error naming the node.
#[test]
fn spatial_reduce_means_agree_with_tract() {
    use common::onnx_builder::model_at;
    let mean = |axes: &'static [i64], keepdims: i64| {
        model(
            &[1, 3, 4, 5],
            &[],
            vec![node(
                "ReduceMean",
                "/mean",
                &["x"],
                "y",
                vec![("axes", A::Ints(axes)), ("keepdims", A::Int(keepdims))],
            )],
        )
    };
    let axes_input = {
        let axes = pb::TensorProto {
            name: "axes".into(),
            dims: vec![1],
            data_type: tract_onnx::pb::tensor_proto::DataType::Int64 as i32,
            int64_data: vec![-2],
            ..Default::default()
        };
        model_at(
            18,
            &[1, 3, 4, 5],
            vec![axes],
            vec![node(
                "ReduceMean",
                "/mean",
                &["x", "axes"],
                "y",
                vec![("keepdims", A::Int(0))],
            )],
        )
    };
    for (what, proto) in [
        ("both axes, kept", mean(&[2, 3], 1)),
        ("both axes, dropped", mean(&[-1, -2], 0)),
        ("width, dropped", mean(&[-1], 0)),
        ("height, kept", mean(&[2], 1)),
        ("height from an axes input, dropped", axes_input),
    ] {
        let m = import(&proto);
        let err = agreement(&proto, &m);
        assert!(err < 1e-6, "{what}: vs tract {err:.2e}");
    }
    let e = import_error(&mean(&[1], 1));
    assert!(e.contains("/mean") && e.contains("spatial"), "{e}");
}

/// Branches that each end in the same ReLU and meet in a Concat (an
/// Inception block) keep one ReLU after canonicalize, on the sum of their
/// convs widened to the concatenation's channels, and compute what tract
/// computes; branches whose activations differ keep theirs and the concat.
#[test]
fn a_shared_activation_sinks_below_concat() {
    use orion_compiler::passes::{canonicalize::Canonicalize, Pass};
    let block = |second: &str| {
        model(
            &[1, 2, 5, 5],
            &[("w1", &[3, 2, 1, 1]), ("w2", &[2, 2, 3, 3])],
            vec![
                node("Conv", "/c1", &["x", "w1"], "a", vec![]),
                node(
                    "Conv",
                    "/c2",
                    &["x", "w2"],
                    "b",
                    vec![("pads", A::Ints(&[1, 1, 1, 1]))],
                ),
                node("Relu", "/r1", &["a"], "ra", vec![]),
                node(second, "/r2", &["b"], "rb", vec![]),
                node(
                    "Concat",
                    "/cat",
                    &["ra", "rb"],
                    "y",
                    vec![("axis", A::Int(1))],
                ),
            ],
        )
    };
    for (second, relus) in [("Relu", 1), ("Sigmoid", 1)] {
        let proto = block(second);
        let mut m = import(&proto);
        let stats = Canonicalize.run(&mut m).unwrap();
        let sunk = i64::from(second == "Relu");
        assert!(
            stats.contains(&("activations-sunk-below-concat".into(), sunk))
                && stats.contains(&("concats-fused-into-convs".into(), sunk)),
            "{second}: {stats:?}"
        );
        let ops = op_names(&m);
        assert_eq!(
            ops.iter().filter(|&&o| o == "nn.relu").count(),
            relus,
            "{second}: {ops:?}"
        );
        let err = agreement(&proto, &m);
        assert!(err < 1e-6, "{second}: vs tract {err:.2e}");
    }
}
