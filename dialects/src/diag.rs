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

/// Makes a panic of the tool print one line, saying it is an internal
/// error (a bug, never the input's fault) and where to report it, instead
/// of a backtrace; the process then exits with status 101. With
/// `RUST_BACKTRACE` set the backtrace follows, for whoever debugs it.
pub fn install_panic_hook(tool: &'static str) {
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_string());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "{tool}: internal error: {}{at}; this is a bug in Orion-RS: please report it with the command and input that caused it",
            message.replace('\n', " ")
        );
        if std::env::var_os("RUST_BACKTRACE").is_some() {
            eprintln!("{}", std::backtrace::Backtrace::force_capture());
        }
    }));
}
