//! Packed-vector layouts: which tensor element sits in which slot.
//!
//! Every layout is a position function `pos(e)` from the flattened
//! (row-major) element index `e` to a slot below the layout's span, repeated
//! with a power-of-two `period >= span`: element `e` sits in every slot
//! `pos(e) + t * period` (`t < slots / period`). Replication makes a rotation
//! by `k` act cyclically inside each period, which is what the diagonal
//! method needs, without masking. Slots of a period that no element owns hold
//! values nobody reads (zeros, as packed and as a linear layer leaves them).
//!
//! Two position functions exist:
//!
//! - 1-D: `pos(e) = e`, span = size. Written
//!   `!pack.vec<slots = 4096, size = 784, period = 1024>`.
//! - Multiplexed (Orion's layout for convolutions): a `[C, H, W]` activation
//!   with gap `(gh, gw)` (the product of the strides so far, per axis) lives
//!   in planes of `R x S` slots (the grid; at least `gh H x gw W`, more when
//!   a conv without padding shrank the image inside its input's grid).
//!   Channel `c = blk gh gw + a gw + b` puts element `(c, h, w)` at row
//!   `gh h + a`, column `gw w + b` of plane `blk`; the `ceil(C / (gh gw))`
//!   planes are consecutive. A conv whose output keeps its input's grid
//!   moves every element by the same offset per kernel tap and channel
//!   pair, so it needs few, regular diagonals. Written
//!   `!pack.vec<slots = 32768, size = 8192, period = 8192, shape = [32, 16, 16], gap = 2>`
//!   (`gap = [2, 1]` when the axes differ, `grid = [R, S]` when larger than
//!   `gh H x gw W`). A gap of 1 on a grid of `H x W` places every element at
//!   its flattened index, so it *is* the 1-D layout and is always written
//!   (and stored) as such.
//!
//! Flatten and reshape keep the positions (they are a function of the
//! flattened index), so a dense layer after convolutions reads the
//! multiplexed layout directly.
//!
//! A layout larger than one ciphertext continues in the next ones (block
//! `b` holds positions `b * slots ..`): then its period is the slot count
//! (no replication) and it takes `blocks() = ceil(span / slots)`
//! ciphertexts; a linear layer between such layouts is a block matrix
//! (`linear::BlockedPlan`). A 1-D layout simply flows on:
//! `!pack.vec<slots = 4096, size = 10000, period = 4096>` is three blocks.
//! A multiplexed layout never lets a plane straddle two ciphertexts when a
//! plane fits one: each ciphertext holds `floor(slots / plane)` whole
//! planes (channel blocks), so a conv's taps move elements by the same
//! offsets in every block and its block matrix has the single-ciphertext
//! diagonals. A plane larger than the slots (a 224x224 image at 2^15
//! slots) starts on a ciphertext boundary and flows over
//! `ceil(plane / slots)` of them (spatial tiles by rows); a tap then also
//! reaches the neighbouring tile, one more block of the matrix. The type
//! does not change: `!pack.vec<slots = 32768, size = 65536, period =
//! 32768, shape = [256, 16, 16], gap = 2>` is 64 planes of 32x32, 32 in
//! each of two ciphertexts.

use crate::ir::limits::{checked_product, MAX_SLOTS, MAX_TENSOR_ELEMENTS};
use crate::ir::{Attribute, Type};

/// The most ciphertexts one layout may span (ImageNet ResNet-18's largest
/// activation, 64 x 112 x 112, takes 25 at 2^15 slots).
pub const MAX_BLOCKS: usize = 1 << 16;

/// The most slots a layout's positions may reach (they are stored as u32).
const MAX_SPAN: usize = u32::MAX as usize;

/// A multiplexed shape and gap within bounds: their products (the minimal
/// grid) cannot overflow, and a gap wider than the slots is meaningless.
fn check_mux_params(shape: [usize; 3], gap: [usize; 2]) -> Result<(), String> {
    if shape.iter().any(|&d| d > MAX_TENSOR_ELEMENTS)
        || checked_product(&shape).is_none_or(|n| n > MAX_TENSOR_ELEMENTS)
    {
        return Err(format!(
            "shape {shape:?} holds more than the {MAX_TENSOR_ELEMENTS} elements a tensor may have"
        ));
    }
    if gap.iter().any(|&g| g == 0 || g > MAX_SLOTS) {
        return Err(format!("gap {gap:?} must be from 1 to {MAX_SLOTS}"));
    }
    Ok(())
}

/// Where a `[C, H, W]` tensor sits when its channels are multiplexed with a
/// gap (see the module comment).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Multiplexed {
    /// `[C, H, W]` of the tensor.
    pub shape: [usize; 3],
    /// Gap `[gh, gw]` along H and W.
    pub gap: [usize; 2],
    /// Rows and columns of a plane, at least `[gh H, gw W]`.
    pub grid: [usize; 2],
}

impl Multiplexed {
    /// Channels interleaved in one plane.
    pub fn channels_per_plane(&self) -> usize {
        self.gap[0] * self.gap[1]
    }

    pub fn planes(&self) -> usize {
        self.shape[0].div_ceil(self.channels_per_plane())
    }

    /// `[gh H, gw W]`: the smallest grid that holds the tensor.
    pub fn min_grid(shape: [usize; 3], gap: [usize; 2]) -> [usize; 2] {
        [gap[0] * shape[1], gap[1] * shape[2]]
    }

    pub fn plane_slots(&self) -> usize {
        self.grid[0] * self.grid[1]
    }

    /// Position of plane `p`'s first slot over ciphertexts of `slots`:
    /// planes back to back when all fit one ciphertext; else whole planes
    /// per ciphertext (channel blocks), or, for a plane larger than a
    /// ciphertext, each plane from a ciphertext boundary over as many as it
    /// needs (spatial tiles).
    pub fn plane_start(&self, p: usize, slots: usize) -> usize {
        let plane = self.plane_slots();
        let slots = slots.max(1);
        if self.planes() * plane <= slots {
            p * plane
        } else if plane <= slots {
            let per_block = slots / plane;
            p / per_block * slots + p % per_block * plane
        } else {
            p * plane.div_ceil(slots) * slots
        }
    }

    /// Slots from the first to one past the last that the planes reach.
    pub fn span(&self, slots: usize) -> usize {
        self.plane_start(self.planes().saturating_sub(1), slots) + self.plane_slots()
    }

    /// Slot of element `(c, h, w)`, given as its flattened index, over
    /// ciphertexts of `slots`.
    pub fn pos(&self, e: usize, slots: usize) -> usize {
        let [_, h, w] = self.shape;
        let [gh, gw] = self.gap;
        let (c, y, x) = (e / (h * w), e / w % h, e % w);
        let (plane, a, b) = (c / (gh * gw), c % (gh * gw) / gw, c % gw);
        self.plane_start(plane, slots) + (gh * y + a) * self.grid[1] + gw * x + b
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VecLayout {
    pub slots: usize,
    /// Number of tensor elements.
    pub size: usize,
    pub period: usize,
    /// `None`: the 1-D layout (`pos(e) = e`).
    pub mux: Option<Multiplexed>,
}

impl VecLayout {
    /// The 1-D layout with the smallest power-of-two period that holds
    /// `size` elements, or, if they exceed the slots, the blocks of as many
    /// ciphertexts as they need.
    pub fn replicated(slots: usize, size: usize) -> Result<VecLayout, String> {
        let layout = VecLayout {
            slots,
            size,
            period: size.max(1).next_power_of_two().min(slots.max(1)),
            mux: None,
        };
        layout.check()?;
        Ok(layout)
    }

    /// A `[C, H, W]` tensor multiplexed with `gap` on the smallest grid,
    /// with the smallest power-of-two period that holds its span; the 1-D
    /// layout for gap 1.
    pub fn multiplexed(
        slots: usize,
        shape: [usize; 3],
        gap: [usize; 2],
    ) -> Result<VecLayout, String> {
        VecLayout::on_grid(slots, shape, gap, Multiplexed::min_grid(shape, gap))
    }

    /// As `multiplexed`, on planes of `grid` rows and columns.
    pub fn on_grid(
        slots: usize,
        shape: [usize; 3],
        gap: [usize; 2],
        grid: [usize; 2],
    ) -> Result<VecLayout, String> {
        check_mux_params(shape, gap)?;
        let size = shape.iter().product();
        if gap == [1, 1] && grid == [shape[1], shape[2]] {
            return VecLayout::replicated(slots, size);
        }
        let mut layout = VecLayout {
            slots,
            size,
            period: slots,
            mux: Some(Multiplexed { shape, gap, grid }),
        };
        layout.check_bounds()?;
        // One ciphertext repeats the span; several do not repeat.
        layout.period = layout.span().max(1).next_power_of_two().min(slots);
        layout.check()?;
        Ok(layout)
    }

    /// Slots of a period that the positions reach (size for the 1-D layout).
    pub fn span(&self) -> usize {
        match &self.mux {
            Some(m) => m.span(self.slots),
            None => self.size,
        }
    }

    /// Ciphertexts the layout takes (1 unless its span exceeds the slots).
    pub fn blocks(&self) -> usize {
        self.span().div_ceil(self.slots.max(1)).max(1)
    }

    /// `[gh, gw]`; `[1, 1]` for the 1-D layout.
    pub fn gap(&self) -> [usize; 2] {
        self.mux.as_ref().map_or([1, 1], |m| m.gap)
    }

    /// The grid a `[C, H, W]` tensor occupies in this layout: the
    /// multiplexed grid, or `[H, W]` for a 1-D layout of that shape.
    pub fn grid_of(&self, shape: [usize; 3]) -> [usize; 2] {
        match &self.mux {
            Some(m) => m.grid,
            None => [shape[1], shape[2]],
        }
    }

    /// Slot (within the first period) of flattened element `e`.
    pub fn pos(&self, e: usize) -> usize {
        match &self.mux {
            Some(m) => m.pos(e, self.slots),
            None => e,
        }
    }

    /// `pos(e)` for every element, in order.
    pub fn positions(&self) -> Vec<u32> {
        (0..self.size).map(|e| self.pos(e) as u32).collect()
    }

    /// The bounds every size computed from a layout relies on: a slot count
    /// that is a power of two up to [`MAX_SLOTS`], a size up to
    /// [`MAX_TENSOR_ELEMENTS`], and a multiplexed shape, gap and grid whose
    /// span is computable.
    fn check_bounds(&self) -> Result<(), String> {
        if !self.slots.is_power_of_two() || self.slots > MAX_SLOTS {
            return Err(format!(
                "slot count {} is not a power of two up to {MAX_SLOTS}",
                self.slots
            ));
        }
        if self.size > MAX_TENSOR_ELEMENTS {
            return Err(format!(
                "size {} is more than the {MAX_TENSOR_ELEMENTS} elements a tensor may have",
                self.size
            ));
        }
        if let Some(m) = &self.mux {
            check_mux_params(m.shape, m.gap)?;
            let span = m.grid[0].checked_mul(m.grid[1]).and_then(|p| {
                p.checked_mul(m.shape[0].div_ceil(m.gap[0].max(1) * m.gap[1].max(1)))
            });
            if span.is_none_or(|s| s > MAX_SPAN) {
                return Err(format!(
                    "a [{}, {}, {}] tensor at gap {:?} on a {:?} grid spans more than \
                     {MAX_SPAN} slots",
                    m.shape[0], m.shape[1], m.shape[2], m.gap, m.grid
                ));
            }
        }
        Ok(())
    }

    pub fn check(&self) -> Result<(), String> {
        self.check_bounds()?;
        if let Some(m) = &self.mux {
            let [c, h, w] = m.shape;
            if checked_product(&m.shape) != Some(self.size) || m.shape.contains(&0) {
                return Err(format!(
                    "shape [{c}, {h}, {w}] does not hold the layout's {} elements",
                    self.size
                ));
            }
            if m.gap.contains(&0) {
                return Err(format!("gap {:?} must be positive", m.gap));
            }
            let min = Multiplexed::min_grid(m.shape, m.gap);
            if m.grid[0] < min[0] || m.grid[1] < min[1] {
                return Err(format!(
                    "grid {:?} is smaller than the {min:?} that [{c}, {h}, {w}] at gap {:?} needs",
                    m.grid, m.gap
                ));
            }
            if m.gap == [1, 1] && m.grid == [h, w] {
                return Err(
                    "a gap-1 layout on an H x W grid is the 1-D layout: write it without 'shape' and 'gap'"
                        .into(),
                );
            }
        }
        let span = self.span();
        if span > MAX_SPAN {
            return Err(format!(
                "its ciphertexts would span {span} slots, more than {MAX_SPAN}"
            ));
        }
        let what = || match &self.mux {
            Some(m) => format!(
                "a [{}, {}, {}] tensor at gap {:?} spans {span} slots and",
                m.shape[0], m.shape[1], m.shape[2], m.gap
            ),
            None => format!("a tensor of {span} elements"),
        };
        if span > self.slots && self.period != self.slots {
            return Err(format!(
                "{} spans {} ciphertexts of {} slots: its period must be the slot count, not {}",
                what(),
                self.blocks(),
                self.slots,
                self.period
            ));
        }
        if !self.period.is_power_of_two() || self.period > self.slots {
            return Err(format!(
                "period {} must be a power of two no larger than the {} slots",
                self.period, self.slots
            ));
        }
        if self.blocks() > MAX_BLOCKS {
            return Err(format!(
                "{} takes {} ciphertexts, more than the {MAX_BLOCKS} a layout may span",
                what(),
                self.blocks()
            ));
        }
        if span > self.period && self.blocks() == 1 {
            return Err(format!(
                "{} does not fit a period of {} (slots: {})",
                what(),
                self.period,
                self.slots
            ));
        }
        Ok(())
    }

    pub fn to_type(&self) -> Type {
        let int = |v: usize| Attribute::Int(v as i64);
        let mut params = vec![
            ("slots".into(), int(self.slots)),
            ("size".into(), int(self.size)),
            ("period".into(), int(self.period)),
        ];
        if let Some(m) = &self.mux {
            params.push((
                "shape".into(),
                Attribute::Array(m.shape.iter().map(|&v| int(v)).collect()),
            ));
            let gap = match m.gap {
                [gh, gw] if gh == gw => int(gh),
                [gh, gw] => Attribute::Array(vec![int(gh), int(gw)]),
            };
            params.push(("gap".into(), gap));
            if m.grid != Multiplexed::min_grid(m.shape, m.gap) {
                params.push((
                    "grid".into(),
                    Attribute::Array(m.grid.iter().map(|&v| int(v)).collect()),
                ));
            }
        }
        Type::dialect("pack", "vec", params)
    }

    pub fn from_type(ty: &Type) -> Result<VecLayout, String> {
        if !ty.is_dialect("pack", "vec") {
            return Err(format!("expected a !pack.vec type, got {ty}"));
        }
        let param = |k: &str| ty.dialect_param("pack", "vec", k);
        let non_negative = |a: &Attribute| a.as_int().filter(|&v| v >= 0).map(|v| v as usize);
        let get = |k: &str| {
            param(k)
                .and_then(non_negative)
                .ok_or_else(|| format!("{ty} lacks a non-negative integer '{k}'"))
        };
        let ints = |k: &str, a: &Attribute| -> Result<Vec<usize>, String> {
            let bad = || format!("{ty}: '{k}' must be a list of non-negative integers");
            match a {
                Attribute::Array(items) => items
                    .iter()
                    .map(|i| non_negative(i).ok_or_else(bad))
                    .collect(),
                Attribute::I64Array(items) => items
                    .iter()
                    .map(|&v| usize::try_from(v).map_err(|_| bad()))
                    .collect(),
                _ => Err(bad()),
            }
        };
        let mux = match (param("shape"), param("gap")) {
            (None, None) => None,
            (Some(shape), Some(gap)) => {
                let shape = match ints("shape", shape)?[..] {
                    [c, h, w] => [c, h, w],
                    _ => return Err(format!("{ty}: 'shape' must be [C, H, W]")),
                };
                let gap = match non_negative(gap) {
                    Some(g) => [g, g],
                    None => match ints("gap", gap)?[..] {
                        [gh, gw] => [gh, gw],
                        _ => return Err(format!("{ty}: 'gap' must be G or [GH, GW]")),
                    },
                };
                check_mux_params(shape, gap).map_err(|m| format!("{ty}: {m}"))?;
                let grid = match param("grid") {
                    None => Multiplexed::min_grid(shape, gap),
                    Some(g) => match ints("grid", g)?[..] {
                        [r, c] => [r, c],
                        _ => return Err(format!("{ty}: 'grid' must be [ROWS, COLUMNS]")),
                    },
                };
                Some(Multiplexed { shape, gap, grid })
            }
            _ => {
                return Err(format!(
                    "{ty}: 'shape' and 'gap' go together (a multiplexed layout)"
                ))
            }
        };
        if mux.is_none() && param("grid").is_some() {
            return Err(format!("{ty}: 'grid' needs 'shape' and 'gap'"));
        }
        let layout = VecLayout {
            slots: get("slots")?,
            size: get("size")?,
            period: get("period")?,
            mux,
        };
        layout.check()?;
        Ok(layout)
    }

    /// Places a flattened tensor into slots (`values.len()` must be `size`):
    /// `blocks() * slots` of them, block after block.
    pub fn pack(&self, values: &[f64]) -> Vec<f64> {
        let mut slots = vec![0.0; self.blocks() * self.slots];
        // One ciphertext repeats every period; blocks do not repeat.
        let end = if self.blocks() == 1 { self.slots } else { 0 };
        for (e, &v) in values.iter().enumerate().take(self.size) {
            let p = self.pos(e);
            slots[p] = v;
            for s in slots[..end]
                .iter_mut()
                .skip(p + self.period)
                .step_by(self.period)
            {
                *s = v;
            }
        }
        slots
    }

    /// Reads the tensor back from the first period (`slots` must hold at
    /// least `span()` values).
    pub fn unpack(&self, slots: &[f64]) -> Vec<f64> {
        (0..self.size).map(|e| slots[self.pos(e)]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiplexed_positions_follow_the_gap_grid() {
        // 5 channels of 2x3 at gap 2: planes of 4x6, channels 0..3 in plane
        // 0, channel 4 alone in plane 1.
        let l = VecLayout::multiplexed(256, [5, 2, 3], [2, 2]).unwrap();
        assert_eq!((l.span(), l.period), (48, 64));
        let pos = |c: usize, h: usize, w: usize| l.pos((c * 2 + h) * 3 + w);
        assert_eq!(pos(0, 0, 0), 0);
        assert_eq!(pos(1, 0, 0), 1); // b = 1
        assert_eq!(pos(2, 0, 0), 6); // a = 1: next grid row
        assert_eq!(pos(3, 1, 2), (2 + 1) * 6 + 4 + 1);
        assert_eq!(pos(4, 1, 1), 24 + 2 * 6 + 2);
        let mut seen = l.positions();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 30, "positions are distinct");
        // Non-square gap [1, 2]: planes of 2x6 holding two channels.
        let l = VecLayout::multiplexed(64, [3, 2, 3], [1, 2]).unwrap();
        assert_eq!(l.pos(3 + 2), 6 + 2 * 2); // (c=0, h=1, w=2): row 1, column 4
        assert_eq!(l.pos(6), 1); // (c=1, 0, 0)
        assert_eq!(l.pos(12), 12); // (c=2, 0, 0): plane 1
    }

    #[test]
    fn channel_blocks_keep_whole_planes_in_each_ciphertext() {
        // 64 x 8 x 8 at gap 4: four 32x32 planes, two per 2048-slot ciphertext.
        let l = VecLayout::multiplexed(2048, [64, 8, 8], [4, 4]).unwrap();
        assert_eq!((l.blocks(), l.period, l.span()), (2, 2048, 4096));
        let pos = |c: usize, h: usize, w: usize| l.pos((c * 8 + h) * 8 + w);
        assert_eq!(pos(16, 0, 0), 1024); // plane 1
        assert_eq!(pos(32, 0, 0), 2048); // plane 2: the second ciphertext
        assert_eq!(pos(63, 7, 7), 2048 + 1024 + (4 * 7 + 3) * 32 + 4 * 7 + 3);
        // 28x28 planes (784 slots): 5 per 4096-slot ciphertext, the rest unused.
        let l =
            VecLayout::multiplexed(4096, [12, 28, 28], [1, 1]).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            l.mux.is_none(),
            "gap 1 on the image's grid is 1-D, flowing on"
        );
        let l = VecLayout::on_grid(4096, [12, 28, 28], [1, 1], [28, 29]).unwrap();
        assert_eq!(l.blocks(), 3); // 12 planes of 812 slots, 5 per ciphertext
        assert_eq!(l.pos(5 * 784), 4096);
        assert_eq!(l.pos(11 * 784 + 783), 2 * 4096 + 812 + 27 * 29 + 27);
        let values: Vec<f64> = (0..l.size).map(|i| i as f64 + 1.0).collect();
        let slots = l.pack(&values);
        assert_eq!(slots.len(), 3 * 4096);
        assert_eq!(l.unpack(&slots), values);
        assert_eq!(VecLayout::from_type(&l.to_type()).unwrap(), l);
    }

    #[test]
    fn a_plane_larger_than_a_ciphertext_is_tiled_by_rows() {
        // Two 64x64 planes at gap 2 (128x128 = 16384 slots each) over 4096-slot
        // ciphertexts: four ciphertexts per plane.
        let l = VecLayout::multiplexed(4096, [8, 64, 64], [2, 2]).unwrap();
        assert_eq!((l.blocks(), l.period), (8, 4096));
        assert_eq!(l.pos(4 * 64 * 64), 4 * 4096); // channel 4 starts plane 1
        assert_eq!(l.pos(32 * 64), 64 * 128); // (0, 32, 0): row 64, tile 2
        let values: Vec<f64> = (0..l.size).map(|i| i as f64 - 7.0).collect();
        assert_eq!(l.unpack(&l.pack(&values)), values);
        let mut seen = l.positions();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), l.size, "positions are distinct");
    }

    #[test]
    fn gap_one_is_the_one_dimensional_layout() {
        let l = VecLayout::multiplexed(4096, [3, 32, 32], [1, 1]).unwrap();
        assert_eq!(l, VecLayout::replicated(4096, 3072).unwrap());
        assert_eq!(
            l.to_type().to_string(),
            "!pack.vec<slots = 4096, size = 3072, period = 4096>"
        );
    }

    #[test]
    fn pack_unpack_and_type_text_round_trip() {
        let cases = [
            ([32, 16, 16], [2, 2], [32, 32]),
            ([3, 5, 4], [1, 2], [5, 8]),
            ([7, 3, 3], [4, 4], [12, 12]),
            ([16, 10, 10], [2, 2], [28, 28]), // a valid conv inside its input's grid
            ([6, 24, 24], [1, 1], [28, 28]),
        ];
        for (shape, gap, grid) in cases {
            let l = VecLayout::on_grid(1 << 15, shape, gap, grid).unwrap();
            let ty = l.to_type();
            assert_eq!(VecLayout::from_type(&ty).unwrap(), l, "{ty}");
            let values: Vec<f64> = (0..l.size).map(|i| i as f64 + 0.5).collect();
            let slots = l.pack(&values);
            assert_eq!(l.unpack(&slots), values);
            for t in 0..l.slots / l.period {
                assert_eq!(slots[l.pos(l.size - 1) + t * l.period], values[l.size - 1]);
            }
            let owned = slots.iter().filter(|&&v| v != 0.0).count();
            assert_eq!(
                owned,
                l.size * (l.slots / l.period),
                "other slots stay zero"
            );
        }
        let l = VecLayout::multiplexed(1 << 15, [32, 16, 16], [2, 2]).unwrap();
        assert_eq!(
            l.to_type().to_string(),
            "!pack.vec<slots = 32768, size = 8192, period = 8192, shape = [32, 16, 16], gap = 2>"
        );
        let l = VecLayout::on_grid(1 << 15, [16, 10, 10], [2, 1], [28, 28]).unwrap();
        assert_eq!(
            l.to_type().to_string(),
            "!pack.vec<slots = 32768, size = 1600, period = 8192, shape = [16, 10, 10], gap = [2, 1], grid = [28, 28]>"
        );
    }

    #[test]
    fn bad_layouts_are_refused() {
        let err = VecLayout::multiplexed(1 << 15, [1 << 17, 1 << 8, 1 << 7], [1, 2]).unwrap_err();
        assert!(err.contains("elements a tensor may have"), "{err}");
        // 2^31 elements at gap 1 on a grid twice as wide: more than 2^32 slots.
        let err =
            VecLayout::on_grid(1 << 15, [1 << 15, 1 << 8, 1 << 8], [1, 1], [256, 512]).unwrap_err();
        assert!(err.contains("spans more than"), "{err}");
        let bad = VecLayout {
            mux: Some(Multiplexed {
                shape: [2, 2, 2],
                gap: [1, 1],
                grid: [2, 2],
            }),
            ..VecLayout::replicated(64, 8).unwrap()
        };
        assert!(bad.check().unwrap_err().contains("1-D layout"));
        let err = VecLayout::on_grid(64, [2, 2, 2], [2, 2], [4, 3]).unwrap_err();
        assert!(err.contains("smaller than"), "{err}");
    }
}
