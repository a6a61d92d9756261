//! What the benchmark examples share: Orion's ResNet parameters, timing
//! and the load average.

// Each example includes this module and uses a part of it.
#![allow(dead_code)]

use std::time::Instant;

use orion_ckks::{CkksParams, SecretDist};

/// Orion's ResNet parameters: LogN 16, LogQ [55, 40 x 10], LogP [61 x 3].
pub fn resnet_params() -> CkksParams {
    CkksParams {
        log_n: 16,
        log_q: std::iter::once(55)
            .chain(std::iter::repeat_n(40, 10))
            .collect(),
        log_p: vec![61, 61, 61],
        log_scale: 40,
        secret: SecretDist::Ternary {
            hamming_weight: Some(192),
        },
        insecure_ok: false,
    }
}

/// The 1-minute load average (the machine's noise when a figure was taken).
pub fn load1() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse().ok()))
        .unwrap_or(f64::NAN)
}

/// (median, min, max) in ms over `reps` runs after one warm-up; plus the load.
pub fn time_ms<F: FnMut()>(reps: usize, mut f: F) -> (f64, f64, f64, f64) {
    let load = load1();
    f();
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = t.len();
    let med = if n % 2 == 1 {
        t[n / 2]
    } else {
        0.5 * (t[n / 2 - 1] + t[n / 2])
    };
    (med, t[0], t[n - 1], load)
}
