//! `pack` (nn -> pack): chooses a slot layout for every activation and turns
//! linear layers into diagonal matrix-vector products.
//!
//! Expects canonical `nn` (see `canonicalize`): gemms as `x W^T + b` with
//! constant W and b, activations already polynomial (`nn.square`,
//! `nn.polynomial`). Flatten and reshape keep the row-major order, so they
//! cost nothing on a 1-D replicated layout.
//!
//! Convolutions (batch 1, any strides, pads, dilations, groups), average
//! pools and global average pools become `pack.linear` ops with a sparse
//! map (`map = "conv2d"` with the kernel as `weights`, the conv bias and
//! attributes, `input_shape`; `map = "avgpool"` with the pool attributes; a
//! global pool is an avgpool whose kernel is the whole plane).
//!
//! Layouts follow Orion's multiplexed packing (see `pack::layout`): the
//! network input is packed 1-D (which is the multiplexed layout at gap 1); a
//! conv or pool with strides (sh, sw) multiplies its input's gap per axis
//! (stride 1 keeps it), so a strided conv is one linear map (one level) with
//! few, regular diagonals; a result with a 1x1 plane (global pool), and a
//! gemm's, are 1-D. Non-square strides give non-square gaps. Should the
//! multiplied gap make the result span more slots than there are, a smaller
//! gap (the input's, then 1) is used. Flatten and reshape keep the layout,
//! so a gemm after convolutions reads the multiplexed layout as it is.
//! Binary ops need both operands in one layout: a network input used there
//! is packed in its partner's layout, and a second operand in another
//! layout (a residual add whose branches took different strides) is moved
//! into the first's by a placement without padding (one level).
//!
//! Any layout larger than the slots continues in further ciphertexts (see
//! `pack::layout`: whole planes per ciphertext, or a large plane tiled by
//! rows), and a linear layer between such layouts is a block matrix whose
//! input rotations are shared by every output block and whose giant
//! rotations by every input block (`BlockedPlan`). Of the candidate gaps,
//! a result over several ciphertexts takes the one with the fewest.
//!
//! A concatenation is a sum of placements: each operand goes through a
//! `pack.linear` with `map = "pad"` (the zero padding that puts it at its
//! offset along the axis) into the result's layout, which keeps the first
//! operand's gap and grid; then `pack.add`s. A placement is one level and
//! one diagonal per distinct slot shift (often none: a replicated operand
//! already sits at its offset); its mask also clears what an activation
//! left in the slots no element owns. A zero `nn.pad` that canonicalize
//! could not fold into a conv or pool is one placement.
//!
//! A gemm's matrix is embedded "hybrid" (its result at its own period,
//! then rotate-and-sum) or, with [`Embedding::Square`] (`orion-opt
//! --embedding square`), "square" (the result at the input's period, no
//! rotate-and-sum).
//!
//! ```text
//! func.func @main(%input: tensor<1x1x28x28xf32>) -> tensor<1x10xf32> {
//!   %0 = nn.flatten %input {axis = 1} : (tensor<1x1x28x28xf32>) -> tensor<1x784xf32>
//!   %1 = nn.gemm %0, %w, %b {trans_b = true} : (...) -> tensor<1x128xf32>
//!   %2 = nn.square %1 : tensor<1x128xf32>
//!   =>
//!   %0 = pack.pack %input : (tensor<1x1x28x28xf32>) -> !pack.vec<slots = 4096, size = 784, period = 1024>
//!   %1 = pack.linear %0 {weights = dense_resource<fc1_weight> : tensor<128x784xf32>,
//!          bias = dense_resource<fc1_bias> : tensor<128xf32>, embedding = "hybrid", baby_steps = 16}
//!          : (!pack.vec<slots = 4096, size = 784, period = 1024>) -> !pack.vec<slots = 4096, size = 128, period = 128>
//!   %2 = pack.square %1 : !pack.vec<slots = 4096, size = 128, period = 128>
//! ```

mod layout_choice;
mod too_large;

use super::{Pass, PassOptions, Statistics};
use orion_dialects::ir::{Attribute, Func, Location, Module, Op, ValueId};
use orion_dialects::nn::activations::ACTIVATION_OPS;
use orion_dialects::nn::conv::{Conv2dAttrs, PoolAttrs};
use orion_dialects::nn::{concat, pad};
use orion_dialects::pack::{LinearMap, LinearOp, Multiplexed, VecLayout};
use orion_dialects::Diagnostic;

pub struct Pack {
    pub slots: usize,
    pub embedding: Embedding,
}

/// How a gemm's `m x n` matrix is laid on the slots (Orion's two choices).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Embedding {
    /// The result at its own period (next_pow2(m)): that many diagonals,
    /// then rotate-and-sum over the input's period (GAZELLE's "hybrid").
    #[default]
    Hybrid,
    /// The result at the input's period (the matrix padded to a square):
    /// as many diagonals as that period, no rotate-and-sum; fewer rotations
    /// when the matrix is close to square or the next layer reads a long
    /// period anyway.
    Square,
}

impl Embedding {
    pub fn name(self) -> &'static str {
        match self {
            Embedding::Hybrid => "hybrid",
            Embedding::Square => "square",
        }
    }
}

impl Pack {
    pub fn new(opts: &PassOptions) -> Pack {
        Pack {
            slots: opts.params.slots(),
            embedding: opts.embedding,
        }
    }
}

fn op_err(op: &Op, msg: impl std::fmt::Display) -> Diagnostic {
    Diagnostic::new(op.loc.clone(), format!("{} {msg}", op.label()))
}

impl Pass for Pack {
    fn name(&self) -> &'static str {
        "pack"
    }

    fn run(&self, module: &mut Module) -> Result<Statistics, Diagnostic> {
        let old = module
            .main()
            .cloned()
            .ok_or_else(|| Diagnostic::new(Location::Unknown, "module has no func.func @main"))?;
        too_large::check(&old, self.slots)?;
        let mut packer = Packer::new(self, module, &old);
        for op in &old.body {
            packer.pack_op(op)?;
        }
        let (new, stats) = (packer.new, packer.stats);
        *module.main_mut().expect("main") = new;
        Ok(vec![
            ("linear-layers".into(), stats.linears),
            ("diagonals".into(), stats.diagonals),
            ("rotations".into(), stats.rotations),
        ])
    }
}

/// An op's attribute list.
type Attrs = Vec<(String, Attribute)>;

/// The state of one run: the packed function being built, and for each
/// value of the old one its packed value, its unpacked tensor (an
/// argument) or its constant.
struct Packer<'a> {
    pass: &'a Pack,
    module: &'a mut Module,
    old: &'a Func,
    new: Func,
    /// Packed value of each old value (None for constants and unpacked tensors).
    packed: Vec<Option<ValueId>>,
    tensor_of: Vec<Option<ValueId>>,
    constants: Vec<Option<Attribute>>,
    stats: LinearStats,
}

impl<'a> Packer<'a> {
    fn new(pass: &'a Pack, module: &'a mut Module, old: &'a Func) -> Self {
        let mut new = Func::new("main");
        new.loc = old.loc.clone();
        let mut tensor_of = vec![None; old.values.len()];
        for &a in &old.args {
            let v = new.add_arg(old.ty(a).clone(), old.values[a.0 as usize].name.clone());
            tensor_of[a.0 as usize] = Some(v);
        }
        Packer {
            pass,
            module,
            old,
            new,
            packed: vec![None; old.values.len()],
            tensor_of,
            constants: vec![None; old.values.len()],
            stats: LinearStats::default(),
        }
    }

    /// The packed operand #i, packing a function argument on first use
    /// (in layout `want` if given, else 1-D).
    fn operand(
        &mut self,
        op: &Op,
        i: usize,
        want: Option<VecLayout>,
    ) -> Result<ValueId, Diagnostic> {
        let v = op.operands[i];
        if let Some(p) = self.packed[v.0 as usize] {
            return Ok(p);
        }
        let t = self.tensor_of[v.0 as usize].ok_or_else(|| {
            op_err(
                op,
                format!("operand #{i} must be a computed tensor, not a constant"),
            )
        })?;
        let n = self.new.ty(t).num_elements().unwrap_or(0);
        let layout = match want {
            Some(l) if l.size == n => l,
            _ => VecLayout::replicated(self.pass.slots, n)
                .map_err(|m| op_err(op, format!("input does not fit: {m}")))?,
        };
        let p = self.new.push_op(
            "pack.pack",
            vec![t],
            vec![],
            vec![layout.to_type()],
            Location::Unknown,
        )[0];
        self.packed[v.0 as usize] = Some(p);
        Ok(p)
    }

    /// `op` as a `pack.linear` from `x` to layout `out`.
    fn linear(
        &mut self,
        op: &Op,
        x: ValueId,
        attrs: Attrs,
        out: &VecLayout,
    ) -> Result<(), Diagnostic> {
        let r = linear(
            &mut self.new,
            &*self.module,
            op,
            x,
            attrs,
            out,
            &mut self.stats,
        )?;
        self.define(op, r);
        Ok(())
    }

    /// Records `r` as the packed value of `op`'s result.
    fn define(&mut self, op: &Op, r: ValueId) {
        self.packed[op.result().0 as usize] = Some(r);
    }

    fn pack_op(&mut self, op: &Op) -> Result<(), Diagnostic> {
        match op.name.as_str() {
            "nn.constant" => {
                self.constants[op.result().0 as usize] = op.attr("value").cloned();
            }
            "nn.flatten" | "nn.reshape" => {
                let p = self.operand(op, 0, None)?;
                self.define(op, p);
            }
            "nn.gemm" | "nn.matmul" => self.gemm(op)?,
            "nn.conv2d" | "nn.avgpool" | "nn.global_avgpool" => self.linear_map(op)?,
            "nn.square" | "nn.polynomial" => self.polynomial(op)?,
            "nn.mul" | "nn.add" | "nn.sub" | "nn.div"
                if op
                    .operands
                    .iter()
                    .any(|v| self.constants[v.0 as usize].is_some()) =>
            {
                self.scalar_affine(op)?
            }
            "nn.add" | "nn.mul" => self.binary(op)?,
            n if ACTIVATION_OPS.contains(&n) || n == "nn.max" => {
                return Err(op_err(op, "must be approximated by a polynomial before packing (run approximate-activations)"));
            }
            "nn.pad" => {
                let pads = pad::pads(op, self.shape_of(op.operands[0]).len())
                    .map_err(|m| op_err(op, m))?;
                let x = self.operand(op, 0, None)?;
                let r = self.place_all(op, &[(x, pads)])?;
                self.define(op, r);
            }
            "nn.concat" => self.concat(op)?,
            "func.return" => self.ret(op)?,
            other => {
                return Err(op_err(
                    op,
                    format!("cannot be packed yet ('{other}' has no pack lowering)"),
                ))
            }
        }
        Ok(())
    }

    /// A gemm: a diagonal (BSGS) matrix-vector product in the embedding
    /// the pass was given.
    fn gemm(&mut self, op: &Op) -> Result<(), Diagnostic> {
        let x = self.operand(op, 0, None)?;
        let in_shape = self.old.ty(op.operands[0]).shape().unwrap_or(&[]).to_vec();
        if in_shape.len() != 2 || in_shape[0] != 1 {
            return Err(op_err(
                op,
                format!("packs batch-1 inputs of shape [1, n] only, got {in_shape:?}"),
            ));
        }
        let (weights, bias) = linear_operands(self.module, op, &self.constants)?;
        let mut attrs = vec![("weights".to_string(), weights)];
        if let Some(b) = bias {
            attrs.push(("bias".to_string(), b));
        }
        let n = self.old.ty(op.result()).num_elements().unwrap_or(0);
        let mut out = VecLayout::replicated(self.pass.slots, n)
            .map_err(|m| op_err(op, format!("result: {m}")))?;
        if self.pass.embedding == Embedding::Square {
            let input = VecLayout::from_type(self.new.ty(x)).map_err(|m| op_err(op, m))?;
            out.period = out.period.max(input.period);
        }
        attrs.push((
            "embedding".to_string(),
            Attribute::String(self.pass.embedding.name().into()),
        ));
        self.linear(op, x, attrs, &out)
    }

    /// A conv, avgpool or global avgpool: one sparse linear map from the
    /// input's multiplexed layout to the strided one of its result.
    fn linear_map(&mut self, op: &Op) -> Result<(), Diagnostic> {
        let x = self.operand(op, 0, None)?;
        let shape = self.old.ty(op.operands[0]).shape().unwrap_or(&[]).to_vec();
        if shape.len() != 4 || shape[0] != 1 {
            return Err(op_err(
                op,
                format!("packs batch-1 NCHW inputs only, got shape {shape:?}"),
            ));
        }
        let (attrs, strides) = self.map_attrs(op, &shape)?;
        let out_shape = match self.old.ty(op.result()).shape() {
            Some(&[1, c, h, w]) => [c, h, w],
            other => {
                return Err(op_err(
                    op,
                    format!("result must be [1, C, H, W], got {other:?}"),
                ))
            }
        };
        let slots = self.pass.slots;
        let input = VecLayout::from_type(self.new.ty(x)).map_err(|m| op_err(op, m))?;
        let in_shape = [shape[1], shape[2], shape[3]];
        let layouts = strided_layouts(slots, &input, in_shape, out_shape, strides)
            .map_err(|m| op_err(op, format!("result: {m}")))?;
        let out = match layout_choice::without_weighing(&layouts) {
            Some(l) => l,
            None => {
                let map = LinearMap::from_attrs(&attrs, self.module).map_err(|m| op_err(op, m))?;
                layout_choice::cheapest(&map, &input, layouts)
            }
        };
        self.linear(op, x, attrs, &out)
    }

    /// The `pack.linear` attributes of a conv or pool reading an NCHW input
    /// of `shape`, and its strides.
    fn map_attrs(&self, op: &Op, shape: &[usize]) -> Result<(Attrs, [usize; 2]), Diagnostic> {
        let input_shape = (
            "input_shape".to_string(),
            Attribute::I64Array(shape.iter().map(|&v| v as i64).collect()),
        );
        let mut attrs = Vec::new();
        if op.name == "nn.conv2d" {
            let conv = Conv2dAttrs::from_op(op).map_err(|m| op_err(op, m))?;
            attrs.push(("map".to_string(), Attribute::String("conv2d".into())));
            attrs.push((
                "weights".to_string(),
                constant_operand(op, 1, &self.constants)?,
            ));
            if op.operands.len() > 2 {
                attrs.push((
                    "bias".to_string(),
                    constant_operand(op, 2, &self.constants)?,
                ));
            }
            attrs.push(input_shape);
            attrs.extend(conv.to_attrs());
            return Ok((attrs, conv.strides));
        }
        let pool = if op.name == "nn.avgpool" {
            PoolAttrs::from_op(op).map_err(|m| op_err(op, m))?
        } else {
            PoolAttrs {
                kernel: [shape[2], shape[3]],
                strides: [1, 1],
                pads: [0; 4],
                count_include_pad: true,
            }
        };
        attrs.push(("map".to_string(), Attribute::String("avgpool".into())));
        attrs.push(input_shape);
        attrs.extend(pool.to_attrs());
        Ok((attrs, pool.strides))
    }

    /// `nn.square` / `nn.polynomial`: the same op on the packed vector.
    fn polynomial(&mut self, op: &Op) -> Result<(), Diagnostic> {
        let x = self.operand(op, 0, None)?;
        let name = if op.name == "nn.square" {
            "pack.square"
        } else {
            "pack.polynomial"
        };
        let attrs = op.attrs.clone();
        let ty = self.new.ty(x).clone();
        let r = self
            .new
            .push_op(name, vec![x], attrs, vec![ty], op.loc.clone())[0];
        self.define(op, r);
        Ok(())
    }

    /// A computed value and a scalar constant combined by `nn.mul`,
    /// `nn.add`, `nn.sub` or `nn.div` (the 1/B of an activation
    /// approximation, the constants of an exported GELU): the degree-1
    /// polynomial `c0 + c1 x`.
    fn scalar_affine(&mut self, op: &Op) -> Result<(), Diagnostic> {
        let (xi, ci) = if self.constants[op.operands[1].0 as usize].is_some() {
            (0, 1)
        } else {
            (1, 0)
        };
        let c = constant_operand(op, ci, &self.constants)?;
        let c = match self.module.resource_f32(&c).map_err(|m| op_err(op, m))?[..] {
            [c] => c as f64,
            _ => {
                return Err(op_err(
                    op,
                    "combines a value with a constant tensor; only a scalar (one element) can be packed",
                ))
            }
        };
        let coeffs = match (op.name.as_str(), ci) {
            ("nn.mul", _) => vec![0.0, c],
            ("nn.add", _) => vec![c, 1.0],
            ("nn.sub", 1) => vec![-c, 1.0],
            ("nn.sub", _) => vec![c, -1.0],
            ("nn.div", 1) if c != 0.0 => vec![0.0, 1.0 / c],
            ("nn.div", 1) => return Err(op_err(op, "divides by the constant 0")),
            _ => {
                return Err(op_err(
                    op,
                    "divides a constant by a value, which is not a polynomial",
                ))
            }
        };
        let x = self.operand(op, xi, None)?;
        let ty = self.new.ty(x).clone();
        let attrs = vec![("coeffs".to_string(), Attribute::F64Array(coeffs))];
        let r = self
            .new
            .push_op("pack.polynomial", vec![x], attrs, vec![ty], op.loc.clone())[0];
        self.define(op, r);
        Ok(())
    }

    /// `nn.add` / `nn.mul` of two computed values in one layout; a network
    /// input used there is packed in its partner's layout, a computed value
    /// in another layout is moved into it (`relayout`).
    fn binary(&mut self, op: &Op) -> Result<(), Diagnostic> {
        // Operand 1 computed, operand 0 not yet packed: take 1's layout.
        let second_first = self.packed[op.operands[1].0 as usize].is_some()
            && self.packed[op.operands[0].0 as usize].is_none();
        let (a, b) = if second_first {
            let b = self.operand(op, 1, None)?;
            let want = VecLayout::from_type(self.new.ty(b)).ok();
            (self.operand(op, 0, want)?, b)
        } else {
            let a = self.operand(op, 0, None)?;
            let want = VecLayout::from_type(self.new.ty(a)).ok();
            (a, self.operand(op, 1, want)?)
        };
        let b = if self.new.ty(a) != self.new.ty(b) {
            self.relayout(op, 1, b, a)?
        } else {
            b
        };
        let ty = self.new.ty(a).clone();
        let name = if op.name == "nn.add" {
            "pack.add"
        } else {
            "pack.mul"
        };
        let r = self
            .new
            .push_op(name, vec![a, b], vec![], vec![ty], op.loc.clone())[0];
        self.define(op, r);
        Ok(())
    }

    /// Operand #`i` of `op`, packed as `x`, moved into the layout of `like`
    /// (a residual add whose branches took different strides, the terms of
    /// a concatenation that convs wrote at different gaps): a `"pad"` map
    /// without padding, one level.
    fn relayout(
        &mut self,
        op: &Op,
        i: usize,
        x: ValueId,
        like: ValueId,
    ) -> Result<ValueId, Diagnostic> {
        let rank = self.shape_of(op.operands[i]).len();
        let out = VecLayout::from_type(self.new.ty(like)).map_err(|m| op_err(op, m))?;
        self.place(op, i, x, &vec![0; 2 * rank], &out)
    }

    /// Operand #`i` of `op`, packed as `x`, zero-padded by `pads` (ONNX
    /// order) into the layout `out`: a `pack.linear` with a `"pad"` map.
    fn place(
        &mut self,
        op: &Op,
        i: usize,
        x: ValueId,
        pads: &[usize],
        out: &VecLayout,
    ) -> Result<ValueId, Diagnostic> {
        let attrs = vec![
            ("map".to_string(), Attribute::String("pad".into())),
            (
                "input_shape".to_string(),
                dims_attr(&self.shape_of(op.operands[i])),
            ),
            ("pads".to_string(), dims_attr(pads)),
        ];
        linear(
            &mut self.new,
            &*self.module,
            op,
            x,
            attrs,
            out,
            &mut self.stats,
        )
    }

    fn shape_of(&self, v: ValueId) -> Vec<usize> {
        self.old.ty(v).shape().unwrap_or(&[]).to_vec()
    }

    /// `nn.concat`: each operand placed where it goes in the result (a
    /// `"pad"` map: one level, a rotation per distinct shift, the mask
    /// that clears what an activation left in the free slots), then
    /// added. Operands of `C_i` channels in a multiplexed layout keep
    /// their gap and grid, so when every `C_i` is a multiple of the
    /// channels per plane each is one rotation (see `placed_layout`).
    fn concat(&mut self, op: &Op) -> Result<(), Diagnostic> {
        let shapes: Vec<Vec<usize>> = op.operands.iter().map(|&v| self.shape_of(v)).collect();
        let refs: Vec<&[usize]> = shapes.iter().map(Vec::as_slice).collect();
        let rank = shapes.first().map_or(0, Vec::len);
        let axis = concat::axis(op, rank).map_err(|m| op_err(op, m))?;
        let (_, pads) = concat::placements(&refs, axis).map_err(|m| op_err(op, m))?;
        let mut parts = Vec::new();
        for (i, p) in pads.into_iter().enumerate() {
            parts.push((self.operand(op, i, None)?, p));
        }
        let r = self.place_all(op, &parts)?;
        self.define(op, r);
        Ok(())
    }

    /// The sum of the `(x, pads)` parts, each padded into the layout of the
    /// result of `op` (built from the first part's layout): one `pack.linear`
    /// per part, none for a part with no padding.
    fn place_all(
        &mut self,
        op: &Op,
        parts: &[(ValueId, Vec<usize>)],
    ) -> Result<ValueId, Diagnostic> {
        let out_shape = self.shape_of(op.result());
        let in_shape = self.shape_of(op.operands[0]);
        let first = VecLayout::from_type(self.new.ty(parts[0].0)).map_err(|m| op_err(op, m))?;
        let out = placed_layout(self.pass.slots, &first, &in_shape, &out_shape)
            .map_err(|m| op_err(op, format!("result: {m}")))?;
        let mut sum: Option<ValueId> = None;
        for (i, (x, pads)) in parts.iter().enumerate() {
            let placed = if pads.iter().all(|&p| p == 0) {
                *x
            } else {
                self.place(op, i, *x, pads, &out)?
            };
            sum = Some(match sum {
                None => placed,
                Some(acc) => self.new.push_op(
                    "pack.add",
                    vec![acc, placed],
                    vec![],
                    vec![out.to_type()],
                    op.loc.clone(),
                )[0],
            });
        }
        Ok(sum.expect("at least one part"))
    }

    /// `func.return`: every result unpacked back to its tensor.
    fn ret(&mut self, op: &Op) -> Result<(), Diagnostic> {
        let mut outs = Vec::new();
        for (i, &v) in op.operands.iter().enumerate() {
            let p = self.operand(op, i, None)?;
            let ty = self.old.ty(v).clone();
            outs.push(
                self.new
                    .push_op("pack.unpack", vec![p], vec![], vec![ty], Location::Unknown)[0],
            );
        }
        self.new
            .push_op("func.return", outs, vec![], vec![], Location::Unknown);
        Ok(())
    }
}

#[derive(Default)]
struct LinearStats {
    linears: i64,
    diagonals: i64,
    rotations: i64,
}

/// The layouts a conv or pool result `out_shape` may take from an `input`
/// layout of `in_shape`: the input's gap (1 for a 1-D input, or one laid
/// out for another shape) times the strides, per axis, on the input's grid
/// when the result fits in it (so that every tap moves all elements alike:
/// few diagonals), else on the smallest grid; then the same on the
/// smallest grid, the input's gap, gap 1: every one that fits, in that
/// order. A 1x1 plane is 1-D (the positions would be the flat ones anyway).
fn strided_layouts(
    slots: usize,
    input: &VecLayout,
    in_shape: [usize; 3],
    out_shape: [usize; 3],
    strides: [usize; 2],
) -> Result<Vec<VecLayout>, String> {
    if out_shape[1] == 1 && out_shape[2] == 1 {
        return Ok(vec![VecLayout::replicated(slots, out_shape[0])?]);
    }
    let (in_gap, in_grid) = match &input.mux {
        Some(m) if m.shape == in_shape => (m.gap, m.grid),
        _ => ([1, 1], [in_shape[1], in_shape[2]]),
    };
    let gap = [in_gap[0] * strides[0], in_gap[1] * strides[1]];
    let mut candidates = Vec::new();
    let min = Multiplexed::min_grid(out_shape, gap);
    if min[0] <= in_grid[0] && min[1] <= in_grid[1] {
        candidates.push((gap, in_grid));
    }
    for g in [gap, in_gap, [1, 1]] {
        candidates.push((g, Multiplexed::min_grid(out_shape, g)));
    }
    let (mut fitting, mut first_err) = (Vec::<VecLayout>::new(), None);
    for (gap, grid) in candidates {
        match VecLayout::on_grid(slots, out_shape, gap, grid) {
            Ok(l) => {
                if !fitting.contains(&l) {
                    fitting.push(l);
                }
            }
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    if fitting.is_empty() {
        return Err(first_err.expect("at least one candidate"));
    }
    Ok(fitting)
}

/// [`strided_layouts`]' first with the fewest ciphertexts: every op after
/// it, and a bootstrap, costs one per ciphertext.
fn strided_layout(
    slots: usize,
    input: &VecLayout,
    in_shape: [usize; 3],
    out_shape: [usize; 3],
    strides: [usize; 2],
) -> Result<VecLayout, String> {
    let layouts = strided_layouts(slots, input, in_shape, out_shape, strides)?;
    let fewest = layouts.iter().map(VecLayout::blocks).min();
    Ok(layouts
        .into_iter()
        .find(|l| Some(l.blocks()) == fewest)
        .expect("at least one layout"))
}

/// The layout of a placement's result of `out_shape` from an input laid
/// out as `input`: an NCHW result keeps the input's gap and grid when it
/// fits (so a channel offset that fills whole planes is one rotation), as
/// a strided conv's result would; any other rank is 1-D.
fn placed_layout(
    slots: usize,
    input: &VecLayout,
    in_shape: &[usize],
    out_shape: &[usize],
) -> Result<VecLayout, String> {
    match (in_shape, out_shape) {
        (&[1, c, h, w], &[1, oc, oh, ow]) => {
            strided_layout(slots, input, [c, h, w], [oc, oh, ow], [1, 1])
        }
        _ => VecLayout::replicated(slots, out_shape.iter().product()),
    }
}

fn dims_attr(dims: &[usize]) -> Attribute {
    Attribute::I64Array(dims.iter().map(|&d| d as i64).collect())
}

/// Appends `pack.linear` of `x` with the map and bias `attrs`, whose result
/// takes the `output` layout (the plan's embedding and baby steps are added
/// here).
fn linear(
    new: &mut Func,
    module: &Module,
    op: &Op,
    x: ValueId,
    mut attrs: Vec<(String, Attribute)>,
    output: &VecLayout,
    stats: &mut LinearStats,
) -> Result<ValueId, Diagnostic> {
    let input = VecLayout::from_type(new.ty(x)).map_err(|m| op_err(op, m))?;
    if !attrs.iter().any(|(k, _)| k == "embedding") {
        attrs.push(("embedding".to_string(), Attribute::String("hybrid".into())));
    }
    let mut lin_op = Op {
        name: "pack.linear".into(),
        operands: vec![x],
        results: vec![],
        attrs,
        loc: op.loc.clone(),
    };
    let lin = LinearOp::from_op(&lin_op, &input, output, module).map_err(|m| op_err(op, m))?;
    // Every block shares one n1 (see `BlockedPlan::new`).
    let baby = lin.plan.blocks.first().map_or(0, |(_, _, p)| p.baby_steps);
    lin_op.set_attr("baby_steps", Attribute::Int(baby as i64));
    stats.linears += 1;
    stats.diagonals += lin.plan.num_diagonals() as i64;
    stats.rotations += lin.plan.rotation_offsets().len() as i64;
    Ok(new.push_op(
        "pack.linear",
        vec![x],
        lin_op.attrs,
        vec![output.to_type()],
        op.loc.clone(),
    )[0])
}

fn constant_operand(
    op: &Op,
    i: usize,
    constants: &[Option<Attribute>],
) -> Result<Attribute, Diagnostic> {
    op.operands
        .get(i)
        .and_then(|v| constants[v.0 as usize].clone())
        .ok_or_else(|| op_err(op, format!("operand #{i} must be a constant")))
}

/// Weights [m, n] and optional bias of a canonical gemm (or a matmul by a
/// constant, whose weights are transposed into a new resource).
fn linear_operands(
    module: &mut Module,
    op: &Op,
    constants: &[Option<Attribute>],
) -> Result<(Attribute, Option<Attribute>), Diagnostic> {
    let constant = |i: usize| -> Result<Attribute, Diagnostic> {
        op.operands
            .get(i)
            .and_then(|v| constants[v.0 as usize].clone())
            .ok_or_else(|| op_err(op, format!("operand #{i} must be a constant")))
    };
    if op.name == "nn.gemm" {
        let flag = |k: &str| op.attr(k).and_then(Attribute::as_bool).unwrap_or(false);
        let num = |k: &str| op.attr(k).and_then(Attribute::as_float).unwrap_or(1.0);
        if !flag("trans_b") || flag("trans_a") || num("alpha") != 1.0 || num("beta") != 1.0 {
            return Err(op_err(
                op,
                "is not in canonical form (run canonicalize first)",
            ));
        }
        let bias = if op.operands.len() == 3 {
            Some(constant(2)?)
        } else {
            None
        };
        return Ok((constant(1)?, bias));
    }
    // matmul: x [1, n] * B [n, m] = W x with W = B^T.
    let b = constant(1)?;
    let ty = match &b {
        Attribute::DenseResource { ty, .. } | Attribute::Dense { ty, .. } => ty.clone(),
        _ => return Err(op_err(op, "weights must be dense")),
    };
    let data = module.resource_f32(&b).map_err(|m| op_err(op, m))?;
    let (n, m) = match ty.shape() {
        Some(&[n, m]) => (n, m),
        _ => return Err(op_err(op, "weights must be 2-D")),
    };
    let mut w = vec![0f32; n * m];
    for i in 0..n {
        for j in 0..m {
            w[j * n + i] = data[i * m + j];
        }
    }
    let name = module.add_f32_resource(
        &format!("{}_weight_t", op.loc.name().unwrap_or("matmul")),
        &w,
    );
    Ok((
        Attribute::DenseResource {
            name,
            ty: orion_dialects::Type::f32_tensor(&[m, n]),
        },
        None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strided_layouts_multiply_the_gap_and_shrink_when_too_wide() {
        // Gap 1 (1-D) through stride 2: gap 2 on the input's 16x16 grid.
        let input = VecLayout::replicated(4096, 4 * 16 * 16).unwrap();
        let l = strided_layout(4096, &input, [4, 16, 16], [8, 8, 8], [2, 2]).unwrap();
        assert_eq!(l, VecLayout::multiplexed(4096, [8, 8, 8], [2, 2]).unwrap());
        // Then a stride [1, 2]: gap [2, 4], still on 16x16.
        let l = strided_layout(4096, &l, [8, 8, 8], [8, 8, 4], [1, 2]).unwrap();
        assert_eq!(l.gap(), [2, 4]);
        assert_eq!(l.mux.as_ref().unwrap().grid, [16, 16]);
        // A conv without padding keeps its input's grid.
        let l = strided_layout(4096, &l, [8, 8, 4], [8, 6, 2], [1, 1]).unwrap();
        assert_eq!((l.gap(), l.mux.as_ref().unwrap().grid), ([2, 4], [16, 16]));
        // 5x3x3 at gap 2 spans two 6x6 planes (72 slots), more than 64: the
        // 45 elements go 1-D instead.
        let input = VecLayout::replicated(256, 180).unwrap();
        let l = strided_layout(64, &input, [5, 6, 6], [5, 3, 3], [2, 2]).unwrap();
        assert_eq!(l, VecLayout::replicated(64, 45).unwrap());
        // At 32 slots the 6x6 planes would each take two ciphertexts (four
        // in all): the 1-D layout over two is chosen.
        let l = strided_layout(32, &input, [5, 6, 6], [5, 3, 3], [2, 2]).unwrap();
        assert_eq!((l.blocks(), l.mux.is_none()), (2, true));
        // 64 x 16 x 16 at gap 2 on 32x32 planes: 16 planes, 8 per 8192 slots.
        let input = VecLayout::replicated(8192, 64 * 32 * 32).unwrap();
        let l = strided_layout(8192, &input, [64, 32, 32], [64, 16, 16], [2, 2]).unwrap();
        assert_eq!((l.blocks(), l.gap()), (2, [2, 2]));
        // A 1x1 plane is 1-D whatever the gap.
        let l = strided_layout(4096, &input, [5, 6, 6], [5, 1, 1], [6, 6]).unwrap();
        assert_eq!(l, VecLayout::replicated(4096, 5).unwrap());
    }
}
