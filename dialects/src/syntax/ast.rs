//! The syntax tree produced by the grammar: the op / func / module structure
//! with byte offsets, before SSA names are resolved.
//!
//! Attributes and types need no resolution, so the grammar builds them
//! directly as `ir::Attribute` / `ir::Type`; the literal helpers used by its
//! actions live here too.

use super::lexer::LexError;
use crate::ir::print::format_float;
use crate::ir::{Attribute, ElemType, Type};

/// A name as written (`%x`, `%0#1` without the `%`) with its byte offset.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Name<'a> {
    pub text: &'a str,
    pub pos: usize,
}

/// A result binding on the left of `=`: `%x` or `%x:2`.
#[derive(Clone, Debug, PartialEq)]
pub struct ResultDef<'a> {
    pub name: Name<'a>,
    /// `Some((n, offset of n))` for `%x:n`.
    pub count: Option<(i64, usize)>,
}

/// The types written after an op's `:`.
#[derive(Clone, Debug, PartialEq)]
pub enum OpTypes {
    /// `: T` (every operand and result has type `T`) or `: (T1) -> T2`.
    One(Type),
    /// `: T1, T2` after `return`.
    List(Vec<Type>),
    /// Nothing (`return` with no operands).
    None,
}

#[derive(Clone, Debug, PartialEq)]
pub enum LocAst {
    /// `loc("name")` or `loc("name"(child))`.
    Name(String, Option<Box<LocAst>>),
    /// `loc("file":3:4)`
    File(String, i64, i64),
    /// `loc(unknown)`
    Unknown,
    /// `loc(#loc3)`: a location alias and the offset of its use.
    Alias(String, usize),
}

#[derive(Clone, Debug, PartialEq)]
pub struct OpAst<'a> {
    /// Offset of the op's first token (its first result, else its name).
    pub pos: usize,
    pub results: Vec<ResultDef<'a>>,
    pub name: String,
    pub name_pos: usize,
    /// Written in the generic form (`"nn.gemm"(...)`).
    pub generic: bool,
    pub operands: Vec<Name<'a>>,
    /// `<{...}>` of the generic form.
    pub props: Vec<(String, Attribute)>,
    pub regions: Vec<Region<'a>>,
    pub attrs: Vec<(String, Attribute)>,
    pub types: OpTypes,
    pub types_pos: usize,
    pub loc: Option<LocAst>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BlockArg<'a> {
    pub name: Name<'a>,
    pub ty: Type,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Region<'a> {
    pub pos: usize,
    /// `^bb0(%a: T, ...):`, with the offset of `^bb0`.
    pub label: Option<(usize, Vec<BlockArg<'a>>)>,
    pub stmts: Vec<Stmt<'a>>,
}

/// `func.func @name(%a: T) -> R { ... }` in the custom form.
#[derive(Clone, Debug, PartialEq)]
pub struct FuncAst<'a> {
    pub pos: usize,
    pub name: String,
    pub args: Vec<BlockArg<'a>>,
    pub results: Vec<Type>,
    pub attrs: Option<(usize, Vec<(String, Attribute)>)>,
    pub body: Vec<Stmt<'a>>,
    pub loc: Option<LocAst>,
}

/// `module [attributes {...}] { ... }` in the custom form.
#[derive(Clone, Debug, PartialEq)]
pub struct ModuleAst<'a> {
    pub pos: usize,
    pub attrs: Vec<(String, Attribute)>,
    pub body: Vec<Stmt<'a>>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Stmt<'a> {
    Op(OpAst<'a>),
    Func(FuncAst<'a>),
    Module(ModuleAst<'a>),
}

impl Stmt<'_> {
    pub fn pos(&self) -> usize {
        match self {
            Stmt::Op(o) => o.pos,
            Stmt::Func(f) => f.pos,
            Stmt::Module(m) => m.pos,
        }
    }
}

/// `key: "0x..."` in the resource section; the blob stays a slice of the
/// source until it is decoded.
#[derive(Clone, Debug, PartialEq)]
pub struct MetaEntry<'a> {
    pub key: String,
    pub key_pos: usize,
    pub blob: &'a str,
    pub blob_pos: usize,
}

/// `builtin: { entries }`
#[derive(Clone, Debug, PartialEq)]
pub struct MetaGroup<'a> {
    pub key: String,
    pub key_pos: usize,
    pub entries: Vec<MetaEntry<'a>>,
}

/// `dialect_resources: { groups }`
#[derive(Clone, Debug, PartialEq)]
pub struct MetaSection<'a> {
    pub key: String,
    pub key_pos: usize,
    pub groups: Vec<MetaGroup<'a>>,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct FileAst<'a> {
    pub items: Vec<Stmt<'a>>,
    pub meta: Vec<MetaSection<'a>>,
}

/// What the grammar's actions record on the side.
#[derive(Clone, Debug, Default)]
pub struct ParseState {
    /// Every `dense_resource<name>` with the offset of `name`.
    pub resource_uses: Vec<(String, usize)>,
    /// `#loc3 = loc(...)` definitions with their offsets.
    pub loc_aliases: Vec<(String, LocAst, usize)>,
}

// ---------------------------------------------------------------------------
// Literals

/// A scalar inside `dense<...>`; its meaning depends on the element type.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Num {
    Int(i64),
    Float(f64),
    /// `0x...` bit pattern and its number of hex digits.
    Hex(u64, usize),
    Bool(bool),
}

/// The body of `dense<...>`.
#[derive(Clone, Debug, PartialEq)]
pub enum DenseLit<'a> {
    Scalar(Num),
    List(Vec<DenseLit<'a>>),
    /// `dense<"0x...">`: raw little-endian elements, with the string's offset.
    Hex(&'a str, usize),
}

fn err(start: usize, message: impl Into<String>) -> LexError {
    LexError {
        start,
        message: message.into(),
    }
}

/// Resolves MLIR string escapes: `\"`, `\\`, `\n`, `\t` and `\XX` (hex byte).
pub fn unescape(raw: &str, pos: usize) -> Result<String, LexError> {
    if !raw.contains('\\') {
        return Ok(raw.to_string());
    }
    let b = raw.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        // `pos` is the offset of the opening quote; the text starts after it.
        let at = pos + 1 + i;
        let c = b.get(i + 1).copied();
        match c {
            Some(b'"') | Some(b'\\') => out.push(c.unwrap()),
            Some(b'n') => out.push(b'\n'),
            Some(b't') => out.push(b'\t'),
            Some(h) if h.is_ascii_hexdigit() => {
                let l = b.get(i + 2).copied().filter(u8::is_ascii_hexdigit);
                let Some(l) = l else {
                    return Err(err(at, "invalid escape sequence in string literal"));
                };
                out.push((hex_val(h) << 4) | hex_val(l));
                i += 1;
            }
            _ => return Err(err(at, "unknown escape in string literal")),
        }
        i += 2;
    }
    String::from_utf8(out).map_err(|_| err(pos, "string literal is not valid UTF-8"))
}

pub fn hex_val(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

pub fn parse_int(s: &str, pos: usize) -> Result<i64, LexError> {
    s.parse::<i64>()
        .map_err(|_| err(pos, format!("integer constant '{s}' out of range")))
}

pub fn parse_float(s: &str, pos: usize) -> Result<f64, LexError> {
    s.parse::<f64>()
        .map_err(|_| err(pos, format!("invalid floating point literal '{s}'")))
}

pub fn parse_hex(s: &str, pos: usize) -> Result<(u64, usize), LexError> {
    let digits = &s[2..];
    if digits.len() > 16 {
        return Err(err(pos, format!("hexadecimal constant '{s}' out of range")));
    }
    u64::from_str_radix(digits, 16)
        .map(|v| (v, digits.len()))
        .map_err(|_| err(pos, format!("invalid hexadecimal constant '{s}'")))
}

/// The float a hexadecimal bit pattern stands for in a value of type `elem`:
/// an `f32` pattern has at most 8 digits (longer ones are read as `f64` bits,
/// which is what `format_float` writes).
pub fn hex_to_float(bits: u64, digits: usize, elem: ElemType, pos: usize) -> Result<f64, LexError> {
    match elem {
        ElemType::F32 if digits <= 8 => Ok(f32::from_bits(bits as u32) as f64),
        ElemType::F32 | ElemType::F64 => Ok(f64::from_bits(bits)),
        e => Err(err(
            pos,
            format!(
                "hexadecimal float literal for non-float type {}",
                e.keyword()
            ),
        )),
    }
}

/// `tensor<DIMSxELEM>`; `dims` is the `1x784x` token (or none for rank 0).
pub fn tensor_type(dims: Option<&str>, elem: ElemType, pos: usize) -> Result<Type, LexError> {
    let mut shape = Vec::new();
    if let Some(d) = dims {
        for part in d.split('x').filter(|p| !p.is_empty()) {
            shape.push(
                part.parse::<usize>()
                    .map_err(|_| err(pos, format!("tensor dimension '{part}' out of range")))?,
            );
        }
    }
    Ok(Type::Tensor { shape, elem })
}

/// `tensor<0xf32>`: the lexer sees the hexadecimal integer `0xf32`.
pub fn tensor_from_hex(text: &str, pos: usize) -> Result<Type, LexError> {
    match text {
        "0xf32" => Ok(Type::tensor(&[0], ElemType::F32)),
        "0xf64" => Ok(Type::tensor(&[0], ElemType::F64)),
        _ => Err(err(
            pos,
            format!("expected a tensor shape and element type, found '{text}'"),
        )),
    }
}

/// `!dialect.name<params>`
pub fn dialect_type(
    full: &str,
    params: Vec<(String, Attribute)>,
    pos: usize,
) -> Result<Type, LexError> {
    match full.split_once('.') {
        Some((d, n)) if !d.is_empty() && !n.is_empty() => Ok(Type::dialect(d, n, params)),
        _ => Err(err(
            pos,
            format!("type aliases are not supported: '!{full}'"),
        )),
    }
}

/// `42 : T`
pub fn typed_int(v: i64, ty: Type, pos: usize) -> Result<Attribute, LexError> {
    match ty {
        Type::Scalar(e) if e.is_float() => Ok(Attribute::Float(v as f64)),
        Type::Scalar(_) => Ok(Attribute::Int(v)),
        t => Err(err(
            pos,
            format!("integer literal of non-scalar type '{t}'"),
        )),
    }
}

/// `1.5 : T`
pub fn typed_float(v: f64, ty: Type, pos: usize) -> Result<Attribute, LexError> {
    match ty {
        Type::Scalar(e) if e.is_float() => Ok(Attribute::Float(v)),
        t => Err(err(
            pos,
            format!("floating point literal of non-float type '{t}'"),
        )),
    }
}

/// `0x7FF0000000000000 [: T]`
pub fn typed_hex(v: (u64, usize), ty: Option<Type>, pos: usize) -> Result<Attribute, LexError> {
    match ty {
        None => Ok(Attribute::Float(hex_to_float(
            v.0,
            v.1,
            ElemType::F64,
            pos,
        )?)),
        Some(Type::Scalar(e)) if e.is_float() => {
            Ok(Attribute::Float(hex_to_float(v.0, v.1, e, pos)?))
        }
        Some(Type::Scalar(_)) => Ok(Attribute::Int(v.0 as i64)),
        Some(t) => Err(err(
            pos,
            format!("hexadecimal literal of non-scalar type '{t}'"),
        )),
    }
}

/// An element of `array<f64: ...>`.
pub fn f64_elem(n: Num, pos: usize) -> Result<f64, LexError> {
    match n {
        Num::Int(v) => Ok(v as f64),
        Num::Float(v) => Ok(v),
        Num::Hex(b, d) => hex_to_float(b, d, ElemType::F64, pos),
        Num::Bool(b) => Ok(b as i64 as f64),
    }
}

/// Dictionary entries, refusing duplicate keys.
pub fn dict(
    entries: Vec<(String, Attribute, usize)>,
) -> Result<Vec<(String, Attribute)>, LexError> {
    let mut out: Vec<(String, Attribute)> = Vec::with_capacity(entries.len());
    for (k, v, pos) in entries {
        if out.iter().any(|(o, _)| *o == k) {
            return Err(err(
                pos,
                format!("duplicate key '{k}' in dictionary attribute"),
            ));
        }
        out.push((k, v));
    }
    Ok(out)
}

/// Largest `dense<...>` accepted: a splat is expanded into this many values.
pub const MAX_DENSE_ELEMENTS: usize = 1 << 24;

/// `dense<body> : ty`, flattened row-major; a scalar body is a splat.
pub fn dense(body: DenseLit<'_>, ty: Type, pos: usize) -> Result<Attribute, LexError> {
    let (shape, elem) = match &ty {
        Type::Tensor { shape, elem } => (shape.clone(), *elem),
        t => {
            return Err(err(
                pos,
                format!("elements literal must be a tensor type, got '{t}'"),
            ))
        }
    };
    let n = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= MAX_DENSE_ELEMENTS)
        .ok_or_else(|| {
            err(
                pos,
                format!("'{ty}' has too many elements for an inline elements literal"),
            )
        })?;
    let mut values = Vec::with_capacity(n.min(1 << 20));
    match body {
        DenseLit::Scalar(x) => {
            let v = num_value(x, elem, pos)?;
            values.resize(n, v);
        }
        DenseLit::Hex(s, hpos) => {
            values = dense_hex(s, elem, n, hpos)?;
        }
        list @ DenseLit::List(_) => {
            flatten(&list, &shape, elem, pos, &mut values).map_err(|()| {
                err(
                    pos,
                    format!("elements literal does not match its type '{ty}'"),
                )
            })??;
        }
    }
    Ok(Attribute::Dense { ty, values })
}

fn num_value(x: Num, elem: ElemType, pos: usize) -> Result<f64, LexError> {
    match x {
        Num::Int(v) => Ok(v as f64),
        Num::Float(v) if elem.is_float() => Ok(v),
        Num::Float(v) => Err(err(
            pos,
            format!(
                "floating point value {} in an elements literal of type {}",
                format_float(v),
                elem.keyword()
            ),
        )),
        Num::Hex(b, d) if elem.is_float() => hex_to_float(b, d, elem, pos),
        Num::Hex(b, _) => Ok(b as i64 as f64),
        Num::Bool(b) => Ok(b as i64 as f64),
    }
}

/// Shape mismatches are `Err(())`; bad values are `Ok(Err(..))`.
fn flatten(
    lit: &DenseLit<'_>,
    shape: &[usize],
    elem: ElemType,
    pos: usize,
    out: &mut Vec<f64>,
) -> Result<Result<(), LexError>, ()> {
    match (lit, shape.split_first()) {
        (DenseLit::Scalar(x), None) => Ok(num_value(*x, elem, pos).map(|v| out.push(v))),
        (DenseLit::List(items), Some((&d, rest))) if items.len() == d => {
            for it in items {
                if let Err(e) = flatten(it, rest, elem, pos, out)? {
                    return Ok(Err(e));
                }
            }
            Ok(Ok(()))
        }
        _ => Err(()),
    }
}

fn dense_hex(s: &str, elem: ElemType, n: usize, pos: usize) -> Result<Vec<f64>, LexError> {
    let bytes =
        decode_hex(s).ok_or_else(|| err(pos, "malformed hex string in elements literal"))?;
    let size = match elem {
        ElemType::I1 => 1,
        ElemType::F32 | ElemType::I32 => 4,
        ElemType::F64 | ElemType::I64 | ElemType::Index => 8,
    };
    let count = bytes.len() / size;
    if !bytes.len().is_multiple_of(size) || (count != n && count != 1) {
        return Err(err(
            pos,
            format!(
                "hex elements literal holds {} bytes, expected {} elements of {size} bytes",
                bytes.len(),
                n
            ),
        ));
    }
    let vals: Vec<f64> = bytes
        .chunks_exact(size)
        .map(|c| match elem {
            ElemType::I1 => (c[0] != 0) as i64 as f64,
            ElemType::F32 => f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64,
            ElemType::I32 => i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64,
            ElemType::F64 => f64::from_le_bytes(c.try_into().unwrap()),
            ElemType::I64 | ElemType::Index => i64::from_le_bytes(c.try_into().unwrap()) as f64,
        })
        .collect();
    Ok(if count == 1 && n != 1 {
        vec![vals[0]; n]
    } else {
        vals
    })
}

/// `0x0A1B...` to bytes; `None` if malformed.
pub fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let body = s.strip_prefix("0x")?.as_bytes();
    if !body.len().is_multiple_of(2) || !body.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    Some(
        body.chunks_exact(2)
            .map(|p| (hex_val(p[0]) << 4) | hex_val(p[1]))
            .collect(),
    )
}
