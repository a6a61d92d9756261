//! Whole files on disk, and the key-set check of a ciphertext.

use std::io::Read;
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

/// The largest key or ciphertext file read (evaluation keys at LogN 16
/// with bootstrapping are about 6 GB).
pub const MAX_FILE_BYTES: u64 = 64 << 30;

/// Reads a whole key or ciphertext file: a regular file (a FIFO would
/// block forever, a device never end) of at most [`MAX_FILE_BYTES`].
pub fn read_file(path: &Path) -> Result<Vec<u8>, FileError> {
    let io = |source| FileError::Io {
        path: path.display().to_string(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        )));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "{} bytes, more than the {MAX_FILE_BYTES} a key or ciphertext file may have",
                meta.len()
            ),
        )));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES).read_to_end(&mut bytes))
        .map_err(io)?;
    Ok(bytes)
}

/// Writes a whole file.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    std::fs::write(path, bytes).map_err(|source| FileError::Io {
        path: path.display().to_string(),
        source,
    })
}
