//! The prost messages of the file format, its constants and identifiers.
//! Tags are the format: a field is never renumbered, only added.

use std::fmt;

use prost::bytes::Bytes;

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
    pub(super) fn what(self) -> &'static str {
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
    /// The parameters' fingerprint (`params_fingerprint`).
    #[prost(fixed64, tag = "4")]
    pub params_fingerprint: u64,
    /// The key set's id (`key_id`; 0 for plaintexts).
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
    /// A seeded key: the 32-byte seed each `a_j` is expanded from, in
    /// place of `a` (half the size).
    #[prost(bytes = "vec", repeated, tag = "4")]
    pub a_seeds: Vec<Vec<u8>>,
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
