//! The errors of the client/server API: one enum, each variant one line
//! when printed (`error: ...`, or `file:line:col: error: ...` where the
//! program's text is at fault).

use std::path::Path;

use orion_ckks::serialize::FileError;
use orion_dialects::Diagnostic;
use thiserror::Error;

use crate::interp::RunError;

/// What can go wrong between a compiled program, its keys and its inputs.
#[derive(Debug, Error)]
pub enum Error {
    /// The program's text does not parse or verify.
    #[error("{0}")]
    Program(Diagnostic),
    /// The program is valid IR but not one this API runs (not at the ckks
    /// level, or not one tensor in).
    #[error("error: {name}: {message}")]
    Unsupported {
        /// The program's name (its file).
        name: String,
        /// What is wrong.
        message: String,
    },
    /// An input is not what the program takes (shape, a NaN).
    #[error("error: input: {0}")]
    Input(String),
    /// A key or ciphertext (file or bytes) is refused: malformed, of other
    /// parameters, or of another key set.
    #[error("error: {}{source}", origin.as_deref().map(|o| format!("{o}: ")).unwrap_or_default())]
    File {
        /// Where the bytes came from (a path), if known.
        origin: Option<String>,
        /// What is wrong with them.
        #[source]
        source: FileError,
    },
    /// The operation needs a key this client or server does not hold.
    #[error("error: {0}")]
    MissingKey(String),
    /// The work would need more memory than the budget or the machine has.
    #[error("error: {0}")]
    Resources(String),
    /// Evaluating the program failed (an op, its keys, its levels).
    #[error("{0}")]
    Run(#[from] RunError),
}

impl From<FileError> for Error {
    fn from(source: FileError) -> Self {
        Error::File {
            origin: None,
            source,
        }
    }
}

impl Error {
    /// Names `path` as the origin of a file error that has none (an I/O
    /// error names its path already).
    pub fn in_file(self, path: &Path) -> Error {
        match self {
            Error::File {
                origin: None,
                source,
            } if !matches!(source, FileError::Io { .. }) => Error::File {
                origin: Some(path.display().to_string()),
                source,
            },
            e => e,
        }
    }
}
