//! Prints a `Module` in the custom form (readable, the default) or in MLIR's
//! generic form (accepted by upstream `mlir-opt --allow-unregistered-dialect`).

use crate::ir::print::{escape, format_key, is_bare_id};
use crate::ir::types::write_dict;
use crate::ir::{Attribute, Func, Module, Op, Type, ValueId};
use std::fmt::{self, Write};

/// `{a = 1, b}` for a slice of entries.
struct Dict<'a>(&'a [(String, Attribute)]);

impl fmt::Display for Dict<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_dict(f, self.0)
    }
}

/// `(T1, T2) -> T3`, `(T1) -> (T2, T3)`, `() -> ()`.
struct FnType<'a>(&'a [&'a Type], &'a [&'a Type]);

impl fmt::Display for FnType<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(")?;
        write_types(f, self.0)?;
        f.write_str(") -> ")?;
        match self.1 {
            [t] if !matches!(t, Type::Function { .. }) => write!(f, "{t}"),
            outs => {
                f.write_str("(")?;
                write_types(f, outs)?;
                f.write_str(")")
            }
        }
    }
}

fn write_types(f: &mut fmt::Formatter<'_>, ts: &[&Type]) -> fmt::Result {
    for (i, t) in ts.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{t}")?;
    }
    Ok(())
}

/// A non-numeric MLIR suffix-id (`%fc1.out`, `%-x`), usable as a value name.
fn is_named_suffix_id(s: &str) -> bool {
    let mut cs = s.bytes();
    cs.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || b"_$.-".contains(&c))
        && cs.all(|c| c.is_ascii_alphanumeric() || b"_$.-".contains(&c))
}

/// Words the lexer reads as keywords, so an op of that name needs the generic form.
const KEYWORDS: &[&str] = &[
    "module",
    "attributes",
    "func.func",
    "return",
    "func.return",
    "loc",
    "true",
    "false",
    "unit",
    "dense",
    "dense_resource",
    "array",
    "tensor",
    "f32",
    "f64",
    "i1",
    "i32",
    "i64",
    "index",
];

fn symbol(name: &str) -> String {
    if is_bare_id(name) {
        format!("@{name}")
    } else {
        format!("@\"{}\"", escape(name))
    }
}

/// The printed name of every value of `f` (indexed by `ValueId`): its name
/// hint when that is a valid, non-numeric suffix-id not taken before it,
/// else the next number.
pub fn value_names(f: &Func) -> Vec<Option<String>> {
    let order = f
        .args
        .iter()
        .chain(f.body.iter().flat_map(|op| op.results.iter()));
    let mut names: Vec<Option<String>> = vec![None; f.values.len()];
    let mut taken = std::collections::HashSet::new();
    let mut next = 0usize;
    for &v in order {
        let Some(slot) = names.get_mut(v.0 as usize) else {
            continue;
        };
        if slot.is_some() {
            continue; // defined twice: keep the first name
        }
        let hint = f.values[v.0 as usize].name.as_deref();
        *slot = Some(match hint {
            Some(h) if is_named_suffix_id(h) && taken.insert(h.to_string()) => h.to_string(),
            _ => {
                next += 1;
                (next - 1).to_string()
            }
        });
    }
    names
}

struct Printer {
    out: String,
    generic: bool,
}

struct FuncCtx<'a> {
    f: &'a Func,
    names: Vec<Option<String>>,
}

impl FuncCtx<'_> {
    fn name(&self, v: ValueId) -> String {
        match self.names.get(v.0 as usize) {
            Some(Some(n)) => format!("%{n}"),
            _ => format!("%undefined{}", v.0),
        }
    }

    fn ty(&self, v: ValueId) -> &Type {
        static FALLBACK: Type = Type::Function {
            inputs: Vec::new(),
            results: Vec::new(),
        };
        self.f
            .values
            .get(v.0 as usize)
            .map(|d| &d.ty)
            .unwrap_or(&FALLBACK)
    }

    fn list(&self, vs: &[ValueId]) -> String {
        let mut s = String::new();
        for (i, v) in vs.iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            s.push_str(&self.name(*v));
        }
        s
    }
}

pub fn print(m: &Module, generic: bool) -> String {
    let blobs: usize = m
        .resources
        .iter()
        .map(|r| 2 * r.data.len() + r.name.len() + 24)
        .sum();
    let mut p = Printer {
        out: String::with_capacity(blobs + 4096),
        generic,
    };
    p.module(m);
    p.resources(m);
    p.out
}

impl Printer {
    fn module(&mut self, m: &Module) {
        if self.generic {
            self.out.push_str("\"builtin.module\"() ({\n");
            if m.funcs.is_empty() {
                // MLIR's module needs its one block even when empty.
                self.out.push_str("^bb0:\n");
            }
            for f in &m.funcs {
                self.func(f);
            }
            self.out.push_str("})");
            if !m.attrs.is_empty() {
                let _ = write!(self.out, " {}", Dict(&m.attrs));
            }
            self.out.push_str(" : () -> ()\n");
        } else {
            self.out.push_str("module ");
            if !m.attrs.is_empty() {
                let _ = write!(self.out, "attributes {} ", Dict(&m.attrs));
            }
            self.out.push_str("{\n");
            for f in &m.funcs {
                self.func(f);
            }
            self.out.push_str("}\n");
        }
    }

    fn func(&mut self, f: &Func) {
        let cx = FuncCtx {
            f,
            names: value_names(f),
        };
        let ins: Vec<&Type> = f.args.iter().map(|&a| cx.ty(a)).collect();
        let ret = f.returned();
        let outs: Vec<&Type> = ret.iter().map(|&v| cx.ty(v)).collect();
        let args: Vec<String> = f
            .args
            .iter()
            .map(|&a| format!("{}: {}", cx.name(a), cx.ty(a)))
            .collect();
        if self.generic {
            let _ = writeln!(
                self.out,
                "  \"func.func\"() <{{function_type = {}, sym_name = \"{}\"}}> ({{",
                FnType(&ins, &outs),
                escape(&f.name)
            );
            if !args.is_empty() {
                let _ = writeln!(self.out, "  ^bb0({}):", args.join(", "));
            }
        } else {
            let _ = write!(
                self.out,
                "  func.func {}({})",
                symbol(&f.name),
                args.join(", ")
            );
            match outs.as_slice() {
                [] => {}
                [t] if !matches!(t, Type::Function { .. }) => {
                    let _ = write!(self.out, " -> {t}");
                }
                ts => {
                    self.out.push_str(" -> (");
                    for (i, t) in ts.iter().enumerate() {
                        if i > 0 {
                            self.out.push_str(", ");
                        }
                        let _ = write!(self.out, "{t}");
                    }
                    self.out.push(')');
                }
            }
            self.out.push_str(" {\n");
        }
        for op in &f.body {
            self.op(&cx, op);
        }
        self.out.push_str(if self.generic {
            "  }) : () -> ()"
        } else {
            "  }"
        });
        self.loc(f.loc.name());
        self.out.push('\n');
    }

    fn op(&mut self, cx: &FuncCtx<'_>, op: &Op) {
        self.out.push_str("    ");
        if !op.results.is_empty() {
            let _ = write!(self.out, "{} = ", cx.list(&op.results));
        }
        let ins: Vec<&Type> = op.operands.iter().map(|&v| cx.ty(v)).collect();
        let outs: Vec<&Type> = op.results.iter().map(|&v| cx.ty(v)).collect();
        let custom_name = is_bare_id(&op.name) && !KEYWORDS.contains(&op.name.as_str());
        if !self.generic && op.name == "func.return" && op.results.is_empty() && op.attrs.is_empty()
        {
            self.out.push_str("return");
            if !op.operands.is_empty() {
                let _ = write!(self.out, " {} : ", cx.list(&op.operands));
                for (i, t) in ins.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    let _ = write!(self.out, "{t}");
                }
            }
        } else if !self.generic && custom_name {
            self.out.push_str(&op.name);
            if !op.operands.is_empty() {
                let _ = write!(self.out, " {}", cx.list(&op.operands));
            }
            if !op.attrs.is_empty() {
                let _ = write!(self.out, " {}", Dict(&op.attrs));
            }
            self.out.push_str(" : ");
            let first = ins.first().or(outs.first());
            match first {
                Some(t)
                    if !matches!(t, Type::Function { .. })
                        && ins.iter().chain(&outs).all(|u| u == t) =>
                {
                    let _ = write!(self.out, "{t}");
                }
                _ => {
                    let _ = write!(self.out, "{}", FnType(&ins, &outs));
                }
            }
        } else {
            let _ = write!(
                self.out,
                "\"{}\"({})",
                escape(&op.name),
                cx.list(&op.operands)
            );
            if !op.attrs.is_empty() {
                let _ = write!(self.out, " {}", Dict(&op.attrs));
            }
            let _ = write!(self.out, " : {}", FnType(&ins, &outs));
        }
        self.loc(op.loc.name());
        self.out.push('\n');
    }

    fn loc(&mut self, name: Option<&str>) {
        if let Some(n) = name {
            let _ = write!(self.out, " loc(\"{}\")", escape(n));
        }
    }

    fn resources(&mut self, m: &Module) {
        if m.resources.is_empty() {
            return;
        }
        self.out
            .push_str("\n{-#\n  dialect_resources: {\n    builtin: {\n");
        for (i, r) in m.resources.iter().enumerate() {
            if i > 0 {
                self.out.push_str(",\n");
            }
            let key = format_key(&r.name);
            let _ = write!(self.out, "      {key}: \"0x");
            push_hex(&mut self.out, &r.alignment.to_le_bytes());
            push_hex(&mut self.out, &r.data);
            self.out.push('"');
        }
        self.out.push_str("\n    }\n  }\n#-}\n");
    }
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut buf = Vec::with_capacity(2 * bytes.len());
    for b in bytes {
        buf.push(HEX[(b >> 4) as usize]);
        buf.push(HEX[(b & 15) as usize]);
    }
    // Only ASCII hex digits were pushed.
    out.push_str(std::str::from_utf8(&buf).unwrap_or_default());
}
