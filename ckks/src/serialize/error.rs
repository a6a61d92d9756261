//! Errors reading or checking a file.

use thiserror::Error;

use super::messages::{KeyId, FORMAT_VERSION};

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
    #[error(
        "expected {} {expected} file, found {} {found} file",
        article(expected),
        article(found)
    )]
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

/// "a" or "an" before `word`.
fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}
