//! The envelope every file is: magic, version, kind, parameter fingerprint,
//! key id and checksum in a header, then the payload.

use prost::bytes::Bytes;
use prost::Message;

use super::error::FileError;
use super::messages::{Envelope, FileKind, Header, KeyId, FORMAT_VERSION, MAGIC};
use crate::ring::conjugate_invariant::Ring;
use crate::ring::context::Context;
use crate::ring::params::SecretDist;
use crate::scheme::keys::PublicKey;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv1a(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// FNV-1a 64 of `bytes` (the payload checksum).
pub fn checksum(bytes: &[u8]) -> u64 {
    fnv1a(FNV_OFFSET, bytes)
}

/// Fingerprint of a parameter set: FNV-1a 64 of log N, the Q and P primes and
/// the secret distribution.
pub fn params_fingerprint(ctx: &Context) -> u64 {
    let mut h = fnv1a(FNV_OFFSET, b"orion-rs ckks params v1");
    h = fnv1a(h, &ctx.log_n().to_le_bytes());
    h = fnv1a(h, &(ctx.moduli_q().len() as u64).to_le_bytes());
    for q in ctx.moduli_q() {
        h = fnv1a(h, &q.to_le_bytes());
    }
    h = fnv1a(h, &(ctx.moduli_p().len() as u64).to_le_bytes());
    for p in ctx.moduli_p() {
        h = fnv1a(h, &p.to_le_bytes());
    }
    let SecretDist::Ternary { hamming_weight } = ctx.params().secret;
    h = fnv1a(
        h,
        &(hamming_weight.map_or(0, |w| w as u64 + 1)).to_le_bytes(),
    );
    // (Standard-ring fingerprints are unchanged from before the ring option.)
    if ctx.ring() == Ring::ConjugateInvariant {
        h = fnv1a(h, b"conjugate-invariant");
    }
    h
}

/// The id of the key set of `pk`: FNV-1a 64 of its first limbs.
pub fn key_id(pk: &PublicKey) -> KeyId {
    let mut h = fnv1a(FNV_OFFSET, b"orion-rs key id v1");
    for p in [&pk.b, &pk.a] {
        if let Some(l) = p.limbs.first() {
            for &x in l {
                h = fnv1a(h, &x.to_le_bytes());
            }
        }
    }
    KeyId(h)
}

/// The contents of a file, for the `decode_*` functions: owned buffers
/// (`Vec<u8>`, `Bytes`) are decoded without a copy (limbs are slices of the
/// buffer until they are converted); borrowed slices are copied once.
pub trait FileBytes {
    /// The contents as `Bytes`.
    fn into_bytes(self) -> Bytes;
}

impl FileBytes for Bytes {
    fn into_bytes(self) -> Bytes {
        self
    }
}

impl FileBytes for Vec<u8> {
    fn into_bytes(self) -> Bytes {
        Bytes::from(self)
    }
}

impl FileBytes for &[u8] {
    fn into_bytes(self) -> Bytes {
        Bytes::copy_from_slice(self)
    }
}

impl FileBytes for &Vec<u8> {
    fn into_bytes(self) -> Bytes {
        Bytes::copy_from_slice(self)
    }
}

/// Encodes `msg` and drops it (one copy of the data alive at a time).
pub(super) fn payload<M: Message>(msg: M) -> Vec<u8> {
    msg.encode_to_vec()
}

pub(super) fn seal(ctx: &Context, kind: FileKind, key: KeyId, payload: Vec<u8>) -> Vec<u8> {
    let payload = Bytes::from(payload);
    Envelope {
        header: Some(Header {
            magic: MAGIC.into(),
            version: FORMAT_VERSION,
            kind: kind as i32,
            params_fingerprint: params_fingerprint(ctx),
            key_id: key.0,
            checksum: checksum(&payload),
        }),
        payload,
    }
    .encode_to_vec()
}

/// Reads the header of `bytes` without checking it against parameters.
pub fn read_header(bytes: impl FileBytes) -> Result<Header, FileError> {
    let env =
        Envelope::decode(bytes.into_bytes()).map_err(|e| FileError::Corrupt(e.to_string()))?;
    check_magic(env.header)
}

pub(super) fn check_magic(h: Option<Header>) -> Result<Header, FileError> {
    let h = h.ok_or_else(|| FileError::Corrupt("no header".into()))?;
    if h.magic != MAGIC {
        return Err(FileError::Corrupt(format!(
            "bad magic {:?} (expected {MAGIC:?})",
            h.magic
        )));
    }
    Ok(h)
}

/// Checks the envelope and returns (key id, payload).
pub(super) fn open(
    ctx: &Context,
    kind: FileKind,
    bytes: Bytes,
) -> Result<(KeyId, Bytes), FileError> {
    // Decoding from `Bytes` does not copy: the payload and the limbs are
    // slices of the file's buffer.
    let env = Envelope::decode(bytes).map_err(|e| FileError::Corrupt(e.to_string()))?;
    let h = check_magic(env.header)?;
    if h.version != FORMAT_VERSION {
        return Err(FileError::Version { found: h.version });
    }
    let found = FileKind::try_from(h.kind).unwrap_or(FileKind::Unknown);
    if found != kind {
        return Err(FileError::WrongKind {
            expected: kind.what(),
            found: found.what(),
        });
    }
    let sum = checksum(&env.payload);
    if sum != h.checksum {
        return Err(FileError::Checksum {
            what: kind.what(),
            found: sum,
            expected: h.checksum,
        });
    }
    let ours = params_fingerprint(ctx);
    if h.params_fingerprint != ours {
        return Err(FileError::OtherParams {
            what: kind.what(),
            file: h.params_fingerprint,
            ours,
        });
    }
    Ok((KeyId(h.key_id), env.payload))
}

pub(super) fn decode<M: Message + Default>(kind: FileKind, payload: Bytes) -> Result<M, FileError> {
    M::decode(payload).map_err(|e| FileError::Invalid {
        what: kind.what(),
        message: format!("payload does not decode: {e}"),
    })
}
