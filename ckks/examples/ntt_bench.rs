//! Median time of one forward NTT per ring degree and prime size, the unit
//! cost that the CKKS operations are made of (compare with `ckks_bench`).
//!
//!     cargo run -p orion-ckks --release --example ntt_bench

use std::time::Instant;

use orion_ckks::{CkksParams, Context, SecretDist};

fn main() {
    for log_n in [13u32, 16] {
        for bits in [26u32, 40, 55, 61] {
            if bits < log_n + 2 {
                continue;
            }
            let ctx = Context::new(CkksParams {
                log_n,
                log_q: vec![bits],
                log_p: vec![bits],
                log_scale: 20,
                secret: SecretDist::default(),
                insecure_ok: true,
            })
            .expect("context");
            let plan = tfhe_ntt::prime64::Plan::try_new(ctx.n(), ctx.q(0)).expect("plan");
            let mut buf: Vec<u64> = (0..ctx.n() as u64).map(|i| i * 7 % ctx.q(0)).collect();
            let reps = if log_n == 16 { 201 } else { 2001 };
            let mut t: Vec<f64> = (0..reps)
                .map(|_| {
                    let s = Instant::now();
                    plan.fwd(&mut buf);
                    s.elapsed().as_secs_f64() * 1e6
                })
                .collect();
            t.sort_by(|a, b| a.partial_cmp(b).unwrap());
            println!(
                "N = 2^{log_n}, {bits}-bit prime: forward NTT {:8.1} us (median of {reps})",
                t[reps / 2]
            );
        }
    }
}
