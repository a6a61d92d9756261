//! The textual IR: both printed forms are fixed points of parse + print, the
//! forms convert into each other, and malformed input gives exact
//! `file:line:col: error: ...` diagnostics.

use orion_dialects::ir::{Attribute, ElemType, Location, Type};
use orion_dialects::{parse_module, print_module, Module, PrintOptions};
use std::path::{Path, PathBuf};

const CUSTOM: PrintOptions = PrintOptions { generic: false };
const GENERIC: PrintOptions = PrintOptions { generic: true };

fn inputs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/inputs");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "mlir"))
        .collect();
    v.sort();
    assert!(v.len() >= 5, "sample inputs are missing");
    v
}

fn parse(src: &str, name: &str) -> Module {
    parse_module(src, name).unwrap_or_else(|d| panic!("{d}"))
}

fn err(src: &str) -> String {
    match parse_module(src, "t.mlir") {
        Ok(_) => panic!("parsed without error:\n{src}"),
        Err(d) => d.to_string(),
    }
}

#[test]
fn samples_are_fixed_points_in_both_forms() {
    for path in inputs() {
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let src = std::fs::read_to_string(&path).unwrap();
        let m = parse(&src, &name);
        for opts in [CUSTOM, GENERIC] {
            let once = print_module(&m, &opts);
            let twice = print_module(&parse(&once, &name), &opts);
            assert_eq!(
                once, twice,
                "{name}: print -> parse -> print is not a fixed point ({opts:?})"
            );
        }
        // custom -> generic -> parse gives the same module text, and back.
        let custom = print_module(&m, &CUSTOM);
        let generic = print_module(&parse(&custom, &name), &GENERIC);
        assert_eq!(
            print_module(&parse(&generic, &name), &CUSTOM),
            custom,
            "{name}: generic -> custom"
        );
        assert_eq!(
            print_module(&m, &GENERIC),
            generic,
            "{name}: custom -> generic"
        );
    }
}

#[test]
fn printed_forms_snapshot() {
    for path in inputs() {
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let src = std::fs::read_to_string(&path).unwrap();
        let m = parse(&src, &name);
        insta::assert_snapshot!(format!("{name}.custom"), print_module(&m, &CUSTOM));
        insta::assert_snapshot!(format!("{name}.generic"), print_module(&m, &GENERIC));
    }
}

#[test]
fn mlp_sample_structure() {
    let src = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/inputs/nn_mlp.mlir"),
    )
    .unwrap();
    let m = parse(&src, "nn_mlp.mlir");
    let params = m.attr("ckks.params").unwrap();
    assert_eq!(params.dict_get("log_n"), Some(&Attribute::Int(13)));
    assert_eq!(
        params.dict_get("log_q"),
        Some(&Attribute::I64Array(vec![29, 26, 26]))
    );
    let f = m.main().unwrap();
    assert_eq!(f.arg_types(), vec![Type::f32_tensor(&[1, 16])]);
    assert_eq!(f.result_types(), vec![Type::f32_tensor(&[1, 4])]);
    assert_eq!(f.value_name(f.args[0]), Some("input"));
    let gemm = &f.body[2];
    assert_eq!(gemm.name, "nn.gemm");
    assert_eq!(gemm.attr("trans_b"), Some(&Attribute::Bool(true)));
    assert_eq!(
        gemm.loc,
        Location::NameAt {
            name: "/fc1/Gemm".into(),
            file: "nn_mlp.mlir".into(),
            line: 6,
            col: 5
        }
    );
    // numeric names are not kept as hints
    assert_eq!(f.value_name(gemm.result()), None);
    let matmul = &f.body[6];
    assert_eq!(matmul.attr("trans_b"), Some(&Attribute::Unit));
    assert_eq!(
        f.body[1].attr("value").unwrap(),
        &Attribute::Dense {
            ty: Type::f32_tensor(&[8]),
            values: vec![0.5, -0.25, 0.125, 0.0, 1.0, -1.0, 2.5e-3, -3.75]
        }
    );
    // splats are expanded
    match f.body[3].attr("var").unwrap() {
        Attribute::Dense { values, .. } => assert_eq!(values, &vec![1.0; 8]),
        a => panic!("{a}"),
    }
    let w = m.resource_f32(f.body[0].attr("value").unwrap()).unwrap();
    assert_eq!(w.len(), 128);
    assert_eq!(m.resources[0].alignment, 4);
    assert_eq!(
        f.loc,
        Location::File {
            file: "nn_mlp.mlir".into(),
            line: 3,
            col: 3
        }
    );
}

#[test]
fn attribute_values() {
    let src = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/inputs/attrs.mlir"),
    )
    .unwrap();
    let m = parse(&src, "attrs.mlir");
    let f = m.func("attrs").unwrap();
    let a = |op: usize, k: &str| f.body[op].attr(k).unwrap().clone();
    assert_eq!(a(0, "b"), Attribute::Int(-42));
    assert_eq!(a(0, "f"), Attribute::Int(i64::MAX));
    assert_eq!(a(1, "b"), Attribute::Float(-2.0e-5));
    assert_eq!(a(1, "d"), Attribute::Float(f64::INFINITY));
    assert_eq!(a(1, "e"), Attribute::Float(f64::NEG_INFINITY));
    assert!(a(1, "f").as_float().unwrap().is_nan());
    assert_eq!(a(1, "g"), Attribute::Float(3.0));
    assert_eq!(
        a(2, "c"),
        Attribute::String("tab\there \"quoted\" back\\slash\nnewline \x7F".into())
    );
    assert_eq!(a(2, "e"), Attribute::String("unicode: µ".into()));
    assert_eq!(a(3, "d"), Attribute::I64Array(vec![]));
    assert_eq!(a(4, "trans_b"), Attribute::Unit);
    assert_eq!(a(4, "c"), Attribute::Unit);
    assert_eq!(a(5, "g"), Attribute::Type(Type::tensor(&[], ElemType::F32)));
    assert_eq!(
        a(5, "h"),
        Attribute::Type(Type::tensor(&[0], ElemType::F32))
    );
    assert_eq!(
        a(5, "e"),
        Attribute::Type(Type::dialect(
            "ckks",
            "ct",
            vec![
                ("level".into(), Attribute::Int(3)),
                ("log_scale".into(), Attribute::Int(26))
            ]
        ))
    );
    assert_eq!(
        a(6, "h"),
        Attribute::Dense {
            ty: Type::f32_tensor(&[2]),
            values: vec![1.0, 2.0]
        }
    );
    assert_eq!(a(7, "c"), Attribute::SymbolRef("with space".into()));
    let two = &f.body[9];
    assert_eq!(two.results.len(), 2);
    assert_eq!(
        f.body[12].loc,
        Location::File {
            file: "model.onnx".into(),
            line: 12,
            col: 3
        }
    );
    assert_eq!(
        f.body[13].loc,
        Location::NameAt {
            name: "node".into(),
            file: "model.onnx".into(),
            line: 13,
            col: 5
        }
    );
    assert_eq!(
        f.body[14].loc,
        Location::File {
            file: "attrs.mlir".into(),
            line: 18,
            col: 5
        }
    );
    assert_eq!(m.resources.len(), 2);
    assert!(m.resources[1].data.is_empty());
}

#[test]
fn result_groups_and_block_args() {
    let src = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/inputs/generic.mlir"),
    )
    .unwrap();
    let m = parse(&src, "generic.mlir");
    let f = m.main().unwrap();
    assert_eq!(f.value_name(f.args[0]), Some("arg0"));
    let split = &f.body[1];
    let concat = &f.body[2];
    assert_eq!(concat.operands, vec![split.results[1], split.results[0]]);
    assert_eq!(
        m.attr("ckks.params").unwrap().dict_get("log_n"),
        Some(&Attribute::Int(13))
    );
    assert_eq!(m.funcs.len(), 2);
}

/// Value names cleared, only named locations kept.
fn without_names(m: &Module) -> String {
    let mut m = m.clone();
    for f in &mut m.funcs {
        f.loc = Location::Unknown;
        for v in &mut f.values {
            v.name = None;
        }
        for op in &mut f.body {
            op.loc = op
                .loc
                .name()
                .map_or(Location::Unknown, |n| Location::Name(n.into()));
        }
    }
    print_module(&m, &CUSTOM)
}

#[test]
fn reads_mlir_opt_output() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/inputs");
    let out = std::fs::read_to_string(dir.join("mlir_opt_output.mlir")).unwrap();
    let orig = std::fs::read_to_string(dir.join("pack_ckks.mlir")).unwrap();
    let m = parse(&out, "out.mlir");
    assert_eq!(
        without_names(&m),
        without_names(&parse(&orig, "pack_ckks.mlir"))
    );
    let main = m.main().unwrap();
    // `loc(#loc10)` with `#loc10 = loc("<stdin>":11:11)` after the module
    assert_eq!(
        main.body[0].loc,
        Location::File {
            file: "<stdin>".into(),
            line: 11,
            col: 11
        }
    );
    // `loc(#loc3)` with `#loc3 = loc("/conv1/Conv")`: the name, at the op's place
    let lt = &m.func("packed").unwrap().body[0];
    assert_eq!(
        lt.loc,
        Location::NameAt {
            name: "/conv1/Conv".into(),
            file: "out.mlir".into(),
            line: 9,
            col: 5
        }
    );
    assert_eq!(
        err("func.func @f() {\n  x.y : () -> () loc(#nope)\n  return\n}\n"),
        "t.mlir:2:22: error: undefined location alias '#nope'"
    );
}

#[test]
fn bare_func_is_wrapped_in_a_module() {
    let m = parse("func.func @f() {\n  return\n}\n", "t.mlir");
    assert_eq!(m.funcs.len(), 1);
    assert_eq!(
        print_module(&m, &CUSTOM),
        "module {\n  func.func @f() {\n    return\n  }\n}\n"
    );
    let empty = parse("", "t.mlir");
    assert_eq!(empty, Module::default());
    assert_eq!(print_module(&empty, &CUSTOM), "module {\n}\n");
    assert_eq!(
        parse(&print_module(&empty, &GENERIC), "t.mlir"),
        Module::default()
    );
}

#[test]
fn printer_names_values() {
    // Name hints are used when valid and free; others are numbered without
    // colliding with them.
    let mut m = Module::default();
    let mut f = orion_dialects::Func::new("main");
    let t = Type::f32_tensor(&[2]);
    let x = f.add_arg(t.clone(), Some("x".into()));
    let a = f.push_op(
        "nn.relu",
        vec![x],
        vec![],
        vec![t.clone()],
        Location::Unknown,
    )[0];
    f.values[a.0 as usize].name = Some("x".into()); // taken
    let b = f.push_op(
        "nn.relu",
        vec![a],
        vec![],
        vec![t.clone()],
        Location::Unknown,
    )[0];
    f.values[b.0 as usize].name = Some("not valid!".into());
    let c = f.push_op(
        "nn.relu",
        vec![b],
        vec![],
        vec![t.clone()],
        Location::Unknown,
    )[0];
    f.values[c.0 as usize].name = Some("7".into());
    let d = f.push_op(
        "nn.relu",
        vec![c],
        vec![],
        vec![t.clone()],
        Location::Name("/r".into()),
    )[0];
    f.values[d.0 as usize].name = Some("fc1.out".into());
    f.push_op("func.return", vec![d], vec![], vec![], Location::Unknown);
    m.funcs.push(f);
    let text = print_module(&m, &CUSTOM);
    assert_eq!(
        text,
        "module {
  func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
    %0 = nn.relu %x : tensor<2xf32>
    %1 = nn.relu %0 : tensor<2xf32>
    %2 = nn.relu %1 : tensor<2xf32>
    %fc1.out = nn.relu %2 : tensor<2xf32> loc(\"/r\")
    return %fc1.out : tensor<2xf32>
  }
}
"
    );
    assert_eq!(print_module(&parse(&text, "t.mlir"), &CUSTOM), text);
}

#[test]
fn custom_op_type_forms() {
    let src = "func.func @f(%a: f32, %b: i64) {
  %0 = x.same %a, %a : f32
  %1 = x.mixed %a, %b : (f32, i64) -> f32
  %2, %3 = x.two %a : (f32) -> (f32, i64)
  %4 = x.const : i64
  x.sink %a, %0 : f32
  x.none : () -> ()
  x.sink2 %b : (i64) -> ()
  %5 = x.fnval : () -> ((f32) -> f32)
  return
}
";
    let m = parse(src, "t.mlir");
    let out = print_module(&m, &CUSTOM);
    let body: Vec<&str> = out.lines().skip(2).take(9).map(str::trim).collect();
    assert_eq!(
        body,
        vec![
            "%0 = x.same %a, %a : f32",
            "%1 = x.mixed %a, %b : (f32, i64) -> f32",
            "%2, %3 = x.two %a : (f32) -> (f32, i64)",
            "%4 = x.const : i64",
            "x.sink %a, %0 : f32",
            "x.none : () -> ()",
            "x.sink2 %b : i64",
            "%5 = x.fnval : () -> ((f32) -> f32)",
            "return",
        ]
    );
    let gen = print_module(&m, &GENERIC);
    assert!(
        gen.contains("%2, %3 = \"x.two\"(%a) : (f32) -> (f32, i64)\n"),
        "{gen}"
    );
    assert!(
        gen.contains("\"x.sink\"(%a, %0) : (f32, f32) -> ()\n"),
        "{gen}"
    );
}

#[test]
fn ops_with_keyword_names_print_generic() {
    let mut m = Module::default();
    let mut f = orion_dialects::Func::new("f");
    f.push_op("tensor", vec![], vec![], vec![], Location::Unknown);
    f.push_op("no_dialect-op", vec![], vec![], vec![], Location::Unknown);
    f.push_op("func.return", vec![], vec![], vec![], Location::Unknown);
    m.funcs.push(f);
    let text = print_module(&m, &CUSTOM);
    assert!(
        text.contains(
            "    \"tensor\"() : () -> ()\n    \"no_dialect-op\"() : () -> ()\n    return\n"
        ),
        "{text}"
    );
    assert_eq!(print_module(&parse(&text, "t.mlir"), &CUSTOM), text);
}

// ---------------------------------------------------------------------------
// Diagnostics

#[test]
fn error_syntax() {
    assert_eq!(
        err("func.func @f(%a: f32) {\n  %0 = x.add %a %a : f32\n  return\n}\n"),
        "t.mlir:2:17: error: expected '{', ',' or ':', found '%a'"
    );
    assert_eq!(
        err("func.func @f(%a: f32) {\n  %0 = x.y %a : \n}\n"),
        "t.mlir:3:1: error: expected type, found '}'"
    );
    assert_eq!(
        err("module {\n  func.func @f() {\n    x.y {a = } : () -> ()\n"),
        "t.mlir:3:14: error: expected attribute value, found '}'"
    );
    assert_eq!(
        err("module {\n"),
        "t.mlir:1:9: error: expected '}', 'module', 'func.func', 'return', 'func.return', identifier, value name or string, found end of file"
    );
}

#[test]
fn error_undefined_value() {
    assert_eq!(
        err("func.func @f(%a: f32) -> f32 {\n  %0 = x.add %a, %b : f32\n  return %0 : f32\n}\n"),
        "t.mlir:2:18: error: use of undefined value '%b'"
    );
    // a use before the definition is undefined too
    assert_eq!(
        err("func.func @f(%a: f32) {\n  %0 = x.y %1 : f32\n  %1 = x.y %a : f32\n  return\n}\n"),
        "t.mlir:2:12: error: use of undefined value '%1'"
    );
    assert_eq!(
        err("func.func @f(%a: f32) {\n  %0:2 = x.y %a : (f32) -> (f32, f32)\n  x.z %0#2 : f32\n  return\n}\n"),
        "t.mlir:3:7: error: result number out of range in '%0#2'"
    );
}

#[test]
fn error_redefined_value() {
    assert_eq!(
        err("func.func @f(%a: f32) {\n  %x = x.y %a : f32\n  %x = x.y %a : f32\n  return\n}\n"),
        "t.mlir:3:3: error: redefinition of value '%x'"
    );
    assert_eq!(
        err("func.func @f(%a: f32, %a: f32) {\n  return\n}\n"),
        "t.mlir:1:23: error: redefinition of value '%a'"
    );
}

#[test]
fn error_missing_resource() {
    let src = "func.func @f() {\n  %w = nn.constant {value = dense_resource<fc9_weight> : tensor<2xf32>} : tensor<2xf32>\n  return\n}\n\n{-#\n  dialect_resources: {\n    builtin: {\n      fc1_weight: \"0x040000000000803F\"\n    }\n  }\n#-}\n";
    assert_eq!(
        err(src),
        "t.mlir:2:44: error: use of undefined resource 'fc9_weight'"
    );
    // no resource section at all
    assert_eq!(
        err("func.func @f() {\n  %w = nn.constant {value = dense_resource<w> : tensor<2xf32>} : tensor<2xf32>\n  return\n}\n"),
        "t.mlir:2:44: error: use of undefined resource 'w'"
    );
}

#[test]
fn error_operand_type_mismatch_generic() {
    let src = "\"builtin.module\"() ({\n  \"func.func\"() <{function_type = (tensor<2xf32>) -> (), sym_name = \"f\"}> ({\n  ^bb0(%x: tensor<2xf32>):\n    %0 = \"nn.relu\"(%x) : (tensor<3xf32>) -> tensor<3xf32>\n    \"func.return\"() : () -> ()\n  }) : () -> ()\n}) : () -> ()\n";
    assert_eq!(
        err(src),
        "t.mlir:4:20: error: use of value '%x' expects different type than prior uses: 'tensor<3xf32>' vs 'tensor<2xf32>'"
    );
    // the custom form checks the same
    assert_eq!(
        err("func.func @f(%a: f32, %b: i64) {\n  %0 = x.add %a, %b : f32\n  return\n}\n"),
        "t.mlir:2:18: error: use of value '%b' expects different type than prior uses: 'f32' vs 'i64'"
    );
}

#[test]
fn error_misc() {
    let cases: &[(&str, &str)] = &[
        ("func.func @f() {\n  x.y {s = \"abc} : () -> ()\n", "t.mlir:2:12: error: unterminated string literal"),
        ("func.func @f() {\n  x.y {s = \"a\\qb\"} : () -> ()\n  return\n}\n", "t.mlir:2:14: error: unknown escape in string literal"),
        ("func.func @f() {\n  x.y ? : () -> ()\n", "t.mlir:2:7: error: unexpected character '?'"),
        (
            "func.func @f() {\n  return\n}\n{-#\n  dialect_resources: {\n    builtin: {\n      w: \"0x04000000ZZ\"\n    }\n  }\n#-}\n",
            "t.mlir:7:10: error: resource 'w': bad hex digit",
        ),
        (
            "func.func @f() {\n  return\n}\n{-#\n  dialect_resources: {\n    builtin: {\n      w: \"0x0400000000F\"\n    }\n  }\n#-}\n",
            "t.mlir:7:10: error: resource 'w': malformed hex blob",
        ),
        (
            "func.func @f() {\n  return\n}\n{-#\n  dialect_resources: {\n    builtin: {\n      w: \"0x04000000\",\n      w: \"0x04000000\"\n    }\n  }\n#-}\n",
            "t.mlir:8:7: error: redefinition of resource 'w'",
        ),
        ("func.func @f() -> f32 {\n  %0 = x.y : f32\n  return\n}\n", "t.mlir:3:3: error: 'func.return' op has 0 operands, but enclosing function (@f) returns 1"),
        (
            "func.func @f(%a: f32) -> i64 {\n  return %a : f32\n}\n",
            "t.mlir:2:3: error: type of return operand 0 ('f32') doesn't match function result type ('i64') in function @f",
        ),
        ("func.func @f(%a: f32) {\n  %0, %1 = x.y %a : (f32) -> f32\n  return\n}\n", "t.mlir:2:3: error: operation defines 1 results but was provided 2 to bind"),
        ("func.func @f(%a: f32) {\n  %0 = x.y %a : (f32, f32) -> f32\n  return\n}\n", "t.mlir:2:17: error: expected 1 operand types but had 2"),
        ("func.func @f() {\n  x.y {a = 1, a = 2} : () -> ()\n  return\n}\n", "t.mlir:2:15: error: duplicate key 'a' in dictionary attribute"),
        (
            "func.func @f() {\n  x.y {a = dense<[1.0, 2.0]> : tensor<3xf32>} : () -> ()\n  return\n}\n",
            "t.mlir:2:12: error: elements literal does not match its type 'tensor<3xf32>'",
        ),
        ("func.func @f() {\n  x.y {a = 99999999999999999999} : () -> ()\n  return\n}\n", "t.mlir:2:12: error: integer constant '99999999999999999999' out of range"),
        ("func.func @f() {\n  x.y {a = !alias} : () -> ()\n  return\n}\n", "t.mlir:2:12: error: type aliases are not supported: '!alias'"),
        ("func.func @f() {\n  return\n  x.y : () -> ()\n}\n", "t.mlir:3:3: error: expected '}', ':', 'loc' or value name, found 'x.y'"),
        ("func.func @f() {\n  return\n}\nfunc.func @f() {\n  return\n}\n", "t.mlir:4:1: error: redefinition of symbol named 'f'"),
        ("module {\n}\nmodule {\n}\n", "t.mlir:1:1: error: a module must be the only top-level operation in a file"),
        ("x.y : () -> ()\n", "t.mlir:1:1: error: expected 'func.func' at module level, found 'x.y' op"),
        (
            "\"builtin.module\"() ({\n  \"func.func\"() <{function_type = (f32) -> (), sym_name = \"f\"}> ({\n    \"func.return\"() : () -> ()\n  }) : () -> ()\n}) : () -> ()\n",
            "t.mlir:2:66: error: entry block must have 1 arguments to match function signature",
        ),
        ("func.func @f() {\n  x.y {a = 1} : () -> () loc(callsite(\"a\"))\n  return\n}\n", "t.mlir:2:38: error: expected ')', found '('"),
        ("func.func @f() {\n  x.y {a = #foo} : () -> ()\n  return\n}\n", "t.mlir:2:12: error: expected attribute value, found '#foo'"),
    ];
    for (src, want) in cases {
        assert_eq!(&err(src), want, "for input:\n{src}");
    }
}

#[test]
fn never_panics_on_truncations() {
    // Every prefix of every sample either parses or gives a diagnostic.
    for path in inputs() {
        let src = std::fs::read_to_string(&path).unwrap();
        let mut cut = 0;
        while cut < src.len() {
            if src.is_char_boundary(cut) {
                let _ = parse_module(&src[..cut], "t.mlir");
            }
            cut += 7;
        }
    }
}

/// Random edits of the samples: every result is a module or a diagnostic,
/// never a panic. `ORION_FUZZ_ITERS` raises the count.
#[test]
fn never_panics_on_mutations() {
    const PIECES: &[&str] = &[
        "(",
        ")",
        "{",
        "}",
        "<",
        ">",
        "[",
        "]",
        ",",
        ":",
        "=",
        "->",
        "%0",
        "%0#1",
        "%x:2",
        "\"",
        "\\",
        "0x",
        "1x",
        "-",
        "#loc",
        "loc(",
        "dense<",
        "dense_resource<",
        "array<i64",
        "^bb0",
        "@",
        "!a.b<",
        "µ",
        "{-#",
        "#-}",
        "tensor<",
        "f32",
        "return",
        "func.func",
        "module",
        "\"func.func\"()",
        "999999999999999999999",
        "1.5e999",
        "unit",
        "\n",
    ];
    let iters: usize = std::env::var("ORION_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut rnd = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n.max(1) as u64) as usize
    };
    for path in inputs() {
        let src = std::fs::read_to_string(&path).unwrap();
        for _ in 0..iters {
            let mut s = src.clone();
            for _ in 0..1 + rnd(3) {
                let mut at = rnd(s.len() + 1);
                while !s.is_char_boundary(at) {
                    at -= 1;
                }
                match rnd(3) {
                    0 => {
                        let mut end = (at + rnd(12)).min(s.len());
                        while !s.is_char_boundary(end) {
                            end -= 1;
                        }
                        s.replace_range(at..end, "");
                    }
                    1 => s.insert_str(at, PIECES[rnd(PIECES.len())]),
                    _ => {
                        let mut end = (at + rnd(40)).min(s.len());
                        while !s.is_char_boundary(end) {
                            end -= 1;
                        }
                        let dup = s[at..end].to_string();
                        s.insert_str(at, &dup);
                    }
                }
            }
            if let Ok(m) = parse_module(&s, "fuzz.mlir") {
                // whatever parses also prints to a fixed point
                for opts in [CUSTOM, GENERIC] {
                    let text = print_module(&m, &opts);
                    match parse_module(&text, "again.mlir") {
                        Err(d) => panic!("printed form does not parse: {d}\n--- input ---\n{s}\n--- printed ---\n{text}"),
                        Ok(back) => assert_eq!(print_module(&back, &opts), text, "not a fixed point; input:\n{s}"),
                    }
                }
            }
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!(
        "func.func @f() {{\n  x.y {{a = {}1{}}} : () -> ()\n  return\n}}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert_eq!(
        err(&deep),
        "t.mlir:2:266: error: brackets nested more than 256 deep"
    );
    let huge = "func.func @f() {\n  x.y {a = dense<1.0> : tensor<100000x100000xf32>} : () -> ()\n  return\n}\n";
    assert_eq!(
        err(huge),
        "t.mlir:2:12: error: 'tensor<100000x100000xf32>' has too many elements for an inline elements literal"
    );
}

#[test]
fn large_blob_parses_fast() {
    // ~10 MB of hex in one resource; the blob is a single token.
    let n = 1_250_000usize;
    let values: Vec<f32> = (0..n).map(|i| (i % 1000) as f32 * 0.001).collect();
    let mut m = Module::default();
    let name = m.add_f32_resource("big.weight", &values);
    let mut f = orion_dialects::Func::new("main");
    let t = Type::f32_tensor(&[n]);
    let w = f.push_op(
        "nn.constant",
        vec![],
        vec![(
            "value".into(),
            Attribute::DenseResource {
                name,
                ty: t.clone(),
            },
        )],
        vec![t],
        Location::Unknown,
    )[0];
    f.push_op("func.return", vec![w], vec![], vec![], Location::Unknown);
    m.funcs.push(f);
    let text = print_module(&m, &CUSTOM);
    assert!(text.len() > 10_000_000);
    let start = std::time::Instant::now();
    let back = parse(&text, "big.mlir");
    let took = start.elapsed();
    eprintln!("parsed {} bytes in {took:?}", text.len());
    assert_eq!(back.resources[0].as_f32().unwrap(), values);
    // Generous for unoptimised builds; release takes a few tens of ms.
    assert!(took.as_secs_f64() < 5.0, "parsing 10 MB took {took:?}");
}
