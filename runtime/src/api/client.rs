//! The client: the only party that holds the secret key. It makes the keys,
//! encrypts inputs and decrypts results.

use std::sync::Arc;

use orion_ckks::serialize::{
    check_key, decode_public_key, decode_secret_key, encode_eval_keys, encode_public_key,
    encode_secret_key, key_id, EvaluationKeys, FileBytes, KeyId,
};
use orion_ckks::{PublicKey, SecretKey};
use orion_dialects::tensor::Tensor;

use super::{Encrypted, Error, Program};
use crate::interp::{MemoryEstimate, RunOptions, Session, SessionKeys};

/// Keys a client holds, and a session that encrypts and decrypts with them.
pub struct Client {
    program: Arc<Program>,
    key_id: KeyId,
    secret: Option<SecretKey>,
    public: Option<PublicKey>,
    /// The evaluation keys, after [`Client::keygen`], until exported.
    evaluation: Option<EvaluationKeys>,
    /// Why the evaluation keys cannot be exported, if they cannot.
    not_exportable: Option<String>,
    session: Session,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("program", &self.program.name())
            .field("key_id", &self.key_id)
            .field("secret", &self.secret.is_some())
            .field("public", &self.public.is_some())
            .finish()
    }
}

impl Client {
    /// Generates a key set for `program`: secret and public keys, and the
    /// evaluation keys it needs (relinearization if it multiplies
    /// ciphertexts, Galois keys for exactly its rotations, bootstrapping's
    /// keys if it bootstraps).
    pub fn keygen(program: Arc<Program>, opts: &RunOptions) -> Result<Client, Error> {
        let module = program.module();
        // The options as the budget adapted them: keys it counted seeded
        // must be generated seeded.
        let (opts, _) = program.fit_memory(opts, "key generation", |e| MemoryEstimate {
            keys: e.keys,
            ..MemoryEstimate::default()
        })?;
        let keys = SessionKeys::generate(module, program.context(), &opts)?;
        let (Some(secret), Some(public)) = (keys.secret, keys.public) else {
            return Err(Error::MissingKey(
                "key generation made no secret or public key".into(),
            ));
        };
        let not_exportable = keys
            .bootstrap
            .as_ref()
            .is_some_and(|(_, b)| b.has_chained_keys())
            .then(|| {
                "the program bootstraps with the chained DFT, whose keys are not stored in \
                 evaluation-key files; compile with bootstrap dft = \"bsgs\" or run in one go"
                    .to_string()
            });
        let evaluation = EvaluationKeys {
            relin: keys.relin,
            galois: keys.galois.unwrap_or_default(),
            encapsulation: keys
                .bootstrap
                .as_ref()
                .and_then(|(_, b)| b.encapsulation().cloned()),
        };
        let id = key_id(&public);
        let mut client = Client::new(program, id, Some(secret), Some(public), &opts)?;
        client.evaluation = Some(evaluation);
        client.not_exportable = not_exportable;
        Ok(client)
    }

    /// A client on keys made before: the secret key (to decrypt), the
    /// public key (to encrypt), or both, as file bytes. Both must be of
    /// one key set and of the program's parameters.
    pub fn from_key_bytes(
        program: Arc<Program>,
        secret: Option<impl FileBytes>,
        public: Option<impl FileBytes>,
        opts: &RunOptions,
    ) -> Result<Client, Error> {
        let ctx = program.context();
        let secret = secret.map(|b| decode_secret_key(ctx, b)).transpose()?;
        let public = public.map(|b| decode_public_key(ctx, b)).transpose()?;
        let id = match (&secret, &public) {
            (Some((_, s)), Some((_, p))) => {
                check_key(*p, "secret key", *s)?;
                *p
            }
            (Some((_, id)), None) | (None, Some((_, id))) => *id,
            (None, None) => {
                return Err(Error::MissingKey(
                    "a client needs the secret key, the public key, or both".into(),
                ))
            }
        };
        Client::new(
            program,
            id,
            secret.map(|(k, _)| k),
            public.map(|(k, _)| k),
            opts,
        )
    }

    fn new(
        program: Arc<Program>,
        key_id: KeyId,
        secret: Option<SecretKey>,
        public: Option<PublicKey>,
        opts: &RunOptions,
    ) -> Result<Client, Error> {
        let keys = SessionKeys {
            secret: secret.clone(),
            public: public.clone(),
            ..SessionKeys::default()
        };
        let opts = RunOptions {
            progress: false,
            ..opts.clone()
        };
        let mut session = Session::from_keys(program.module(), program.context(), keys, &opts)?;
        session.pin_module(program.module());
        Ok(Client {
            key_id,
            program,
            secret,
            public,
            evaluation: None,
            not_exportable: None,
            session,
        })
    }

    /// The program the keys are for.
    pub fn program(&self) -> &Arc<Program> {
        &self.program
    }

    /// The id of the key set (a hash of its public key).
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// Encrypts one input (needs the public key).
    pub fn encrypt(&mut self, x: &Tensor) -> Result<Encrypted, Error> {
        self.program.check_input(x)?;
        if self.public.is_none() {
            return Err(Error::MissingKey(
                "encrypting needs the public key, which this client does not hold".into(),
            ));
        }
        let module = self.program.module();
        let ciphertexts = self
            .session
            .encrypt_inputs(module, std::slice::from_ref(x))?;
        Ok(Encrypted {
            key_id: self.key_id,
            ciphertexts,
        })
    }

    /// Decrypts a result of the server (needs the secret key): the
    /// program's output tensors.
    pub fn decrypt(&mut self, result: Encrypted) -> Result<Vec<Tensor>, Error> {
        if self.secret.is_none() {
            return Err(Error::MissingKey(
                "decrypting needs the secret key, which this client does not hold".into(),
            ));
        }
        check_key(result.key_id, "secret key", self.key_id)?;
        let module = self.program.module();
        Ok(self.session.decrypt_outputs(module, result.ciphertexts)?)
    }

    /// The secret key's file bytes.
    pub fn secret_key_bytes(&self) -> Result<Vec<u8>, Error> {
        let sk = self
            .secret
            .as_ref()
            .ok_or_else(|| Error::MissingKey("this client holds no secret key".into()))?;
        Ok(encode_secret_key(self.program.context(), sk, self.key_id))
    }

    /// The public key's file bytes.
    pub fn public_key_bytes(&self) -> Result<Vec<u8>, Error> {
        let pk = self
            .public
            .as_ref()
            .ok_or_else(|| Error::MissingKey("this client holds no public key".into()))?;
        Ok(encode_public_key(self.program.context(), pk))
    }

    /// The evaluation keys made by [`Client::keygen`]: what a server needs,
    /// and nothing that decrypts.
    pub fn evaluation_keys(&self) -> Result<&EvaluationKeys, Error> {
        if let Some(why) = &self.not_exportable {
            return Err(Error::MissingKey(why.clone()));
        }
        self.evaluation.as_ref().ok_or_else(|| {
            Error::MissingKey(
                "this client holds no evaluation keys (they are made by keygen)".into(),
            )
        })
    }

    /// The evaluation keys' file bytes.
    pub fn evaluation_key_bytes(&self) -> Result<Vec<u8>, Error> {
        let keys = self.evaluation_keys()?;
        Ok(encode_eval_keys(self.program.context(), keys, self.key_id))
    }
}
