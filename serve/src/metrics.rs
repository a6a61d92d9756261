//! Request counters and latency percentiles, as a Stats reply and in the
//! Prometheus text format.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// How many recent latencies the percentiles are taken over.
const WINDOW: usize = 10_000;

#[derive(Default)]
pub struct Metrics {
    pub requests: AtomicU64,
    pub failures: AtomicU64,
    pub rejected: AtomicU64,
    pub bootstraps: AtomicU64,
    latencies_ms: Mutex<VecDeque<f64>>,
}

/// Latency percentiles in ms (0 when nothing was measured).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
}

impl Metrics {
    /// A successful inference of `elapsed` that ran `bootstraps` bootstraps.
    pub fn served(&self, elapsed: Duration, bootstraps: u64) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.bootstraps.fetch_add(bootstraps, Ordering::Relaxed);
        let mut l = self.latencies_ms.lock().unwrap_or_else(|e| e.into_inner());
        if l.len() == WINDOW {
            l.pop_front();
        }
        l.push_back(elapsed.as_secs_f64() * 1e3);
    }

    /// A request refused or failed (`rejected`: by admission control).
    pub fn failed(&self, rejected: bool) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if rejected {
            self.rejected.fetch_add(1, Ordering::Relaxed);
        } else {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn percentiles(&self) -> Percentiles {
        let mut v: Vec<f64> = self
            .latencies_ms
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .copied()
            .collect();
        if v.is_empty() {
            return Percentiles::default();
        }
        v.sort_by(f64::total_cmp);
        let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
        Percentiles {
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
        }
    }
}

/// One gauge or counter line group of the Prometheus text format.
pub fn prometheus_line(out: &mut String, name: &str, kind: &str, help: &str, value: f64) {
    out.push_str(&format!(
        "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
    ));
}
