//! Types and attributes: the builtin ones MLIR knows (`tensor<1x784xf32>`,
//! `f32`, `i64`, function types; integers, floats, strings, arrays, dense
//! constants, resources) and dialect types written
//! `!dialect.name<key = value, ...>`, printed exactly as MLIR prints them so
//! that the generic form parses with upstream `mlir-opt`.
//!
//! Types and attributes share one module because each holds the other: a
//! dialect type's parameters are attributes, and a type is an attribute
//! (`function_type = (f32) -> f32`). Dialect types keep their parameters as
//! named attributes so that the parser and printer stay generic; each
//! dialect offers typed accessors on top (`CtType::from_type`, ...).

use std::fmt;

use super::print::{escape, format_float, format_key, is_bare_id, write_list};

/// Scalar element types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ElemType {
    F32,
    F64,
    I1,
    I32,
    I64,
    Index,
}

impl ElemType {
    pub fn keyword(self) -> &'static str {
        match self {
            ElemType::F32 => "f32",
            ElemType::F64 => "f64",
            ElemType::I1 => "i1",
            ElemType::I32 => "i32",
            ElemType::I64 => "i64",
            ElemType::Index => "index",
        }
    }

    pub fn from_keyword(s: &str) -> Option<ElemType> {
        Some(match s {
            "f32" => ElemType::F32,
            "f64" => ElemType::F64,
            "i1" => ElemType::I1,
            "i32" => ElemType::I32,
            "i64" => ElemType::I64,
            "index" => ElemType::Index,
            _ => return None,
        })
    }

    pub fn is_float(self) -> bool {
        matches!(self, ElemType::F32 | ElemType::F64)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    Scalar(ElemType),
    /// Ranked tensor with static shape.
    Tensor {
        shape: Vec<usize>,
        elem: ElemType,
    },
    /// `(inputs) -> results`
    Function {
        inputs: Vec<Type>,
        results: Vec<Type>,
    },
    /// `!dialect.name<k = v, ...>`; `params` keeps the written order.
    Dialect {
        dialect: String,
        name: String,
        params: Vec<(String, Attribute)>,
    },
}

impl Type {
    pub fn tensor(shape: &[usize], elem: ElemType) -> Type {
        Type::Tensor {
            shape: shape.to_vec(),
            elem,
        }
    }

    pub fn f32_tensor(shape: &[usize]) -> Type {
        Type::tensor(shape, ElemType::F32)
    }

    pub fn dialect(dialect: &str, name: &str, params: Vec<(String, Attribute)>) -> Type {
        Type::Dialect {
            dialect: dialect.to_string(),
            name: name.to_string(),
            params,
        }
    }

    /// Shape of a tensor type.
    pub fn shape(&self) -> Option<&[usize]> {
        match self {
            Type::Tensor { shape, .. } => Some(shape),
            _ => None,
        }
    }

    /// The element count of a tensor type, `None` if it is not a tensor or
    /// the count overflows (the verifier refuses such types).
    pub fn num_elements(&self) -> Option<usize> {
        self.shape().and_then(super::limits::checked_product)
    }

    /// Parameter `key` of a dialect type `!dialect.name<...>`, if this is one.
    pub fn dialect_param(&self, dialect: &str, name: &str, key: &str) -> Option<&Attribute> {
        match self {
            Type::Dialect {
                dialect: d,
                name: n,
                params,
            } if d == dialect && n == name => params.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn is_dialect(&self, dialect: &str, name: &str) -> bool {
        matches!(self, Type::Dialect { dialect: d, name: n, .. } if d == dialect && n == name)
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Scalar(e) => f.write_str(e.keyword()),
            Type::Tensor { shape, elem } => {
                f.write_str("tensor<")?;
                for d in shape {
                    write!(f, "{d}x")?;
                }
                write!(f, "{}>", elem.keyword())
            }
            Type::Function { inputs, results } => {
                f.write_str("(")?;
                write_list(f, inputs)?;
                f.write_str(") -> ")?;
                if results.len() == 1 && !matches!(results[0], Type::Function { .. }) {
                    write!(f, "{}", results[0])
                } else {
                    f.write_str("(")?;
                    write_list(f, results)?;
                    f.write_str(")")
                }
            }
            Type::Dialect {
                dialect,
                name,
                params,
            } => {
                write!(f, "!{dialect}.{name}")?;
                if !params.is_empty() {
                    f.write_str("<")?;
                    for (i, (k, v)) in params.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "{k} = {v}")?;
                    }
                    f.write_str(">")?;
                }
                Ok(())
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Attribute {
    /// `42` (i64)
    Int(i64),
    /// `1.5e-05` (f64)
    Float(f64),
    Bool(bool),
    /// `"text"`
    String(String),
    /// `[a, b, ...]`
    Array(Vec<Attribute>),
    /// `array<i64: 1, 2>`
    I64Array(Vec<i64>),
    /// `array<f64: 1.0, 2.0>`
    F64Array(Vec<f64>),
    /// `{a = 1, b}`
    Dict(Vec<(String, Attribute)>),
    /// A type used as a value, e.g. `function_type = (f32) -> f32`.
    Type(Type),
    /// `dense<...> : tensor<...>`: small inline constants, row-major.
    Dense {
        ty: Type,
        values: Vec<f64>,
    },
    /// `dense_resource<name> : tensor<...>`: a blob in the resource section.
    DenseResource {
        name: String,
        ty: Type,
    },
    /// `@name`
    SymbolRef(String),
    /// A key present without value in a dictionary (`{transB}`).
    Unit,
}

impl Attribute {
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Attribute::Int(v) => Some(*v),
            Attribute::Bool(b) => Some(*b as i64),
            _ => None,
        }
    }

    pub fn as_float(&self) -> Option<f64> {
        match self {
            Attribute::Float(v) => Some(*v),
            Attribute::Int(v) => Some(*v as f64),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Attribute::Bool(b) => Some(*b),
            Attribute::Unit => Some(true),
            Attribute::Int(v) => Some(*v != 0),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Attribute::String(s) => Some(s),
            _ => None,
        }
    }

    /// Integer list from `array<i64: ...>` or `[1, 2]`.
    pub fn as_i64_list(&self) -> Option<Vec<i64>> {
        match self {
            Attribute::I64Array(v) => Some(v.clone()),
            Attribute::Array(items) => items.iter().map(Attribute::as_int).collect(),
            _ => None,
        }
    }

    /// Float list from `array<f64: ...>`, `array<i64: ...>` or `[...]`.
    pub fn as_f64_list(&self) -> Option<Vec<f64>> {
        match self {
            Attribute::F64Array(v) => Some(v.clone()),
            Attribute::I64Array(v) => Some(v.iter().map(|&x| x as f64).collect()),
            Attribute::Array(items) => items.iter().map(Attribute::as_float).collect(),
            _ => None,
        }
    }

    pub fn as_dict(&self) -> Option<&[(String, Attribute)]> {
        match self {
            Attribute::Dict(d) => Some(d),
            _ => None,
        }
    }

    pub fn as_type(&self) -> Option<&Type> {
        match self {
            Attribute::Type(t) => Some(t),
            _ => None,
        }
    }

    pub fn dict_get<'a>(&'a self, key: &str) -> Option<&'a Attribute> {
        self.as_dict()?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }
}

fn write_dense_values(
    f: &mut fmt::Formatter<'_>,
    shape: &[usize],
    values: &[f64],
    elem: ElemType,
) -> fmt::Result {
    if shape.is_empty() {
        let v = values.first().copied().unwrap_or(0.0);
        return if elem == ElemType::F32 && !v.is_finite() {
            // MLIR wants an f32 bit pattern for an f32 element.
            write!(f, "0x{:08X}", (v as f32).to_bits())
        } else if elem.is_float() {
            f.write_str(&format_float(v))
        } else if elem == ElemType::I1 {
            write!(f, "{}", v != 0.0)
        } else {
            write!(f, "{}", v as i64)
        };
    }
    let stride: usize = shape[1..].iter().product();
    f.write_str("[")?;
    for i in 0..shape[0] {
        if i > 0 {
            f.write_str(", ")?;
        }
        let lo = (i * stride).min(values.len());
        let hi = ((i + 1) * stride).min(values.len());
        write_dense_values(f, &shape[1..], &values[lo..hi], elem)?;
    }
    f.write_str("]")
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Attribute::Int(v) => write!(f, "{v}"),
            // A bare hexadecimal literal is an i64 to MLIR: non-finite floats carry their type.
            Attribute::Float(v) if !v.is_finite() => write!(f, "{} : f64", format_float(*v)),
            Attribute::Float(v) => f.write_str(&format_float(*v)),
            Attribute::Bool(b) => write!(f, "{b}"),
            Attribute::String(s) => write!(f, "\"{}\"", escape(s)),
            Attribute::Array(items) => {
                f.write_str("[")?;
                write_list(f, items)?;
                f.write_str("]")
            }
            Attribute::I64Array(v) => {
                f.write_str("array<i64")?;
                for (i, x) in v.iter().enumerate() {
                    f.write_str(if i == 0 { ": " } else { ", " })?;
                    write!(f, "{x}")?;
                }
                f.write_str(">")
            }
            Attribute::F64Array(v) => {
                f.write_str("array<f64")?;
                for (i, x) in v.iter().enumerate() {
                    f.write_str(if i == 0 { ": " } else { ", " })?;
                    f.write_str(&format_float(*x))?;
                }
                f.write_str(">")
            }
            Attribute::Dict(entries) => write_dict(f, entries),
            Attribute::Type(t) => write!(f, "{t}"),
            Attribute::Dense { ty, values } => {
                let (shape, elem) = match ty {
                    Type::Tensor { shape, elem } => (shape.as_slice(), *elem),
                    _ => (&[][..], ElemType::F64),
                };
                f.write_str("dense<")?;
                write_dense_values(f, shape, values, elem)?;
                write!(f, "> : {ty}")
            }
            Attribute::DenseResource { name, ty } => write!(f, "dense_resource<{name}> : {ty}"),
            Attribute::SymbolRef(s) if is_bare_id(s) => write!(f, "@{s}"),
            Attribute::SymbolRef(s) => write!(f, "@\"{}\"", escape(s)),
            Attribute::Unit => f.write_str("unit"),
        }
    }
}

/// `{a = 1, b}`; unit attributes print as a bare key, as MLIR does.
pub fn write_dict(f: &mut fmt::Formatter<'_>, entries: &[(String, Attribute)]) -> fmt::Result {
    f.write_str("{")?;
    for (i, (k, v)) in entries.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        f.write_str(&format_key(k))?;
        if !matches!(v, Attribute::Unit) {
            write!(f, " = {v}")?;
        }
    }
    f.write_str("}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_always_have_a_dot() {
        assert_eq!(format_float(1e-5), "1.0e-5");
        assert_eq!(format_float(100.0), "100.0");
        assert_eq!(format_float(-0.25), "-0.25");
        assert_eq!(format_float(1e20), "1.0e20");
    }

    #[test]
    fn dense_prints_nested() {
        let a = Attribute::Dense {
            ty: Type::f32_tensor(&[2, 2]),
            values: vec![1.0, 2.0, 3.0, 4.0],
        };
        assert_eq!(
            a.to_string(),
            "dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>"
        );
    }
}
