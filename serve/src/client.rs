//! The client side of the service for Rust front ends: uploads keys and
//! runs inferences in chunks, so that no message exceeds gRPC's limit.
//! Keys and ciphertexts come from `orion_runtime::Client` (keygen,
//! encrypt, decrypt); this moves their bytes.

use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic::Status;

use crate::chunks::{chunked, CHUNK_BYTES};
use crate::proto::inference_client::InferenceClient;
use crate::proto::{
    HealthReply, HealthRequest, InferChunk, KeyChunk, StatsReply, StatsRequest, UploadKeysReply,
};

/// A connection to an orion-serve.
#[derive(Clone, Debug)]
pub struct RemoteClient {
    inner: InferenceClient<Channel>,
}

/// What can fail on the client side.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot connect to {url}: {message}")]
    Connect { url: String, message: String },
    #[error("{:?}: {}", .0.code(), .0.message())]
    Status(#[from] Status),
    #[error("the server's result is malformed: {0}")]
    Protocol(String),
}

impl RemoteClient {
    /// Connects to `url` (`http://host:port`, or `https://...` with the
    /// PEM certificate of the authority that signed the server's).
    pub async fn connect(url: &str, ca_pem: Option<&[u8]>) -> Result<RemoteClient, ClientError> {
        let fail = |message: String| ClientError::Connect {
            url: url.to_string(),
            message,
        };
        crate::server::install_crypto_provider();
        let mut endpoint =
            Endpoint::from_shared(url.to_string()).map_err(|e| fail(e.to_string()))?;
        if let Some(ca) = ca_pem {
            let tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca));
            endpoint = endpoint.tls_config(tls).map_err(|e| fail(e.to_string()))?;
        }
        let channel = endpoint.connect().await.map_err(|e| fail(e.to_string()))?;
        Ok(RemoteClient {
            inner: InferenceClient::new(channel),
        })
    }

    /// Uploads the bytes of an `eval.keys` file for `model`.
    pub async fn upload_keys(
        &mut self,
        model: &str,
        keys: &[u8],
    ) -> Result<UploadKeysReply, ClientError> {
        let total = keys.len() as u64;
        let messages: Vec<KeyChunk> = chunked(keys, CHUNK_BYTES)
            .enumerate()
            .map(|(i, c)| KeyChunk {
                model: if i == 0 {
                    model.to_string()
                } else {
                    String::new()
                },
                total_bytes: if i == 0 { total } else { 0 },
                data: c.to_vec(),
            })
            .collect();
        let reply = self.inner.upload_keys(tokio_stream::iter(messages)).await?;
        Ok(reply.into_inner())
    }

    /// Evaluates `model` on the bytes of a ciphertext file under key set
    /// `key_id`; the bytes of the result's ciphertext file.
    pub async fn infer(
        &mut self,
        model: &str,
        key_id: &str,
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, ClientError> {
        let total = ciphertext.len() as u64;
        let messages: Vec<InferChunk> = chunked(ciphertext, CHUNK_BYTES)
            .enumerate()
            .map(|(i, c)| InferChunk {
                model: if i == 0 {
                    model.to_string()
                } else {
                    String::new()
                },
                key_id: if i == 0 {
                    key_id.to_string()
                } else {
                    String::new()
                },
                total_bytes: if i == 0 { total } else { 0 },
                data: c.to_vec(),
            })
            .collect();
        let mut stream = self
            .inner
            .infer(tokio_stream::iter(messages))
            .await?
            .into_inner();
        let first = stream
            .message()
            .await?
            .ok_or_else(|| ClientError::Protocol("no result".into()))?;
        let total = first.total_bytes as usize;
        let mut out = Vec::with_capacity(total);
        out.extend(first.data);
        while let Some(m) = stream.message().await? {
            out.extend(m.data);
        }
        if out.len() != total {
            return Err(ClientError::Protocol(format!(
                "{} of the {total} bytes announced",
                out.len()
            )));
        }
        Ok(out)
    }

    pub async fn health(&mut self) -> Result<HealthReply, ClientError> {
        Ok(self.inner.health(HealthRequest {}).await?.into_inner())
    }

    pub async fn stats(&mut self) -> Result<StatsReply, ClientError> {
        Ok(self.inner.stats(StatsRequest {}).await?.into_inner())
    }
}
