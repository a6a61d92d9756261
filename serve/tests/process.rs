//! The `orion-serve` binary as a separate process: a client's secret and
//! public keys offered to it are refused, so that its key store only ever
//! holds evaluation-key files, and it never has a key file of the client
//! open; SIGTERM stops it cleanly.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use orion_ckks::serialize::{read_header, FileKind};
use orion_serve::client::RemoteClient;

struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Files the process has open (the targets of /proc/PID/fd).
fn open_files(pid: u32) -> Vec<String> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                .map(|p| p.display().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_process_never_holds_a_secret_key() {
    let dir = std::env::temp_dir().join(format!("orion-serve-process-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("client")).unwrap();
    let program = mlp();
    let program_path = dir.join("mlp.ckks.mlir");
    std::fs::write(
        &program_path,
        orion_dialects::print_module(program.module(), &Default::default()),
    )
    .unwrap();
    // The client's key files, as `orion-run keygen` writes them.
    let mut client = client(&program, 1);
    let sk = client.secret_key_bytes().unwrap();
    let pk = client.public_key_bytes().unwrap();
    let ek = client.evaluation_key_bytes().unwrap();
    for (name, bytes) in [("secret.key", &sk), ("public.key", &pk), ("eval.keys", &ek)] {
        std::fs::write(dir.join("client").join(name), bytes).unwrap();
    }
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let store = dir.join("store");
    let served = Served(
        Command::new(env!("CARGO_BIN_EXE_orion-serve"))
            .arg("--model")
            .arg(format!("mlp={}", program_path.display()))
            .arg("--key-store")
            .arg(&store)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--quiet")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let url = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    let mut remote = loop {
        match RemoteClient::connect(&url, None).await {
            Ok(r) => break r,
            Err(e) if start.elapsed() > Duration::from_secs(30) => panic!("{e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    for (what, bytes) in [("secret", &sk), ("public", &pk)] {
        let e = remote
            .upload_keys(MLP, bytes)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("found a {what} key file")), "{e}");
    }
    let key_id = remote.upload_keys(MLP, &ek).await.unwrap().key_id;
    let ct = client.encrypt(&images(0, 1)[0]).unwrap().to_bytes(&program);
    let out = remote.infer(MLP, &key_id, &ct).await.unwrap();
    let out = orion_runtime::Encrypted::from_bytes(&program, out).unwrap();
    assert_eq!(client.decrypt(out).unwrap()[0].argmax(), 7);

    let pid = served.0.id();
    let files = open_files(pid);
    assert!(!files.is_empty(), "cannot read /proc/{pid}/fd");
    let client_dir = dir.join("client").display().to_string();
    assert!(
        !files
            .iter()
            .any(|f| f.starts_with(&client_dir) || f.ends_with(".key")),
        "{files:?}"
    );
    // Everything in the store is an evaluation-key file.
    let mut stored = Vec::new();
    for sub in std::fs::read_dir(&store).unwrap() {
        for f in std::fs::read_dir(sub.unwrap().path()).unwrap() {
            stored.push(f.unwrap().path());
        }
    }
    assert_eq!(stored.len(), 1, "{stored:?}");
    for f in &stored {
        let header = read_header(std::fs::read(f).unwrap()).unwrap();
        assert_eq!(header.kind, FileKind::EvalKeys as i32, "{}", f.display());
    }

    // SIGTERM: a clean exit.
    let mut child = served;
    send_sigterm(pid);
    let status = wait(&mut child.0, Duration::from_secs(30));
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    std::fs::remove_dir_all(&dir).ok();
}

fn send_sigterm(pid: u32) {
    let ok = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "kill -TERM {pid}");
}

fn wait(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(s)) = child.try_wait() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}
