//! What the one-shot run prints: per-image lines, accuracy, the comparison
//! of encrypted and cleartext logits, timings, memory, modulus headroom.

use std::time::Duration;

use orion_dialects::ckks::{CtType, ParamsAttr};
use orion_dialects::tensor::Tensor;
use orion_dialects::{Module, Op};

pub fn fmt_logits(t: &Tensor) -> String {
    let v: Vec<String> = t.data.iter().map(|v| format!("{v:.4}")).collect();
    format!("[{}]", v.join(", "))
}

/// The logits, and the final Softmax / LogSoftmax the program leaves to
/// the client applied to them (`orion_dialects::nn::client_output`).
pub fn fmt_output(module: &Module, t: &Tensor) -> Result<String, String> {
    use orion_dialects::nn::client_output::ClientOutput;
    let mut s = format!("logits {}", fmt_logits(t));
    if let Some(op) = ClientOutput::of(module)? {
        s += &format!(" {} {}", op.name(), fmt_logits(&op.apply(t)));
    }
    Ok(s)
}

pub fn median(mut v: Vec<Duration>) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    v.sort();
    v[v.len() / 2]
}

pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

pub fn fmt_secs(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64())
}

/// Peak resident memory of this process (VmHWM), in bytes, where the OS
/// reports it.
pub fn peak_rss() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: usize = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// Encrypted logits against the cleartext ckks interpreter's, over the
/// images run: the largest relative error, the mean absolute error
/// (Orion's precision measure is -log2 of it) and the class disagreements.
#[derive(Default)]
pub struct Comparison {
    pub max_rel: f64,
    abs_err_sum: f64,
    abs_err_n: usize,
    pub disagreements: usize,
}

impl Comparison {
    /// Records one image; returns the line's suffix.
    pub fn add(&mut self, encrypted: &Tensor, clear: &Tensor) -> String {
        let rel = encrypted.max_rel_diff(clear);
        self.max_rel = self.max_rel.max(rel);
        let errs: Vec<f64> = encrypted
            .data
            .iter()
            .zip(&clear.data)
            .map(|(a, b)| (a - b).abs())
            .collect();
        self.abs_err_sum += errs.iter().sum::<f64>();
        self.abs_err_n += errs.len();
        let bits = -(errs.iter().sum::<f64>() / errs.len().max(1) as f64).log2();
        let agree = clear.argmax() == encrypted.argmax();
        if !agree {
            self.disagreements += 1;
        }
        format!(
            " | clear class {} rel err {rel:.2e} precision {bits:.1} bits{}",
            clear.argmax(),
            if agree { "" } else { " (classes DISAGREE)" }
        )
    }

    /// The summary line.
    pub fn summary(&self, bound: f64) -> String {
        format!(
            "max relative logit error: {:.2e} (bound {bound:.0e}); precision {:.1} bits (-log2 of the mean |logit error| over {} logits)",
            self.max_rel,
            -(self.abs_err_sum / self.abs_err_n.max(1) as f64).log2(),
            self.abs_err_n
        )
    }
}

/// The smallest margin, over all ciphertexts of the cleartext run, between
/// `max |slot| * 2^log_scale` and `Q_l / 2`, in bits. A coefficient of the
/// encoding is at most `scale * max |slot|`, so a non-negative margin
/// guarantees that no ciphertext wraps around its modulus; a negative one
/// means it may (it does when the coefficients are that large).
struct HeadroomMin {
    bits: f64,
    label: String,
    level: usize,
    max_abs: f64,
    log_scale: i64,
    log_q: u32,
}

pub struct Headroom {
    log_q: Vec<u32>,
    min: Option<HeadroomMin>,
}

impl Headroom {
    pub fn new(module: &Module) -> Headroom {
        Headroom {
            log_q: ParamsAttr::of_module(module)
                .map(|p| p.log_q)
                .unwrap_or_default(),
            min: None,
        }
    }

    pub fn observe(&mut self, module: &Module, op: &Op, v: &[f64]) {
        let (Some(func), Some(r)) = (module.main(), op.results.first()) else {
            return;
        };
        let Some(ty) = func.values.get(r.0 as usize).map(|d| &d.ty) else {
            return;
        };
        let Ok(ct) = CtType::from_type(ty) else {
            return;
        };
        if ct.level >= self.log_q.len() {
            return;
        }
        let log_q: u32 = self.log_q[..=ct.level].iter().sum();
        let max_abs = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        if max_abs == 0.0 {
            return;
        }
        let bits = (log_q as f64 - 1.0) - ct.log_scale as f64 - max_abs.log2();
        if self.min.as_ref().is_none_or(|m| bits < m.bits) {
            self.min = Some(HeadroomMin {
                bits,
                label: op.label(),
                level: ct.level,
                max_abs,
                log_scale: ct.log_scale,
                log_q,
            });
        }
    }

    /// The summary line, if any ciphertext was observed.
    pub fn summary(&self) -> Option<String> {
        let h = self.min.as_ref()?;
        Some(format!(
            "modulus headroom: min {:.1} bits at {} (level {}, max |slot| {:.3e}, scale 2^{}, Q_l ~ 2^{}){}",
            h.bits,
            h.label,
            h.level,
            h.max_abs,
            h.log_scale,
            h.log_q,
            if h.bits < 0.0 {
                "; negative: the ciphertext may wrap around its modulus (raise log_q[0..=level] or lower the scale)"
            } else {
                ""
            }
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        let d = |ms| Duration::from_millis(ms);
        assert_eq!(median(vec![d(5), d(1), d(3)]), d(3));
        assert_eq!(median(vec![]), Duration::ZERO);
    }
}
