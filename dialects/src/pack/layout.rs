//! Packed-vector layouts: which tensor element sits in which slot.
//!
//! The 1-D replicated layout stores a tensor flattened row-major, element `e`
//! in every slot `e + t * period` (`t < slots / period`); slots whose offset in
//! the period is past the tensor's size hold values nobody reads. Replication
//! makes a rotation by `k` act cyclically inside each period, which is what
//! the diagonal method needs, without masking.
//!
//! Written as the type `!pack.vec<slots = 4096, size = 784, period = 1024>`.

use crate::ir::{Attribute, Type};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VecLayout {
    pub slots: usize,
    pub size: usize,
    pub period: usize,
}

impl VecLayout {
    /// The smallest power-of-two period that holds `size` elements.
    pub fn replicated(slots: usize, size: usize) -> Result<VecLayout, String> {
        let layout = VecLayout {
            slots,
            size,
            period: size.max(1).next_power_of_two(),
        };
        layout.check()?;
        Ok(layout)
    }

    pub fn check(&self) -> Result<(), String> {
        if !self.slots.is_power_of_two() {
            return Err(format!("slot count {} is not a power of two", self.slots));
        }
        if !self.period.is_power_of_two() || self.period > self.slots {
            return Err(format!(
                "period {} must be a power of two no larger than the {} slots",
                self.period, self.slots
            ));
        }
        if self.size > self.period {
            return Err(format!(
                "a tensor of {} elements does not fit a period of {} (slots: {})",
                self.size, self.period, self.slots
            ));
        }
        Ok(())
    }

    pub fn to_type(&self) -> Type {
        Type::dialect(
            "pack",
            "vec",
            vec![
                ("slots".into(), Attribute::Int(self.slots as i64)),
                ("size".into(), Attribute::Int(self.size as i64)),
                ("period".into(), Attribute::Int(self.period as i64)),
            ],
        )
    }

    pub fn from_type(ty: &Type) -> Result<VecLayout, String> {
        if !ty.is_dialect("pack", "vec") {
            return Err(format!("expected a !pack.vec type, got {ty}"));
        }
        let get = |k: &str| {
            ty.dialect_param("pack", "vec", k)
                .and_then(Attribute::as_int)
                .filter(|&v| v >= 0)
                .map(|v| v as usize)
                .ok_or_else(|| format!("{ty} lacks a non-negative integer '{k}'"))
        };
        let layout = VecLayout {
            slots: get("slots")?,
            size: get("size")?,
            period: get("period")?,
        };
        layout.check()?;
        Ok(layout)
    }

    /// Places a flattened tensor into slots.
    pub fn pack(&self, values: &[f64]) -> Vec<f64> {
        let mut slots = vec![0.0; self.slots];
        for (s, v) in slots.iter_mut().enumerate() {
            let e = s % self.period;
            if e < self.size {
                *v = values[e];
            }
        }
        slots
    }

    /// Reads the tensor back from the first period.
    pub fn unpack(&self, slots: &[f64]) -> Vec<f64> {
        slots[..self.size].to_vec()
    }
}
