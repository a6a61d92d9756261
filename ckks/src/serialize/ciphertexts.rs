//! Ciphertext and plaintext files.

use super::error::FileError;
use super::format::{decode, open, payload, seal, FileBytes};
use super::messages::{CiphertextMsg, CiphertextsMsg};
use super::messages::{FileKind, KeyId};
use super::polys::{poly_from_msg, poly_to_msg};
use crate::ring::context::Context;
use crate::ring::poly::RnsPoly;
use crate::scheme::ciphertext::{Ciphertext, Plaintext};

pub(super) fn ct_to_msg(parts: &[&RnsPoly], level: usize, scale: f64) -> CiphertextMsg {
    CiphertextMsg {
        parts: parts.iter().map(|p| poly_to_msg(p)).collect(),
        level: level as u32,
        scale,
    }
}

fn ct_from_msg(
    ctx: &Context,
    m: &CiphertextMsg,
    kind: FileKind,
    k: usize,
) -> Result<(Vec<RnsPoly>, usize, f64), FileError> {
    let bad = |message: String| FileError::Invalid {
        what: kind.what(),
        message,
    };
    let level = m.level as usize;
    if level > ctx.max_level() {
        return Err(bad(format!(
            "item {k} is at level {level}, above the top level {}",
            ctx.max_level()
        )));
    }
    if !(m.scale.is_finite() && m.scale > 0.0) {
        return Err(bad(format!("item {k} has invalid scale {:e}", m.scale)));
    }
    let basis = ctx.basis_q(level);
    let parts = m
        .parts
        .iter()
        .enumerate()
        .map(|(j, p)| poly_from_msg(ctx, Some(p), &basis, kind, &format!("item {k} part {j}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((parts, level, m.scale))
}

/// The bytes of a ciphertext file holding `cts`, encrypted under key `id`.
pub fn encode_ciphertexts(ctx: &Context, cts: &[Ciphertext], id: KeyId) -> Vec<u8> {
    let msg = CiphertextsMsg {
        items: cts
            .iter()
            .map(|c| ct_to_msg(&c.parts.iter().collect::<Vec<_>>(), c.level, c.scale))
            .collect(),
    };
    seal(ctx, FileKind::Ciphertexts, id, payload(msg))
}

/// Reads a ciphertext file: the ciphertexts and the id of the key that
/// encrypted them.
pub fn decode_ciphertexts(
    ctx: &Context,
    bytes: impl FileBytes,
) -> Result<(Vec<Ciphertext>, KeyId), FileError> {
    let kind = FileKind::Ciphertexts;
    let (id, payload) = open(ctx, kind, bytes.into_bytes())?;
    let m: CiphertextsMsg = decode(kind, payload)?;
    let cts = m
        .items
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let (parts, level, scale) = ct_from_msg(ctx, c, kind, k)?;
            if parts.len() < 2 {
                return Err(FileError::Invalid {
                    what: kind.what(),
                    message: format!("item {k} has {} parts (at least 2 needed)", parts.len()),
                });
            }
            Ok(Ciphertext {
                parts,
                level,
                scale,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok((cts, id))
}

/// The bytes of a plaintext file.
pub fn encode_plaintexts(ctx: &Context, pts: &[Plaintext]) -> Vec<u8> {
    let msg = CiphertextsMsg {
        items: pts
            .iter()
            .map(|p| ct_to_msg(&[&p.poly], p.level, p.scale))
            .collect(),
    };
    seal(ctx, FileKind::Plaintexts, KeyId(0), payload(msg))
}

/// Reads a plaintext file.
pub fn decode_plaintexts(
    ctx: &Context,
    bytes: impl FileBytes,
) -> Result<Vec<Plaintext>, FileError> {
    let kind = FileKind::Plaintexts;
    let (_, payload) = open(ctx, kind, bytes.into_bytes())?;
    let m: CiphertextsMsg = decode(kind, payload)?;
    m.items
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let (mut parts, level, scale) = ct_from_msg(ctx, c, kind, k)?;
            if parts.len() != 1 {
                return Err(FileError::Invalid {
                    what: kind.what(),
                    message: format!("item {k} has {} polynomials (1 expected)", parts.len()),
                });
            }
            Ok(Plaintext {
                poly: parts.remove(0),
                level,
                scale,
            })
        })
        .collect()
}
