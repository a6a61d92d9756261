//! Which layout a conv or pool result takes of the candidates that fit
//! (`strided_layouts`, in order of preference: the first keeps the input's
//! grid, so that every tap moves all elements alike and the diagonals are
//! fewest). The first, when no other takes fewer ciphertexts; otherwise
//! the cheapest by the cost model, its plaintext diagonals (one product
//! each) against its ciphertexts (each a bootstrap wherever one is placed
//! on it, and one of every op after it).
//!
//! Fewest ciphertexts alone chose, for ImageNet ResNet-18's stride-2 stem
//! (64x112x112), the compacted gap-1 result: 25 ciphertexts, but a stride-2
//! tap then moves every output element by a different offset; and for
//! its last stride-2 conv a smaller grid in one ciphertext instead of two:
//!
//! ```text
//! before: conv2d 7x7 s2  5->25  3x224x224 g1 -> 64x112x112 g1    4005064 diagonals
//! after:  conv2d 7x7 s2  5->32  3x224x224 g1 -> 64x112x112 g2      10224 diagonals
//! before: conv2d 3x3 s2  2->1   256x14x14 g16 -> 512x7x7 g16 (112x112 grid)  62558 diagonals
//! after:  conv2d 3x3 s2  2->2   256x14x14 g16 -> 512x7x7 g32 (224x224 grid)  13667 diagonals
//! ```
//!
//! (`compiler/tests/pack_multi_ciphertext.rs` pins a case where the tiles
//! of the input's grid win over fewer ciphertexts.)

use crate::cost_model::CostModel;
use orion_dialects::pack::linear::count_diagonals;
use orion_dialects::pack::{LinearMap, VecLayout};

/// The level the per-diagonal cost is taken at: products cost about the
/// same at any level compared with a bootstrap.
const TYPICAL_LEVEL: usize = 5;

/// The first of `layouts` when none takes fewer ciphertexts (no need to
/// count diagonals), else `None`.
pub fn without_weighing(layouts: &[VecLayout]) -> Option<VecLayout> {
    let first = layouts.first()?;
    layouts
        .iter()
        .all(|l| l.blocks() >= first.blocks())
        .then(|| first.clone())
}

/// The cheapest of `layouts` for the result of `map` applied to `input`;
/// the first on ties.
pub fn cheapest(map: &LinearMap, input: &VecLayout, layouts: Vec<VecLayout>) -> VecLayout {
    let log_n = input.slots.trailing_zeros() + 1;
    let model = CostModel::for_log_n(log_n);
    let cost = |l: &VecLayout| {
        count_diagonals(map, input, l) as f64 * model.mul_plain_rescale(TYPICAL_LEVEL)
            + l.blocks() as f64 * model.bootstrap(l.slots, l.slots)
    };
    let mut best: Option<(f64, VecLayout)> = None;
    for l in layouts {
        let c = cost(&l);
        if best.as_ref().is_none_or(|(b, _)| c < *b) {
            best = Some((c, l));
        }
    }
    best.expect("at least one layout").1
}
