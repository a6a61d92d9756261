//! The diagonal plan of a matrix-vector product on packed vectors, shared by
//! the `pack` interpreter, the lowering to `ckks` and the runtime: the file
//! keeps the weights, and every consumer derives the same diagonals from them.
//!
//! "Hybrid" embedding (as in GAZELLE and Orion) of `y = A x`, generalised to
//! any input and output layout (see `layout`): x sits at slots
//! `in_pos(c) (mod P_in)`, y must land at `out_pos(r) (mod P_out)`. With
//! P = max(P_in, P_out) and M = min(P_in, P_out), for k < M and j < P
//!   d_k[j] = A[r][c]  where out_pos(r) = j mod P_out, in_pos(c) = (j + k) mod P_in
//! (0 where no such r, c), and
//!   y' = sum_k d_k * rot(x, k);  then y' += rot(y', s) for s = P_out, .., P/2.
//! Each nonzero A[r][c] lands on exactly one entry: k = (in_pos(c) - out_pos(r))
//! mod M, and j = (in_pos(c) - k) mod P when P_out <= P_in ("wide": the
//! rotate-and-sum folds the P / P_out partial sums), j = out_pos(r) when
//! P_out > P_in ("tall": x repeats every P_in slots, so any replica of x_c
//! serves and k only matters mod P_in, which needs fewer diagonals than k mod
//! P_out). Output slots no row owns get exact zeros; input slots no column
//! owns are never read, so they may hold anything. All-zero diagonals are
//! skipped.
//!
//! Baby-step giant-step: k = g * n1 + b, and
//!   sum_k d_k * rot(x, k) = sum_g rot(sum_b rot(d_k, -g n1) * rot(x, b), g n1)
//! so the distinct nonzero b are the baby rotations and the distinct nonzero
//! g n1 the giant ones; `sum_steps` are the output (rotate-and-sum) rotations.

use super::layout::VecLayout;
use super::linear_map::LinearMap;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq)]
pub struct LinearPlan {
    pub rows: usize,
    pub cols: usize,
    pub slots: usize,
    /// P: the period the products are computed in.
    pub period: usize,
    pub in_period: usize,
    pub out_period: usize,
    /// M = min(P_in, P_out): diagonal indices are below it.
    pub diagonal_range: usize,
    pub baby_steps: usize,
    /// Nonzero diagonal indices, ascending.
    pub diagonals: Vec<usize>,
    /// Rotate-and-sum strides after the products.
    pub sum_steps: Vec<usize>,
    /// Nonzero entries (slot j < period, coefficient id) of each diagonal,
    /// parallel to `diagonals`.
    entries: Vec<Vec<(u32, u32)>>,
    /// The value of each coefficient id (the map's weights), shared by the
    /// blocks of a layer.
    coefficients: Arc<[f64]>,
    output: VecLayout,
}

impl LinearPlan {
    /// The plan of `map` from the `input` to the `output` layout;
    /// `baby_steps` 0 picks the one with the fewest rotations. Built from the
    /// nonzeros in O(nnz), grouped by diagonal once per plan.
    pub fn new(
        map: &LinearMap,
        input: &VecLayout,
        output: &VecLayout,
        baby_steps: usize,
    ) -> Result<LinearPlan, String> {
        let (rows, cols) = (map.rows(), map.cols());
        if input.size != cols {
            return Err(format!(
                "input holds {} elements but the map has {cols} columns",
                input.size
            ));
        }
        if output.size != rows {
            return Err(format!(
                "output layout holds {} elements but the map has {rows} rows",
                output.size
            ));
        }
        if input.slots != output.slots {
            return Err(format!(
                "input and output layouts have different slot counts ({} and {})",
                input.slots, output.slots
            ));
        }
        if input.blocks() > 1 || output.blocks() > 1 {
            return Err(format!(
                "a layout over {} ciphertexts needs a block plan (BlockedPlan)",
                input.blocks().max(output.blocks())
            ));
        }
        let coefficients: Arc<[f64]> = map.coefficients().into();
        let by_k = grouped_entries(map, input, output)
            .pop()
            .map_or_else(Vec::new, |(_, by_k)| by_k);
        LinearPlan::from_diagonals(
            rows,
            cols,
            input.period,
            output,
            by_k,
            coefficients,
            baby_steps,
        )
    }

    /// The plan of one ciphertext to one ciphertext from its entries
    /// grouped by diagonal (`by_k[k]`, see [`grouped_entries`]), the input
    /// repeating every `in_period` slots and the result laid out as
    /// `output` (one ciphertext).
    fn from_diagonals(
        rows: usize,
        cols: usize,
        in_period: usize,
        output: &VecLayout,
        by_k: Vec<Vec<(u32, u32)>>,
        coefficients: Arc<[f64]>,
        baby_steps: usize,
    ) -> Result<LinearPlan, String> {
        let out_period = output.period;
        let period = in_period.max(out_period);
        let range = in_period.min(out_period);
        let (mut diagonals, mut entries) = (Vec::new(), Vec::new());
        for (k, e) in by_k.into_iter().enumerate() {
            if !e.is_empty() {
                diagonals.push(k);
                entries.push(e);
            }
        }
        let baby_steps =
            chosen_baby_steps(baby_steps, range, || best_baby_steps(&diagonals, range))?;
        let sum_steps = sum_steps(out_period, period);
        Ok(LinearPlan {
            rows,
            cols,
            slots: output.slots,
            period,
            in_period,
            out_period,
            diagonal_range: range,
            baby_steps,
            diagonals,
            sum_steps,
            entries,
            coefficients,
            output: output.clone(),
        })
    }

    pub fn output_layout(&self) -> VecLayout {
        self.output.clone()
    }

    /// Baby-step offsets used (b = k mod n1), ascending.
    pub fn baby_offsets(&self) -> Vec<usize> {
        let mut b: Vec<usize> = self.diagonals.iter().map(|k| k % self.baby_steps).collect();
        b.sort_unstable();
        b.dedup();
        b
    }

    /// Giant-step groups: (g * n1, diagonals in the group), ascending.
    pub fn giant_groups(&self) -> Vec<(usize, Vec<usize>)> {
        let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
        for &k in &self.diagonals {
            let g = k / self.baby_steps * self.baby_steps;
            match groups.last_mut() {
                Some((last, ks)) if *last == g => ks.push(k),
                _ => groups.push((g, vec![k])),
            }
        }
        groups
    }

    /// Every rotation offset the plan performs (baby, giant, sums).
    pub fn rotation_offsets(&self) -> Vec<usize> {
        let mut r: Vec<usize> = self
            .baby_offsets()
            .into_iter()
            .filter(|&b| b != 0)
            .collect();
        r.extend(
            self.giant_groups()
                .iter()
                .map(|(g, _)| *g)
                .filter(|&g| g != 0),
        );
        r.extend(&self.sum_steps);
        r.sort_unstable();
        r.dedup();
        r
    }

    /// Diagonal k as a full slot vector, pre-rotated by -`giant` (its group's
    /// giant step), so that the giant rotation can be applied after the sum.
    pub fn diagonal_slots(&self, k: usize, giant: usize) -> Vec<f64> {
        let mut d = vec![0.0; self.period];
        if let Ok(i) = self.diagonals.binary_search(&k) {
            for &(j, id) in &self.entries[i] {
                d[j as usize] += self.coefficients[id as usize];
            }
        }
        // rot(d, -g)[s] = d[s - g]; the diagonal repeats with period P.
        let shift = self.period - giant % self.period;
        (0..self.slots)
            .map(|s| d[(s + shift) % self.period])
            .collect()
    }

    /// Number of nonzero matrix entries the plan holds.
    pub fn nonzeros(&self) -> usize {
        self.entries.iter().map(Vec::len).sum()
    }

    /// Diagonals and rotations, counted as Orion reports them.
    pub fn counts(&self) -> PlanCounts {
        PlanCounts {
            diagonals: self.diagonals.len(),
            baby: self.baby_offsets().iter().filter(|&&b| b != 0).count(),
            giant: self.giant_groups().iter().filter(|(g, _)| *g != 0).count(),
            output: self.sum_steps.len(),
        }
    }
}

/// What a plan costs: plaintext diagonals, and the baby-step, giant-step and
/// output (rotate-and-sum) rotations of one evaluation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlanCounts {
    pub diagonals: usize,
    pub baby: usize,
    pub giant: usize,
    pub output: usize,
}

impl PlanCounts {
    pub fn rotations(&self) -> usize {
        self.baby + self.giant + self.output
    }
}

/// A linear layer between layouts over several ciphertexts: the block
/// matrix `y_j = sum_i A_ji x_i`, one plan per nonzero block `A_ji` (the
/// entries whose input lies in ciphertext `i` and output in ciphertext
/// `j`, at their slots in those ciphertexts). A layer within one
/// ciphertext is the single block `(0, 0)`.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockedPlan {
    pub in_blocks: usize,
    pub out_blocks: usize,
    /// `(output block, input block, plan)`, ascending.
    pub blocks: Vec<(usize, usize, LinearPlan)>,
    output: VecLayout,
}

impl BlockedPlan {
    /// The plan of `map` from `input` to `output`; `baby_steps` 0 picks
    /// the best per block (a given value applies to every block).
    pub fn new(
        map: &LinearMap,
        input: &VecLayout,
        output: &VecLayout,
        baby_steps: usize,
    ) -> Result<BlockedPlan, String> {
        let (in_blocks, out_blocks) = (input.blocks(), output.blocks());
        if in_blocks == 1 && out_blocks == 1 {
            let plan = LinearPlan::new(map, input, output, baby_steps)?;
            return Ok(BlockedPlan {
                in_blocks,
                out_blocks,
                blocks: vec![(0, 0, plan)],
                output: output.clone(),
            });
        }
        check_layouts(map, input, output)?;
        let (rows, cols) = (map.rows(), map.cols());
        let slots = input.slots;
        let coefficients: Arc<[f64]> = map.coefficients().into();
        let by_block = grouped_entries(map, input, output);
        // Each block's result is one ciphertext of the output's period.
        let block_out = VecLayout {
            slots,
            size: output.size.min(output.period),
            period: output.period,
            mux: None,
        };
        // Every block takes one n1, so that the giant rotations of an
        // output block are shared by all its input blocks (see `giant_groups`).
        let mut blocks = by_block
            .into_iter()
            .map(|((j, i), by_k)| {
                let plan = LinearPlan::from_diagonals(
                    rows,
                    cols,
                    input.period,
                    &block_out,
                    by_k,
                    coefficients.clone(),
                    1,
                )?;
                Ok((j, i, plan))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let range = input.period.min(output.period);
        let baby_steps = chosen_baby_steps(baby_steps, range, || {
            let sets: Vec<_> = blocks
                .iter()
                .map(|(j, i, p)| (*j, *i, p.diagonals.as_slice()))
                .collect();
            best_shared_baby_steps(&sets, range)
        })?;
        for (_, _, p) in &mut blocks {
            p.baby_steps = baby_steps;
        }
        Ok(BlockedPlan {
            in_blocks,
            out_blocks,
            blocks,
            output: output.clone(),
        })
    }

    /// The plan of a layer within one ciphertext.
    pub fn single(&self) -> Option<&LinearPlan> {
        match &self.blocks[..] {
            [(0, 0, p)] if self.in_blocks == 1 && self.out_blocks == 1 => Some(p),
            _ => None,
        }
    }

    /// The plan of block `(out_block, in_block)`, if that block is nonzero.
    pub fn block(&self, out_block: usize, in_block: usize) -> Option<&LinearPlan> {
        self.blocks
            .iter()
            .find(|(j, i, _)| (*j, *i) == (out_block, in_block))
            .map(|(_, _, p)| p)
    }

    pub fn output_layout(&self) -> VecLayout {
        self.output.clone()
    }

    /// Diagonals and rotations over all blocks: the baby rotations of one
    /// input block serve every output block that reads it, and an output
    /// block does one giant rotation per step over all its input blocks
    /// and one rotate-and-sum.
    pub fn counts(&self) -> PlanCounts {
        let mut c = PlanCounts::default();
        for i in 0..self.in_blocks {
            c.baby += self
                .input_baby_offsets(i)
                .iter()
                .filter(|&&b| b != 0)
                .count();
        }
        for j in 0..self.out_blocks {
            c.giant += self.giant_groups(j).iter().filter(|(g, _)| *g != 0).count();
            if let Some((_, _, p)) = self.blocks.iter().find(|(bj, _, _)| *bj == j) {
                c.output += p.sum_steps.len();
            }
        }
        c.diagonals = self.num_diagonals();
        c
    }

    /// The giant-step groups of output block `j` over all its input
    /// blocks: `(g * n1, [(input block, diagonal)])`, ascending in g. The
    /// products of a group are summed over the input blocks before their
    /// one rotation by g.
    pub fn giant_groups(&self, j: usize) -> Vec<(usize, Vec<(usize, usize)>)> {
        let mut groups: std::collections::BTreeMap<usize, Vec<(usize, usize)>> = Default::default();
        for (_, i, p) in self.blocks.iter().filter(|(bj, _, _)| *bj == j) {
            for (g, ks) in p.giant_groups() {
                groups
                    .entry(g)
                    .or_default()
                    .extend(ks.into_iter().map(|k| (*i, k)));
            }
        }
        groups.into_iter().collect()
    }

    /// The distinct baby-step offsets (ascending, 0 included) of the blocks
    /// that read input block `i`: one rotation of that ciphertext each,
    /// shared by every output block.
    pub fn input_baby_offsets(&self, i: usize) -> Vec<usize> {
        let mut offsets: Vec<usize> = self
            .blocks
            .iter()
            .filter(|(_, b, _)| *b == i)
            .flat_map(|(_, _, p)| p.baby_offsets())
            .collect();
        offsets.sort_unstable();
        offsets.dedup();
        offsets
    }

    /// Distinct rotation offsets over all blocks.
    pub fn rotation_offsets(&self) -> Vec<usize> {
        let mut r: Vec<usize> = self
            .blocks
            .iter()
            .flat_map(|(_, _, p)| p.rotation_offsets())
            .collect();
        r.sort_unstable();
        r.dedup();
        r
    }

    /// Nonzero matrix entries over all blocks.
    pub fn nonzeros(&self) -> usize {
        self.blocks.iter().map(|(_, _, p)| p.nonzeros()).sum()
    }

    /// Nonzero diagonals over all blocks.
    pub fn num_diagonals(&self) -> usize {
        self.blocks.iter().map(|(_, _, p)| p.diagonals.len()).sum()
    }
}

/// Entries of one diagonal: (slot j, coefficient id).
type Diagonal = Vec<(u32, u32)>;

/// Where the entries of a map land between two layouts (see the module
/// doc): block `(output ciphertext, input ciphertext)`, diagonal k below
/// min(P_in, P_out), slot j.
///
/// Periods are powers of two (`VecLayout::check`), and a layout over
/// several ciphertexts has the slot count as its period, so every modulo
/// here is a mask: the divisions had been a fifth of ImageNet ResNet-18's
/// pack pass (116 million entries per conv).
struct Placement {
    in_pos: Vec<u32>,
    out_pos: Vec<u32>,
    /// log2 of a power of two at least the slot count (the slot count
    /// itself when there are several blocks).
    slot_bits: u32,
    period_mask: usize,
    range_mask: usize,
    tall: bool,
}

impl Placement {
    fn new(input: &VecLayout, output: &VecLayout) -> Placement {
        let (period, range) = (
            input.period.max(output.period),
            input.period.min(output.period),
        );
        debug_assert!(period.is_power_of_two() && range.is_power_of_two());
        Placement {
            in_pos: input.positions(),
            out_pos: output.positions(),
            slot_bits: input.slots.next_power_of_two().trailing_zeros(),
            period_mask: period - 1,
            range_mask: range - 1,
            tall: output.period > input.period,
        }
    }

    /// (block, k, j) of the entry at (row, col).
    fn place(&self, r: usize, c: usize) -> ((usize, usize), usize, u32) {
        let (ip, op) = (self.in_pos[c] as usize, self.out_pos[r] as usize);
        let bits = self.slot_bits;
        let block = (op >> bits, ip >> bits);
        let mask = (1usize << bits) - 1;
        let (ip, op) = (ip & mask, op & mask);
        // k = (ip - op) mod range, j = (ip - k) mod period.
        let k = ip.wrapping_sub(op) & self.range_mask;
        let j = if self.tall {
            op
        } else {
            ip.wrapping_sub(k) & self.period_mask
        };
        (block, k, j as u32)
    }
}

/// Blocks in the order entries first reach them; entries come in runs of
/// one block, so the last one looked up is remembered.
#[derive(Default)]
struct BlockIndex {
    index: HashMap<(usize, usize), usize>,
    last: Option<((usize, usize), usize)>,
}

impl BlockIndex {
    fn get(&mut self, block: (usize, usize)) -> usize {
        match self.last {
            Some((b, i)) if b == block => i,
            _ => {
                let next = self.index.len();
                let i = *self.index.entry(block).or_insert(next);
                self.last = Some((block, i));
                i
            }
        }
    }
}

/// How many entries each diagonal of each block gets (blocks indexed by
/// `BlockIndex`), in one pass over the map.
fn diagonal_counts(map: &LinearMap, at: &Placement) -> (BlockIndex, Vec<Vec<u32>>) {
    let mut blocks = BlockIndex::default();
    let mut counts: Vec<Vec<u32>> = Vec::new();
    map.for_each_entry(|r, c, _| {
        let (block, k, _) = at.place(r, c);
        let b = blocks.get(block);
        if b == counts.len() {
            counts.push(vec![0; at.range_mask + 1]);
        }
        counts[b][k] += 1;
    });
    (blocks, counts)
}

/// The nonzero diagonals of `map` between two layouts, over all blocks,
/// without building the plan: O(nnz) time, O(blocks x range) memory. The
/// pack pass weighs layouts with it.
pub fn count_diagonals(map: &LinearMap, input: &VecLayout, output: &VecLayout) -> usize {
    let (_, counts) = diagonal_counts(map, &Placement::new(input, output));
    counts
        .iter()
        .map(|by_k| by_k.iter().filter(|&&n| n > 0).count())
        .sum()
}

/// The map's entries by block, ascending, and within a block by diagonal
/// (`by_k[k]`), each at its slot j. Two passes over the map, one counting
/// and one writing into vectors of exact size: a list of all entries
/// first would double the peak, and ImageNet ResNet-18's 3x3 convs at
/// 56x56 have 116 million.
fn grouped_entries(
    map: &LinearMap,
    input: &VecLayout,
    output: &VecLayout,
) -> Vec<((usize, usize), Vec<Diagonal>)> {
    let at = Placement::new(input, output);
    let (mut blocks, counts) = diagonal_counts(map, &at);
    let mut grouped: Vec<Vec<Diagonal>> = counts
        .iter()
        .map(|by_k| {
            by_k.iter()
                .map(|&n| Vec::with_capacity(n as usize))
                .collect()
        })
        .collect();
    map.for_each_entry(|r, c, id| {
        let (block, k, j) = at.place(r, c);
        grouped[blocks.get(block)][k].push((j, id));
    });
    let mut order: Vec<((usize, usize), usize)> = blocks.index.into_iter().collect();
    order.sort_unstable();
    let mut grouped: Vec<Option<Vec<Diagonal>>> = grouped.into_iter().map(Some).collect();
    order
        .into_iter()
        .map(|(block, b)| (block, grouped[b].take().expect("each block once")))
        .collect()
}

/// [`apply_blocked`]'s values for a batch of inputs straight from the
/// map's entries, without building the plan: an entry placed at block
/// (o, i), diagonal k, slot j adds `v x_i[(t + k) mod slots]` to `y_o[t]`
/// at every `t = j (mod period)`, which is what the plan's baby, giant and
/// diagonal rotations compute; a wide map's rotate-and-sum and the bias
/// follow. One pass over the entries serves the whole batch, so bounding
/// values on calibration samples costs no plan (up to a gigabyte and
/// tens of seconds for one of ImageNet ResNet-18's convs). Each `x` holds
/// the input's blocks one after the other.
pub fn apply_entries(
    map: &LinearMap,
    input: &VecLayout,
    output: &VecLayout,
    bias: Option<&[f64]>,
    xs: &[&[f64]],
) -> Result<Vec<Vec<f64>>, String> {
    check_layouts(map, input, output)?;
    let slots = input.slots;
    if let Some(x) = xs.iter().find(|x| x.len() != input.blocks() * slots) {
        return Err(format!(
            "input of {} slots, its layout has {}",
            x.len(),
            input.blocks() * slots
        ));
    }
    let at = Placement::new(input, output);
    let period = at.period_mask + 1;
    let coefficients = map.coefficients();
    let mut ys: Vec<Vec<f64>> = xs
        .iter()
        .map(|_| vec![0.0; output.blocks() * slots])
        .collect();
    map.for_each_entry(|r, c, id| {
        let ((o, i), k, j) = at.place(r, c);
        let v = coefficients[id as usize];
        let mut t = j as usize;
        while t < slots {
            // t < slots and k < slots: one subtraction is the modulo.
            let u = t + k;
            let src = i * slots + if u >= slots { u - slots } else { u };
            let dst = o * slots + t;
            for (y, x) in ys.iter_mut().zip(xs) {
                y[dst] += v * x[src];
            }
            t += period;
        }
    });
    let steps = sum_steps(output.period, period);
    for y in &mut ys {
        for block in y.chunks_mut(slots) {
            add_rotations(block, &steps);
        }
        if let Some(b) = bias {
            y.iter_mut().zip(output.pack(b)).for_each(|(a, v)| *a += v);
        }
    }
    Ok(ys)
}

/// `A x + b` on the cleartext slots of every block (`x`: `in_blocks`
/// ciphertexts' slots one after the other; the result: `out_blocks`').
pub fn apply_blocked(plan: &BlockedPlan, bias: Option<&[f64]>, x: &[f64]) -> Vec<f64> {
    let slots = plan.output.slots;
    let mut acc = vec![0.0; plan.out_blocks * slots];
    for (j, i, p) in &plan.blocks {
        let y = apply_plan(p, None, &x[i * slots..(i + 1) * slots]);
        for (a, v) in acc[j * slots..(j + 1) * slots].iter_mut().zip(y) {
            *a += v;
        }
    }
    if let Some(b) = bias {
        for (a, v) in acc.iter_mut().zip(plan.output.pack(b)) {
            *a += v;
        }
    }
    acc
}

/// That `map` goes from the `input` layout's elements to the `output`
/// layout's, on ciphertexts of the same slot count.
pub fn check_layouts(map: &LinearMap, input: &VecLayout, output: &VecLayout) -> Result<(), String> {
    let (rows, cols) = (map.rows(), map.cols());
    if input.size != cols || output.size != rows {
        return Err(format!(
            "a {rows}x{cols} map from a layout of {} elements to one of {}",
            input.size, output.size
        ));
    }
    if input.slots != output.slots {
        return Err(format!(
            "input and output layouts have different slot counts ({} and {})",
            input.slots, output.slots
        ));
    }
    Ok(())
}

/// A written `baby_steps`: 0 (the plan chooses) or a power of two no
/// larger than the diagonal range.
pub fn check_baby_steps(baby_steps: usize, range: usize) -> Result<(), String> {
    if baby_steps != 0 && (!baby_steps.is_power_of_two() || baby_steps > range) {
        return Err(format!(
            "baby_steps must be 0 or a power of two no larger than {range}, got {baby_steps}"
        ));
    }
    Ok(())
}

/// The baby-step size `given`, or `best()` for 0; a power of two no
/// larger than `range` either way.
fn chosen_baby_steps(
    given: usize,
    range: usize,
    best: impl FnOnce() -> usize,
) -> Result<usize, String> {
    let n1 = if given == 0 { best() } else { given };
    if !n1.is_power_of_two() || n1 > range {
        return Err(format!(
            "baby_steps must be a power of two no larger than {range}, got {n1}"
        ));
    }
    Ok(n1)
}

/// The power-of-two n1 that needs the fewest baby plus giant rotations for
/// this set of diagonals (a conv's diagonals come in clusters, for which the
/// dense balance below is far from best); ties keep the dense default.
/// `range` bounds the diagonal indices (a power of two).
pub fn best_baby_steps(diagonals: &[usize], range: usize) -> usize {
    best_shared_baby_steps(&[(0, 0, diagonals)], range)
}

/// `best_baby_steps` for a block matrix whose block `(j, i)` has the
/// diagonals given: the count is of the distinct nonzero baby offsets per
/// input block `i` (shared by its output blocks) plus the distinct nonzero
/// giant steps per output block `j` (shared by its input blocks).
pub fn best_shared_baby_steps(blocks: &[(usize, usize, &[usize])], range: usize) -> usize {
    let distinct_nonzero = |mut v: Vec<(usize, usize)>| {
        v.sort_unstable();
        v.dedup();
        v.iter().filter(|&&(_, x)| x != 0).count()
    };
    let cost = |n1: usize| {
        let babies = blocks
            .iter()
            .flat_map(|&(_, i, ks)| ks.iter().map(move |k| (i, k % n1)))
            .collect();
        let giants = blocks
            .iter()
            .flat_map(|&(j, _, ks)| ks.iter().map(move |k| (j, k / n1)))
            .collect();
        distinct_nonzero(babies) + distinct_nonzero(giants)
    };
    let default = default_baby_steps(range);
    let mut best = (cost(default), default);
    let mut n1 = 1;
    while n1 <= range {
        let c = cost(n1);
        if c < best.0 {
            best = (c, n1);
        }
        n1 *= 2;
    }
    best.1
}

/// n1 = 2^ceil(log2(M) / 2): balances n1 baby against M / n1 giant steps.
pub fn default_baby_steps(range: usize) -> usize {
    let log = range.trailing_zeros();
    1 << log.div_ceil(2)
}

/// The rotate-and-sum steps that fold a product repeating every `period`
/// slots into a result repeating every `out_period`: out_period,
/// 2 out_period, ... below period (none unless the result's period is the
/// smaller).
fn sum_steps(out_period: usize, period: usize) -> Vec<usize> {
    std::iter::successors(Some(out_period), |s| Some(s * 2))
        .take_while(|&s| s < period)
        .collect()
}

/// `v += rot(v, s)` for each step in turn (a rotate-and-sum).
fn add_rotations(v: &mut [f64], steps: &[usize]) {
    for &s in steps {
        let r = rotate_slots(v, s as i64);
        v.iter_mut().zip(r).for_each(|(a, b)| *a += b);
    }
}

/// Cyclic left rotation of a slot vector: out[i] = v[(i + k) mod n].
pub fn rotate_slots(v: &[f64], k: i64) -> Vec<f64> {
    let n = v.len() as i64;
    let k = k.rem_euclid(n) as usize;
    let mut out = Vec::with_capacity(v.len());
    out.extend_from_slice(&v[k..]);
    out.extend_from_slice(&v[..k]);
    out
}

/// The plan evaluated on cleartext slots, exactly as the ciphertext program
/// does it: the `pack` interpreter's `pack.linear`.
/// `bias` holds one value per output element.
pub fn apply_plan(plan: &LinearPlan, bias: Option<&[f64]>, x: &[f64]) -> Vec<f64> {
    let babies: Vec<(usize, Vec<f64>)> = plan
        .baby_offsets()
        .into_iter()
        .map(|b| (b, rotate_slots(x, b as i64)))
        .collect();
    let (slots, period) = (plan.slots, plan.period);
    let mut acc = vec![0.0; slots];
    let mut inner = vec![0.0; slots];
    for (g, ks) in plan.giant_groups() {
        inner.fill(0.0);
        for k in ks {
            let b = babies
                .binary_search_by_key(&(k - g), |(b, _)| *b)
                .expect("baby offset");
            let xb = &babies[b].1;
            let d = plan.diagonals.binary_search(&k).expect("nonzero diagonal");
            // Diagonal k pre-rotated by -g is entry (j, v) at every slot
            // s = j + g (mod period): touching only those is the same
            // product as with the whole diagonal, without building it.
            for &(j, id) in &plan.entries[d] {
                let v = plan.coefficients[id as usize];
                let mut s = (j as usize + g) % period;
                while s < slots {
                    inner[s] += v * xb[s];
                    s += period;
                }
            }
        }
        // acc += rot(inner, g), without building the rotation.
        let g = g % slots;
        for (a, v) in acc.iter_mut().zip(inner[g..].iter().chain(&inner[..g])) {
            *a += v;
        }
    }
    add_rotations(&mut acc, &plan.sum_steps);
    if let Some(b) = bias {
        let out = plan.output_layout();
        for (a, v) in acc.iter_mut().zip(out.pack(b)) {
            *a += v;
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::conv::{Conv2dAttrs, PoolAttrs};

    fn check(rows: usize, cols: usize, slots: usize) {
        let w: Vec<f32> = (0..rows * cols)
            .map(|i| ((i * 37 % 11) as f32 - 5.0) / 7.0)
            .collect();
        let x: Vec<f64> = (0..cols).map(|i| (i as f64 * 0.3).sin()).collect();
        let input = VecLayout::replicated(slots, cols).unwrap();
        let output = VecLayout::replicated(slots, rows).unwrap();
        let map = LinearMap::dense(rows, cols, w.clone()).unwrap();
        let plan = LinearPlan::new(&map, &input, &output, 0).unwrap();
        let y = apply_plan(&plan, None, &input.pack(&x));
        for r in 0..rows {
            let want: f64 = (0..cols).map(|c| w[r * cols + c] as f64 * x[c]).sum();
            for t in 0..slots / plan.out_period {
                let got = y[r + t * plan.out_period];
                assert!(
                    (got - want).abs() < 1e-9,
                    "{rows}x{cols} row {r} copy {t}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn hybrid_plan_computes_matrix_vector_products() {
        check(128, 784, 4096); // wide: rotate-and-sum
        check(128, 128, 4096); // square
        check(10, 128, 4096); // padded rows
        check(128, 10, 4096); // tall: output period above the input's
        check(3, 5, 8);
    }

    /// The diagonals by their definition, over every k < M and j < P:
    /// d_k[j] = A[r][c] with out_pos(r) = j mod P_out and in_pos(c) = (j + k)
    /// mod P_in, from the dense matrix and inverted position tables.
    fn dense_diagonals(a: &[f64], input: &VecLayout, output: &VecLayout) -> Vec<Vec<f64>> {
        let (rows, cols) = (output.size, input.size);
        let (p_in, p_out) = (input.period, output.period);
        let (p, m) = (p_in.max(p_out), p_in.min(p_out));
        let mut row_at = vec![None; p_out];
        for r in 0..rows {
            row_at[output.pos(r)] = Some(r);
        }
        let mut col_at = vec![None; p_in];
        for c in 0..cols {
            col_at[input.pos(c)] = Some(c);
        }
        (0..m)
            .map(|k| {
                (0..p)
                    .map(|j| match (row_at[j % p_out], col_at[(j + k) % p_in]) {
                        (Some(r), Some(c)) => a[r * cols + c],
                        _ => 0.0,
                    })
                    .collect()
            })
            .collect()
    }

    fn compare_with_dense(map: &LinearMap, input: &VecLayout, output: &VecLayout) {
        let (rows, cols) = (map.rows(), map.cols());
        let slots = input.slots;
        let plan = LinearPlan::new(map, input, output, 0).unwrap();
        let a = map.to_dense();
        let dense = dense_diagonals(&a, input, output);
        let nonzero: Vec<usize> = (0..plan.diagonal_range)
            .filter(|&k| dense[k].iter().any(|&v| v != 0.0))
            .collect();
        let what = format!("{rows}x{cols} from {input:?} to {output:?}");
        assert_eq!(plan.diagonals, nonzero, "{what}");
        for &k in &nonzero {
            for giant in [0, plan.baby_steps, 3 * plan.baby_steps] {
                let got = plan.diagonal_slots(k, giant);
                for (s, &v) in got.iter().enumerate() {
                    let j = (s + slots - giant % slots) % plan.period;
                    assert_eq!(
                        v, dense[k][j],
                        "{what}: diagonal {k} giant {giant} slot {s}"
                    );
                }
            }
        }
        // And the product itself, in every replica of the output.
        let x: Vec<f64> = (0..cols).map(|i| (i as f64 * 0.7).cos()).collect();
        let y = apply_plan(&plan, None, &input.pack(&x));
        let mut owned = vec![false; slots];
        for r in 0..rows {
            let want: f64 = (0..cols).map(|c| a[r * cols + c] * x[c]).sum();
            for t in 0..slots / output.period {
                let s = output.pos(r) + t * output.period;
                owned[s] = true;
                assert!(
                    (y[s] - want).abs() < 1e-9,
                    "{what}: row {r} copy {t}: {} vs {want}",
                    y[s]
                );
            }
        }
        for (s, &v) in y.iter().enumerate() {
            assert!(owned[s] || v == 0.0, "{what}: unowned slot {s} holds {v}");
        }
        entries_agree_with_the_plan(map, input, output);
    }

    /// [`apply_entries`] on two samples against [`apply_blocked`] with the
    /// plan, every slot (replicas and rotate-and-sum leftovers included).
    fn entries_agree_with_the_plan(map: &LinearMap, input: &VecLayout, output: &VecLayout) {
        let plan = BlockedPlan::new(map, input, output, 0).unwrap();
        let bias: Vec<f64> = (0..map.rows()).map(|r| r as f64 * 0.01 - 0.3).collect();
        let xs: Vec<Vec<f64>> = (0..2)
            .map(|s| {
                let x: Vec<f64> = (0..map.cols())
                    .map(|i| (i as f64 * 0.7 + s as f64).cos())
                    .collect();
                input.pack(&x)
            })
            .collect();
        let refs: Vec<&[f64]> = xs.iter().map(Vec::as_slice).collect();
        let got = apply_entries(map, input, output, Some(&bias), &refs).unwrap();
        for (x, y) in xs.iter().zip(&got) {
            let want = apply_blocked(&plan, Some(&bias), x);
            assert_eq!(y.len(), want.len());
            for (s, (a, b)) in y.iter().zip(&want).enumerate() {
                assert!(
                    (a - b).abs() < 1e-9,
                    "slot {s}: {a} vs {b} ({input:?} -> {output:?})"
                );
            }
        }
    }

    /// Layouts over several ciphertexts: blocks 2 -> 3, and 3 -> 1 with a
    /// rotate-and-sum (the result's period below the input's).
    #[test]
    fn entries_agree_with_blocked_plans() {
        let w: Vec<f32> = (0..6 * 4 * 9)
            .map(|i| ((i * 31 % 17) as f32 - 8.0) / 9.0)
            .collect();
        let attrs = Conv2dAttrs {
            pads: [1, 1, 1, 1],
            ..Conv2dAttrs::default()
        };
        let c = LinearMap::conv2d([1, 4, 8, 8], [6, 4, 3, 3], w, attrs).unwrap();
        entries_agree_with_the_plan(&c, &one_d(128, 256, 128), &one_d(128, 384, 128));
        let d: Vec<f32> = (0..5 * 300)
            .map(|i| ((i * 13 % 7) as f32 - 3.0) / 5.0)
            .collect();
        let dense = LinearMap::dense(5, 300, d).unwrap();
        entries_agree_with_the_plan(&dense, &one_d(128, 300, 128), &one_d(128, 5, 8));
    }

    fn one_d(slots: usize, size: usize, period: usize) -> VecLayout {
        VecLayout {
            slots,
            size,
            period,
            mux: None,
        }
    }

    #[test]
    fn sparse_plans_equal_the_dense_construction() {
        let w = |n: usize| -> Vec<f32> {
            (0..n)
                .map(|i| ((i * 7919 % 23) as f32 - 11.0) / 13.0)
                .collect()
        };
        let conv = |input: [usize; 4], kernel: [usize; 4], attrs: Conv2dAttrs| {
            LinearMap::conv2d(input, kernel, w(kernel.iter().product()), attrs).unwrap()
        };
        let mux = |slots: usize, shape: [usize; 3], gap: [usize; 2]| {
            VecLayout::multiplexed(slots, shape, gap).unwrap()
        };
        // Tall (P_out > P_in): 1x6x6 -> 4x6x6.
        let padded = Conv2dAttrs {
            pads: [1, 1, 1, 1],
            ..Conv2dAttrs::default()
        };
        let c = conv([1, 1, 6, 6], [4, 1, 3, 3], padded.clone());
        compare_with_dense(&c, &one_d(256, 36, 64), &one_d(256, 144, 256));
        // Tall, with an input period above the tensor's.
        compare_with_dense(&c, &one_d(512, 36, 128), &one_d(512, 144, 256));
        // Equal periods, and an output period above the smallest.
        compare_with_dense(&c, &one_d(512, 36, 256), &one_d(512, 144, 256));
        compare_with_dense(&c, &one_d(512, 36, 64), &one_d(512, 144, 512));
        // Wide (P_out < P_in): strided, grouped, asymmetric pads, 1-D out.
        let strided = Conv2dAttrs {
            strides: [2, 2],
            pads: [0, 1, 1, 0],
            dilations: [1, 1],
            groups: 2,
        };
        let c = conv([1, 4, 8, 8], [2, 2, 3, 3], strided.clone());
        compare_with_dense(&c, &one_d(512, 256, 256), &one_d(512, 32, 32));
        // The same conv into the multiplexed layout (gap 1 -> 2), and from a
        // multiplexed input (gap 2 -> 4).
        compare_with_dense(&c, &one_d(512, 256, 256), &mux(512, [2, 4, 4], [2, 2]));
        compare_with_dense(
            &c,
            &mux(1024, [4, 8, 8], [2, 2]),
            &mux(1024, [2, 4, 4], [4, 4]),
        );
        // Non-square stride and gap, dilation.
        let odd = Conv2dAttrs {
            strides: [1, 2],
            pads: [2, 1, 0, 1],
            dilations: [2, 1],
            groups: 1,
        };
        let c = conv([1, 3, 6, 6], [5, 3, 3, 2], odd);
        compare_with_dense(
            &c,
            &mux(1024, [3, 6, 6], [2, 1]),
            &mux(1024, [5, 4, 4], [2, 2]),
        );
        // A conv without padding, its output kept on the input's grid.
        let c = conv([1, 2, 6, 6], [4, 2, 3, 3], Conv2dAttrs::default());
        let kept = VecLayout::on_grid(512, [4, 4, 4], [1, 1], [6, 6]).unwrap();
        compare_with_dense(&c, &one_d(512, 72, 128), &kept);
        let grid = VecLayout::on_grid(1024, [2, 6, 6], [2, 2], [16, 16]).unwrap();
        let kept = VecLayout::on_grid(1024, [4, 4, 4], [2, 2], [16, 16]).unwrap();
        compare_with_dense(&c, &grid, &kept);
        // Average pools: 2x2 stride 2 (gap 2 -> 4), and a global one (gap 4
        // -> 1-D).
        let pool = PoolAttrs {
            kernel: [2, 2],
            strides: [2, 2],
            pads: [0; 4],
            count_include_pad: true,
        };
        let p = LinearMap::avgpool([1, 3, 6, 6], pool).unwrap();
        compare_with_dense(
            &p,
            &mux(1024, [3, 6, 6], [2, 2]),
            &mux(1024, [3, 3, 3], [4, 4]),
        );
        let global = PoolAttrs {
            kernel: [4, 4],
            strides: [1, 1],
            pads: [0; 4],
            count_include_pad: true,
        };
        let g = LinearMap::avgpool([1, 5, 4, 4], global).unwrap();
        compare_with_dense(&g, &one_d(128, 80, 128), &one_d(128, 5, 8));
        compare_with_dense(&g, &mux(512, [5, 4, 4], [2, 2]), &one_d(512, 5, 8));
        // Dense, wide and tall, and a dense layer reading a multiplexed input.
        compare_with_dense(
            &LinearMap::dense(5, 40, w(200)).unwrap(),
            &one_d(128, 40, 64),
            &one_d(128, 5, 8),
        );
        compare_with_dense(
            &LinearMap::dense(40, 5, w(200)).unwrap(),
            &one_d(128, 5, 8),
            &one_d(128, 40, 64),
        );
        compare_with_dense(
            &LinearMap::dense(6, 20, w(120)).unwrap(),
            &mux(256, [5, 2, 2], [2, 2]),
            &one_d(256, 6, 8),
        );
    }
}
