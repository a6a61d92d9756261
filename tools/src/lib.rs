//! Code shared by `orion-opt` and `orion-run`.

pub mod input_files;
