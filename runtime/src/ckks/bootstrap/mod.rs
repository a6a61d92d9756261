//! CKKS bootstrapping (work in progress).

pub(crate) mod dft;
pub mod mod1;
pub mod params;
pub(crate) mod poly_eval;
