//! Diagnostics in MLIR's style: `file:line:col: error: message`.

use crate::ir::Location;
use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub loc: Location,
    pub message: String,
}

impl Diagnostic {
    pub fn new(loc: Location, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            loc,
            message: message.into(),
        }
    }

    pub fn at(file: &str, line: usize, col: usize, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(
            Location::File {
                file: file.to_string(),
                line,
                col,
            },
            message,
        )
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.loc {
            Location::Unknown => write!(f, "error: {}", self.message),
            _ => write!(f, "{}: error: {}", self.loc, self.message),
        }
    }
}

impl std::error::Error for Diagnostic {}
