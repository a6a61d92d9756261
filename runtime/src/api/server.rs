//! The server: evaluates a program on encrypted inputs with evaluation keys
//! only. It never holds a secret or public key.

use std::sync::Arc;
use std::time::Duration;

use orion_ckks::serialize::{check_key, decode_eval_keys, EvaluationKeys, FileBytes, KeyId};

use super::{Encrypted, Error, Program};
use crate::interp::{MemoryEstimate, RunOptions, Session, SessionKeys};

/// One program and one client's evaluation keys.
pub struct Server {
    program: Arc<Program>,
    key_id: KeyId,
    session: Session,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("program", &self.program.name())
            .field("key_id", &self.key_id)
            .finish()
    }
}

impl Server {
    /// A server on the evaluation keys of key set `key_id`: the program's
    /// relinearization and Galois keys and, if it bootstraps, the
    /// bootstrapper's keys made of the same plus the encapsulation keys.
    pub fn new(
        program: Arc<Program>,
        keys: EvaluationKeys,
        key_id: KeyId,
        opts: &RunOptions,
    ) -> Result<Server, Error> {
        let module = program.module();
        // The keys are decoded already: what remains to allocate is the
        // bootstrapping matrices, the evaluation and the plaintext cache.
        let (opts, _) = program.fit_memory(opts, "the server's session", |e| MemoryEstimate {
            keys: 0,
            ..*e
        })?;
        let keys = SessionKeys::evaluation(module, keys.relin, keys.galois, keys.encapsulation)?;
        let mut session = Session::from_keys(module, program.context(), keys, &opts)?;
        session.pin_module(module);
        Ok(Server {
            program,
            key_id,
            session,
        })
    }

    /// A server on evaluation-key file bytes, refused if they are malformed
    /// or made for other parameters.
    pub fn from_key_bytes(
        program: Arc<Program>,
        bytes: impl FileBytes,
        opts: &RunOptions,
    ) -> Result<Server, Error> {
        let (keys, id) = decode_eval_keys(program.context(), bytes)?;
        Server::new(program, keys, id, opts)
    }

    /// The program served.
    pub fn program(&self) -> &Arc<Program> {
        &self.program
    }

    /// The key set whose ciphertexts this server evaluates.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// Encodes the program's plaintexts ahead of the first request (as far
    /// as the plaintext cache allows); optional. Returns the time spent.
    pub fn prepare(&mut self) -> Result<Duration, Error> {
        Ok(self.session.prepare(self.program.module())?)
    }

    /// Evaluates the program on an encrypted input; the result is under the
    /// same key set. A ciphertext under another key set is refused before
    /// any work.
    pub fn evaluate(&mut self, input: Encrypted) -> Result<Encrypted, Error> {
        check_key(input.key_id, "evaluation key set", self.key_id)?;
        let module = self.program.module();
        let ciphertexts = self.session.evaluate(module, input.ciphertexts)?;
        Ok(Encrypted {
            key_id: self.key_id,
            ciphertexts,
        })
    }

    /// The session underneath (memory use, op profile).
    pub fn session(&self) -> &Session {
        &self.session
    }
}
