//! The small (insecure) parameter set the file-decoding targets and their
//! seed corpus (`ckks/examples/fuzz_seeds.rs`) share: N = 2^10, two Q
//! primes, one P prime.

use std::sync::{Arc, OnceLock};

use orion_ckks::{CkksParams, Context, SecretDist};

pub fn context() -> &'static Arc<Context> {
    static CTX: OnceLock<Arc<Context>> = OnceLock::new();
    CTX.get_or_init(|| {
        Context::new(CkksParams {
            log_n: 10,
            log_q: vec![30, 25],
            log_p: vec![30],
            log_scale: 25,
            secret: SecretDist::default(),
            insecure_ok: true,
        })
        .expect("the fuzz parameters")
    })
}
