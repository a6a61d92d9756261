//! Progress of long work (key generation), reported to the caller.
//!
//! The library draws nothing itself: a front end passes an implementation
//! of [`Progress`] (a terminal bar, a log line, a Python callback) and the
//! library tells it how far it is.

use std::fmt;
use std::sync::Arc;

/// Receives the progress of a long operation. Every method has an empty
/// default, so an implementation takes only what it shows.
pub trait Progress: Send + Sync {
    /// The work ahead: `total` steps.
    fn start(&self, _total: u64) {}
    /// What is being done now.
    fn message(&self, _text: &str) {}
    /// One more step done.
    fn step(&self) {}
    /// The work is over.
    fn finish(&self) {}
}

/// A shared [`Progress`], or none; `Debug` so that option structs holding
/// it can derive it.
#[derive(Clone, Default)]
pub struct ProgressSink(pub Option<Arc<dyn Progress>>);

impl ProgressSink {
    /// Reports to `p`.
    pub fn new(p: Arc<dyn Progress>) -> Self {
        Self(Some(p))
    }

    pub(crate) fn start(&self, total: u64) {
        if let Some(p) = &self.0 {
            p.start(total);
        }
    }

    pub(crate) fn message(&self, text: &str) {
        if let Some(p) = &self.0 {
            p.message(text);
        }
    }

    pub(crate) fn step(&self) {
        if let Some(p) = &self.0 {
            p.step();
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(p) = &self.0 {
            p.finish();
        }
    }
}

impl fmt::Debug for ProgressSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "ProgressSink(..)"
        } else {
            "ProgressSink(none)"
        })
    }
}
