//! Whole files on disk, and the key-set check of a ciphertext.

use std::path::Path;

use super::error::FileError;
use super::messages::KeyId;

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
