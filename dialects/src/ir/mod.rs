//! Core IR: a `Module` holds functions and weight blobs; a `Func` holds a flat
//! list of ops in SSA form (one block, as every level of our pipeline is
//! straight-line code); values are indices into the function's value table.

pub mod limits;
pub mod print;
pub mod resource;
pub mod types;

pub use resource::Resource;
pub use types::{Attribute, ElemType, Type};

use std::fmt;

/// Where an op came from: a place in a text file, or a name (the ONNX node
/// that produced it). Printed as MLIR locations: `loc("file":3:7)`, `loc("name")`.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Location {
    #[default]
    Unknown,
    File {
        file: String,
        line: usize,
        col: usize,
    },
    Name(String),
    /// A name together with the file position it was parsed at.
    NameAt {
        name: String,
        file: String,
        line: usize,
        col: usize,
    },
}

impl Location {
    /// The ONNX node / layer name attached to this location, if any.
    pub fn name(&self) -> Option<&str> {
        match self {
            Location::Name(n) | Location::NameAt { name: n, .. } => Some(n),
            _ => None,
        }
    }

    /// `file:line:col` prefix for diagnostics.
    pub fn file_pos(&self) -> Option<String> {
        match self {
            Location::File { file, line, col }
            | Location::NameAt {
                file, line, col, ..
            } => Some(format!("{file}:{line}:{col}")),
            _ => None,
        }
    }
}

impl fmt::Display for Location {
    /// A diagnostic prefix: `file:line:col` when known, else the name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.file_pos(), self.name()) {
            (Some(p), _) => f.write_str(&p),
            (None, Some(n)) => write!(f, "{n}"),
            (None, None) => f.write_str("<unknown>"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValueId(pub u32);

#[derive(Clone, Debug, PartialEq)]
pub struct ValueDef {
    /// Name hint used by the printer (`%fc1`); numbered when absent.
    pub name: Option<String>,
    pub ty: Type,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Op {
    /// Full name with dialect prefix, e.g. `nn.gemm`.
    pub name: String,
    pub operands: Vec<ValueId>,
    pub results: Vec<ValueId>,
    /// Attributes in the order they are printed.
    pub attrs: Vec<(String, Attribute)>,
    pub loc: Location,
}

impl Op {
    pub fn dialect(&self) -> &str {
        self.name.split('.').next().unwrap_or("")
    }

    pub fn attr(&self, key: &str) -> Option<&Attribute> {
        self.attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn set_attr(&mut self, key: &str, value: Attribute) {
        match self.attrs.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.attrs.push((key.to_string(), value)),
        }
    }

    pub fn remove_attr(&mut self, key: &str) -> Option<Attribute> {
        let i = self.attrs.iter().position(|(k, _)| k == key)?;
        Some(self.attrs.remove(i).1)
    }

    /// The single result of a one-result op.
    pub fn result(&self) -> ValueId {
        self.results[0]
    }

    /// Human label for diagnostics: `'nn.gemm' op (node "/fc1/Gemm")`.
    pub fn label(&self) -> String {
        match self.loc.name() {
            Some(n) => format!("'{}' op (node \"{}\")", self.name, n),
            None => format!("'{}' op", self.name),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Func {
    pub name: String,
    pub args: Vec<ValueId>,
    /// Ops in program order; the last one is `func.return`.
    pub body: Vec<Op>,
    pub values: Vec<ValueDef>,
    pub loc: Location,
}

impl Func {
    pub fn new(name: &str) -> Func {
        Func {
            name: name.to_string(),
            args: Vec::new(),
            body: Vec::new(),
            values: Vec::new(),
            loc: Location::Unknown,
        }
    }

    pub fn new_value(&mut self, ty: Type, name: Option<String>) -> ValueId {
        self.values.push(ValueDef { name, ty });
        ValueId(self.values.len() as u32 - 1)
    }

    pub fn add_arg(&mut self, ty: Type, name: Option<String>) -> ValueId {
        let v = self.new_value(ty, name);
        self.args.push(v);
        v
    }

    pub fn ty(&self, v: ValueId) -> &Type {
        &self.values[v.0 as usize].ty
    }

    pub fn value_name(&self, v: ValueId) -> Option<&str> {
        self.values[v.0 as usize].name.as_deref()
    }

    /// Appends an op with fresh results of the given types; returns its results.
    pub fn push_op(
        &mut self,
        name: &str,
        operands: Vec<ValueId>,
        attrs: Vec<(String, Attribute)>,
        result_types: Vec<Type>,
        loc: Location,
    ) -> Vec<ValueId> {
        let results: Vec<ValueId> = result_types
            .into_iter()
            .map(|t| self.new_value(t, None))
            .collect();
        self.body.push(Op {
            name: name.to_string(),
            operands,
            results: results.clone(),
            attrs,
            loc,
        });
        results
    }

    /// The `func.return` op, if the body has one.
    pub fn return_op(&self) -> Option<&Op> {
        self.body.last().filter(|op| op.name == "func.return")
    }

    /// Values returned by the function.
    pub fn returned(&self) -> Vec<ValueId> {
        self.return_op()
            .map(|op| op.operands.clone())
            .unwrap_or_default()
    }

    pub fn arg_types(&self) -> Vec<Type> {
        self.args.iter().map(|&a| self.ty(a).clone()).collect()
    }

    pub fn result_types(&self) -> Vec<Type> {
        self.returned()
            .iter()
            .map(|&v| self.ty(v).clone())
            .collect()
    }

    /// Index of the op defining each value (None for arguments).
    pub fn def_sites(&self) -> Vec<Option<usize>> {
        let mut sites = vec![None; self.values.len()];
        for (i, op) in self.body.iter().enumerate() {
            for r in &op.results {
                sites[r.0 as usize] = Some(i);
            }
        }
        sites
    }

    /// Number of uses of each value.
    pub fn use_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.values.len()];
        for op in &self.body {
            for o in &op.operands {
                counts[o.0 as usize] += 1;
            }
        }
        counts
    }

    /// The index in `body` of the op defining each value (`None` for
    /// arguments).
    pub fn defining_ops(&self) -> Vec<Option<usize>> {
        let mut def = vec![None; self.values.len()];
        for (i, op) in self.body.iter().enumerate() {
            for r in &op.results {
                def[r.0 as usize] = Some(i);
            }
        }
        def
    }

    /// The index of the last op that reads each value (`usize::MAX`: none),
    /// where an interpreter may drop it.
    pub fn last_uses(&self) -> Vec<usize> {
        let mut last = vec![usize::MAX; self.values.len()];
        for (i, op) in self.body.iter().enumerate() {
            for v in &op.operands {
                last[v.0 as usize] = i;
            }
        }
        last
    }

    /// Replaces every use of `from` by `to`.
    pub fn replace_all_uses(&mut self, from: ValueId, to: ValueId) {
        for op in &mut self.body {
            for o in &mut op.operands {
                if *o == from {
                    *o = to;
                }
            }
        }
    }

    /// Removes ops whose results nothing live uses (everything but
    /// `func.return` and what it needs), in one backward pass: in SSA
    /// order every use follows its definition. Values stay in the table,
    /// unused.
    pub fn remove_dead_ops(&mut self) {
        let mut used = vec![false; self.values.len()];
        let mut keep = vec![false; self.body.len()];
        for (i, op) in self.body.iter().enumerate().rev() {
            if op.name == "func.return" || op.results.iter().any(|r| used[r.0 as usize]) {
                keep[i] = true;
                for o in &op.operands {
                    used[o.0 as usize] = true;
                }
            }
        }
        let mut i = 0;
        self.body.retain(|_| {
            i += 1;
            keep[i - 1]
        });
    }
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Module {
    /// Module attributes, e.g. `ckks.params`.
    pub attrs: Vec<(String, Attribute)>,
    pub funcs: Vec<Func>,
    /// `dialect_resources: { builtin: { name: "0x..." } }`, in order.
    pub resources: Vec<Resource>,
}

impl Module {
    pub fn attr(&self, key: &str) -> Option<&Attribute> {
        self.attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn set_attr(&mut self, key: &str, value: Attribute) {
        match self.attrs.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.attrs.push((key.to_string(), value)),
        }
    }

    pub fn func(&self, name: &str) -> Option<&Func> {
        self.funcs.iter().find(|f| f.name == name)
    }

    pub fn main(&self) -> Option<&Func> {
        self.func("main")
    }

    pub fn main_mut(&mut self) -> Option<&mut Func> {
        self.funcs.iter_mut().find(|f| f.name == "main")
    }

    pub fn resource(&self, name: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.name == name)
    }

    /// Adds a blob under a unique name derived from `hint`; returns the name.
    pub fn add_resource(&mut self, hint: &str, data: Vec<u8>, alignment: u32) -> String {
        let base = resource::sanitize_name(hint);
        let mut name = base.clone();
        let mut k = 1;
        while self.resource(&name).is_some() {
            name = format!("{base}_{k}");
            k += 1;
        }
        self.resources.push(Resource {
            name: name.clone(),
            alignment,
            data: data.into(),
        });
        name
    }

    pub fn add_f32_resource(&mut self, hint: &str, values: &[f32]) -> String {
        self.add_resource(hint, resource::f32_to_bytes(values), 4)
    }

    /// The f32 contents of a `dense_resource` attribute, checked against its type.
    pub fn resource_f32(&self, attr: &Attribute) -> Result<Vec<f32>, String> {
        match attr {
            Attribute::DenseResource { name, ty } => {
                let r = self
                    .resource(name)
                    .ok_or_else(|| format!("no resource named '{name}' in the module"))?;
                let vals = r.as_f32()?;
                let want = ty.num_elements().unwrap_or(0);
                if vals.len() != want {
                    return Err(format!(
                        "resource '{name}' holds {} f32 values but its type {ty} needs {want}",
                        vals.len()
                    ));
                }
                Ok(vals)
            }
            Attribute::Dense { values, .. } => Ok(values.iter().map(|&v| v as f32).collect()),
            other => Err(format!(
                "expected a dense or dense_resource attribute, got {other}"
            )),
        }
    }
}
