//! AST -> `Module`: SSA name resolution, operand / result types, func
//! signatures, locations and the resource section.

use super::ast::*;
use crate::diag::Diagnostic;
use crate::ir::{Attribute, Func, Location, Module, Op, Resource, Type, ValueId};
use std::collections::{HashMap, HashSet};

/// Byte offset -> 1-based `line:col` (columns count bytes, as MLIR's do).
pub struct LineIndex<'a> {
    file: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(src: &str, file: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { file, starts }
    }

    pub fn line_col(&self, pos: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&s| s <= pos);
        (line, pos - self.starts[line - 1] + 1)
    }

    pub fn loc(&self, pos: usize) -> Location {
        let (line, col) = self.line_col(pos);
        Location::File {
            file: self.file.to_string(),
            line,
            col,
        }
    }

    pub fn error(&self, pos: usize, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(self.loc(pos), message)
    }
}

type Res<T> = Result<T, Diagnostic>;

/// What a name on the left of `=` (or a block argument) stands for.
enum Binding {
    One(ValueId),
    /// `%x:n`, used as `%x#i`.
    Group(Vec<ValueId>),
}

struct Resolver<'i> {
    idx: &'i LineIndex<'i>,
    /// `#loc3 = loc(...)` definitions.
    aliases: HashMap<&'i str, &'i LocAst>,
}

pub fn resolve(file: FileAst<'_>, idx: &LineIndex<'_>, state: &ParseState) -> Res<Module> {
    let mut aliases = HashMap::new();
    for (name, loc, pos) in &state.loc_aliases {
        if aliases.insert(name.as_str(), loc).is_some() {
            return Err(idx.error(*pos, format!("redefinition of location alias '{name}'")));
        }
    }
    let r = Resolver { idx, aliases };
    let mut module = Module::default();
    let single_module = file.items.len() == 1 && is_module(&file.items[0]);
    for item in file.items {
        if single_module {
            r.module(item, &mut module)?;
        } else if is_module(&item) {
            return Err(idx.error(
                item.pos(),
                "a module must be the only top-level operation in a file",
            ));
        } else {
            let f = r.func(item)?;
            r.add_func(&mut module, f)?;
        }
    }
    r.resources(file.meta, &mut module)?;
    let defined: HashSet<&str> = module.resources.iter().map(|r| r.name.as_str()).collect();
    for (name, pos) in &state.resource_uses {
        if !defined.contains(name.as_str()) {
            return Err(idx.error(*pos, format!("use of undefined resource '{name}'")));
        }
    }
    Ok(module)
}

fn is_module(s: &Stmt<'_>) -> bool {
    match s {
        Stmt::Module(_) => true,
        Stmt::Op(op) => op.generic && op.name == "builtin.module",
        Stmt::Func(_) => false,
    }
}

fn value_name(text: &str) -> Option<String> {
    if text.bytes().all(|b| b.is_ascii_digit()) {
        None
    } else {
        Some(text.to_string())
    }
}

/// Checks the shape of a structural op in the generic form (`builtin.module`,
/// `func.func`): no results, no operands, one region, type `() -> ()`.
fn check_structural(r: &Resolver<'_>, op: &OpAst<'_>) -> Res<()> {
    let label = &op.name;
    if !op.results.is_empty() {
        return Err(r.idx.error(op.pos, format!("'{label}' op has no results")));
    }
    if let Some(o) = op.operands.first() {
        return Err(r
            .idx
            .error(o.pos, format!("'{label}' op takes no operands")));
    }
    if op.regions.len() != 1 {
        return Err(r.idx.error(
            op.name_pos,
            format!("'{label}' op needs exactly one region"),
        ));
    }
    match &op.types {
        OpTypes::One(Type::Function { inputs, results })
            if inputs.is_empty() && results.is_empty() =>
        {
            Ok(())
        }
        OpTypes::One(t) => Err(r.idx.error(
            op.types_pos,
            format!("'{label}' op has type '() -> ()', not '{t}'"),
        )),
        _ => Err(r
            .idx
            .error(op.types_pos, format!("'{label}' op has type '() -> ()'"))),
    }
}

impl Resolver<'_> {
    fn module(&self, item: Stmt<'_>, module: &mut Module) -> Res<()> {
        let body = match item {
            Stmt::Module(m) => {
                module.attrs = m.attrs;
                m.body
            }
            Stmt::Op(mut op) => {
                check_structural(self, &op)?;
                if let Some((k, _)) = op.props.first() {
                    return Err(self.idx.error(
                        op.name_pos,
                        format!("unsupported property '{k}' on 'builtin.module' (named modules are not supported)"),
                    ));
                }
                let region = op.regions.pop().unwrap();
                if let Some((pos, args)) = &region.label {
                    if !args.is_empty() {
                        return Err(self
                            .idx
                            .error(*pos, "the block of a module takes no arguments"));
                    }
                }
                module.attrs = op.attrs;
                region.stmts
            }
            Stmt::Func(_) => unreachable!("checked by is_module"),
        };
        for s in body {
            let f = self.func(s)?;
            self.add_func(module, f)?;
        }
        Ok(())
    }

    fn add_func(&self, module: &mut Module, (f, pos): (Func, usize)) -> Res<()> {
        if module.func(&f.name).is_some() {
            return Err(self
                .idx
                .error(pos, format!("redefinition of symbol named '{}'", f.name)));
        }
        module.funcs.push(f);
        Ok(())
    }

    /// A module-level statement, which must be a function.
    fn func(&self, s: Stmt<'_>) -> Res<(Func, usize)> {
        match s {
            Stmt::Func(f) => {
                if let Some((pos, _)) = f.attrs {
                    return Err(self.idx.error(pos, "function attributes are not supported"));
                }
                let pos = f.pos;
                let func = self.func_body(f.name, pos, f.args, f.results, f.body, f.loc)?;
                Ok((func, pos))
            }
            Stmt::Op(mut op) if op.generic && op.name == "func.func" => {
                check_structural(self, &op)?;
                let mut ftype = None;
                let mut name = None;
                for (k, v) in op.props.drain(..).chain(op.attrs.drain(..)) {
                    match (k.as_str(), v) {
                        ("function_type", Attribute::Type(Type::Function { inputs, results })) => {
                            ftype = Some((inputs, results))
                        }
                        ("sym_name", Attribute::String(s)) => name = Some(s),
                        (k, v) => {
                            return Err(self.idx.error(
                                op.name_pos,
                                format!("unsupported attribute '{k} = {v}' on 'func.func'"),
                            ))
                        }
                    }
                }
                let Some((inputs, results)) = ftype else {
                    return Err(self.idx.error(
                        op.name_pos,
                        "'func.func' op requires attribute 'function_type'",
                    ));
                };
                let Some(name) = name else {
                    return Err(self
                        .idx
                        .error(op.name_pos, "'func.func' op requires attribute 'sym_name'"));
                };
                let region = op.regions.pop().unwrap();
                let (label_pos, args) = match region.label {
                    Some((p, a)) => (p, a),
                    None => (region.pos, Vec::new()),
                };
                if args.len() != inputs.len() {
                    return Err(self.idx.error(
                        label_pos,
                        format!(
                            "entry block must have {} arguments to match function signature",
                            inputs.len()
                        ),
                    ));
                }
                for (i, (a, t)) in args.iter().zip(&inputs).enumerate() {
                    if a.ty != *t {
                        return Err(self.idx.error(
                            a.name.pos,
                            format!(
                                "type of entry block argument #{i}('{}') must match the type of the corresponding argument in function signature('{t}')",
                                a.ty
                            ),
                        ));
                    }
                }
                let pos = op.pos;
                let func = self.func_body(name, pos, args, results, region.stmts, op.loc)?;
                Ok((func, pos))
            }
            other => {
                let what = match &other {
                    Stmt::Op(op) => format!("'{}' op", op.name),
                    Stmt::Module(_) => "a nested module".to_string(),
                    Stmt::Func(_) => unreachable!(),
                };
                Err(self.idx.error(
                    other.pos(),
                    format!("expected 'func.func' at module level, found {what}"),
                ))
            }
        }
    }

    fn func_body(
        &self,
        name: String,
        pos: usize,
        args: Vec<BlockArg<'_>>,
        results: Vec<Type>,
        body: Vec<Stmt<'_>>,
        loc: Option<LocAst>,
    ) -> Res<Func> {
        let mut f = Func::new(&name);
        f.loc = self.location(pos, loc)?;
        let mut scope: HashMap<&str, Binding> = HashMap::new();
        for a in &args {
            if scope.contains_key(a.name.text) {
                return Err(self.idx.error(
                    a.name.pos,
                    format!("redefinition of value '%{}'", a.name.text),
                ));
            }
            let v = f.add_arg(a.ty.clone(), value_name(a.name.text));
            scope.insert(a.name.text, Binding::One(v));
        }
        let mut return_pos = None;
        for s in body {
            let op = match s {
                Stmt::Op(op)
                    if !(op.generic && (op.name == "func.func" || op.name == "builtin.module")) =>
                {
                    op
                }
                other => {
                    return Err(self.idx.error(
                        other.pos(),
                        "functions and modules can only appear at module level",
                    ))
                }
            };
            if let Some(p) = return_pos {
                return Err(self.idx.error(
                    p,
                    "'func.return' op must be the last operation in the function body",
                ));
            }
            if op.name == "func.return" {
                return_pos = Some(op.pos);
            }
            self.op(&mut f, &mut scope, op)?;
        }
        match (f.return_op(), return_pos) {
            (Some(ret), Some(rpos)) => {
                if ret.operands.len() != results.len() {
                    return Err(self.idx.error(
                        rpos,
                        format!(
                            "'func.return' op has {} operands, but enclosing function (@{name}) returns {}",
                            ret.operands.len(),
                            results.len()
                        ),
                    ));
                }
                for (i, (v, t)) in ret.operands.iter().zip(&results).enumerate() {
                    if f.ty(*v) != t {
                        return Err(self.idx.error(
                            rpos,
                            format!(
                                "type of return operand {i} ('{}') doesn't match function result type ('{t}') in function @{name}",
                                f.ty(*v)
                            ),
                        ));
                    }
                }
            }
            _ if !results.is_empty() => {
                return Err(self.idx.error(
                    pos,
                    format!("function @{name} has results but no 'func.return'"),
                ));
            }
            _ => {}
        }
        Ok(f)
    }

    fn lookup(&self, scope: &HashMap<&str, Binding>, n: &Name<'_>) -> Res<ValueId> {
        let (base, index) = match n.text.split_once('#') {
            Some((b, i)) => (b, Some(i.parse::<usize>().unwrap_or(usize::MAX))),
            None => (n.text, None),
        };
        match (scope.get(base), index) {
            (None, _) => Err(self
                .idx
                .error(n.pos, format!("use of undefined value '%{base}'"))),
            (Some(Binding::One(v)), None | Some(0)) => Ok(*v),
            (Some(Binding::Group(vs)), Some(i)) if i < vs.len() => Ok(vs[i]),
            (Some(Binding::Group(vs)), None) if vs.len() == 1 => Ok(vs[0]),
            (Some(Binding::Group(vs)), None) => Err(self.idx.error(
                n.pos,
                format!("'%{base}' names {} results: use '%{base}#N'", vs.len()),
            )),
            (Some(_), Some(_)) => Err(self.idx.error(
                n.pos,
                format!("result number out of range in '%{}'", n.text),
            )),
        }
    }

    fn op<'a>(
        &self,
        f: &mut Func,
        scope: &mut HashMap<&'a str, Binding>,
        op: OpAst<'a>,
    ) -> Res<()> {
        if let Some(r) = op.regions.first() {
            return Err(self.idx.error(
                r.pos,
                format!("'{}' op: regions are not supported here", op.name),
            ));
        }
        let mut operands = Vec::with_capacity(op.operands.len());
        for n in &op.operands {
            operands.push(self.lookup(scope, n)?);
        }
        let mut n_results = 0usize;
        for r in &op.results {
            match r.count {
                Some((c, cpos)) if c < 1 => {
                    return Err(self
                        .idx
                        .error(cpos, "expected a positive number of results"));
                }
                Some((c, _)) => n_results = n_results.saturating_add(c as usize),
                None => n_results = n_results.saturating_add(1),
            }
        }
        let (ins, outs): (Vec<Type>, Vec<Type>) = match op.types {
            OpTypes::One(Type::Function { inputs, results }) => (inputs, results),
            OpTypes::One(t) => {
                if operands.is_empty() && n_results == 0 {
                    return Err(self.idx.error(
                        op.types_pos,
                        "an op without operands or results is typed '() -> ()'",
                    ));
                }
                (vec![t.clone(); operands.len()], vec![t; n_results])
            }
            OpTypes::List(ts) => (ts, Vec::new()),
            OpTypes::None => (Vec::new(), Vec::new()),
        };
        if ins.len() != operands.len() {
            return Err(self.idx.error(
                op.types_pos,
                format!(
                    "expected {} operand types but had {}",
                    operands.len(),
                    ins.len()
                ),
            ));
        }
        for ((n, v), t) in op.operands.iter().zip(&operands).zip(&ins) {
            if f.ty(*v) != t {
                return Err(self.idx.error(
                    n.pos,
                    format!(
                        "use of value '%{}' expects different type than prior uses: '{t}' vs '{}'",
                        n.text,
                        f.ty(*v)
                    ),
                ));
            }
        }
        if op.name == "func.return" && n_results > 0 {
            return Err(self.idx.error(op.pos, "'func.return' op has no results"));
        }
        if outs.len() != n_results {
            return Err(self.idx.error(
                op.pos,
                format!(
                    "operation defines {} results but was provided {} to bind",
                    outs.len(),
                    n_results
                ),
            ));
        }
        let mut outs = outs.into_iter();
        let mut results = Vec::with_capacity(n_results);
        for r in &op.results {
            if scope.contains_key(r.name.text) {
                return Err(self.idx.error(
                    r.name.pos,
                    format!("redefinition of value '%{}'", r.name.text),
                ));
            }
            let binding = match r.count {
                None => {
                    let v = f.new_value(outs.next().unwrap(), value_name(r.name.text));
                    results.push(v);
                    Binding::One(v)
                }
                Some((c, _)) => {
                    let vs: Vec<ValueId> = (0..c)
                        .map(|_| f.new_value(outs.next().unwrap(), None))
                        .collect();
                    results.extend(&vs);
                    Binding::Group(vs)
                }
            };
            scope.insert(r.name.text, binding);
        }
        let mut attrs = op.props;
        attrs.extend(op.attrs);
        f.body.push(Op {
            name: op.name,
            operands,
            results,
            attrs,
            loc: self.location(op.pos, op.loc)?,
        });
        Ok(())
    }

    fn location(&self, pos: usize, loc: Option<LocAst>) -> Res<Location> {
        let here = self.idx.loc(pos);
        let named = |name: String, at: Location| match at {
            Location::File { file, line, col } => Location::NameAt {
                name,
                file,
                line,
                col,
            },
            _ => Location::Name(name),
        };
        let Some(loc) = loc else { return Ok(here) };
        Ok(match self.expand(loc, 0)? {
            LocAst::File(file, line, col) => Location::File {
                file,
                line: line.max(0) as usize,
                col: col.max(0) as usize,
            },
            LocAst::Name(name, Some(child)) => match *child {
                LocAst::File(file, line, col) => Location::NameAt {
                    name,
                    file,
                    line: line.max(0) as usize,
                    col: col.max(0) as usize,
                },
                _ => named(name, here),
            },
            LocAst::Name(name, None) => named(name, here),
            LocAst::Unknown | LocAst::Alias(..) => here,
        })
    }

    /// Replaces location aliases by what they stand for.
    fn expand(&self, loc: LocAst, depth: usize) -> Res<LocAst> {
        match loc {
            LocAst::Alias(name, at) => {
                let Some(def) = self.aliases.get(name.as_str()) else {
                    return Err(self
                        .idx
                        .error(at, format!("undefined location alias '{name}'")));
                };
                if depth > 32 {
                    return Err(self
                        .idx
                        .error(at, format!("location alias '{name}' refers to itself")));
                }
                self.expand((*def).clone(), depth + 1)
            }
            LocAst::Name(n, Some(child)) => Ok(LocAst::Name(
                n,
                Some(Box::new(self.expand(*child, depth + 1)?)),
            )),
            other => Ok(other),
        }
    }

    fn resources(&self, meta: Vec<MetaSection<'_>>, module: &mut Module) -> Res<()> {
        for section in meta {
            if section.key != "dialect_resources" {
                return Err(self.idx.error(
                    section.key_pos,
                    format!(
                        "unsupported resource section '{}' (expected 'dialect_resources')",
                        section.key
                    ),
                ));
            }
            for group in section.groups {
                if group.key != "builtin" {
                    return Err(self.idx.error(
                        group.key_pos,
                        format!(
                            "unsupported resources of dialect '{}' (expected 'builtin')",
                            group.key
                        ),
                    ));
                }
                for e in group.entries {
                    if module.resource(&e.key).is_some() {
                        return Err(self
                            .idx
                            .error(e.key_pos, format!("redefinition of resource '{}'", e.key)));
                    }
                    let r = Resource::from_hex(&e.key, e.blob)
                        .map_err(|m| self.idx.error(e.blob_pos, m))?;
                    module.resources.push(r);
                }
            }
        }
        Ok(())
    }
}
