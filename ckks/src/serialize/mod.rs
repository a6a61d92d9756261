//! Versioned binary files for keys, ciphertexts and plaintexts (prost).
//!
//! Every file is one [`Envelope`] message: a [`Header`] and the payload (the
//! prost encoding of the kind's own message) as opaque bytes. The header
//! holds
//! - the magic `"ORION-RS"` and the format version ([`FORMAT_VERSION`]);
//! - the kind of file ([`FileKind`]): secret key, public key, evaluation
//!   keys (relinearization + Galois, one file), ciphertexts, plaintexts;
//! - the parameter fingerprint ([`params_fingerprint`]): FNV-1a 64 of
//!   `log_n`, the actual Q and P primes and the secret distribution, so that
//!   a file made for other parameters is refused;
//! - the key id ([`key_id`]): a hash of the public key of the key set. The
//!   secret key, public key and evaluation key files of one key set carry the
//!   same id, and a ciphertext carries the id of the public key that
//!   encrypted it, so that decrypting or evaluating with keys of another key
//!   set is an error rather than garbage;
//! - the checksum: FNV-1a 64 of the payload (bit flips are detected).
//!
//! Polynomial limbs are stored as packed little-endian `u64` bytes (one
//! `bytes` field per limb), never one varint per coefficient. On reading,
//! every limb is checked: count (the level's or the key's basis), length
//! (`N * 8` bytes) and range (each coefficient below its prime). A secret
//! key is stored by its signed coefficients (one byte each) and its NTT form
//! is recomputed. Malformed input of any kind is a [`FileError`], never a
//! panic.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use prost::bytes::Bytes;
use prost::Message;
use thiserror::Error;

use crate::bootstrap::EncapsulationKeys;
use crate::ring::conjugate_invariant::Ring;
use crate::ring::context::Context;
use crate::ring::params::SecretDist;
use crate::ring::poly::RnsPoly;
use crate::scheme::ciphertext::{Ciphertext, Plaintext};
use crate::scheme::compact_key::{to_global, CompactKey};
use crate::scheme::keys::{GaloisKeys, PublicKey, RelinearizationKey, SecretKey, SwitchingKey};

/// The magic string at the start of every header.
pub const MAGIC: &str = "ORION-RS";
/// The current file format version.
pub const FORMAT_VERSION: u32 = 1;

/// The identity of a key set (a hash of its public key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeyId(pub u64);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// The kinds of files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, prost::Enumeration)]
#[repr(i32)]
pub enum FileKind {
    /// Not set (an invalid file).
    Unknown = 0,
    /// A secret key.
    SecretKey = 1,
    /// A public key.
    PublicKey = 2,
    /// Relinearization and Galois keys.
    EvalKeys = 3,
    /// One or more ciphertexts.
    Ciphertexts = 4,
    /// One or more plaintexts.
    Plaintexts = 5,
}

impl FileKind {
    fn what(self) -> &'static str {
        match self {
            FileKind::Unknown => "unknown",
            FileKind::SecretKey => "secret key",
            FileKind::PublicKey => "public key",
            FileKind::EvalKeys => "evaluation keys",
            FileKind::Ciphertexts => "ciphertext",
            FileKind::Plaintexts => "plaintext",
        }
    }
}

/// Errors reading or checking a file.
#[derive(Debug, Error)]
pub enum FileError {
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not a well-formed file (prost decode error, bad magic).
    #[error("not a valid Orion-RS file (truncated or corrupted?): {0}")]
    Corrupt(String),
    /// The file has a format version this build cannot read.
    #[error("unsupported file format version {found} (this build reads version {FORMAT_VERSION})")]
    Version {
        /// Version in the file.
        found: u32,
    },
    /// The file holds another kind of object.
    #[error("expected a {expected} file, found a {found} file")]
    WrongKind {
        /// What the caller asked for.
        expected: &'static str,
        /// What the file holds.
        found: &'static str,
    },
    /// The file was made for other CKKS parameters.
    #[error(
        "{what} file was made for different CKKS parameters (fingerprint {file:016x}, \
         these parameters have {ours:016x})"
    )]
    OtherParams {
        /// The file kind.
        what: &'static str,
        /// Fingerprint in the file.
        file: u64,
        /// Fingerprint of the current parameters.
        ours: u64,
    },
    /// The payload does not match its checksum.
    #[error("{what} file is corrupted: checksum {found:016x} does not match the recorded {expected:016x}")]
    Checksum {
        /// The file kind.
        what: &'static str,
        /// Checksum of the payload as read.
        found: u64,
        /// Checksum recorded in the header.
        expected: u64,
    },
    /// The payload decodes but its content is invalid (limb counts, ranges, N).
    #[error("{what} file is invalid: {message}")]
    Invalid {
        /// The file kind.
        what: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A ciphertext was made under another key set than the keys at hand.
    #[error("ciphertext was encrypted under key {ct}, this {keys} is {ours}")]
    WrongKey {
        /// Key id of the ciphertext.
        ct: KeyId,
        /// "secret key" or "evaluation key set".
        keys: &'static str,
        /// Key id of the keys.
        ours: KeyId,
    },
}

// ---------------------------------------------------------------- messages

/// The header of every file.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Header {
    /// Always [`MAGIC`].
    #[prost(string, tag = "1")]
    pub magic: String,
    /// [`FORMAT_VERSION`].
    #[prost(uint32, tag = "2")]
    pub version: u32,
    /// A [`FileKind`].
    #[prost(enumeration = "FileKind", tag = "3")]
    pub kind: i32,
    /// [`params_fingerprint`] of the parameters.
    #[prost(fixed64, tag = "4")]
    pub params_fingerprint: u64,
    /// [`key_id`] of the key set (0 for plaintexts).
    #[prost(fixed64, tag = "5")]
    pub key_id: u64,
    /// FNV-1a 64 of the payload.
    #[prost(fixed64, tag = "6")]
    pub checksum: u64,
}

/// A file: header and payload.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Envelope {
    /// The header.
    #[prost(message, optional, tag = "1")]
    pub header: Option<Header>,
    /// The kind's message, prost-encoded.
    #[prost(bytes = "bytes", tag = "2")]
    pub payload: Bytes,
}

/// An RNS polynomial: one packed little-endian u64 limb per prime.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PolyMsg {
    /// `N * 8` bytes per limb.
    #[prost(bytes = "bytes", repeated, tag = "1")]
    pub limbs: Vec<Bytes>,
    /// NTT form (always true for what this module writes).
    #[prost(bool, tag = "2")]
    pub ntt: bool,
}

/// A secret key: signed coefficients in {-1, 0, 1}, one byte each.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SecretKeyMsg {
    /// The coefficients as i8 bytes.
    #[prost(bytes = "vec", tag = "1")]
    pub coeffs: Vec<u8>,
}

/// A public key `(b, a)` over QP.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PublicKeyMsg {
    /// `b`.
    #[prost(message, optional, tag = "1")]
    pub b: Option<PolyMsg>,
    /// `a`.
    #[prost(message, optional, tag = "2")]
    pub a: Option<PolyMsg>,
}

/// A key-switching key: `dnum` pairs over QP, or, restricted to level
/// `top`, `ceil((top + 1) / alpha)` pairs over `Q_0..Q_top ∪ P`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SwitchingKeyMsg {
    /// `b_j`.
    #[prost(message, repeated, tag = "1")]
    pub b: Vec<PolyMsg>,
    /// `a_j`.
    #[prost(message, repeated, tag = "2")]
    pub a: Vec<PolyMsg>,
    /// Highest level the key switches at; absent for the whole chain.
    #[prost(uint32, optional, tag = "3")]
    pub top: Option<u32>,
}

/// The Galois key of one rotation step.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GaloisKeyMsg {
    /// Rotation step.
    #[prost(sint64, tag = "1")]
    pub step: i64,
    /// Its Galois element (checked against the step).
    #[prost(uint64, tag = "2")]
    pub galois_element: u64,
    /// The key.
    #[prost(message, optional, tag = "3")]
    pub key: Option<SwitchingKeyMsg>,
}

/// Relinearization and Galois keys.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EvalKeysMsg {
    /// Relinearization key, if any.
    #[prost(message, optional, tag = "1")]
    pub relin: Option<SwitchingKeyMsg>,
    /// Rotation keys.
    #[prost(message, repeated, tag = "2")]
    pub rotations: Vec<GaloisKeyMsg>,
    /// Conjugation key, if any.
    #[prost(message, optional, tag = "3")]
    pub conjugation: Option<SwitchingKeyMsg>,
    /// Sparse-secret encapsulation keys of bootstrapping, if any.
    #[prost(message, optional, tag = "4")]
    pub encapsulation: Option<EncapsulationMsg>,
}

/// The two keys of sparse-secret encapsulation, each at its level.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EncapsulationMsg {
    /// Secret -> ephemeral secret (level 0).
    #[prost(message, optional, tag = "1")]
    pub to_sparse: Option<SwitchingKeyMsg>,
    /// Ephemeral secret -> secret (the top level).
    #[prost(message, optional, tag = "2")]
    pub to_dense: Option<SwitchingKeyMsg>,
}

/// A ciphertext or a plaintext (a plaintext has one part).
#[derive(Clone, PartialEq, prost::Message)]
pub struct CiphertextMsg {
    /// The parts, each with `level + 1` limbs.
    #[prost(message, repeated, tag = "1")]
    pub parts: Vec<PolyMsg>,
    /// Level.
    #[prost(uint32, tag = "2")]
    pub level: u32,
    /// Exact scale (IEEE-754 bits).
    #[prost(double, tag = "3")]
    pub scale: f64,
}

/// Several ciphertexts (or plaintexts).
#[derive(Clone, PartialEq, prost::Message)]
pub struct CiphertextsMsg {
    /// The items, in order.
    #[prost(message, repeated, tag = "1")]
    pub items: Vec<CiphertextMsg>,
}

// ----------------------------------------------------------------- hashing

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

// ---------------------------------------------------------------- envelope

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
fn payload<M: Message>(msg: M) -> Vec<u8> {
    msg.encode_to_vec()
}

fn seal(ctx: &Context, kind: FileKind, key: KeyId, payload: Vec<u8>) -> Vec<u8> {
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

fn check_magic(h: Option<Header>) -> Result<Header, FileError> {
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
fn open(ctx: &Context, kind: FileKind, bytes: Bytes) -> Result<(KeyId, Bytes), FileError> {
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

fn decode<M: Message + Default>(kind: FileKind, payload: Bytes) -> Result<M, FileError> {
    M::decode(payload).map_err(|e| FileError::Invalid {
        what: kind.what(),
        message: format!("payload does not decode: {e}"),
    })
}

// ------------------------------------------------------------- polynomials

fn poly_to_msg(p: &RnsPoly) -> PolyMsg {
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
fn poly_from_msg(
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

fn swk_to_msg(k: &SwitchingKey) -> SwitchingKeyMsg {
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
    SwitchingKeyMsg {
        b: k.digits.iter().map(|(b, _)| local(b)).collect(),
        a: k.digits.iter().map(|(_, a)| local(a)).collect(),
        top: k.top.map(|t| t as u32),
    }
}

/// The digits of a key message on their own basis (`Q_0..Q_top ∪ P`, or
/// the whole chain), and its top.
#[allow(clippy::type_complexity)]
fn digits_from_msg(
    ctx: &Context,
    m: &SwitchingKeyMsg,
    kind: FileKind,
    what: &str,
) -> Result<(Option<usize>, Vec<(RnsPoly, RnsPoly)>), FileError> {
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
    if m.b.len() != dnum || m.a.len() != dnum {
        return Err(bad(format!(
            "{what} has {}/{} digits, {dnum} expected",
            m.b.len(),
            m.a.len(),
        )));
    }
    let digits =
        m.b.iter()
            .zip(&m.a)
            .enumerate()
            .map(|(j, (b, a))| {
                Ok((
                    poly_from_msg(ctx, Some(b), &basis, kind, &format!("{what} digit {j} (b)"))?,
                    poly_from_msg(ctx, Some(a), &basis, kind, &format!("{what} digit {j} (a)"))?,
                ))
            })
            .collect::<Result<_, FileError>>()?;
    Ok((top, digits))
}

fn swk_from_msg(
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
            .map(|(b, a)| (to_global(ctx, b, t), to_global(ctx, a, t)))
            .collect(),
    };
    Ok(SwitchingKey { digits, top })
}

fn compact_to_msg(k: &CompactKey) -> SwitchingKeyMsg {
    let limbs = |p: &RnsPoly| poly_to_msg(p);
    SwitchingKeyMsg {
        b: k.digits.iter().map(|(b, _)| limbs(b)).collect(),
        a: k.digits.iter().map(|(_, a)| limbs(a)).collect(),
        top: Some(k.level as u32),
    }
}

/// A compact key, at `level` if given.
fn compact_from_msg(
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
        (Some(t), digits) if level.is_none_or(|l| l == t) => Ok(CompactKey { level: t, digits }),
        (None, _) => Err(bad(format!("{what} has no level"))),
        (Some(t), _) => Err(bad(format!(
            "{what} is for level {t}, bootstrapping uses it at level {}",
            level.unwrap_or(t)
        ))),
    }
}

// -------------------------------------------------------------------- keys

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

// ---------------------------------------------------- ciphertexts, plaintexts

fn ct_to_msg(parts: &[&RnsPoly], level: usize, scale: f64) -> CiphertextMsg {
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

/// Checks that ciphertexts of key set `ct` may be used with keys of key set
/// `ours` (`keys` names them: "secret key", "evaluation key set").
pub fn check_key(ct: KeyId, keys: &'static str, ours: KeyId) -> Result<(), FileError> {
    if ct != ours {
        return Err(FileError::WrongKey { ct, keys, ours });
    }
    Ok(())
}

/// Reads a whole file.
pub fn read_file(path: &Path) -> Result<Vec<u8>, FileError> {
    std::fs::read(path).map_err(|source| FileError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Writes a whole file.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    std::fs::write(path, bytes).map_err(|source| FileError::Io {
        path: path.display().to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CkksParams, Decryptor, Encoder, Encryptor, Evaluator, KeyGenerator};

    fn params(log_q: Vec<u32>) -> CkksParams {
        CkksParams {
            log_n: 12,
            log_q,
            log_p: vec![40],
            log_scale: 30,
            secret: SecretDist::default(),
            insecure_ok: true,
        }
    }

    struct Set {
        ctx: Arc<Context>,
        sk: SecretKey,
        pk: PublicKey,
        ek: EvaluationKeys,
    }

    fn set(log_q: Vec<u32>, seed: u64) -> Set {
        let ctx = Context::new(params(log_q)).unwrap();
        let kg = KeyGenerator::with_seed(&ctx, seed);
        let sk = kg.gen_secret_key();
        let pk = kg.gen_public_key(&sk).unwrap();
        let ek = EvaluationKeys {
            relin: Some(kg.gen_relin_key(&sk).unwrap()),
            galois: kg
                .gen_galois_keys_with_conjugation(&sk, &[1, -3], true)
                .unwrap(),
            encapsulation: None,
        };
        Set { ctx, sk, pk, ek }
    }

    fn encrypt(s: &Set, v: &[f64]) -> Ciphertext {
        let enc = Encoder::new(&s.ctx);
        let pt = enc
            .encode(v, s.ctx.max_level(), s.ctx.default_scale())
            .unwrap();
        Encryptor::new(&s.ctx, &s.pk).encrypt(&pt).unwrap()
    }

    fn decrypt(s: &Set, sk: &SecretKey, ct: &Ciphertext) -> Vec<f64> {
        let pt = Decryptor::new(&s.ctx, sk).decrypt(ct).unwrap();
        Encoder::new(&s.ctx).decode(&pt).unwrap()
    }

    #[test]
    fn round_trips() {
        let s = set(vec![40, 30, 30], 1);
        let id = key_id(&s.pk);
        // Secret key.
        let (sk, sid) = decode_secret_key(&s.ctx, encode_secret_key(&s.ctx, &s.sk, id)).unwrap();
        assert_eq!(sid, id);
        assert_eq!(sk.coeffs, s.sk.coeffs);
        assert_eq!(sk.ntt, s.sk.ntt);
        // Public key.
        let (pk, pid) = decode_public_key(&s.ctx, encode_public_key(&s.ctx, &s.pk)).unwrap();
        assert_eq!(pid, id);
        assert_eq!((&pk.a, &pk.b), (&s.pk.a, &s.pk.b));
        // Evaluation keys.
        let bytes = encode_eval_keys(&s.ctx, &s.ek, id);
        let (ek, eid) = decode_eval_keys(&s.ctx, &bytes).unwrap();
        assert_eq!(eid, id);
        assert_eq!(ek.galois.steps(), vec![-3, 1]);
        assert!(ek.galois.has_conjugation());
        assert_eq!(
            ek.relin.as_ref().unwrap().key.digits,
            s.ek.relin.as_ref().unwrap().key.digits
        );
        // Ciphertexts, at two levels and exact scales.
        let x = encrypt(&s, &[0.5, -0.25, 1.0]);
        let ev = Evaluator::new(&s.ctx, ek.relin.as_ref(), Some(&ek.galois));
        let y = ev.rescale(&ev.mul_relin(&x, &x).unwrap()).unwrap();
        let bytes = encode_ciphertexts(&s.ctx, &[x.clone(), y.clone()], id);
        let (cts, cid) = decode_ciphertexts(&s.ctx, &bytes).unwrap();
        assert_eq!(cid, id);
        assert_eq!(cts, vec![x, y.clone()]);
        assert_eq!(cts[1].scale.to_bits(), y.scale.to_bits());
        // Evaluate with the loaded keys, decrypt with the loaded secret key.
        let z = ev.rotate(&cts[1], 1).unwrap();
        let out = decrypt(&s, &sk, &z);
        assert!((out[0] - 0.0625).abs() < 1e-3, "{}", out[0]);
        assert!((out[1] - 1.0).abs() < 1e-3, "{}", out[1]);
        // Plaintexts.
        let enc = Encoder::new(&s.ctx);
        let pts = vec![
            enc.encode(&[1.0, 2.0], 2, s.ctx.default_scale()).unwrap(),
            enc.encode(&[3.0], 0, s.ctx.q(1) as f64).unwrap(),
        ];
        let back = decode_plaintexts(&s.ctx, encode_plaintexts(&s.ctx, &pts)).unwrap();
        assert_eq!(back, pts);
        // Packed limbs: the file is about the size of its coefficients.
        let ct_bytes = encode_ciphertexts(&s.ctx, &cts[..1], id).len();
        assert!(ct_bytes < 2 * 3 * 4096 * 8 + 1024, "{ct_bytes} bytes");
    }

    /// Keys stored up to their level of use (`KeyLevels`) keep their level
    /// through a file, take only their limbs' bytes, and a level above the
    /// chain or a digit count that does not match it is refused.
    #[test]
    fn leveled_keys_round_trip() {
        let s = set(vec![40, 30, 30, 30, 30], 6);
        let id = key_id(&s.pk);
        let slots = s.ctx.slots();
        let mut need = crate::KeyLevels::default();
        need.rotate(1, 1, slots);
        need.rotate(-3, 3, slots);
        need.relinearize(2);
        let (relin, galois) = need.generate(&s.ctx, &s.sk, Some(7), &|| {}).unwrap();
        let ek = EvaluationKeys {
            relin,
            galois,
            encapsulation: None,
        };
        let bytes = encode_eval_keys(&s.ctx, &ek, id);
        assert!(
            bytes.len() < need.size_bytes(&s.ctx) + 4096,
            "{} bytes",
            bytes.len()
        );
        let (back, _) = decode_eval_keys(&s.ctx, &bytes).unwrap();
        assert_eq!(back.galois.top_level(1, slots), Some(Some(1)));
        assert_eq!(back.galois.top_level(-3, slots), Some(Some(3)));
        let (a, b) = (
            &ek.relin.as_ref().unwrap().key,
            &back.relin.as_ref().unwrap().key,
        );
        assert_eq!((a.top, &a.digits), (b.top, &b.digits));
        // A rotation at its level works with the loaded key, above it is refused.
        let ev = Evaluator::new(&s.ctx, back.relin.as_ref(), Some(&back.galois));
        let x = encrypt(&s, &[0.5, -0.25, 1.0]);
        let x1 = ev.level_down(&x, 1).unwrap();
        let out = decrypt(&s, &s.sk, &ev.rotate(&x1, 1).unwrap());
        assert!((out[0] + 0.25).abs() < 1e-3, "{}", out[0]);
        assert!(ev.rotate(&x, 1).is_err());

        let corrupt = |f: &dyn Fn(&mut EvalKeysMsg)| {
            let mut m = EvalKeysMsg::decode(
                open(&s.ctx, FileKind::EvalKeys, Bytes::from(bytes.clone()))
                    .unwrap()
                    .1,
            )
            .unwrap();
            f(&mut m);
            let err = decode_eval_keys(&s.ctx, seal(&s.ctx, FileKind::EvalKeys, id, payload(m)))
                .unwrap_err();
            err.to_string()
        };
        let e = corrupt(&|m| m.relin.as_mut().unwrap().top = Some(9));
        assert!(e.contains("above the top level 4"), "{e}");
        let e = corrupt(&|m| m.relin.as_mut().unwrap().top = Some(4));
        assert!(e.contains("3/3 digits, 5 expected"), "{e}");
    }

    #[test]
    fn other_params_are_refused() {
        let a = set(vec![40, 30, 30], 1);
        let b = set(vec![40, 30], 1);
        let id = key_id(&a.pk);
        let ct = encode_ciphertexts(&a.ctx, &[encrypt(&a, &[1.0])], id);
        let e = decode_ciphertexts(&b.ctx, &ct).unwrap_err().to_string();
        assert!(
            e.starts_with("ciphertext file was made for different CKKS parameters (fingerprint"),
            "{e}"
        );
        let e = decode_eval_keys(&b.ctx, encode_eval_keys(&a.ctx, &a.ek, id))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("evaluation keys file was made for different"),
            "{e}"
        );
        let e = decode_secret_key(&b.ctx, encode_secret_key(&a.ctx, &a.sk, id))
            .unwrap_err()
            .to_string();
        assert!(e.contains("secret key file was made for different"), "{e}");
        // A secret key file is not a public key file.
        let e = decode_public_key(&a.ctx, encode_secret_key(&a.ctx, &a.sk, id))
            .unwrap_err()
            .to_string();
        assert_eq!(e, "expected a public key file, found a secret key file");
        // Hamming weight changes the fingerprint.
        let mut p = params(vec![40, 30, 30]);
        p.secret = SecretDist::Ternary {
            hamming_weight: Some(64),
        };
        let ctx_h = Context::new(p).unwrap();
        assert_ne!(params_fingerprint(&ctx_h), params_fingerprint(&a.ctx));
    }

    #[test]
    fn truncated_and_flipped_files() {
        let s = set(vec![40, 30, 30], 2);
        let id = key_id(&s.pk);
        let files: Vec<(&str, Vec<u8>)> = vec![
            ("sk", encode_secret_key(&s.ctx, &s.sk, id)),
            ("pk", encode_public_key(&s.ctx, &s.pk)),
            ("ek", encode_eval_keys(&s.ctx, &s.ek, id)),
            ("ct", encode_ciphertexts(&s.ctx, &[encrypt(&s, &[1.0])], id)),
        ];
        for (name, bytes) in &files {
            let try_all = |b: &[u8]| -> Result<(), FileError> {
                match *name {
                    "sk" => decode_secret_key(&s.ctx, b).map(|_| ()),
                    "pk" => decode_public_key(&s.ctx, b).map(|_| ()),
                    "ek" => decode_eval_keys(&s.ctx, b).map(|_| ()),
                    _ => decode_ciphertexts(&s.ctx, b).map(|_| ()),
                }
            };
            try_all(bytes).unwrap();
            for cut in [0, 1, 10, bytes.len() / 2, bytes.len() - 1] {
                let e = try_all(&bytes[..cut]).unwrap_err();
                assert!(
                    matches!(e, FileError::Corrupt(_) | FileError::Checksum { .. }),
                    "{name} cut at {cut}: {e}"
                );
            }
            for at in [3, 20, bytes.len() / 3, bytes.len() - 5] {
                let mut b = bytes.clone();
                b[at] ^= 0x10;
                assert!(try_all(&b).is_err(), "{name}: flip at {at} undetected");
            }
            let e = try_all(b"garbage file").unwrap_err();
            assert!(matches!(e, FileError::Corrupt(_)), "{e}");
        }
    }

    #[test]
    fn invalid_payloads() {
        let s = set(vec![40, 30, 30], 3);
        let id = key_id(&s.pk);
        let x = encrypt(&s, &[1.0]);
        // A coefficient above its modulus, with a valid checksum.
        let m = CiphertextsMsg {
            items: vec![ct_to_msg(
                &x.parts.iter().collect::<Vec<_>>(),
                x.level,
                x.scale,
            )],
        };
        let set_first = |m: &mut CiphertextsMsg, v: u64| {
            let mut l = m.items[0].parts[0].limbs[1].to_vec();
            l[..8].copy_from_slice(&v.to_le_bytes());
            m.items[0].parts[0].limbs[1] = Bytes::from(l);
        };
        let mut m1 = m.clone();
        set_first(&mut m1, u64::MAX);
        let b = seal(&s.ctx, FileKind::Ciphertexts, id, payload(m1));
        let e = decode_ciphertexts(&s.ctx, &b).unwrap_err().to_string();
        assert!(e.contains(">= its modulus"), "{e}");
        // A level that disagrees with the limb count.
        let mut m2 = m.clone();
        m2.items[0].level = 1;
        let b = seal(&s.ctx, FileKind::Ciphertexts, id, payload(m2));
        let e = decode_ciphertexts(&s.ctx, &b).unwrap_err().to_string();
        assert!(e.contains("has 3 limbs, 2 expected"), "{e}");
        // A short limb (wrong N).
        let mut m3 = m.clone();
        m3.items[0].parts[0].limbs[1].truncate(8 * 1024);
        let b = seal(&s.ctx, FileKind::Ciphertexts, id, payload(m3));
        let e = decode_ciphertexts(&s.ctx, &b).unwrap_err().to_string();
        assert!(e.contains("N = 4096"), "{e}");
        // A non-ternary secret key.
        let mut sm = SecretKeyMsg {
            coeffs: vec![0; 4096],
        };
        sm.coeffs[7] = 5;
        let b = seal(&s.ctx, FileKind::SecretKey, id, payload(sm));
        let e = decode_secret_key(&s.ctx, &b).unwrap_err().to_string();
        assert!(e.contains("not ternary"), "{e}");
        // A secret key of the wrong Hamming weight.
        let mut p = params(vec![40, 30, 30]);
        p.secret = SecretDist::Ternary {
            hamming_weight: Some(64),
        };
        let ctx_h = Context::new(p).unwrap();
        let sk_h = KeyGenerator::with_seed(&ctx_h, 1).gen_secret_key();
        let good = encode_secret_key(&ctx_h, &sk_h, id);
        decode_secret_key(&ctx_h, &good).unwrap();
        let mut sm = SecretKeyMsg {
            coeffs: vec![0; 4096],
        };
        sm.coeffs[..10].fill(1);
        let bh = seal(&ctx_h, FileKind::SecretKey, id, payload(sm));
        let e = decode_secret_key(&ctx_h, bh).unwrap_err().to_string();
        assert!(
            e.contains("10 non-zero coefficients, the parameters set H = 64"),
            "{e}"
        );
        // A wrong format version.
        let mut env = Envelope::decode(&b[..]).unwrap();
        env.header.as_mut().unwrap().version = 9;
        let e = decode_secret_key(&s.ctx, env.encode_to_vec()).unwrap_err();
        assert!(matches!(e, FileError::Version { found: 9 }), "{e}");
    }

    #[test]
    fn wrong_keys_are_detected() {
        let a = set(vec![40, 30, 30], 4);
        let b = set(vec![40, 30, 30], 5);
        let (ida, idb) = (key_id(&a.pk), key_id(&b.pk));
        assert_ne!(ida, idb);
        let ct = encode_ciphertexts(&a.ctx, &[encrypt(&a, &[1.0])], ida);
        let (_, cid) = decode_ciphertexts(&a.ctx, &ct).unwrap();
        // Wrong secret key.
        let (_, sid) = decode_secret_key(&b.ctx, encode_secret_key(&b.ctx, &b.sk, idb)).unwrap();
        let e = check_key(cid, "secret key", sid).unwrap_err().to_string();
        assert_eq!(
            e,
            format!("ciphertext was encrypted under key {ida}, this secret key is {idb}")
        );
        // Wrong evaluation keys.
        let (_, eid) = decode_eval_keys(&b.ctx, encode_eval_keys(&b.ctx, &b.ek, idb)).unwrap();
        let e = check_key(cid, "evaluation key set", eid)
            .unwrap_err()
            .to_string();
        assert!(e.contains("this evaluation key set is"), "{e}");
        // The right ones pass.
        check_key(cid, "secret key", ida).unwrap();
    }
}
