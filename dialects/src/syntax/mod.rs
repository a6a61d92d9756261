//! The textual IR: a `logos` lexer, a `lalrpop` grammar, name resolution, and
//! a printer for two forms.
//!
//! Custom form (the default; readable):
//! ```text
//! module attributes {ckks.params = {log_n = 13}} {
//!   func.func @main(%input: tensor<1x784xf32>) -> tensor<1x128xf32> {
//!     %w = nn.constant {value = dense_resource<fc1_weight> : tensor<128x784xf32>} : tensor<128x784xf32>
//!     %0 = nn.gemm %input, %w {trans_b = true} : (tensor<1x784xf32>, tensor<128x784xf32>) -> tensor<1x128xf32> loc("/fc1/Gemm")
//!     %1 = nn.square %0 : tensor<1x128xf32>
//!     return %1 : tensor<1x128xf32>
//!   }
//! }
//! ```
//! Every op is `[%r1, %r2 =] dialect.op [%a, %b] [{attrs}] : TYPES [loc("name")]`
//! where TYPES is `T` when every operand and result has type `T`, else a
//! function type `(T1, T2) -> T3`.
//!
//! Generic form (`PrintOptions { generic: true }`): MLIR's generic syntax,
//! `%0 = "nn.gemm"(%input, %w) {trans_b = true} : (...) -> ...`, with
//! `"func.func"() <{function_type = ..., sym_name = "main"}> ({ ^bb0(...): ... })`
//! and `"builtin.module"() ({ ... }) {attrs} : () -> ()`, which upstream
//! `mlir-opt --allow-unregistered-dialect` reads unchanged.
//!
//! `parse_module` reads both forms and any mixture of them (a custom module
//! holding generic ops, `%0:2` result groups used as `%0#1`, ...), plus the
//! `{-# dialect_resources: { builtin: { ... } } #-}` section. Every error is a
//! `Diagnostic` at the `file:line:col` of the offending token.

pub mod ast;
pub mod lexer;
pub mod printer;
pub mod resolve;

lalrpop_util::lalrpop_mod!(
    #[allow(clippy::all, clippy::pedantic, unused)]
    grammar,
    "/syntax/grammar.rs"
);

use crate::diag::Diagnostic;
use crate::ir::Module;
use lalrpop_util::ParseError;
use lexer::{LexError, Lexer, Tok};
use resolve::LineIndex;

/// How to print a module.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PrintOptions {
    /// MLIR's generic op form instead of the custom one.
    pub generic: bool,
}

impl PrintOptions {
    pub fn generic() -> PrintOptions {
        PrintOptions { generic: true }
    }
}

/// Prints `m` in the custom form, or in the generic form if `opts.generic`.
pub fn print_module(m: &Module, opts: &PrintOptions) -> String {
    printer::print(m, opts.generic)
}

/// Parses a module written in the custom or generic form (or a mixture).
/// A file holding only `func.func`s is wrapped in a module, as MLIR does.
/// `file_name` is used in locations and diagnostics.
pub fn parse_module(src: &str, file_name: &str) -> Result<Module, Diagnostic> {
    let idx = LineIndex::new(src, file_name);
    let mut state = ast::ParseState::default();
    let file = grammar::FileParser::new()
        .parse(&mut state, Lexer::new(src))
        .map_err(|e| syntax_error(e, src, &idx))?;
    resolve::resolve(file, &idx, &state)
}

/// Tokens that start a type / an attribute value, summarised in messages.
const TYPE_START: &[&str] = &[
    "f32",
    "f64",
    "i1",
    "i32",
    "i64",
    "index",
    "tensor",
    "(",
    "dialect type",
];
const ATTR_START: &[&str] = &[
    "integer",
    "float",
    "hexadecimal integer",
    "true",
    "false",
    "string",
    "[",
    "array",
    "{",
    "dense",
    "dense_resource",
    "symbol",
    "quoted symbol",
    "unit",
];
/// Terminal names that describe a class of tokens (printed unquoted).
const DESCRIPTIVE: &[&str] = &[
    "identifier",
    "value name",
    "block label",
    "symbol",
    "quoted symbol",
    "dialect type",
    "attribute alias",
    "integer",
    "hexadecimal integer",
    "float",
    "tensor dimensions",
    "string",
    "type",
    "attribute value",
];

/// `'(', type or '{'` from LALRPOP's expected-terminal list.
fn describe_expected(expected: &[String]) -> String {
    let mut names: Vec<String> = expected
        .iter()
        .map(|e| {
            let e = e
                .strip_prefix('"')
                .and_then(|e| e.strip_suffix('"'))
                .unwrap_or(e);
            e.replace("\\\"", "\"")
        })
        .collect();
    let has_all = |names: &[String], set: &[&str]| set.iter().all(|s| names.iter().any(|n| n == s));
    let mut summary = None;
    if has_all(&names, ATTR_START) && has_all(&names, TYPE_START) {
        names.retain(|n| !ATTR_START.contains(&n.as_str()) && !TYPE_START.contains(&n.as_str()));
        summary = Some("attribute value");
    } else if has_all(&names, TYPE_START) {
        names.retain(|n| !TYPE_START.contains(&n.as_str()));
        summary = Some("type");
    }
    if let Some(s) = summary {
        names.insert(0, s.to_string());
    }
    let quoted: Vec<String> = names
        .iter()
        .map(|n| {
            if DESCRIPTIVE.contains(&n.as_str()) {
                n.clone()
            } else {
                format!("'{n}'")
            }
        })
        .collect();
    match quoted.as_slice() {
        [] => "something else".to_string(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// A token's text for a message, shortened if long.
fn snippet(text: &str) -> String {
    if text.chars().count() > 24 {
        let head: String = text.chars().take(20).collect();
        format!("{head}...")
    } else {
        text.to_string()
    }
}

fn syntax_error(
    e: ParseError<usize, Tok<'_>, LexError>,
    src: &str,
    idx: &LineIndex<'_>,
) -> Diagnostic {
    match e {
        ParseError::InvalidToken { location } => idx.error(location, "invalid token"),
        ParseError::UnrecognizedEof { location, expected } => idx.error(
            location,
            format!(
                "expected {}, found end of file",
                describe_expected(&expected)
            ),
        ),
        ParseError::UnrecognizedToken {
            token: (start, _, end),
            expected,
        } => idx.error(
            start,
            format!(
                "expected {}, found '{}'",
                describe_expected(&expected),
                snippet(&src[start..end])
            ),
        ),
        ParseError::ExtraToken {
            token: (start, _, end),
        } => idx.error(start, format!("unexpected '{}'", snippet(&src[start..end]))),
        ParseError::User { error } => idx.error(error.start, error.message),
    }
}
