//! Progress of long work (key generation, encrypted inference) on stderr.
//!
//! On a terminal, a live indicatif bar. When stderr is a file or a pipe
//! (CI logs, `2> run.log`), indicatif would draw nothing; there the bar is
//! written as plain lines instead, at most one every [`LOG_INTERVAL`], so a
//! run of many minutes leaves a readable trace of where it is.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};
use orion_ckks::Progress;

/// Time between two progress lines when stderr is not a terminal.
pub const LOG_INTERVAL: Duration = Duration::from_secs(10);

/// A progress bar on stderr counting `total` items with `template`
/// (indicatif's syntax), or a hidden one when `enabled` is false.
pub fn bar(enabled: bool, total: Option<u64>, template: &str) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::term_like(Box::new(LineLog::new(LOG_INTERVAL)))
    };
    let pb = ProgressBar::with_draw_target(total, target);
    if let Ok(style) = ProgressStyle::with_template(template) {
        pb.set_style(style);
    }
    pb
}

/// An indicatif bar as the CKKS library's [`Progress`] (the library's
/// long work, e.g. bootstrapping key generation, drawn by the front end).
#[derive(Debug)]
pub struct BarProgress(pub ProgressBar);

impl Progress for BarProgress {
    fn start(&self, total: u64) {
        self.0.set_length(total);
        self.0.set_position(0);
    }

    fn message(&self, text: &str) {
        self.0.set_message(text.to_string());
    }

    fn step(&self) {
        self.0.inc(1);
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// A `TermLike` that ignores cursor movement and emits the drawn text as
/// one line per redraw, throttled to one per `interval`.
#[derive(Debug)]
struct LineLog {
    interval: Duration,
    state: Mutex<(String, Option<Instant>)>,
}

impl LineLog {
    fn new(interval: Duration) -> Self {
        LineLog {
            interval,
            state: Mutex::new((String::new(), None)),
        }
    }

    fn push(&self, s: &str) {
        if let Ok(mut st) = self.state.lock() {
            if !st.0.is_empty() && !s.is_empty() {
                st.0.push(' ');
            }
            st.0.push_str(s.trim_end());
        }
    }
}

impl TermLike for LineLog {
    fn width(&self) -> u16 {
        120
    }

    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.push(s);
        Ok(())
    }

    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.push(s);
        Ok(())
    }

    fn clear_line(&self) -> std::io::Result<()> {
        Ok(())
    }

    fn flush(&self) -> std::io::Result<()> {
        let Ok(mut st) = self.state.lock() else {
            return Ok(());
        };
        let text = std::mem::take(&mut st.0);
        let due = st.1.is_none_or(|t| t.elapsed() >= self.interval);
        if due && !text.trim().is_empty() {
            st.1 = Some(Instant::now());
            // Best effort: a closed stderr must not stop the work.
            let _ = writeln!(std::io::stderr().lock(), "{text}");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_log_throttles_redraws() {
        let log = LineLog::new(Duration::from_secs(3600));
        log.write_str("first").unwrap();
        log.flush().unwrap();
        let first = log.state.lock().unwrap().1;
        assert!(first.is_some(), "the first redraw is written");
        log.write_str("second").unwrap();
        log.flush().unwrap();
        let st = log.state.lock().unwrap();
        assert_eq!(st.1, first, "a redraw within the interval is dropped");
        assert!(st.0.is_empty(), "and not carried into the next one");
    }
}
