//! A network's final Softmax or LogSoftmax, left to the client: it is not a
//! polynomial, it does not change the class, and the server has no use for
//! probabilities it cannot read. The importer drops the op and records it
//! as the module attribute `nn.client_output = "softmax" | "log_softmax"`,
//! which every later level keeps; the tools apply it after decryption.

use crate::ir::{Attribute, Module};
use crate::tensor::Tensor;

/// The module attribute that records the client's final op.
pub const ATTR: &str = "nn.client_output";

/// What the client applies to the decrypted output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientOutput {
    Softmax,
    LogSoftmax,
}

impl ClientOutput {
    /// The op `module` leaves to the client, if any.
    pub fn of(module: &Module) -> Result<Option<ClientOutput>, String> {
        match module.attr(ATTR) {
            None => Ok(None),
            Some(Attribute::String(s)) if s == "softmax" => Ok(Some(ClientOutput::Softmax)),
            Some(Attribute::String(s)) if s == "log_softmax" => Ok(Some(ClientOutput::LogSoftmax)),
            Some(other) => Err(format!(
                "module attribute '{ATTR}' must be \"softmax\" or \"log_softmax\", got {other}"
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ClientOutput::Softmax => "softmax",
            ClientOutput::LogSoftmax => "log_softmax",
        }
    }

    pub fn attribute(self) -> (String, Attribute) {
        (ATTR.to_string(), Attribute::String(self.name().into()))
    }

    /// Applied over the last axis of `logits` (stable: the maximum is
    /// subtracted first).
    pub fn apply(self, logits: &Tensor) -> Tensor {
        let n = logits.shape.last().copied().unwrap_or(1).max(1);
        let mut out = logits.data.clone();
        for row in out.chunks_mut(n) {
            let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let log_sum = row.iter().map(|v| (v - max).exp()).sum::<f64>().ln() + max;
            for v in row.iter_mut() {
                *v = match self {
                    ClientOutput::Softmax => (*v - log_sum).exp(),
                    ClientOutput::LogSoftmax => *v - log_sum,
                };
            }
        }
        Tensor::new(logits.shape.clone(), out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_rows_sum_to_one_and_keep_the_class() {
        let logits = Tensor::new(vec![1, 3], vec![1.0, 3.0, -2.0]);
        let p = ClientOutput::Softmax.apply(&logits);
        assert!((p.data.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(p.argmax(), logits.argmax());
        let l = ClientOutput::LogSoftmax.apply(&logits);
        for (a, b) in l.data.iter().zip(&p.data) {
            assert!((a.exp() - b).abs() < 1e-12);
        }
        // Large logits do not overflow.
        let big = ClientOutput::Softmax.apply(&Tensor::new(vec![1, 2], vec![1000.0, 999.0]));
        assert!(big.data.iter().all(|v| v.is_finite()));
    }
}
