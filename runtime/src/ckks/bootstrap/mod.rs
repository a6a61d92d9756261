//! CKKS bootstrapping (work in progress).

pub(crate) mod dft;
