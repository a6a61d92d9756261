//! The CKKS parameters a `ckks` module records (`ckks.params`), and the
//! rotation steps whose Galois keys it needs (`ckks.rotations`).

use crate::ir::{Attribute, Module};

#[derive(Clone, Debug, PartialEq)]
pub struct ParamsAttr {
    pub log_n: u32,
    pub log_q: Vec<u32>,
    pub log_p: Vec<u32>,
    pub log_scale: u32,
    /// Hamming weight of the ternary secret; `None` for a uniform ternary one.
    pub hamming_weight: Option<usize>,
    /// Only test sets below 128-bit security carry `insecure = true`.
    pub insecure: bool,
}

pub const PARAMS_ATTR: &str = "ckks.params";
pub const ROTATIONS_ATTR: &str = "ckks.rotations";

/// Bound on |logit| for the x^2 LeNet-5: they reach 415 on the MNIST test set.
pub const LENET5_OUTPUT_BOUND: f64 = 1024.0;

impl ParamsAttr {
    /// Orion's MNIST MLP set: LogN 13, LogQ [29, 26 x5], LogP [29, 29], 2^26.
    pub fn mnist_mlp() -> ParamsAttr {
        ParamsAttr {
            log_n: 13,
            log_q: vec![29, 26, 26, 26, 26, 26],
            log_p: vec![29, 29],
            log_scale: 26,
            hamming_weight: None,
            insecure: false,
        }
    }

    /// LeNet-5 with x^2 activations, without bootstrapping: LogN 14 (8192
    /// slots, for conv1's 6x28x28 = 4704 outputs), 11 levels (conv1, sq,
    /// pool1, conv2, sq, pool2, fc1, sq, fc2, sq, fc3), scale 2^28.
    /// LogQP = 40 + 11 x 28 + 2 x 38 = 424 <= 438, the HE standard's 128-bit
    /// bound at N = 2^14. The 40-bit base prime leaves room for logits of a
    /// few hundred (see `LENET5_OUTPUT_BOUND`).
    pub fn lenet5_square() -> ParamsAttr {
        let mut log_q = vec![40];
        log_q.extend([28; 11]);
        ParamsAttr {
            log_n: 14,
            log_q,
            log_p: vec![38, 38],
            log_scale: 28,
            hamming_weight: None,
            insecure: false,
        }
    }

    pub fn slots(&self) -> usize {
        1 << (self.log_n - 1)
    }

    pub fn max_level(&self) -> usize {
        self.log_q.len() - 1
    }

    pub fn to_attr(&self) -> Attribute {
        let mut d = vec![
            ("log_n".to_string(), Attribute::Int(self.log_n as i64)),
            (
                "log_q".to_string(),
                Attribute::I64Array(self.log_q.iter().map(|&v| v as i64).collect()),
            ),
            (
                "log_p".to_string(),
                Attribute::I64Array(self.log_p.iter().map(|&v| v as i64).collect()),
            ),
            (
                "log_scale".to_string(),
                Attribute::Int(self.log_scale as i64),
            ),
        ];
        if let Some(h) = self.hamming_weight {
            d.push(("hamming_weight".to_string(), Attribute::Int(h as i64)));
        }
        if self.insecure {
            d.push(("insecure".to_string(), Attribute::Bool(true)));
        }
        Attribute::Dict(d)
    }

    pub fn from_attr(a: &Attribute) -> Result<ParamsAttr, String> {
        let int = |k: &str| {
            a.dict_get(k)
                .and_then(Attribute::as_int)
                .ok_or_else(|| format!("ckks.params lacks integer '{k}'"))
        };
        let list = |k: &str| -> Result<Vec<u32>, String> {
            a.dict_get(k)
                .and_then(Attribute::as_i64_list)
                .filter(|v| v.iter().all(|&b| (1..=61).contains(&b)))
                .map(|v| v.into_iter().map(|b| b as u32).collect())
                .ok_or_else(|| {
                    format!("ckks.params lacks '{k}', a list of prime sizes in bits (1..61)")
                })
        };
        let p = ParamsAttr {
            log_n: int("log_n")?.clamp(0, 64) as u32,
            log_q: list("log_q")?,
            log_p: list("log_p")?,
            log_scale: int("log_scale")?.clamp(0, 128) as u32,
            hamming_weight: a
                .dict_get("hamming_weight")
                .and_then(Attribute::as_int)
                .map(|h| h.max(0) as usize),
            insecure: a
                .dict_get("insecure")
                .and_then(Attribute::as_bool)
                .unwrap_or(false),
        };
        if !(10..=17).contains(&p.log_n) {
            return Err(format!(
                "ckks.params: log_n must be in 10..=17, got {}",
                p.log_n
            ));
        }
        if p.log_q.is_empty() || p.log_p.is_empty() {
            return Err("ckks.params: log_q and log_p must not be empty".into());
        }
        Ok(p)
    }

    pub fn of_module(m: &Module) -> Result<ParamsAttr, String> {
        ParamsAttr::from_attr(
            m.attr(PARAMS_ATTR)
                .ok_or("the module has no 'ckks.params' attribute")?,
        )
    }
}

/// Rotation steps recorded in the module.
pub fn rotations_of_module(m: &Module) -> Vec<i64> {
    m.attr(ROTATIONS_ATTR)
        .and_then(Attribute::as_i64_list)
        .unwrap_or_default()
}
