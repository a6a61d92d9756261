//! orion-serve's requests as they arrive: a message of the protocol (key
//! chunk or inference chunk), then its data through the decoders the
//! server runs on it. Nothing may panic; sizes come from the message, so
//! they must never drive an allocation before they are checked.

#![no_main]

use libfuzzer_sys::fuzz_target;
use orion_ckks::serialize::{decode_ciphertexts, decode_eval_keys, KeyId};
use prost::Message;

mod small_context;

#[allow(dead_code)]
mod proto {
    include!(concat!(env!("OUT_DIR"), "/orion.serve.v1.rs"));
}

/// What the server accepts as a key id: 16 hex digits.
fn key_id(s: &str) -> Option<KeyId> {
    (s.len() == 16).then(|| u64::from_str_radix(s, 16).ok().map(KeyId))?
}

fuzz_target!(|data: &[u8]| {
    let ctx = small_context::context();
    if let Ok(chunk) = proto::InferChunk::decode(data) {
        let _ = key_id(&chunk.key_id);
        if chunk.total_bytes as usize == chunk.data.len() {
            let _ = decode_ciphertexts(ctx, chunk.data.as_slice());
        }
    }
    if let Ok(chunk) = proto::KeyChunk::decode(data) {
        if chunk.total_bytes as usize == chunk.data.len() {
            let _ = decode_eval_keys(ctx, chunk.data.as_slice());
        }
    }
    let _ = proto::ResultChunk::decode(data);
});
