//! The ciphertexts of one input or one result, with the key set they are
//! under, and their bytes on the wire.

use orion_ckks::serialize::{decode_ciphertexts, encode_ciphertexts, FileBytes, KeyId};
use orion_ckks::Ciphertext;

use super::{Error, Program};

/// Ciphertexts that travel between client and server: an encrypted input
/// (one per `ckks.encrypt` of the program) or an encrypted result (one per
/// block of each `ckks.decrypt`).
#[derive(Clone, Debug)]
pub struct Encrypted {
    /// The key set the ciphertexts are under.
    pub key_id: KeyId,
    /// The ciphertexts, in program order.
    pub ciphertexts: Vec<Ciphertext>,
}

impl Encrypted {
    /// The versioned file bytes (parameter fingerprint, key id, checksum).
    pub fn to_bytes(&self, program: &Program) -> Vec<u8> {
        encode_ciphertexts(program.context(), &self.ciphertexts, self.key_id)
    }

    /// Reads ciphertext bytes, refusing a malformed file or one made for
    /// other parameters than the program's.
    pub fn from_bytes(program: &Program, bytes: impl FileBytes) -> Result<Encrypted, Error> {
        let (ciphertexts, key_id) = decode_ciphertexts(program.context(), bytes)?;
        Ok(Encrypted {
            key_id,
            ciphertexts,
        })
    }
}
