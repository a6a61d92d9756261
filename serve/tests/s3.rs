//! Two replicas sharing one key store in an S3-compatible bucket: keys
//! uploaded to one are used by the other. Needs an endpoint: set
//! ORION_TEST_S3_BUCKET and the AWS_* variables (`tools/test-all.sh` starts
//! a local one, moto's server, and runs this with `--ignored`).

mod common;

use common::*;
use orion_serve::client::RemoteClient;
use orion_serve::server::Running;
use orion_serve::store::KeyStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs an S3 endpoint (ORION_TEST_S3_BUCKET, AWS_*); tools/test-all.sh provides one"]
async fn replicas_share_a_bucket() {
    let bucket = std::env::var("ORION_TEST_S3_BUCKET").expect("ORION_TEST_S3_BUCKET");
    let url = format!("s3://{bucket}/replicas-{}", std::process::id());
    let a = Running::start(config(KeyStore::open(&url).unwrap()), None)
        .await
        .unwrap();
    let b = Running::start(config(KeyStore::open(&url).unwrap()), None)
        .await
        .unwrap();
    let program = mlp();
    let mut client = client(&program, 1);
    let mut to_a = RemoteClient::connect(&a.url(), None).await.unwrap();
    let key_id = upload(&mut to_a, MLP, &client).await;
    let mut to_b = RemoteClient::connect(&b.url(), None).await.unwrap();
    let ct = client.encrypt(&images(0, 1)[0]).unwrap().to_bytes(&program);
    let out = to_b.infer(MLP, &key_id, &ct).await.unwrap();
    let out = orion_runtime::Encrypted::from_bytes(&program, out).unwrap();
    assert_eq!(client.decrypt(out).unwrap()[0].argmax(), 7);
    assert_eq!(to_b.stats().await.unwrap().key_cache_entries, 1);
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
}
