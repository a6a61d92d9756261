//! Key material.
//!
//! All keys are stored in NTT form over every prime of the context (QP), so
//! that encryption and key switching at any level just pick the limbs they
//! need. Evaluation keys are shared through `Arc`: cloning a key set into
//! an evaluator costs nothing, which matters at N = 2^16 where a Galois key
//! is tens of megabytes.

use std::collections::BTreeMap;
use std::sync::Arc;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::error::CkksError;
use crate::math::arith::Modulus;
use crate::ring::poly::RnsPoly;
use crate::scheme::sampler;

/// The secret key `s`, ternary.
#[derive(Clone, Debug)]
pub struct SecretKey {
    /// Signed coefficients in {-1, 0, 1}.
    pub(crate) coeffs: Vec<i64>,
    /// `s` over all primes (QP), NTT form.
    pub(crate) ntt: RnsPoly,
}

impl SecretKey {
    /// The signed coefficients of `s`.
    pub fn coefficients(&self) -> &[i64] {
        &self.coeffs
    }
}

/// The public key `(b, a) = (-a s + e, a)` over QP, NTT form.
#[derive(Clone, Debug)]
pub struct PublicKey {
    pub(crate) b: RnsPoly,
    pub(crate) a: RnsPoly,
}

/// A hybrid key-switching key from `s_in` to `s_out`: for each digit `j`,
/// `(b_j, a_j) = (-a_j s_out + e_j + P g_j s_in, a_j)` over QP, NTT form,
/// where `g_j` is 1 modulo the primes of digit `j` and 0 modulo the other
/// Q primes.
///
/// A key restricted to level `l` (`top = Some(l)`) holds only the digits
/// and limbs of `Q_0..Q_l` and P (limbs of the primes above are empty):
/// enough to switch any ciphertext at level `<= l`, at a fraction of the
/// memory when the chain above `l` is bootstrapping's alone.
#[derive(Clone, Debug)]
pub(crate) struct SwitchingKey {
    pub(crate) digits: Vec<(RnsPoly, Mask)>,
    /// Highest level the key can switch at; `None` for the whole chain.
    pub(crate) top: Option<usize>,
}

impl SwitchingKey {
    /// Refuses a ciphertext at `level` above a restricted key's top (its
    /// limbs there are absent).
    pub(crate) fn check_level(&self, op: &'static str, level: usize) -> Result<(), CkksError> {
        match self.top {
            Some(top) if level > top => Err(CkksError::InvalidLevel {
                op,
                level,
                max: top,
            }),
            _ => Ok(()),
        }
    }

    /// Bytes of key material held.
    pub(crate) fn size_bytes(&self) -> usize {
        self.digits
            .iter()
            .map(|(b, a)| poly_bytes(b) + a.size_bytes())
            .sum()
    }
}

fn poly_bytes(p: &RnsPoly) -> usize {
    p.limbs
        .iter()
        .map(|l| l.len() * std::mem::size_of::<u64>())
        .sum()
}

/// The uniform half `a_j` of a key-switching digit: held, or only the seed
/// it is expanded from at each use. A seeded key takes half the memory for
/// the price of sampling `a_j` (one ChaCha20 stream per limb) in every key
/// switch; `a_j` is public and uniform, so a seed reveals nothing more.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Mask {
    /// `a_j` over the key's primes, NTT form (limbs above a restricted
    /// key's top are empty).
    Held(RnsPoly),
    /// `a_j` expanded by [`expand_mask_limb`]: limb `i` is stream `i`
    /// of ChaCha20 keyed by the seed, sampled uniformly in NTT form.
    Seeded([u8; 32]),
}

impl Mask {
    /// Bytes this half takes in memory.
    pub(crate) fn size_bytes(&self) -> usize {
        match self {
            Mask::Held(a) => poly_bytes(a),
            Mask::Seeded(seed) => seed.len(),
        }
    }

    /// Limb `i` (global prime index) of `a_j`: borrowed when held, else
    /// expanded into `buf`.
    pub(crate) fn limb<'a>(&'a self, i: usize, m: &Modulus, buf: &'a mut [u64]) -> &'a [u64] {
        match self {
            Mask::Held(a) => &a.limbs[i],
            Mask::Seeded(seed) => {
                expand_mask_limb(seed, i, m, buf);
                buf
            }
        }
    }
}

/// Limb `i` of the uniform polynomial a seed stands for (NTT form): the
/// values of ChaCha20 stream `i`, rejection-sampled below the prime. One
/// stream per limb, so a key restricted to some primes expands only those.
pub(crate) fn expand_mask_limb(seed: &[u8; 32], i: usize, m: &Modulus, out: &mut [u64]) {
    let mut rng = ChaCha20Rng::from_seed(*seed);
    rng.set_stream(i as u64);
    sampler::uniform_limb(&mut rng, m, out);
}

/// Relinearization key: switches `s^2` to `s`.
#[derive(Clone, Debug)]
pub struct RelinearizationKey {
    pub(crate) key: Arc<SwitchingKey>,
}

impl RelinearizationKey {
    /// Bytes of key material held.
    pub fn size_bytes(&self) -> usize {
        self.key.size_bytes()
    }
}

/// Galois keys for a set of rotation steps (and optionally conjugation).
///
/// The key of Galois element `g` switches from `s` to `σ_g^-1(s)`: the
/// evaluator applies the key to the *un-permuted* decomposition of `c_1`
/// and permutes afterwards (`σ_g(d) k = σ_g(d σ_g^-1(k))`), so that a
/// hoisted rotation permutes two polynomials instead of every digit.
#[derive(Clone, Debug, Default)]
pub struct GaloisKeys {
    /// Rotation step -> (Galois element, key).
    pub(crate) rotations: BTreeMap<i64, (u64, Arc<SwitchingKey>)>,
    /// Conjugation key, if generated.
    pub(crate) conjugation: Option<Arc<SwitchingKey>>,
}

impl GaloisKeys {
    /// Whether there is no key at all (no rotation, no conjugation).
    pub fn is_empty(&self) -> bool {
        self.rotations.is_empty() && self.conjugation.is_none()
    }

    /// The rotation steps that have a key.
    pub fn steps(&self) -> Vec<i64> {
        self.rotations.keys().copied().collect()
    }

    /// Whether a key for `step` (or an equivalent step modulo the slot
    /// count `slots`) is present.
    pub fn has_step(&self, step: i64, slots: usize) -> bool {
        self.find(step, slots).is_some()
    }

    /// Whether the conjugation key is present.
    pub fn has_conjugation(&self) -> bool {
        self.conjugation.is_some()
    }

    /// The key for `step`, trying the steps equivalent modulo `slots`.
    pub(crate) fn find(&self, step: i64, slots: usize) -> Option<&(u64, Arc<SwitchingKey>)> {
        if let Some(k) = self.rotations.get(&step) {
            return Some(k);
        }
        let s = slots as i64;
        let r = step.rem_euclid(s);
        self.rotations
            .get(&r)
            .or_else(|| self.rotations.get(&(r - s)))
    }

    /// The highest level the key of `step` switches at: `None` if there is
    /// no key, `Some(None)` for a key over the whole chain.
    pub fn top_level(&self, step: i64, slots: usize) -> Option<Option<usize>> {
        self.find(step, slots).map(|(_, k)| k.top)
    }

    /// Bytes of key material held (rotations and conjugation).
    pub fn size_bytes(&self) -> usize {
        self.rotations
            .values()
            .map(|(_, k)| k.size_bytes())
            .chain(self.conjugation.iter().map(|k| k.size_bytes()))
            .sum()
    }

    /// Adds the keys of `other` (e.g. keys generated in several batches).
    pub fn extend(&mut self, other: GaloisKeys) {
        self.rotations.extend(other.rotations);
        if other.conjugation.is_some() {
            self.conjugation = other.conjugation;
        }
    }
}
