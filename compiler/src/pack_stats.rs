//! Per-layer packing statistics of a `pack`-level module (`orion-opt
//! --stats`): for every layer (op with a location) its kind, the
//! ciphertexts it reads and writes, the input and output layouts, the plan
//! counts of a linear layer (diagonals, baby-step, giant-step and output
//! rotations, as Orion reports them: each rotation is one key switch) and
//! the levels it consumes, then totals for the network. The figures come
//! from the same `BlockedPlan` the interpreter and the lowering use, so
//! they are the ones the program will execute.
//!
//! ```text
//! layer          op                cts   input        span/period  output        span/period  diags  baby  giant  out  depth
//! /conv1/Conv    conv2d 3x3        1->2  3x32x32 g1   3072/4096    64x32x32 g1   65536/32768     72     8      6    0      1
//! ```

use crate::passes::lower_to_ckks::{depth_of, network_depth};
use orion_dialects::ir::{Func, Module, Op};
use orion_dialects::pack::{LinearMap, LinearOp, PlanCounts, VecLayout};
use orion_dialects::Diagnostic;
use std::fmt::Write;

/// One row of the table.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerStats {
    /// The layer's name (its ONNX node), or the op name when it has none.
    pub layer: String,
    /// `conv2d 3x3 s2`, `avgpool 2x2 s2`, `global_avgpool`, `dense`,
    /// `place` (a concatenation's or a lone pad's placement), `square`,
    /// `polynomial`, `add`, `mul`, `bootstrap`.
    pub kind: String,
    pub input: VecLayout,
    pub output: VecLayout,
    /// `[C, H, W]` of the input and output when the layer knows them (a
    /// 1-D layout does not carry a shape).
    pub input_shape: Option<[usize; 3]>,
    pub output_shape: Option<[usize; 3]>,
    /// Linear layers only.
    pub counts: Option<PlanCounts>,
    /// Levels the layer consumes.
    pub depth: usize,
}

/// The statistics of every layer of `@main`, in program order, and the
/// network's multiplicative depth (its longest chain of levels). The ops a
/// layer became (an approximated ReLU: its polynomial stages and the
/// product x * sign(x)) share its location and make one row.
pub fn collect(module: &Module) -> Result<(Vec<LayerStats>, usize), Diagnostic> {
    let func = module
        .main()
        .ok_or_else(|| Diagnostic::new(Default::default(), "module has no func.func @main"))?;
    let mut rows: Vec<(LayerStats, Vec<String>)> = Vec::new();
    // [C, H, W] of each value, where known: from a packed tensor's type, a
    // conv or pool, and carried through slotwise ops.
    let mut shapes: Vec<Option<[usize; 3]>> = vec![None; func.values.len()];
    for op in &func.body {
        if op.name == "pack.pack" {
            if let Some(&[1, c, h, w]) = func.ty(op.operands[0]).shape() {
                shapes[op.result().0 as usize] = Some([c, h, w]);
            }
        }
        if !op.name.starts_with("pack.") || matches!(op.name.as_str(), "pack.pack" | "pack.unpack")
        {
            continue;
        }
        let err = |m: String| Diagnostic::new(op.loc.clone(), format!("{} {m}", op.label()));
        let mut row = layer_stats(op, func, module).map_err(err)?;
        if op.name != "pack.linear" {
            row.input_shape = shapes[op.operands[0].0 as usize];
            row.output_shape = row.input_shape;
        }
        shapes[op.result().0 as usize] = row.output_shape;
        match rows.last_mut() {
            // A bootstrap stays a row of its own: it refreshes the levels.
            Some((last, kinds))
                if op.loc.name().is_some()
                    && last.layer == row.layer
                    && last.counts.is_none()
                    && row.counts.is_none()
                    && last.kind != "bootstrap"
                    && row.kind != "bootstrap" =>
            {
                last.output = row.output;
                last.output_shape = row.output_shape;
                last.depth += row.depth;
                kinds.push(row.kind);
            }
            _ => {
                let kinds = vec![row.kind.clone()];
                rows.push((row, kinds));
            }
        }
    }
    let rows = rows
        .into_iter()
        .map(|(mut row, kinds)| {
            row.kind = group_kinds(&kinds);
            row
        })
        .collect();
    Ok((rows, network_depth(func)?))
}

/// `polynomial x3 + mul` for the ops of one layer.
fn group_kinds(kinds: &[String]) -> String {
    let mut runs: Vec<(String, usize)> = Vec::new();
    for k in kinds {
        match runs.last_mut() {
            Some((last, n)) if last == k => *n += 1,
            _ => runs.push((k.clone(), 1)),
        }
    }
    runs.iter()
        .map(|(k, n)| {
            if *n > 1 {
                format!("{k} x{n}")
            } else {
                k.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

fn layer_stats(op: &Op, func: &Func, module: &Module) -> Result<LayerStats, String> {
    let input = VecLayout::from_type(func.ty(op.operands[0]))?;
    let output = VecLayout::from_type(func.ty(op.result()))?;
    let layer = op.loc.name().unwrap_or(&op.name).to_string();
    let depth = depth_of(op)?;
    let mut stats = LayerStats {
        layer,
        kind: op.name.trim_start_matches("pack.").to_string(),
        input_shape: None,
        output_shape: None,
        counts: None,
        depth,
        input,
        output,
    };
    if op.name == "pack.linear" {
        let lin = LinearOp::from_op(op, &stats.input, &stats.output, module)?;
        stats.counts = Some(lin.plan.counts());
        let chw = |s: [usize; 4]| Some([s[1], s[2], s[3]]);
        match &lin.map {
            LinearMap::Dense { .. } => stats.kind = "dense".into(),
            LinearMap::Conv2d {
                input,
                kernel,
                attrs,
                output,
                ..
            } => {
                stats.kind = format!(
                    "conv2d {}x{}{}{}",
                    kernel[2],
                    kernel[3],
                    strides_text(attrs.strides),
                    if attrs.groups > 1 {
                        format!(" g{}", attrs.groups)
                    } else {
                        String::new()
                    }
                );
                (stats.input_shape, stats.output_shape) = (chw(*input), chw(*output));
            }
            LinearMap::AvgPool {
                input,
                attrs,
                output,
            } => {
                stats.kind = if output[2..] == [1, 1] && attrs.kernel == [input[2], input[3]] {
                    "global_avgpool".into()
                } else {
                    format!(
                        "avgpool {}x{}{}",
                        attrs.kernel[0],
                        attrs.kernel[1],
                        strides_text(attrs.strides)
                    )
                };
                (stats.input_shape, stats.output_shape) = (chw(*input), chw(*output));
            }
            LinearMap::Pad { input, output, .. } => {
                stats.kind = "place".into();
                let chw = |s: &[usize]| match *s {
                    [1, c, h, w] => Some([c, h, w]),
                    _ => None,
                };
                (stats.input_shape, stats.output_shape) = (chw(input), chw(output));
            }
        }
    }
    Ok(stats)
}

fn strides_text(s: [usize; 2]) -> String {
    match s {
        [1, 1] => String::new(),
        [a, b] if a == b => format!(" s{a}"),
        [a, b] => format!(" s{a}x{b}"),
    }
}

/// `16x32x32 g1`, `32x16x16 g2`, `16x10x10 g2 on 28x28`, or the element
/// count of a 1-D layout whose shape is unknown.
pub fn layout_text(layout: &VecLayout, shape: Option<[usize; 3]>) -> String {
    let gap = |g: [usize; 2]| {
        if g[0] == g[1] {
            format!("g{}", g[0])
        } else {
            format!("g{}x{}", g[0], g[1])
        }
    };
    match (&layout.mux, shape) {
        (Some(m), _) => {
            let [c, h, w] = m.shape;
            let mut s = format!("{c}x{h}x{w} {}", gap(m.gap));
            if m.grid != orion_dialects::pack::Multiplexed::min_grid(m.shape, m.gap) {
                let _ = write!(s, " on {}x{}", m.grid[0], m.grid[1]);
            }
            s
        }
        (None, Some([c, h, w])) if c * h * w == layout.size && (h, w) != (1, 1) => {
            format!("{c}x{h}x{w} g1")
        }
        (None, _) => format!("{}", layout.size),
    }
}

/// The table as text: a header, one row per layer, the totals.
pub fn render(rows: &[LayerStats], network_depth: usize) -> String {
    let slots = rows.first().map_or(0, |r| r.input.slots);
    let mut table: Vec<[String; 12]> = vec![[
        "layer",
        "op",
        "cts",
        "input",
        "span/period",
        "output",
        "span/period",
        "diags",
        "baby",
        "giant",
        "out",
        "depth",
    ]
    .map(String::from)];
    let mut total = PlanCounts::default();
    let mut linears = 0;
    for r in rows {
        let counts = |f: fn(&PlanCounts) -> usize| {
            r.counts.as_ref().map_or("-".into(), |c| f(c).to_string())
        };
        if let Some(c) = &r.counts {
            linears += 1;
            total.diagonals += c.diagonals;
            total.baby += c.baby;
            total.giant += c.giant;
            total.output += c.output;
        }
        table.push([
            r.layer.clone(),
            r.kind.clone(),
            format!("{}->{}", r.input.blocks(), r.output.blocks()),
            layout_text(&r.input, r.input_shape),
            format!("{}/{}", r.input.span(), r.input.period),
            layout_text(&r.output, r.output_shape),
            format!("{}/{}", r.output.span(), r.output.period),
            counts(|c| c.diagonals),
            counts(|c| c.baby),
            counts(|c| c.giant),
            counts(|c| c.output),
            r.depth.to_string(),
        ]);
    }
    table.push([
        format!("total ({} layers, {linears} linear)", rows.len()),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        total.diagonals.to_string(),
        total.baby.to_string(),
        total.giant.to_string(),
        total.output.to_string(),
        network_depth.to_string(),
    ]);
    let mut widths = [0usize; 12];
    for row in &table {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let bootstraps = rows.iter().filter(|r| r.kind == "bootstrap").count();
    let mut out = format!(
        "// pack statistics: {slots} slots; rotations = {} baby + {} giant + {} output = {}; \
         {bootstraps} bootstraps; depth = longest chain of levels between bootstraps\n",
        total.baby,
        total.giant,
        total.output,
        total.rotations()
    );
    for row in &table {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            // Text columns left-aligned, figures right-aligned.
            if i < 6 {
                let _ = write!(line, "{cell:<w$}  ");
            } else {
                let _ = write!(line, "{cell:>w$}  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
