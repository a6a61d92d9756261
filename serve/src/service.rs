//! The gRPC service: keys in, ciphertexts in, ciphertexts out.
//!
//! Everything a client sends is checked before it is used: a model must be
//! served, sizes must be announced and kept, key files must be evaluation
//! keys of the model's parameters, a ciphertext must be well formed, of
//! those parameters and under the key set the request names. Each refusal
//! is a status that says what was wrong; the server goes on serving.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use futures::Stream;
use orion_ckks::serialize::{decode_eval_keys, KeyId};
use orion_runtime::{Encrypted, Program, RunOptions, Server};
use tonic::{Request, Response, Status, Streaming};

use crate::admission::{Admission, Limits};
use crate::cache::{Session, SessionCache};
use crate::chunks::{chunked, parse_key_id, CHUNK_BYTES};
use crate::metrics::{prometheus_line, Metrics};
use crate::proto::inference_server::Inference;
use crate::proto::{
    HealthReply, HealthRequest, InferChunk, KeyChunk, ModelInfo, ResultChunk, StatsReply,
    StatsRequest, UploadKeysReply,
};
use crate::store::KeyStore;

/// What a server serves and within which bounds.
pub struct ServeConfig {
    /// The programs, by the name clients use.
    pub models: Vec<(String, Arc<Program>)>,
    pub store: KeyStore,
    /// Bytes of decoded keys (and their sessions' caches) kept in memory.
    pub key_cache_bytes: usize,
    /// Per session: bytes of encoded plaintexts cached across requests.
    pub plaintext_cache_bytes: usize,
    pub limits: Limits,
    /// The largest key upload accepted.
    pub max_key_bytes: u64,
    /// The largest ciphertext accepted.
    pub max_ciphertext_bytes: u64,
}

struct State {
    models: HashMap<String, Arc<Program>>,
    store: KeyStore,
    cache: SessionCache,
    admission: Admission,
    metrics: Metrics,
    plaintext_cache_bytes: usize,
    max_key_bytes: u64,
    max_ciphertext_bytes: u64,
    shutting_down: AtomicBool,
}

/// The service; clones share one state.
#[derive(Clone)]
pub struct InferenceService {
    state: Arc<State>,
}

/// A request's data: the header fields of its first message and every
/// message's bytes, checked against the announced total.
async fn collect<M>(
    stream: &mut Streaming<M>,
    what: &str,
    max: u64,
    header: impl FnOnce(&M) -> u64,
    data: impl Fn(M) -> Vec<u8>,
) -> Result<(M, Vec<u8>), Status>
where
    M: Default + Clone,
{
    let first = stream
        .message()
        .await?
        .ok_or_else(|| Status::invalid_argument(format!("{what}: the stream holds no message")))?;
    let total = header(&first);
    if total == 0 {
        return Err(Status::invalid_argument(format!(
            "{what}: total_bytes must give the size of the data"
        )));
    }
    if total > max {
        return Err(Status::resource_exhausted(format!(
            "{what}: {total} bytes announced, more than the {max} this server accepts"
        )));
    }
    let mut bytes = Vec::with_capacity(total as usize);
    bytes.extend(data(first.clone()));
    while let Some(m) = stream.message().await? {
        let d = data(m);
        if (bytes.len() + d.len()) as u64 > total {
            return Err(Status::invalid_argument(format!(
                "{what}: more than the {total} bytes announced"
            )));
        }
        bytes.extend(d);
    }
    if bytes.len() as u64 != total {
        return Err(Status::invalid_argument(format!(
            "{what}: cut off after {} of {total} bytes",
            bytes.len()
        )));
    }
    Ok((first, bytes))
}

/// A runtime error as the status that says whose fault it is.
fn status_of(e: orion_runtime::Error) -> Status {
    match e {
        orion_runtime::Error::MissingKey(m) => Status::failed_precondition(m),
        e => Status::invalid_argument(e.to_string()),
    }
}

/// Runs CPU-heavy work off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, Status> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Status::internal(format!("a worker failed: {e}")))
}

impl InferenceService {
    pub fn new(config: ServeConfig) -> InferenceService {
        InferenceService {
            state: Arc::new(State {
                models: config.models.into_iter().collect(),
                store: config.store,
                cache: SessionCache::new(config.key_cache_bytes),
                admission: Admission::new(config.limits),
                metrics: Metrics::default(),
                plaintext_cache_bytes: config.plaintext_cache_bytes,
                max_key_bytes: config.max_key_bytes,
                max_ciphertext_bytes: config.max_ciphertext_bytes,
                shutting_down: AtomicBool::new(false),
            }),
        }
    }

    /// Marks the server as stopping (Health says so); running requests end
    /// normally.
    pub fn begin_shutdown(&self) {
        self.state.shutting_down.store(true, Ordering::SeqCst);
    }

    fn model(&self, name: &str) -> Result<Arc<Program>, Status> {
        self.state.models.get(name).cloned().ok_or_else(|| {
            let mut served: Vec<&str> = self.state.models.keys().map(String::as_str).collect();
            served.sort_unstable();
            Status::not_found(format!(
                "unknown model '{name}' (this server serves: {})",
                served.join(", ")
            ))
        })
    }

    fn run_options(&self) -> RunOptions {
        RunOptions {
            plaintext_cache_bytes: Some(self.state.plaintext_cache_bytes),
            ..RunOptions::default()
        }
    }

    /// Decodes evaluation keys and builds their session (on a worker); its
    /// memory in bytes.
    async fn build_session(
        &self,
        program: Arc<Program>,
        keys: Bytes,
    ) -> Result<(Server, KeyId, usize), Status> {
        let opts = self.run_options();
        let budget = self.state.plaintext_cache_bytes;
        blocking(move || {
            let (keys, id) = decode_eval_keys(program.context(), keys)
                .map_err(|e| Status::invalid_argument(format!("evaluation keys: {e}")))?;
            let server = Server::new(program, keys, id, &opts).map_err(status_of)?;
            let m = server.session().memory_use();
            Ok((server, id, m.keys + m.bootstrap_matrices + budget))
        })
        .await?
    }

    /// The session of `(model, id)`: cached, or loaded from the store.
    async fn session(
        &self,
        model: &str,
        program: &Arc<Program>,
        id: KeyId,
    ) -> Result<Session, Status> {
        if let Some(s) = self.state.cache.get(model, id) {
            return Ok(s);
        }
        let keys = self
            .state
            .store
            .get(program.params_fingerprint(), id)
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?
            .ok_or_else(|| {
                Status::not_found(format!(
                    "unknown key id {id} for model '{model}': upload its evaluation keys first"
                ))
            })?;
        let (server, _, bytes) = self.build_session(program.clone(), keys).await?;
        let session = Arc::new(Mutex::new(server));
        self.state
            .cache
            .insert(model, id, session.clone(), bytes)
            .map_err(Status::resource_exhausted)?;
        Ok(session)
    }

    async fn upload(
        &self,
        request: Request<Streaming<KeyChunk>>,
    ) -> Result<UploadKeysReply, Status> {
        let mut stream = request.into_inner();
        let (first, bytes) = collect(
            &mut stream,
            "key upload",
            self.state.max_key_bytes,
            |m: &KeyChunk| m.total_bytes,
            |m| m.data,
        )
        .await?;
        let program = self.model(&first.model)?;
        let bytes = Bytes::from(bytes);
        let (server, id, memory) = self.build_session(program.clone(), bytes.clone()).await?;
        let fingerprint = program.params_fingerprint();
        self.state
            .store
            .put(fingerprint, id, bytes.clone())
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        self.state
            .cache
            .insert(&first.model, id, Arc::new(Mutex::new(server)), memory)
            .map_err(Status::resource_exhausted)?;
        Ok(UploadKeysReply {
            key_id: id.to_string(),
            params_fingerprint: format!("{fingerprint:016x}"),
            bytes: bytes.len() as u64,
        })
    }

    async fn evaluate(
        &self,
        request: Request<Streaming<InferChunk>>,
    ) -> Result<(Vec<u8>, u64), Status> {
        let mut stream = request.into_inner();
        let (first, bytes) = collect(
            &mut stream,
            "ciphertext",
            self.state.max_ciphertext_bytes,
            |m: &InferChunk| m.total_bytes,
            |m| m.data,
        )
        .await?;
        let program = self.model(&first.model)?;
        let id = parse_key_id(&first.key_id).map_err(Status::invalid_argument)?;
        let input = Encrypted::from_bytes(&program, Bytes::from(bytes))
            .map_err(|e| Status::invalid_argument(format!("ciphertext: {e}")))?;
        if input.key_id != id {
            return Err(Status::invalid_argument(format!(
                "the ciphertext is under key {}, the request names key {id}",
                input.key_id
            )));
        }
        let session = self.session(&first.model, &program, id).await?;
        let ticket = self
            .state
            .admission
            .admit(program.evaluation_bytes())
            .await?;
        let p = program.clone();
        let out = blocking(move || {
            let _ticket = ticket;
            let mut server = session.lock().unwrap_or_else(|e| e.into_inner());
            server.evaluate(input).map(|out| out.to_bytes(&p))
        })
        .await?
        .map_err(status_of)?;
        Ok((out, program.bootstraps() as u64))
    }
}

type ResultStream = Pin<Box<dyn Stream<Item = Result<ResultChunk, Status>> + Send>>;

#[tonic::async_trait]
impl Inference for InferenceService {
    async fn upload_keys(
        &self,
        request: Request<Streaming<KeyChunk>>,
    ) -> Result<Response<UploadKeysReply>, Status> {
        self.upload(request).await.map(Response::new)
    }

    type InferStream = ResultStream;

    async fn infer(
        &self,
        request: Request<Streaming<InferChunk>>,
    ) -> Result<Response<Self::InferStream>, Status> {
        let start = Instant::now();
        let metrics = &self.state.metrics;
        let (out, bootstraps) = match self.evaluate(request).await {
            Ok(r) => r,
            Err(e) => {
                metrics.failed(e.code() == tonic::Code::ResourceExhausted);
                return Err(e);
            }
        };
        metrics.served(start.elapsed(), bootstraps);
        let total = out.len() as u64;
        let chunks: Vec<Result<ResultChunk, Status>> = chunked(&out, CHUNK_BYTES)
            .enumerate()
            .map(|(i, c)| {
                Ok(ResultChunk {
                    total_bytes: if i == 0 { total } else { 0 },
                    data: c.to_vec(),
                })
            })
            .collect();
        Ok(Response::new(Box::pin(tokio_stream::iter(chunks))))
    }

    async fn health(&self, _: Request<HealthRequest>) -> Result<Response<HealthReply>, Status> {
        let mut models: Vec<ModelInfo> = self
            .state
            .models
            .iter()
            .map(|(name, p)| ModelInfo {
                name: name.clone(),
                params_fingerprint: format!("{:016x}", p.params_fingerprint()),
                input_shape: p.input_shape().iter().map(|&d| d as u64).collect(),
                bootstraps: p.bootstraps() as u32,
            })
            .collect();
        models.sort_by(|a, b| a.name.cmp(&b.name));
        let status = if self.state.shutting_down.load(Ordering::SeqCst) {
            "shutting down"
        } else {
            "serving"
        };
        Ok(Response::new(HealthReply {
            status: status.into(),
            models,
        }))
    }

    async fn stats(&self, _: Request<StatsRequest>) -> Result<Response<StatsReply>, Status> {
        Ok(Response::new(self.stats_reply()))
    }
}

impl InferenceService {
    /// The figures of the Stats call.
    pub fn stats_reply(&self) -> StatsReply {
        let m = &self.state.metrics;
        let p = m.percentiles();
        let (queued, in_flight, reserved) = self.state.admission.usage();
        let (cache_bytes, cache_entries) = self.state.cache.usage();
        let mut reply = StatsReply {
            requests: m.requests.load(Ordering::Relaxed),
            failures: m.failures.load(Ordering::Relaxed),
            rejected: m.rejected.load(Ordering::Relaxed),
            latency_p50_ms: p.p50,
            latency_p90_ms: p.p90,
            latency_p99_ms: p.p99,
            bootstraps: m.bootstraps.load(Ordering::Relaxed),
            in_flight: in_flight as u64,
            queued: queued as u64,
            memory_reserved_bytes: reserved as u64,
            key_cache_bytes: cache_bytes as u64,
            key_cache_entries: cache_entries as u64,
            prometheus: String::new(),
        };
        let mut text = String::new();
        let lines: [(&str, &str, &str, f64); 11] = [
            (
                "orion_requests_total",
                "counter",
                "inference requests",
                reply.requests as f64,
            ),
            (
                "orion_failures_total",
                "counter",
                "requests that failed",
                reply.failures as f64,
            ),
            (
                "orion_rejected_total",
                "counter",
                "requests refused by admission control",
                reply.rejected as f64,
            ),
            (
                "orion_latency_p50_ms",
                "gauge",
                "median latency of recent requests",
                reply.latency_p50_ms,
            ),
            (
                "orion_latency_p90_ms",
                "gauge",
                "90th percentile latency",
                reply.latency_p90_ms,
            ),
            (
                "orion_latency_p99_ms",
                "gauge",
                "99th percentile latency",
                reply.latency_p99_ms,
            ),
            (
                "orion_bootstraps_total",
                "counter",
                "bootstraps run",
                reply.bootstraps as f64,
            ),
            (
                "orion_in_flight",
                "gauge",
                "requests evaluating",
                reply.in_flight as f64,
            ),
            (
                "orion_queued",
                "gauge",
                "requests waiting for a slot",
                reply.queued as f64,
            ),
            (
                "orion_memory_reserved_bytes",
                "gauge",
                "memory reserved by running requests",
                reply.memory_reserved_bytes as f64,
            ),
            (
                "orion_key_cache_bytes",
                "gauge",
                "memory of cached key sets",
                reply.key_cache_bytes as f64,
            ),
        ];
        for (name, kind, help, value) in lines {
            prometheus_line(&mut text, name, kind, help, value);
        }
        reply.prometheus = text;
        reply
    }
}
