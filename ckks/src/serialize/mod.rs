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

mod ciphertexts;
mod error;
mod files;
mod format;
mod keys;
mod messages;
mod polys;
#[cfg(test)]
mod tests;

pub use ciphertexts::{
    decode_ciphertexts, decode_plaintexts, encode_ciphertexts, encode_plaintexts,
};
pub use error::FileError;
pub use files::{check_key, read_file, write_file};
pub use format::{checksum, key_id, params_fingerprint, read_header, FileBytes};
pub use keys::{
    decode_eval_keys, decode_public_key, decode_secret_key, encode_eval_keys, encode_public_key,
    encode_secret_key, EvaluationKeys,
};
pub use messages::{
    CiphertextMsg, CiphertextsMsg, EncapsulationMsg, Envelope, EvalKeysMsg, FileKind, GaloisKeyMsg,
    Header, KeyId, PolyMsg, PublicKeyMsg, SecretKeyMsg, SwitchingKeyMsg, FORMAT_VERSION, MAGIC,
};
