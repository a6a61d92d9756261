//! CKKS proper: keys, encoding, encryption, and the evaluator.
//!
//! - `sampler`, [`keys`], [`keygen`]: secret, public and evaluation keys;
//!   `compact_key`, [`leveled_keys`]: keys stored only up to the level
//!   they are used at;
//! - `keyswitch`: hybrid key switching (ModUp, key inner product, ModDown);
//! - [`ciphertext`], [`encoder`], [`encryptor`], [`decryptor`],
//!   [`evaluator`]: the user-facing operations.

pub mod ciphertext;
pub(crate) mod compact_key;
pub mod decryptor;
pub mod encoder;
pub mod encryptor;
pub mod evaluator;
pub mod keygen;
pub mod keys;
pub(crate) mod keyswitch;
pub mod leveled_keys;
pub(crate) mod sampler;
