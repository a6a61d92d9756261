//! Secret, public and evaluation key files.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::error::FileError;
use super::format::{decode, key_id, open, payload, seal, FileBytes};
use super::messages::{EncapsulationMsg, EvalKeysMsg, GaloisKeyMsg, PublicKeyMsg, SecretKeyMsg};
use super::messages::{FileKind, KeyId};
use super::polys::{
    compact_from_msg, compact_to_msg, poly_from_msg, poly_to_msg, swk_from_msg, swk_to_msg,
};
use crate::bootstrap::EncapsulationKeys;
use crate::ring::context::Context;
use crate::ring::params::SecretDist;
use crate::scheme::keys::{GaloisKeys, PublicKey, RelinearizationKey, SecretKey};

/// Relinearization and Galois keys, and bootstrapping's encapsulation
/// keys, as stored in one file: everything a server evaluates with.
#[derive(Clone, Debug, Default)]
pub struct EvaluationKeys {
    /// The relinearization key, if the program multiplies ciphertexts.
    pub relin: Option<RelinearizationKey>,
    /// The Galois keys (possibly none).
    pub galois: GaloisKeys,
    /// Sparse-secret encapsulation keys, if the program bootstraps with it.
    pub encapsulation: Option<Arc<EncapsulationKeys>>,
}

/// The bytes of a secret key file.
pub fn encode_secret_key(ctx: &Context, sk: &SecretKey, id: KeyId) -> Vec<u8> {
    let msg = SecretKeyMsg {
        coeffs: sk.coeffs.iter().map(|&c| c as i8 as u8).collect(),
    };
    seal(ctx, FileKind::SecretKey, id, payload(msg))
}

/// Reads a secret key file.
pub fn decode_secret_key(
    ctx: &Context,
    bytes: impl FileBytes,
) -> Result<(SecretKey, KeyId), FileError> {
    let kind = FileKind::SecretKey;
    let (id, payload) = open(ctx, kind, bytes.into_bytes())?;
    let m: SecretKeyMsg = decode(kind, payload)?;
    if m.coeffs.len() != ctx.n() {
        return Err(FileError::Invalid {
            what: kind.what(),
            message: format!("{} coefficients, N = {} expected", m.coeffs.len(), ctx.n()),
        });
    }
    let coeffs: Vec<i64> = m.coeffs.iter().map(|&b| b as i8 as i64).collect();
    if let Some(c) = coeffs.iter().find(|c| c.abs() > 1) {
        return Err(FileError::Invalid {
            what: kind.what(),
            message: format!("coefficient {c} is not ternary"),
        });
    }
    let SecretDist::Ternary { hamming_weight } = ctx.params().secret;
    let weight = coeffs.iter().filter(|&&c| c != 0).count();
    if let Some(h) = hamming_weight.filter(|&h| h != weight) {
        return Err(FileError::Invalid {
            what: kind.what(),
            message: format!("{weight} non-zero coefficients, the parameters set H = {h}"),
        });
    }
    let ntt = ctx.poly_from_small(&coeffs, &ctx.basis_all());
    Ok((SecretKey { coeffs, ntt }, id))
}

/// The bytes of a public key file (its key id is [`key_id`]).
pub fn encode_public_key(ctx: &Context, pk: &PublicKey) -> Vec<u8> {
    let msg = PublicKeyMsg {
        b: Some(poly_to_msg(&pk.b)),
        a: Some(poly_to_msg(&pk.a)),
    };
    seal(ctx, FileKind::PublicKey, key_id(pk), payload(msg))
}

/// Reads a public key file; checks that its key id is its own hash.
pub fn decode_public_key(
    ctx: &Context,
    bytes: impl FileBytes,
) -> Result<(PublicKey, KeyId), FileError> {
    let kind = FileKind::PublicKey;
    let (id, payload) = open(ctx, kind, bytes.into_bytes())?;
    let m: PublicKeyMsg = decode(kind, payload)?;
    let basis = ctx.basis_all();
    let pk = PublicKey {
        b: poly_from_msg(ctx, m.b.as_ref(), &basis, kind, "b")?,
        a: poly_from_msg(ctx, m.a.as_ref(), &basis, kind, "a")?,
    };
    if key_id(&pk) != id {
        return Err(FileError::Invalid {
            what: kind.what(),
            message: format!("key id {id} in the header is not the key's {}", key_id(&pk)),
        });
    }
    Ok((pk, id))
}

/// The bytes of an evaluation keys file.
pub fn encode_eval_keys(ctx: &Context, keys: &EvaluationKeys, id: KeyId) -> Vec<u8> {
    let msg = EvalKeysMsg {
        relin: keys.relin.as_ref().map(|r| swk_to_msg(&r.key)),
        rotations: keys
            .galois
            .rotations
            .iter()
            .map(|(&step, (g, k))| GaloisKeyMsg {
                step,
                galois_element: *g,
                key: Some(swk_to_msg(k)),
            })
            .collect(),
        conjugation: keys.galois.conjugation.as_ref().map(|k| swk_to_msg(k)),
        encapsulation: keys.encapsulation.as_ref().map(|e| EncapsulationMsg {
            to_sparse: Some(compact_to_msg(&e.to_sparse)),
            to_dense: Some(compact_to_msg(&e.to_dense)),
        }),
    };
    seal(ctx, FileKind::EvalKeys, id, payload(msg))
}

/// Reads an evaluation keys file.
pub fn decode_eval_keys(
    ctx: &Context,
    bytes: impl FileBytes,
) -> Result<(EvaluationKeys, KeyId), FileError> {
    let kind = FileKind::EvalKeys;
    let (id, payload) = open(ctx, kind, bytes.into_bytes())?;
    let m: EvalKeysMsg = decode(kind, payload)?;
    let relin = match &m.relin {
        Some(r) => Some(RelinearizationKey {
            key: Arc::new(swk_from_msg(ctx, r, kind, "relinearization key")?),
        }),
        None => None,
    };
    let mut rotations = BTreeMap::new();
    for g in &m.rotations {
        let want = ctx.galois_element(g.step);
        if g.galois_element != want || g.step.rem_euclid(ctx.slots() as i64) == 0 {
            return Err(FileError::Invalid {
                what: kind.what(),
                message: format!(
                    "Galois key of step {} has element {} (expected {want}, non-zero step)",
                    g.step, g.galois_element
                ),
            });
        }
        let what = format!("Galois key of step {}", g.step);
        let key = g.key.as_ref().ok_or_else(|| FileError::Invalid {
            what: kind.what(),
            message: format!("{what} is missing"),
        })?;
        let k = swk_from_msg(ctx, key, kind, &what)?;
        if rotations.insert(g.step, (want, Arc::new(k))).is_some() {
            return Err(FileError::Invalid {
                what: kind.what(),
                message: format!("two Galois keys for step {}", g.step),
            });
        }
    }
    let conjugation = match &m.conjugation {
        Some(c) => Some(Arc::new(swk_from_msg(ctx, c, kind, "conjugation key")?)),
        None => None,
    };
    let encapsulation = match &m.encapsulation {
        None => None,
        // The bootstrapper checks that the key back is at its chain's top.
        Some(e) => Some(Arc::new(EncapsulationKeys {
            to_sparse: compact_from_msg(
                ctx,
                e.to_sparse.as_ref(),
                Some(0),
                kind,
                "encapsulation key to the sparse secret",
            )?,
            to_dense: compact_from_msg(
                ctx,
                e.to_dense.as_ref(),
                None,
                kind,
                "encapsulation key from the sparse secret",
            )?,
        })),
    };
    Ok((
        EvaluationKeys {
            relin,
            galois: GaloisKeys {
                rotations,
                conjugation,
            },
            encapsulation,
        },
        id,
    ))
}
