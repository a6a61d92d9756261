//! Errors of the encrypted interpreter, printed like MLIR diagnostics.

use orion_ckks::CkksError;
use orion_dialects::{Diagnostic, Location, Op};
use thiserror::Error;

/// `file:line:col: ` or `name: ` or nothing.
fn loc_prefix(loc: &Location) -> String {
    match loc {
        Location::Unknown => String::new(),
        l => format!("{l}: "),
    }
}

/// Errors of the encrypted interpreter, printed like MLIR diagnostics.
#[derive(Debug, Error)]
pub enum RunError {
    /// The module as a whole cannot run (no params, no @main, wrong inputs).
    #[error("{}error: {message}", loc_prefix(.loc))]
    Module { loc: Box<Location>, message: String },
    /// Building the context or the keys failed.
    #[error("error: key generation failed: {0}")]
    Keygen(#[source] CkksError),
    /// A CKKS operation of an op failed.
    #[error("{}error: {label} {what}: {source}", loc_prefix(.loc))]
    Ckks {
        loc: Box<Location>,
        label: String,
        what: String,
        #[source]
        source: CkksError,
    },
    /// An op cannot be evaluated (bad operands, level mismatch, ...).
    #[error("{}error: {label} {message}", loc_prefix(.loc))]
    Op {
        loc: Box<Location>,
        label: String,
        message: String,
    },
}

impl RunError {
    pub(crate) fn op(op: &Op, message: impl Into<String>) -> RunError {
        RunError::Op {
            loc: Box::new(op.loc.clone()),
            label: op.label(),
            message: message.into(),
        }
    }

    pub(crate) fn ckks(op: &Op, what: impl Into<String>, source: CkksError) -> RunError {
        RunError::Ckks {
            loc: Box::new(op.loc.clone()),
            label: op.label(),
            what: what.into(),
            source,
        }
    }

    pub(crate) fn module(loc: &Location, message: impl Into<String>) -> RunError {
        RunError::Module {
            loc: Box::new(loc.clone()),
            message: message.into(),
        }
    }

    /// The same error as a [`Diagnostic`] (location + message).
    pub fn to_diagnostic(&self) -> Diagnostic {
        let loc = match self {
            RunError::Module { loc, .. }
            | RunError::Ckks { loc, .. }
            | RunError::Op { loc, .. } => (**loc).clone(),
            RunError::Keygen(_) => Location::Unknown,
        };
        let text = self.to_string();
        let prefix = format!("{}error: ", loc_prefix(&loc));
        Diagnostic::new(loc, text.strip_prefix(&prefix).unwrap_or(&text).to_string())
    }
}
