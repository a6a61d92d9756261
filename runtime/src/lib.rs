//! Orion runtime: the RNS-CKKS library ([`ckks`]) and, next to it, the
//! interpreter of the ckks dialect.

pub mod alloc_tuning;
pub mod ckks;
pub mod interp;
pub mod progress;
