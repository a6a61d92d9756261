//! CKKS bootstrapping: refreshes a ciphertext at a low level to a high
//! level, so that networks of any depth can run encrypted.
//!
//! The circuit (Cheon-Han-Kim-Kim-Song 2018, with the improvements of
//! Han-Ki 2020 and Bossuat et al. 2021/2022, as in Lattigo):
//!
//! 1. **ScaleDown** to level 0, multiplying by an integer so that the
//!    message uses `2^-log_message_ratio` of `q_0`;
//! 2. optional **sparse-secret encapsulation** (`encapsulation.rs`) and
//!    **ModRaise** to the top of the chain (`modraise.rs`): the plaintext
//!    becomes `m + q_0 I`;
//! 3. **SubSum** for sparse slots (`modraise.rs`);
//! 4. **CoeffsToSlots**, the inverse special FFT as a few sparse-diagonal
//!    linear transforms, one level each (`dft.rs`), then the real and
//!    imaginary parts by conjugation;
//! 5. **EvalMod**: `(m / q_0 + I) mod 1` as a scaled cosine with
//!    double-angle iterations (`mod1.rs`);
//! 6. **SlotsToCoeffs**, the special FFT, landing at the top residual
//!    level with the default scale.
//!
//! Parameters and the level layout are in [`params`]; [`keys`] generates
//! exactly the keys the circuit uses; `plan.rs` holds the scale bookkeeping.
//!
//! ```no_run
//! use orion_ckks::*;
//! use orion_ckks::bootstrap::*;
//!
//! # fn main() -> Result<(), CkksError> {
//! let bp = BootstrapParams::test_n12();
//! let ctx = Context::new(bp.ckks_params())?;
//! let sk = KeyGenerator::new(&ctx).gen_secret_key();
//! let keys = BootstrapKeys::generate(&ctx, &bp, &sk, &KeyGenOptions::default())?;
//! let boot = Bootstrapper::new(&ctx, &bp, &keys)?;
//! // ct: any degree-1 ciphertext at a level <= boot.levels().residual,
//! // values in [-1, 1], scale <= q_0 / 2^8 (the default scale 2^40 is fine).
//! # let enc = Encryptor::with_secret_key(&ctx, &sk);
//! # let ct = enc.encrypt(&Encoder::new(&ctx).encode(&[0.5], 0, ctx.default_scale())?)?;
//! let fresh = boot.bootstrap(&ct)?; // level boot.levels().residual, scale 2^40
//! # Ok(())
//! # }
//! ```

mod bootstrapper;
mod chained;
pub(crate) mod dft;
mod encapsulation;
pub mod keys;
pub mod mod1;
mod modraise;
pub mod params;
mod plan;

pub use bootstrapper::{BootstrapOptions, Bootstrapper, PhaseTimes};
pub use keys::{BootstrapKeys, EncapsulationKeys, KeyGenOptions};
pub use mod1::Mod1Params;
pub use params::{BootstrapParams, DftStrategy, Levels};

use crate::error::CkksError;
use crate::ring::context::Context;

/// Checks that `ctx` was built from `params.ckks_params()`.
pub(crate) fn check_context(ctx: &Context, params: &BootstrapParams) -> Result<(), CkksError> {
    let want = params.ckks_params();
    let got = ctx.params();
    if got.log_n != want.log_n || got.log_q != want.log_q || got.log_p != want.log_p {
        return Err(CkksError::ContextMismatch(format!(
            "bootstrapping parameters need the chain log_q = {:?}, log_p = {:?} at log_n = {}, \
             the context has log_q = {:?}, log_p = {:?} at log_n = {}",
            want.log_q, want.log_p, want.log_n, got.log_q, got.log_p, got.log_n
        )));
    }
    Ok(())
}
