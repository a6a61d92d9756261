//! The CKKS context: primes, NTT plans and every precomputed constant.
//!
//! Built once per parameter set and shared (`Arc`) by the encoder, key
//! generator, encryptor, decryptor and evaluator, so that the per-operation
//! code only indexes tables.
//!
//! Prime layout: the global prime index `i` is `q_i` for `i <= max_level`
//! and `p_{i - max_level - 1}` after that. A ciphertext at level `l` lives
//! on the basis `0..=l`; key-switching keys live on all primes (QP).
//!
//! Hybrid key switching (Han-Ki / GHS with dnum digits): the Q primes are cut
//! into `dnum = ceil(#Q / #P)` digits of `alpha = #P` consecutive primes;
//! digit `j` is `q_{j*alpha} .. q_{min((j+1)*alpha, #Q) - 1}`. Since each
//! digit's product is below P (when the P primes are at least as large as
//! the Q primes), the key-switching error divided by P stays small.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tfhe_ntt::prime64::Plan;

use crate::error::CkksError;
use crate::math::arith::{Modulus, ShoupConst};
use crate::math::primes::generate_primes;
use crate::ring::automorphism::{measure_slot_exponents, ntt_permutation};
use crate::ring::basis::BasisConverter;
use crate::ring::conjugate_invariant::{self as ci, CiTwist, Ring};
use crate::ring::crt::Garner;
use crate::ring::params::CkksParams;
use crate::ring::prime_table::PrimeTable;
use crate::ring::scratch::Scratch;
use crate::ring::security::max_log_qp_128;

/// Constants to rescale by `q_l` (drop the last prime of level `l`).
#[derive(Clone, Debug)]
pub(crate) struct RescaleConsts {
    /// `q_l^-1 mod q_i` for `i < l`.
    pub(crate) inv_ql: Vec<ShoupConst>,
    /// `floor(q_l / 2) mod q_i` for `i < l` (rounding instead of flooring).
    pub(crate) half_ql_mod_qi: Vec<u64>,
}

/// Checks the shape of a parameter set (sizes, ranges; not yet the
/// security bound, which needs the primes); returns that bound, in bits.
fn validate(params: &CkksParams, root_log: u32) -> Result<u32, CkksError> {
    let log_n = params.log_n;
    let bound = max_log_qp_128(log_n).ok_or_else(|| {
        CkksError::InvalidParams(format!(
            "log_n = {log_n} is outside the supported range 10..=17"
        ))
    })?;
    if params.log_q.is_empty() {
        return Err(CkksError::InvalidParams("log_q is empty".into()));
    }
    if params.log_p.is_empty() {
        return Err(CkksError::InvalidParams(
            "log_p is empty: hybrid key switching needs at least one special prime".into(),
        ));
    }
    if params.log_p.len() > 60 {
        return Err(CkksError::InvalidParams(
            "more than 60 special primes".into(),
        ));
    }
    let min_bits = root_log + 2;
    for &b in params.log_q.iter().chain(&params.log_p) {
        if b < min_bits || b > 61 {
            return Err(CkksError::InvalidParams(format!(
                "prime size {b} bits is outside {min_bits}..=61 for N = 2^{log_n}"
            )));
        }
    }
    if params.log_scale == 0 || params.log_scale > 62 {
        return Err(CkksError::InvalidParams(format!(
            "log_scale = {} is outside 1..=62",
            params.log_scale
        )));
    }
    let n = 1usize << log_n;
    if let crate::ring::params::SecretDist::Ternary {
        hamming_weight: Some(h),
    } = params.secret
    {
        if h == 0 || h > n {
            return Err(CkksError::InvalidParams(format!(
                "hamming weight {h} is outside 1..={n}"
            )));
        }
    }

    Ok(bound)
}

/// Each prime's reduction constants and NTT plan (with the twist of the
/// conjugate-invariant ring's transform if it is that ring).
fn prime_tables(q: &[u64], p: &[u64], n: usize, ring: Ring) -> Result<Vec<PrimeTable>, CkksError> {
    q.iter()
        .chain(p)
        .map(|&x| {
            let plan = Plan::try_new(n, x).ok_or_else(|| {
                CkksError::InvalidParams(format!("tfhe-ntt cannot build a plan for prime {x}"))
            })?;
            let m = Modulus::new(x);
            let ci = (ring == Ring::ConjugateInvariant).then(|| {
                let mut xpoly = vec![0u64; n];
                xpoly[1] = 1;
                plan.fwd(&mut xpoly);
                CiTwist::new(&m, xpoly[0], n)
            });
            Ok(PrimeTable { m, plan, ci })
        })
        .collect()
}

/// The constants of a rescale at each level `l >= 1` (index 0 unused).
fn rescale_consts(q: &[u64], primes: &[PrimeTable]) -> Vec<RescaleConsts> {
    let mut rescale = vec![RescaleConsts {
        inv_ql: vec![],
        half_ql_mod_qi: vec![],
    }];
    for (l, &ql) in q.iter().enumerate().skip(1) {
        let inv_ql = primes[..l]
            .iter()
            .map(|t| ShoupConst::new(&t.m, t.m.inv(t.m.reduce(ql))))
            .collect();
        let half_ql_mod_qi = primes[..l].iter().map(|t| t.m.reduce(ql / 2)).collect();
        rescale.push(RescaleConsts {
            inv_ql,
            half_ql_mod_qi,
        });
    }
    rescale
}

/// The CKKS context. See the module documentation.
pub struct Context {
    params: CkksParams,
    ring: Ring,
    n: usize,
    q: Vec<u64>,
    p: Vec<u64>,
    log_qp: f64,
    pub(crate) primes: Vec<PrimeTable>,
    /// Digit size of hybrid key switching (= number of P primes).
    pub(crate) alpha: usize,
    /// Number of digits at the top level.
    pub(crate) dnum: usize,
    /// `rescale[l]` for `l >= 1` (index 0 unused).
    pub(crate) rescale: Vec<RescaleConsts>,
    /// `P^-1 mod q_i`.
    pub(crate) p_inv_mod_q: Vec<ShoupConst>,
    /// `P mod prime_i` for every global prime (0 for the P primes).
    pub(crate) p_mod: Vec<u64>,
    /// ModDown: conversion from the P basis.
    pub(crate) moddown: BasisConverter,
    /// ModUp: `modup[j][len - 1]` converts from the first `len` primes of digit `j`.
    pub(crate) modup: Vec<Vec<BasisConverter>>,
    pub(crate) garner: Garner,
    /// NTT slot exponents relative to slot 0 (see `automorphism.rs`).
    slot_exps: Vec<u32>,
    perm_cache: Mutex<HashMap<u64, Arc<Vec<u32>>>>,
    /// Reusable limb buffers for temporaries.
    pub(crate) scratch: Scratch,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("log_n", &self.params.log_n)
            .field("q", &self.q)
            .field("p", &self.p)
            .field("log_qp", &self.log_qp)
            .field("dnum", &self.dnum)
            .finish()
    }
}

impl Context {
    /// Validates `params`, generates the primes and precomputes all tables,
    /// for the standard ring (N/2 complex slots).
    ///
    /// Fails if the set is malformed, or above the HE Standard's 128-bit
    /// bound for its N unless `params.insecure_ok` (then a warning is
    /// printed on stderr).
    pub fn new(params: CkksParams) -> Result<Arc<Context>, CkksError> {
        Self::with_ring(params, Ring::Standard)
    }

    /// As [`Context::new`], in the given ring: [`Ring::ConjugateInvariant`]
    /// gives N real slots at ring degree N (see `conjugate_invariant.rs`);
    /// its primes are `1 mod 4N`, so they differ from the standard set's.
    pub fn with_ring(params: CkksParams, ring: Ring) -> Result<Arc<Context>, CkksError> {
        let log_n = params.log_n;
        // The conjugate-invariant transform needs 4N-th roots of unity.
        let root_log = log_n + u32::from(ring == Ring::ConjugateInvariant);
        let bound = validate(&params, root_log)?;
        let n = 1usize << log_n;
        let q = generate_primes(root_log, &params.log_q, &[])?;
        let p = generate_primes(root_log, &params.log_p, &q)?;
        let log_qp: f64 = q.iter().chain(&p).map(|&x| (x as f64).log2()).sum();
        if log_qp > bound as f64 {
            let err = CkksError::InsecureParams {
                log_n,
                log_qp,
                bound,
            };
            if params.insecure_ok {
                eprintln!("warning: {err} (accepted because insecure_ok is set)");
            } else {
                return Err(err);
            }
        }

        let primes = prime_tables(&q, &p, n, ring)?;
        let nq = q.len();
        let np = p.len();
        let alpha = np;
        let dnum = nq.div_ceil(alpha);

        let rescale = rescale_consts(&q, &primes);

        // P-related constants.
        let p_mod: Vec<u64> = primes
            .iter()
            .enumerate()
            .map(|(i, t)| {
                if i >= nq {
                    0
                } else {
                    p.iter().fold(1u64, |acc, &pk| t.m.mul(acc, t.m.reduce(pk)))
                }
            })
            .collect();
        let p_inv_mod_q = (0..nq)
            .map(|i| ShoupConst::new(&primes[i].m, primes[i].m.inv(p_mod[i])))
            .collect();

        let moddown = BasisConverter::new(&primes, (nq..nq + np).collect());
        let modup = (0..dnum)
            .map(|j| {
                let start = j * alpha;
                let end = ((j + 1) * alpha).min(nq);
                (1..=end - start)
                    .map(|len| BasisConverter::new(&primes, (start..start + len).collect()))
                    .collect()
            })
            .collect();
        let garner = Garner::new(&q);

        // Measure the NTT slot order on the polynomial X.
        let mut x = vec![0u64; n];
        x[1] = 1;
        primes[0].plan.fwd(&mut x);
        let mut slot_exps = measure_slot_exponents(&x, &primes[0].m);
        if ring == Ring::ConjugateInvariant {
            slot_exps = ci::slot_exponents(&slot_exps);
        }

        Ok(Arc::new(Context {
            params,
            ring,
            n,
            q,
            p,
            log_qp,
            primes,
            alpha,
            dnum,
            rescale,
            p_inv_mod_q,
            p_mod,
            moddown,
            modup,
            garner,
            slot_exps,
            perm_cache: Mutex::new(HashMap::new()),
            scratch: Scratch::new(n),
        }))
    }

    /// The parameter set.
    pub fn params(&self) -> &CkksParams {
        &self.params
    }

    /// Ring degree N.
    pub fn n(&self) -> usize {
        self.n
    }

    /// log2 of N.
    pub fn log_n(&self) -> u32 {
        self.params.log_n
    }

    /// The ring: standard or conjugate-invariant.
    pub fn ring(&self) -> Ring {
        self.ring
    }

    /// Number of slots: N/2 complex ones in the standard ring, N real ones
    /// in the conjugate-invariant ring.
    pub fn slots(&self) -> usize {
        match self.ring {
            Ring::Standard => self.n / 2,
            Ring::ConjugateInvariant => self.n,
        }
    }

    /// The Galois element of a left rotation by `step` slots.
    pub fn galois_element(&self, step: i64) -> u64 {
        match self.ring {
            Ring::Standard => crate::ring::automorphism::galois_element(step, self.n),
            Ring::ConjugateInvariant => ci::galois_element(step, self.n),
        }
    }

    /// The Galois element of complex conjugation (the identity on the
    /// conjugate-invariant ring, whose slots are real).
    pub fn conjugation_element(&self) -> u64 {
        match self.ring {
            Ring::Standard => crate::ring::automorphism::conjugation_element(self.n),
            Ring::ConjugateInvariant => 1,
        }
    }

    /// `g^-1` modulo the order of the Galois group's ambient (2N or 4N).
    pub(crate) fn galois_inverse(&self, g: u64) -> u64 {
        // (Z/2N)^* has exponent N/2 and (Z/4N)^* has exponent N.
        let (modulus, exponent) = match self.ring {
            Ring::Standard => (2 * self.n as u64, self.n / 2),
            Ring::ConjugateInvariant => (4 * self.n as u64, self.n),
        };
        let mut inv = 1u64;
        for _ in 0..exponent - 1 {
            inv = inv * g % modulus;
        }
        debug_assert_eq!(inv * g % modulus, 1);
        inv
    }

    /// The highest level (number of Q primes minus one).
    pub fn max_level(&self) -> usize {
        self.q.len() - 1
    }

    /// The Q prime `q_level` (the one a rescale at `level` divides by).
    ///
    /// # Panics
    /// If `level > max_level()`.
    pub fn q(&self, level: usize) -> u64 {
        self.q[level]
    }

    /// log2 of the default scale.
    pub fn log_scale(&self) -> u32 {
        self.params.log_scale
    }

    /// The default scale `2^log_scale`.
    pub fn default_scale(&self) -> f64 {
        (self.params.log_scale as f64).exp2()
    }

    /// The Q primes.
    pub fn moduli_q(&self) -> &[u64] {
        &self.q
    }

    /// The special primes P.
    pub fn moduli_p(&self) -> &[u64] {
        &self.p
    }

    /// log2 of the product of all Q and P primes.
    pub fn log_qp(&self) -> f64 {
        self.log_qp
    }

    /// Number of key-switching digits at the top level.
    pub fn dnum(&self) -> usize {
        self.dnum
    }

    /// Number of key-switching digits at `level`.
    pub(crate) fn dnum_at(&self, level: usize) -> usize {
        (level + 1).div_ceil(self.alpha)
    }

    /// Global index of the first P prime.
    pub(crate) fn p_start(&self) -> usize {
        self.q.len()
    }

    /// The basis `q_0 .. q_level`.
    pub(crate) fn basis_q(&self, level: usize) -> Vec<usize> {
        (0..=level).collect()
    }

    /// The basis `q_0 .. q_level, p_0 .. p_{k-1}`.
    pub(crate) fn basis_qp(&self, level: usize) -> Vec<usize> {
        (0..=level)
            .chain(self.p_start()..self.primes.len())
            .collect()
    }

    /// The basis of all primes (Q then P).
    pub(crate) fn basis_all(&self) -> Vec<usize> {
        (0..self.primes.len()).collect()
    }

    /// The NTT-domain permutation of the automorphism `X -> X^g` (cached).
    pub(crate) fn galois_permutation(&self, g: u64) -> Arc<Vec<u32>> {
        let mut cache = self.perm_cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(g)
            .or_insert_with(|| {
                Arc::new(match self.ring {
                    Ring::Standard => ntt_permutation(&self.slot_exps, g),
                    Ring::ConjugateInvariant => ci::permutation(&self.slot_exps, g),
                })
            })
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ring::automorphism::{automorphism_coeff, permute};
    use crate::ring::params::SecretDist;

    #[test]
    fn mnist_set_is_secure() {
        let ctx = Context::new(CkksParams::mnist_mlp()).unwrap();
        assert_eq!(ctx.n(), 8192);
        assert_eq!(ctx.max_level(), 5);
        assert_eq!(ctx.dnum(), 3);
        assert!(ctx.log_qp() <= 217.0);
        eprintln!("mnist set: {ctx:?}");
    }

    #[test]
    fn insecure_set_is_refused_with_bound() {
        let params = CkksParams {
            log_n: 12,
            log_q: vec![40, 30, 30],
            log_p: vec![40],
            log_scale: 30,
            secret: SecretDist::default(),
            insecure_ok: false,
        };
        let err = Context::new(params.clone()).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, CkksError::InsecureParams { bound: 109, .. }),
            "{msg}"
        );
        assert!(msg.contains("109") && msg.contains("140.0"), "{msg}");
        let ok = Context::new(CkksParams {
            insecure_ok: true,
            ..params
        });
        assert!(ok.is_ok());
    }

    #[test]
    fn bad_sets_are_refused() {
        let base = CkksParams::mnist_mlp();
        for bad in [
            CkksParams {
                log_n: 9,
                ..base.clone()
            },
            CkksParams {
                log_n: 18,
                ..base.clone()
            },
            CkksParams {
                log_q: vec![],
                ..base.clone()
            },
            CkksParams {
                log_p: vec![],
                ..base.clone()
            },
            CkksParams {
                log_q: vec![62],
                ..base.clone()
            },
            CkksParams {
                log_q: vec![14],
                ..base.clone()
            },
        ] {
            assert!(matches!(
                Context::new(bad),
                Err(CkksError::InvalidParams(_))
            ));
        }
    }

    #[test]
    fn ntt_automorphism_matches_coefficient_automorphism() {
        let params = CkksParams {
            log_n: 10,
            log_q: vec![50, 30],
            log_p: vec![61],
            log_scale: 30,
            secret: SecretDist::default(),
            insecure_ok: true,
        };
        let ctx = Context::new(params).unwrap();
        let n = ctx.n();
        for g in [
            5u64,
            25,
            2 * n as u64 - 1,
            crate::ring::automorphism::galois_element(-3, n),
        ] {
            let perm = ctx.galois_permutation(g);
            for t in &ctx.primes {
                let m = &t.m;
                let a: Vec<u64> = (0..n as u64).map(|i| m.reduce(i * i * 7919 + 3)).collect();
                let mut want = vec![0; n];
                automorphism_coeff(&a, g, m, &mut want);
                t.plan.fwd(&mut want);
                let mut a_ntt = a.clone();
                t.plan.fwd(&mut a_ntt);
                let mut got = vec![0; n];
                permute(&a_ntt, &perm, &mut got);
                assert_eq!(got, want, "g = {g}, p = {}", m.value());
            }
        }
    }
}
