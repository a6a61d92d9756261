//! orion-serve on loopback: keys uploaded once, 20 requests from 4
//! concurrent clients over two models, every decrypted class equal to a
//! local evaluation of the same ciphertext (what `orion-run eval` does) and
//! to the cleartext program; each kind of bad request refused with a status
//! that says why while the server keeps serving; two replicas sharing one
//! key store; TLS; graceful shutdown.

mod common;

use std::sync::Arc;

use common::*;
use orion_runtime::{Client, Encrypted, Program, RunOptions, Server};
use orion_serve::admission::Limits;
use orion_serve::client::{ClientError, RemoteClient};
use orion_serve::proto::inference_client::InferenceClient;
use orion_serve::proto::{InferChunk, KeyChunk};
use orion_serve::server::{Running, TlsIdentity};
use orion_serve::store::KeyStore;
use tonic::Code;

/// The class of a result's bytes, decrypted by `client`.
fn class_of(client: &mut Client, program: &Program, bytes: Vec<u8>) -> usize {
    let out = Encrypted::from_bytes(program, bytes).unwrap();
    client.decrypt(out).unwrap()[0].argmax()
}

fn code(e: ClientError) -> (Code, String) {
    match e {
        ClientError::Status(s) => (s.code(), s.message().to_string()),
        other => panic!("expected a status, got {other}"),
    }
}

/// A good request: the MLP on image 0, decrypted to class 7.
async fn good_request(remote: &mut RemoteClient, client: &mut Client, key_id: &str) {
    let program = mlp();
    let ct = client.encrypt(&images(0, 1)[0]).unwrap().to_bytes(&program);
    let out = remote
        .infer(MLP, key_id, &ct)
        .await
        .expect("the next good request is served");
    assert_eq!(class_of(client, &program, out), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_requests_from_four_clients_match_local_evaluation() {
    let server = Running::start(config(KeyStore::in_memory()), None)
        .await
        .unwrap();
    let mut remote = RemoteClient::connect(&server.url(), None).await.unwrap();
    let mut requests = Vec::new();
    let mut locals = Vec::new();
    for (name, program, seed, count) in [(MLP, mlp(), 1, 16), (RELU, relu_mlp(), 2, 4)] {
        let mut client = client(&program, seed);
        let keys = client.evaluation_key_bytes().unwrap();
        let reply = remote.upload_keys(name, &keys).await.unwrap();
        assert_eq!(reply.key_id, client.key_id().to_string());
        let mut local =
            Server::from_key_bytes(program.clone(), keys, &RunOptions::default()).unwrap();
        for (i, x) in images(0, count).into_iter().enumerate() {
            let ct = client.encrypt(&x).unwrap();
            // What `orion-run eval` computes locally from the same ciphertext.
            let local_class = {
                let out = local.evaluate(ct.clone()).unwrap();
                client.decrypt(out).unwrap()[0].argmax()
            };
            let clear_class = program.run_clear(&x).unwrap()[0].argmax();
            assert_eq!(local_class, clear_class, "{name} image {i}");
            requests.push((
                name,
                reply.key_id.clone(),
                ct.to_bytes(&program),
                local_class,
            ));
        }
        locals.push((name, program, client));
    }
    assert_eq!(requests.len(), 20);
    // Four clients, five requests each, all at once.
    let mut tasks = Vec::new();
    for part in requests.chunks(5).map(<[_]>::to_vec) {
        let mut remote = remote.clone();
        tasks.push(tokio::spawn(async move {
            let mut outs = Vec::new();
            for (name, key_id, ct, want) in part {
                outs.push((name, remote.infer(name, &key_id, &ct).await.unwrap(), want));
            }
            outs
        }));
    }
    let mut served = 0;
    for t in tasks {
        for (name, out, want) in t.await.unwrap() {
            let (_, program, client) = locals.iter_mut().find(|(n, _, _)| *n == name).unwrap();
            assert_eq!(class_of(client, program, out), want, "{name}");
            served += 1;
        }
    }
    assert_eq!(served, 20);
    let stats = remote.stats().await.unwrap();
    assert_eq!(stats.requests, 20);
    assert_eq!(stats.failures + stats.rejected, 0);
    assert_eq!(stats.bootstraps, 4, "one per ReLU-MLP request");
    assert!(stats.latency_p50_ms > 0.0 && stats.latency_p99_ms >= stats.latency_p50_ms);
    assert!(stats.prometheus.contains("orion_requests_total 20"));
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_and_the_server_keeps_serving() {
    let server = Running::start(config(KeyStore::in_memory()), None)
        .await
        .unwrap();
    let mut remote = RemoteClient::connect(&server.url(), None).await.unwrap();
    let program = mlp();
    let mut client = client(&program, 1);
    let key_id = upload(&mut remote, MLP, &client).await;
    let ct = client.encrypt(&images(0, 1)[0]).unwrap().to_bytes(&program);

    // A truncated ciphertext.
    let (c, m) = code(
        remote
            .infer(MLP, &key_id, &ct[..ct.len() / 2])
            .await
            .unwrap_err(),
    );
    assert_eq!(c, Code::InvalidArgument, "{m}");
    assert!(m.contains("truncated or corrupted"), "{m}");
    good_request(&mut remote, &mut client, &key_id).await;

    // A bit-flipped one.
    let mut flipped = ct.clone();
    let at = flipped.len() - 1000;
    flipped[at] ^= 0x04;
    let (c, m) = code(remote.infer(MLP, &key_id, &flipped).await.unwrap_err());
    assert_eq!(c, Code::InvalidArgument, "{m}");
    assert!(m.contains("checksum"), "{m}");
    good_request(&mut remote, &mut client, &key_id).await;

    // A ciphertext under another key set than the one named.
    let mut other = common::client(&program, 2);
    let foreign = other.encrypt(&images(0, 1)[0]).unwrap().to_bytes(&program);
    let (c, m) = code(remote.infer(MLP, &key_id, &foreign).await.unwrap_err());
    assert_eq!(c, Code::InvalidArgument, "{m}");
    assert!(m.contains("the ciphertext is under key"), "{m}");
    // ... or naming its own key set, never uploaded.
    let (c, m) = code(
        remote
            .infer(MLP, &other.key_id().to_string(), &foreign)
            .await
            .unwrap_err(),
    );
    assert_eq!(c, Code::NotFound, "{m}");
    assert!(m.contains("unknown key id"), "{m}");
    good_request(&mut remote, &mut client, &key_id).await;

    // An unknown model, a malformed key id.
    let (c, m) = code(remote.infer("resnet", &key_id, &ct).await.unwrap_err());
    assert_eq!(c, Code::NotFound, "{m}");
    assert!(
        m.contains("unknown model 'resnet'") && m.contains("mlp"),
        "{m}"
    );
    let (c, _) = code(remote.infer(MLP, "not-a-key", &ct).await.unwrap_err());
    assert_eq!(c, Code::InvalidArgument);
    good_request(&mut remote, &mut client, &key_id).await;

    // A key upload cut off half way: fewer bytes than announced.
    let keys = other.evaluation_key_bytes().unwrap();
    let mut raw = InferenceClient::connect(server.url()).await.unwrap();
    let half: Vec<KeyChunk> = keys[..keys.len() / 2]
        .chunks(1 << 20)
        .enumerate()
        .map(|(i, c)| KeyChunk {
            model: if i == 0 { MLP.into() } else { String::new() },
            total_bytes: if i == 0 { keys.len() as u64 } else { 0 },
            data: c.to_vec(),
        })
        .collect();
    let s = raw.upload_keys(tokio_stream::iter(half)).await.unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument, "{}", s.message());
    assert!(s.message().contains("cut off after"), "{}", s.message());
    // Evaluation keys of other parameters (the ReLU MLP's, for the MLP).
    let relu_keys = common::client(&relu_mlp(), 5)
        .evaluation_key_bytes()
        .unwrap();
    let (c, m) = code(remote.upload_keys(MLP, &relu_keys).await.unwrap_err());
    assert_eq!(c, Code::InvalidArgument, "{m}");
    assert!(m.contains("made for different CKKS parameters"), "{m}");
    // A secret key offered as evaluation keys.
    let sk = client.secret_key_bytes().unwrap();
    let (c, m) = code(remote.upload_keys(MLP, &sk).await.unwrap_err());
    assert_eq!(c, Code::InvalidArgument, "{m}");
    assert!(m.contains("found a secret key file"), "{m}");
    good_request(&mut remote, &mut client, &key_id).await;

    // One message over gRPC's size limit (clients chunk; this one did not).
    let big = vec![InferChunk {
        model: MLP.into(),
        key_id: key_id.clone(),
        total_bytes: 5 << 20,
        data: vec![0u8; 5 << 20],
    }];
    let s = raw.infer(tokio_stream::iter(big)).await.unwrap_err();
    assert!(
        matches!(s.code(), Code::OutOfRange | Code::ResourceExhausted),
        "{:?}: {}",
        s.code(),
        s.message()
    );
    // A ciphertext announced larger than the server accepts.
    let huge = vec![InferChunk {
        model: MLP.into(),
        key_id: key_id.clone(),
        total_bytes: 1 << 40,
        data: Vec::new(),
    }];
    let s = raw.infer(tokio_stream::iter(huge)).await.unwrap_err();
    assert_eq!(s.code(), Code::ResourceExhausted, "{}", s.message());
    good_request(&mut remote, &mut client, &key_id).await;
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_beyond_the_memory_budget_is_refused() {
    // Room for the MLP's evaluation, not for the bootstrapping one's.
    let (small, large) = (mlp().evaluation_bytes(), relu_mlp().evaluation_bytes());
    assert!(small < large);
    let mut config = config(KeyStore::in_memory());
    config.limits = Limits {
        max_concurrent: 2,
        max_queue: 4,
        memory_budget: (small + large) / 2,
    };
    let server = Running::start(config, None).await.unwrap();
    let mut remote = RemoteClient::connect(&server.url(), None).await.unwrap();
    let relu = relu_mlp();
    let mut relu_client = client(&relu, 3);
    let relu_id = upload(&mut remote, RELU, &relu_client).await;
    let ct = relu_client
        .encrypt(&images(0, 1)[0])
        .unwrap()
        .to_bytes(&relu);
    let (c, m) = code(remote.infer(RELU, &relu_id, &ct).await.unwrap_err());
    assert_eq!(c, Code::ResourceExhausted, "{m}");
    assert!(m.contains("memory budget"), "{m}");
    let mut client = client(&mlp(), 1);
    let key_id = upload(&mut remote, MLP, &client).await;
    good_request(&mut remote, &mut client, &key_id).await;
    let stats = remote.stats().await.unwrap();
    assert_eq!((stats.rejected, stats.memory_reserved_bytes), (1, 0));
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_one_key_store() {
    let dir = std::env::temp_dir().join(format!("orion-serve-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let open = || KeyStore::open(dir.to_str().unwrap()).unwrap();
    let a = Running::start(config(open()), None).await.unwrap();
    let b = Running::start(config(open()), None).await.unwrap();
    let mut client = client(&mlp(), 1);
    let mut to_a = RemoteClient::connect(&a.url(), None).await.unwrap();
    let key_id = upload(&mut to_a, MLP, &client).await;
    // Replica B never saw the upload: it loads the keys from the store.
    let mut to_b = RemoteClient::connect(&b.url(), None).await.unwrap();
    good_request(&mut to_b, &mut client, &key_id).await;
    assert_eq!(to_b.stats().await.unwrap().key_cache_entries, 1);
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_on_loopback() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let tls = TlsIdentity {
        cert_pem: cert.cert.pem().into_bytes(),
        key_pem: cert.signing_key.serialize_pem().into_bytes(),
    };
    let server = Running::start(config(KeyStore::in_memory()), Some(tls))
        .await
        .unwrap();
    let url = format!("https://localhost:{}", server.addr.port());
    // Without the authority's certificate the handshake fails.
    assert!(
        RemoteClient::connect(&url, None).await.is_err() || {
            let mut c = RemoteClient::connect(&url, None).await.unwrap();
            c.health().await.is_err()
        }
    );
    let mut remote = RemoteClient::connect(&url, Some(cert.cert.pem().as_bytes()))
        .await
        .unwrap();
    assert_eq!(remote.health().await.unwrap().status, "serving");
    let mut client = client(&mlp(), 1);
    let key_id = upload(&mut remote, MLP, &client).await;
    good_request(&mut remote, &mut client, &key_id).await;
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shutdown_lets_the_running_request_finish() {
    let server = Running::start(config(KeyStore::in_memory()), None)
        .await
        .unwrap();
    let mut remote = RemoteClient::connect(&server.url(), None).await.unwrap();
    let relu = relu_mlp();
    let mut client = client(&relu, 4);
    let key_id = upload(&mut remote, RELU, &client).await;
    let x = images(1, 1).remove(0);
    let want = relu.run_clear(&x).unwrap()[0].argmax();
    let ct = client.encrypt(&x).unwrap().to_bytes(&relu);
    let mut r = remote.clone();
    let running = tokio::spawn(async move { r.infer(RELU, &key_id, &ct).await });
    // Wait until it is evaluating, then stop the server.
    for _ in 0..200 {
        if remote.stats().await.unwrap().in_flight == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let url = server.url();
    server.shutdown().await.unwrap();
    let out = running
        .await
        .unwrap()
        .expect("the running request finished");
    assert_eq!(class_of(&mut client, &relu, out), want);
    // The server is gone now.
    assert!(RemoteClient::connect(&url, None).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_lists_the_models() {
    let server = Running::start(config(KeyStore::in_memory()), None)
        .await
        .unwrap();
    let mut remote = RemoteClient::connect(&server.url(), None).await.unwrap();
    let h = remote.health().await.unwrap();
    assert_eq!(h.status, "serving");
    let names: Vec<&str> = h.models.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, [MLP, RELU]);
    assert_eq!(h.models[0].input_shape, [1, 1, 28, 28]);
    assert_eq!(h.models[1].bootstraps, 1);
    server.shutdown().await.unwrap();
    let _ = Arc::strong_count(&mlp());
}
