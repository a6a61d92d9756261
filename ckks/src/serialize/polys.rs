//! Polynomials and switching keys to and from their messages; every limb
//! read is checked (count, length, range).

use prost::bytes::Bytes;

use super::error::FileError;
use super::messages::FileKind;
use super::messages::{PolyMsg, SwitchingKeyMsg};
use crate::ring::context::Context;
use crate::ring::poly::RnsPoly;
use crate::scheme::compact_key::{to_global, CompactKey};
use crate::scheme::keys::{Mask, SwitchingKey};

pub(super) fn poly_to_msg(p: &RnsPoly) -> PolyMsg {
    PolyMsg {
        limbs: p
            .limbs
            .iter()
            .map(|l| Bytes::from(l.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>()))
            .collect(),
        ntt: p.ntt,
    }
}

/// Decodes a polynomial on `basis` (global prime indices), checking limb
/// count, length and ranges.
pub(super) fn poly_from_msg(
    ctx: &Context,
    m: Option<&PolyMsg>,
    basis: &[usize],
    kind: FileKind,
    what: &str,
) -> Result<RnsPoly, FileError> {
    let bad = |message: String| FileError::Invalid {
        what: kind.what(),
        message,
    };
    let m = m.ok_or_else(|| bad(format!("{what} is missing")))?;
    if !m.ntt {
        return Err(bad(format!("{what} is not in NTT form")));
    }
    if m.limbs.len() != basis.len() {
        return Err(bad(format!(
            "{what} has {} limbs, {} expected",
            m.limbs.len(),
            basis.len()
        )));
    }
    let n = ctx.n();
    let mut limbs = Vec::with_capacity(basis.len());
    for (k, (bytes, &i)) in m.limbs.iter().zip(basis).enumerate() {
        if bytes.len() != n * 8 {
            return Err(bad(format!(
                "{what} limb {k} holds {} bytes, N = {n} coefficients need {}",
                bytes.len(),
                n * 8
            )));
        }
        let q = ctx.primes[i].m.value();
        let mut limb = Vec::with_capacity(n);
        for c in bytes.chunks_exact(8) {
            let x = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            if x >= q {
                return Err(bad(format!(
                    "{what} limb {k} has coefficient {x} >= its modulus {q}"
                )));
            }
            limb.push(x);
        }
        limbs.push(limb);
    }
    Ok(RnsPoly::from_limbs(limbs, true))
}

pub(super) fn swk_to_msg(k: &SwitchingKey) -> SwitchingKeyMsg {
    // A restricted key's empty limbs (primes above its top) are not written.
    let local = |p: &RnsPoly| PolyMsg {
        limbs: p
            .limbs
            .iter()
            .filter(|l| !l.is_empty())
            .map(|l| Bytes::from(l.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>()))
            .collect(),
        ntt: p.ntt,
    };
    let (mut a, mut a_seeds) = (Vec::new(), Vec::new());
    for (_, mask) in &k.digits {
        match mask {
            Mask::Held(p) => a.push(local(p)),
            Mask::Seeded(seed) => a_seeds.push(seed.to_vec()),
        }
    }
    SwitchingKeyMsg {
        b: k.digits.iter().map(|(b, _)| local(b)).collect(),
        a,
        top: k.top.map(|t| t as u32),
        a_seeds,
    }
}

/// The digits of a key message on their own basis (`Q_0..Q_top ∪ P`, or
/// the whole chain), and its top.
#[allow(clippy::type_complexity)]
pub(super) fn digits_from_msg(
    ctx: &Context,
    m: &SwitchingKeyMsg,
    kind: FileKind,
    what: &str,
) -> Result<(Option<usize>, Vec<(RnsPoly, Mask)>), FileError> {
    let bad = |message: String| FileError::Invalid {
        what: kind.what(),
        message,
    };
    let top = match m.top {
        None => None,
        Some(t) if (t as usize) <= ctx.max_level() => Some(t as usize),
        Some(t) => {
            return Err(bad(format!(
                "{what} is for level {t}, above the top level {}",
                ctx.max_level()
            )))
        }
    };
    let (dnum, basis) = match top {
        None => (ctx.dnum, ctx.basis_all()),
        Some(t) => (ctx.dnum_at(t), ctx.basis_qp(t)),
    };
    let seeded = !m.a_seeds.is_empty();
    let masks = if seeded { m.a_seeds.len() } else { m.a.len() };
    if m.b.len() != dnum || masks != dnum || (seeded && !m.a.is_empty()) {
        return Err(bad(format!(
            "{what} has {}/{} digits, {dnum} expected",
            m.b.len(),
            m.a.len() + m.a_seeds.len(),
        )));
    }
    let digits = m
        .b
        .iter()
        .enumerate()
        .map(|(j, b)| {
            let b = poly_from_msg(ctx, Some(b), &basis, kind, &format!("{what} digit {j} (b)"))?;
            let a = if seeded {
                let seed = m.a_seeds[j].as_slice().try_into().map_err(|_| {
                    bad(format!(
                        "{what} digit {j} has a seed of {} bytes, 32 expected",
                        m.a_seeds[j].len()
                    ))
                })?;
                Mask::Seeded(seed)
            } else {
                let what = format!("{what} digit {j} (a)");
                Mask::Held(poly_from_msg(ctx, Some(&m.a[j]), &basis, kind, &what)?)
            };
            Ok((b, a))
        })
        .collect::<Result<_, FileError>>()?;
    Ok((top, digits))
}

pub(super) fn swk_from_msg(
    ctx: &Context,
    m: &SwitchingKeyMsg,
    kind: FileKind,
    what: &str,
) -> Result<SwitchingKey, FileError> {
    let (top, digits) = digits_from_msg(ctx, m, kind, what)?;
    let digits = match top {
        None => digits,
        Some(t) => digits
            .into_iter()
            .map(|(b, a)| {
                let a = match a {
                    Mask::Held(a) => Mask::Held(to_global(ctx, a, t)),
                    seeded => seeded,
                };
                (to_global(ctx, b, t), a)
            })
            .collect(),
    };
    Ok(SwitchingKey { digits, top })
}

pub(super) fn compact_to_msg(k: &CompactKey) -> SwitchingKeyMsg {
    let limbs = |p: &RnsPoly| poly_to_msg(p);
    SwitchingKeyMsg {
        b: k.digits.iter().map(|(b, _)| limbs(b)).collect(),
        a: k.digits.iter().map(|(_, a)| limbs(a)).collect(),
        top: Some(k.level as u32),
        a_seeds: Vec::new(),
    }
}

/// A compact key, at `level` if given.
pub(super) fn compact_from_msg(
    ctx: &Context,
    m: Option<&SwitchingKeyMsg>,
    level: Option<usize>,
    kind: FileKind,
    what: &str,
) -> Result<CompactKey, FileError> {
    let bad = |message: String| FileError::Invalid {
        what: kind.what(),
        message,
    };
    let m = m.ok_or_else(|| bad(format!("{what} is missing")))?;
    match digits_from_msg(ctx, m, kind, what)? {
        (Some(t), digits) if level.is_none_or(|l| l == t) => {
            let held = |(b, a)| match a {
                Mask::Held(a) => Ok((b, a)),
                Mask::Seeded(_) => Err(bad(format!("{what} is seeded; this key must be held"))),
            };
            Ok(CompactKey {
                level: t,
                digits: digits.into_iter().map(held).collect::<Result<_, _>>()?,
                seeds: None,
            })
        }
        (None, _) => Err(bad(format!("{what} has no level"))),
        (Some(t), _) => Err(bad(format!(
            "{what} is for level {t}, bootstrapping uses it at level {}",
            level.unwrap_or(t)
        ))),
    }
}
