//! Where uploaded evaluation keys live: a directory, or any S3-compatible
//! object store (through the `object_store` crate), shared by every replica
//! so that keys uploaded to one are used by the others.
//!
//! Keys are stored under `{params fingerprint}/{key id}.evalkeys`, exactly
//! the bytes of the client's `eval.keys` file after the server checked
//! them: only evaluation-key files are ever written (a secret or public key
//! is refused before it gets here).

use std::sync::Arc;

use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use orion_ckks::serialize::KeyId;

/// A failure of the store itself (not of the keys).
#[derive(Debug, thiserror::Error)]
#[error("key store {store}: {message}")]
pub struct StoreError {
    store: String,
    message: String,
}

/// The evaluation-key store.
#[derive(Clone, Debug)]
pub struct KeyStore {
    store: Arc<dyn ObjectStore>,
    name: String,
}

impl KeyStore {
    /// `spec`: `s3://bucket/prefix` (credentials, region and endpoint from
    /// the usual `AWS_*` variables), or a directory (created if missing).
    pub fn open(spec: &str) -> Result<KeyStore, StoreError> {
        let fail = |message: String| StoreError {
            store: spec.to_string(),
            message,
        };
        let store: Arc<dyn ObjectStore> = if let Some(rest) = spec.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let s3 = AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .build()
                .map_err(|e| fail(e.to_string()))?;
            let prefix = prefix.trim_matches('/');
            if prefix.is_empty() {
                Arc::new(s3)
            } else {
                Arc::new(PrefixStore::new(s3, prefix))
            }
        } else {
            std::fs::create_dir_all(spec).map_err(|e| fail(e.to_string()))?;
            Arc::new(LocalFileSystem::new_with_prefix(spec).map_err(|e| fail(e.to_string()))?)
        };
        Ok(KeyStore {
            store,
            name: spec.to_string(),
        })
    }

    /// A store in memory (tests, and a server that keeps nothing).
    pub fn in_memory() -> KeyStore {
        KeyStore {
            store: Arc::new(InMemory::new()),
            name: "memory".into(),
        }
    }

    fn location(fingerprint: u64, id: KeyId) -> Path {
        Path::from(format!("{fingerprint:016x}/{id}.evalkeys"))
    }

    fn err(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError {
            store: self.name.clone(),
            message: e.to_string(),
        }
    }

    /// Stores the evaluation keys `id` of the parameters `fingerprint`.
    pub async fn put(&self, fingerprint: u64, id: KeyId, keys: Bytes) -> Result<(), StoreError> {
        self.store
            .put(&Self::location(fingerprint, id), PutPayload::from(keys))
            .await
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// The evaluation keys `id` of the parameters `fingerprint`, if stored.
    pub async fn get(&self, fingerprint: u64, id: KeyId) -> Result<Option<Bytes>, StoreError> {
        match self.store.get(&Self::location(fingerprint, id)).await {
            Ok(r) => r.bytes().await.map(Some).map_err(|e| self.err(e)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.err(e)),
        }
    }
}
