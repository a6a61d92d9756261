//! orion-serve: encrypted inference over gRPC (tonic). The server loads
//! compiled `ckks` programs, takes clients' evaluation keys (never a secret
//! or public key) into a shared key store, and evaluates ciphertexts under
//! admission control; see `docs/serving.md`.
//!
//! - [`service`]: the gRPC service (upload, infer, health, stats);
//! - [`store`]: the key store (a directory or an S3-compatible bucket);
//! - [`cache`]: decoded key sets in memory, LRU under a byte budget;
//! - [`admission`]: concurrency, a bounded queue, a memory budget;
//! - [`metrics`]: counters, latency percentiles, Prometheus text;
//! - [`client`]: the client side for Rust front ends;
//! - [`chunks`]: how large data is cut into messages;
//! - [`server`]: starting and stopping a server (TLS, graceful shutdown).

pub mod admission;
pub mod cache;
pub mod chunks;
pub mod client;
pub mod metrics;
pub mod server;
pub mod service;
pub mod store;

/// The generated protobuf messages and gRPC stubs.
#[allow(clippy::all, missing_docs)]
pub mod proto {
    tonic::include_proto!("orion.serve.v1");
}
