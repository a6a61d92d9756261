//! `!ckks.ct<level = 5, log_scale = 26>` (with `degree = 2` after a
//! ciphertext product, before relinearization) and `!ckks.pt<level, log_scale>`.
//!
//! `log_scale` is the nominal log2 of the scale. The runtime tracks exact
//! scales; plaintexts are encoded where they are used at the scale that keeps
//! the ciphertext's scale exact (q_level before a rescale), so the nominal
//! value is what the verifier needs to check that operands line up.

use crate::ir::{Attribute, Type};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CtType {
    pub level: usize,
    pub log_scale: i64,
    pub degree: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PtType {
    pub level: usize,
    pub log_scale: i64,
}

fn param(ty: &Type, name: &str, key: &str) -> Result<i64, String> {
    ty.dialect_param("ckks", name, key)
        .and_then(Attribute::as_int)
        .ok_or_else(|| format!("{ty} lacks an integer '{key}'"))
}

impl CtType {
    pub fn new(level: usize, log_scale: i64) -> CtType {
        CtType {
            level,
            log_scale,
            degree: 1,
        }
    }

    pub fn from_type(ty: &Type) -> Result<CtType, String> {
        if !ty.is_dialect("ckks", "ct") {
            return Err(format!("expected a ciphertext (!ckks.ct), got {ty}"));
        }
        let level = param(ty, "ct", "level")?;
        let degree = ty
            .dialect_param("ckks", "ct", "degree")
            .and_then(Attribute::as_int)
            .unwrap_or(1);
        if level < 0 || !(1..=2).contains(&degree) {
            return Err(format!("{ty}: level must be >= 0 and degree 1 or 2"));
        }
        Ok(CtType {
            level: level as usize,
            log_scale: param(ty, "ct", "log_scale")?,
            degree: degree as usize,
        })
    }

    pub fn to_type(self) -> Type {
        let mut params = vec![
            ("level".to_string(), Attribute::Int(self.level as i64)),
            ("log_scale".to_string(), Attribute::Int(self.log_scale)),
        ];
        if self.degree != 1 {
            params.push(("degree".to_string(), Attribute::Int(self.degree as i64)));
        }
        Type::dialect("ckks", "ct", params)
    }
}

impl PtType {
    pub fn from_type(ty: &Type) -> Result<PtType, String> {
        if !ty.is_dialect("ckks", "pt") {
            return Err(format!("expected a plaintext (!ckks.pt), got {ty}"));
        }
        let level = param(ty, "pt", "level")?;
        if level < 0 {
            return Err(format!("{ty}: level must be >= 0"));
        }
        Ok(PtType {
            level: level as usize,
            log_scale: param(ty, "pt", "log_scale")?,
        })
    }

    pub fn to_type(self) -> Type {
        Type::dialect(
            "ckks",
            "pt",
            vec![
                ("level".to_string(), Attribute::Int(self.level as i64)),
                ("log_scale".to_string(), Attribute::Int(self.log_scale)),
            ],
        )
    }
}
