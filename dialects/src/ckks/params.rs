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
    /// How ciphertexts are bootstrapped, if they are: `log_q` is then the
    /// residual chain the program uses, and bootstrapping's own levels sit
    /// above it (the runtime builds the whole chain).
    pub bootstrap: Option<BootstrapAttr>,
}

/// The bootstrapping circuit's settings (`bootstrap = {...}` in `ckks.params`).
#[derive(Clone, Debug, PartialEq)]
pub struct BootstrapAttr {
    /// log2 of the slots bootstrapped (sparse below log_n - 1).
    pub log_slots: u32,
    /// Prime sizes of CoeffsToSlots' levels, top first.
    pub cts_log_q: Vec<u32>,
    /// Prime sizes of SlotsToCoeffs' levels, in the order used.
    pub stc_log_q: Vec<u32>,
    /// Hamming weight of the sparse secret ModRaise runs under
    /// (encapsulation), or `None` for the secret key itself.
    pub ephemeral_hamming_weight: Option<usize>,
    /// How the DFT levels (CoeffsToSlots, SlotsToCoeffs) are evaluated
    /// (`dft = "chained" | "bsgs"`).
    pub dft: BootstrapDft,
}

/// The bootstrapper's DFT evaluation: a time/memory trade.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootstrapDft {
    /// Three keys per level, each at its level, rotations chained: lean
    /// (3.2 GB at LogN 16 with 2^15 slots) and slower.
    Chained,
    /// Double-hoisted baby-step giant-step, a key per step stored up to the
    /// level it is used at and shared with the program's own keys: fast
    /// (5.4 GB of keys and 3.4 GB of matrices at LogN 16 with 2^14 slots).
    Bsgs,
}

impl BootstrapDft {
    pub fn name(self) -> &'static str {
        match self {
            BootstrapDft::Chained => "chained",
            BootstrapDft::Bsgs => "bsgs",
        }
    }

    pub fn from_name(name: &str) -> Option<BootstrapDft> {
        match name {
            "chained" => Some(BootstrapDft::Chained),
            "bsgs" => Some(BootstrapDft::Bsgs),
            _ => None,
        }
    }
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
            bootstrap: None,
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
            bootstrap: None,
        }
    }

    /// Orion's ResNet set (LogN 16, residual LogQ [55, 40 x 10], scale
    /// 2^40, H 192), bootstrapping up to 2^15 slots with CoeffsToSlots on
    /// 4 x 56 bits, SlotsToCoeffs on 3 x 40 and sparse-secret encapsulation
    /// (H 32), LogP [61 x 7] for the 27 Q primes of the whole chain (dnum
    /// 4; with 5 P primes, dnum 6 makes every key at the top 1.4x larger
    /// and every key switch slower); log QP = 1766, under the HE Standard's
    /// 1772 for N = 2^16 (the runtime checks the whole chain).
    pub fn resnet_bootstrapped() -> ParamsAttr {
        let mut log_q = vec![55];
        log_q.extend([40; 10]);
        ParamsAttr {
            log_n: 16,
            log_q,
            log_p: vec![61; 7],
            log_scale: 40,
            hamming_weight: Some(192),
            insecure: false,
            bootstrap: Some(BootstrapAttr {
                log_slots: 15,
                cts_log_q: vec![56; 4],
                stc_log_q: vec![40; 3],
                ephemeral_hamming_weight: Some(32),
                dft: BootstrapDft::Bsgs,
            }),
        }
    }

    /// A small, insecure bootstrappable set for tests: N = 2^12 (2048
    /// slots), 16 residual levels of 40 bits (one approximated ReLU, 14
    /// levels, and a layer fit between two bootstraps).
    pub fn bootstrap_test() -> ParamsAttr {
        let mut log_q = vec![55];
        log_q.extend([40; 16]);
        ParamsAttr {
            log_n: 12,
            log_q,
            log_p: vec![61; 4],
            log_scale: 40,
            hamming_weight: Some(192),
            insecure: true,
            bootstrap: Some(BootstrapAttr {
                log_slots: 11,
                cts_log_q: vec![56; 3],
                stc_log_q: vec![40; 2],
                ephemeral_hamming_weight: Some(32),
                dft: BootstrapDft::Bsgs,
            }),
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
        if let Some(b) = &self.bootstrap {
            let list = |v: &[u32]| Attribute::I64Array(v.iter().map(|&x| x as i64).collect());
            let mut bd = vec![
                ("log_slots".to_string(), Attribute::Int(b.log_slots as i64)),
                ("cts_log_q".to_string(), list(&b.cts_log_q)),
                ("stc_log_q".to_string(), list(&b.stc_log_q)),
                (
                    "dft".to_string(),
                    Attribute::String(b.dft.name().to_string()),
                ),
            ];
            if let Some(h) = b.ephemeral_hamming_weight {
                bd.push((
                    "ephemeral_hamming_weight".to_string(),
                    Attribute::Int(h as i64),
                ));
            }
            d.push(("bootstrap".to_string(), Attribute::Dict(bd)));
        }
        Attribute::Dict(d)
    }

    pub fn from_attr(a: &Attribute) -> Result<ParamsAttr, String> {
        let int = |k: &str| {
            a.dict_get(k)
                .and_then(Attribute::as_int)
                .ok_or_else(|| format!("ckks.params lacks integer '{k}'"))
        };
        let list = |a: &Attribute, k: &str| -> Result<Vec<u32>, String> {
            a.dict_get(k)
                .and_then(Attribute::as_i64_list)
                .filter(|v| v.iter().all(|&b| (1..=61).contains(&b)))
                .map(|v| v.into_iter().map(|b| b as u32).collect())
                .ok_or_else(|| {
                    format!("ckks.params lacks '{k}', a list of prime sizes in bits (1..61)")
                })
        };
        let log_n = int("log_n")?.clamp(0, 64) as u32;
        let p = ParamsAttr {
            log_n,
            log_q: list(a, "log_q")?,
            log_p: list(a, "log_p")?,
            log_scale: int("log_scale")?.clamp(0, 128) as u32,
            hamming_weight: a
                .dict_get("hamming_weight")
                .and_then(Attribute::as_int)
                .map(|h| h.max(0) as usize),
            insecure: a
                .dict_get("insecure")
                .and_then(Attribute::as_bool)
                .unwrap_or(false),
            bootstrap: match a.dict_get("bootstrap") {
                None => None,
                Some(b) => Some(BootstrapAttr {
                    log_slots: b
                        .dict_get("log_slots")
                        .and_then(Attribute::as_int)
                        .filter(|&v| (1..=16).contains(&v))
                        .ok_or("ckks.params: bootstrap lacks 'log_slots' (1..16)")?
                        as u32,
                    cts_log_q: list(b, "cts_log_q")?,
                    stc_log_q: list(b, "stc_log_q")?,
                    ephemeral_hamming_weight: b
                        .dict_get("ephemeral_hamming_weight")
                        .and_then(Attribute::as_int)
                        .map(|h| h.max(0) as usize),
                    dft: match b.dict_get("dft") {
                        None => BootstrapDft::Bsgs,
                        Some(d) => d.as_str().and_then(BootstrapDft::from_name).ok_or(
                            "ckks.params: bootstrap 'dft' must be \"chained\" or \"bsgs\"",
                        )?,
                    },
                }),
            },
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_dft_round_trips_and_defaults_to_bsgs() {
        for p in [
            ParamsAttr::resnet_bootstrapped(),
            ParamsAttr::bootstrap_test(),
        ] {
            assert_eq!(ParamsAttr::from_attr(&p.to_attr()).unwrap(), p);
        }
        let without_dft = |p: ParamsAttr| {
            let Attribute::Dict(mut d) = p.to_attr() else {
                unreachable!()
            };
            for (k, v) in &mut d {
                if k == "bootstrap" {
                    if let Attribute::Dict(b) = v {
                        b.retain(|(k, _)| k != "dft");
                    }
                }
            }
            ParamsAttr::from_attr(&Attribute::Dict(d)).unwrap()
        };
        let dft = |p: ParamsAttr| p.bootstrap.unwrap().dft;
        assert_eq!(
            dft(without_dft(ParamsAttr::resnet_bootstrapped())),
            BootstrapDft::Bsgs
        );
        assert_eq!(
            dft(without_dft(ParamsAttr::bootstrap_test())),
            BootstrapDft::Bsgs
        );
        let Attribute::Dict(mut d) = ParamsAttr::bootstrap_test().to_attr() else {
            unreachable!()
        };
        for (k, v) in &mut d {
            if let (true, Attribute::Dict(b)) = (k == "bootstrap", v) {
                b.push(("dft".into(), Attribute::String("fast".into())));
                b.swap_remove(b.iter().position(|(k, _)| k == "dft").unwrap());
            }
        }
        let err = ParamsAttr::from_attr(&Attribute::Dict(d)).unwrap_err();
        assert!(err.contains("dft"), "{err}");
    }
}
