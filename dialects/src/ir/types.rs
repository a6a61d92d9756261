//! Types: the builtin ones MLIR knows (`tensor<1x784xf32>`, `f32`, `i64`,
//! function types) and dialect types written `!dialect.name<key = value, ...>`.
//!
//! Dialect types keep their parameters as named attributes so that the parser
//! and printer stay generic; each dialect offers typed accessors on top
//! (`CiphertextType::from_type`, ...).

use super::attr::Attribute;
use std::fmt;

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

    /// Number of elements of a tensor type.
    pub fn num_elements(&self) -> Option<usize> {
        self.shape().map(|s| s.iter().product())
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

pub(crate) fn write_list<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, t) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{t}")?;
    }
    Ok(())
}
