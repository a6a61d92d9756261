//! Every key, ciphertext and plaintext file decoder on the same bytes: each
//! must refuse malformed input with an error, never panic or allocate
//! without bound; what decodes must encode back to a file that decodes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use orion_ckks::serialize::*;

mod small_context;

fuzz_target!(|data: &[u8]| {
    let ctx = small_context::context();
    let _ = read_header(data);
    if let Ok((sk, id)) = decode_secret_key(ctx, data) {
        decode_secret_key(ctx, encode_secret_key(ctx, &sk, id)).expect("a secret key round trip");
    }
    if let Ok((pk, _)) = decode_public_key(ctx, data) {
        decode_public_key(ctx, encode_public_key(ctx, &pk)).expect("a public key round trip");
    }
    if let Ok((keys, id)) = decode_eval_keys(ctx, data) {
        decode_eval_keys(ctx, encode_eval_keys(ctx, &keys, id))
            .expect("an evaluation keys round trip");
    }
    if let Ok((cts, id)) = decode_ciphertexts(ctx, data) {
        decode_ciphertexts(ctx, encode_ciphertexts(ctx, &cts, id))
            .expect("a ciphertext round trip");
    }
    if let Ok(pts) = decode_plaintexts(ctx, data) {
        decode_plaintexts(ctx, encode_plaintexts(ctx, &pts)).expect("a plaintext round trip");
    }
});
