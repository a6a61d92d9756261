//! The client/server API on a small hand-written program (rotate, add,
//! square, rescale): a client makes keys and encrypts, a server holding
//! only the evaluation keys' bytes evaluates, the client decrypts; the
//! result agrees with the cleartext interpreter within 1e-3 (26-bit scale:
//! about 2^-12 of error per slot after one product). And every bad input
//! is a typed error, not a panic.

use std::sync::Arc;

use orion_dialects::tensor::Tensor;
use orion_runtime::{Client, Encrypted, Error, LocalRun, Program, RunOptions, Server};

const LAYOUT: &str = "!pack.vec<slots = 4096, size = 4, period = 4>";

fn program_text() -> String {
    format!(
        r#"module attributes {{ckks.params = {{log_n = 13, log_q = array<i64: 29, 26, 26, 26, 26, 26>, log_p = array<i64: 29, 29>, log_scale = 26}}, ckks.rotations = array<i64: 1>}} {{
  func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {{
    %0 = ckks.encrypt %x {{layout = {LAYOUT}}} : (tensor<4xf32>) -> !ckks.ct<level = 5, log_scale = 26>
    %1 = ckks.rotate %0 {{offset = 1}} : !ckks.ct<level = 5, log_scale = 26>
    %2 = ckks.add %0, %1 : !ckks.ct<level = 5, log_scale = 26>
    %3 = ckks.mul %2, %2 : (!ckks.ct<level = 5, log_scale = 26>, !ckks.ct<level = 5, log_scale = 26>) -> !ckks.ct<level = 5, log_scale = 52, degree = 2>
    %4 = ckks.relinearize %3 : (!ckks.ct<level = 5, log_scale = 52, degree = 2>) -> !ckks.ct<level = 5, log_scale = 52>
    %5 = ckks.rescale %4 : (!ckks.ct<level = 5, log_scale = 52>) -> !ckks.ct<level = 4, log_scale = 26>
    %6 = ckks.decrypt %5 {{layout = {LAYOUT}}} : (!ckks.ct<level = 4, log_scale = 26>) -> tensor<4xf32>
    return %6 : tensor<4xf32>
  }}
}}
"#
    )
}

fn program() -> Arc<Program> {
    Arc::new(Program::parse(&program_text(), "api-test.mlir").unwrap())
}

fn seeded(seed: u64) -> RunOptions {
    RunOptions {
        seed: Some(seed),
        ..RunOptions::default()
    }
}

fn input() -> Tensor {
    Tensor::new(vec![4], vec![0.5, -0.25, 0.75, 0.125])
}

fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
    a.data
        .iter()
        .zip(&b.data)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

#[test]
fn client_and_server_apart_agree_with_the_clear_run() {
    let program = program();
    let x = input();
    let want = program.run_clear(&x).unwrap().remove(0);
    // (x_i + x_{i+1})^2: a wrong rotation or a lost rescale shows.
    assert!((want.data[0] - 0.0625).abs() < 1e-9, "{:?}", want.data);
    assert!((want.data[3] - 0.390625).abs() < 1e-9, "{:?}", want.data);

    let mut client = Client::keygen(program.clone(), &seeded(1)).unwrap();
    let request = client.encrypt(&x).unwrap().to_bytes(&program);
    let eval_keys = client.evaluation_key_bytes().unwrap();
    let mut server = Server::from_key_bytes(program.clone(), eval_keys, &seeded(2)).unwrap();
    assert_eq!(server.key_id(), client.key_id());
    let response = server
        .evaluate(Encrypted::from_bytes(&program, request).unwrap())
        .unwrap()
        .to_bytes(&program);
    let got = client
        .decrypt(Encrypted::from_bytes(&program, response).unwrap())
        .unwrap()
        .remove(0);
    let err = max_diff(&got, &want);
    assert!(
        err < 1e-3,
        "error {err:e}: {:?} vs {:?}",
        got.data,
        want.data
    );

    // The same through a client rebuilt from the key files' bytes.
    let sk = client.secret_key_bytes().unwrap();
    let pk = client.public_key_bytes().unwrap();
    let mut encryptor =
        Client::from_key_bytes(program.clone(), None::<Vec<u8>>, Some(pk), &seeded(3)).unwrap();
    let mut decryptor =
        Client::from_key_bytes(program.clone(), Some(sk), None::<Vec<u8>>, &seeded(4)).unwrap();
    assert_eq!(encryptor.key_id(), client.key_id());
    assert_eq!(decryptor.key_id(), client.key_id());
    let out = server.evaluate(encryptor.encrypt(&x).unwrap()).unwrap();
    let got = decryptor.decrypt(out).unwrap().remove(0);
    assert!(max_diff(&got, &want) < 1e-3, "{:?}", got.data);

    // And all in one process.
    let mut local = LocalRun::new(program.clone(), &seeded(5)).unwrap();
    let (outs, _) = local.run(&x).unwrap();
    assert!(max_diff(&outs[0], &want) < 1e-3, "{:?}", outs[0].data);
}

/// A memory budget that fits the keys only seeded makes the client
/// generate them seeded (half the key file), not count them seeded and
/// generate them held; the server evaluates with them as with held keys.
#[test]
fn a_budget_for_seeded_keys_generates_seeded_keys() {
    let program = program();
    let x = input();
    let want = program.run_clear(&x).unwrap().remove(0);
    let held = program.memory_estimate(&seeded(1)).unwrap().keys;
    let half = RunOptions {
        seeded_keys: true,
        ..seeded(1)
    };
    let halved = program.memory_estimate(&half).unwrap().keys;
    assert!(halved < held, "{halved} vs {held}");
    let budgeted = RunOptions {
        memory_budget: Some((held + halved) / 2),
        ..seeded(1)
    };
    let held_bytes = Client::keygen(program.clone(), &seeded(1))
        .unwrap()
        .evaluation_key_bytes()
        .unwrap()
        .len();
    let mut client = Client::keygen(program.clone(), &budgeted).unwrap();
    let eval_keys = client.evaluation_key_bytes().unwrap();
    assert!(
        10 * eval_keys.len() < 6 * held_bytes,
        "{} bytes of eval keys, {held_bytes} held",
        eval_keys.len()
    );
    let mut server = Server::from_key_bytes(program.clone(), eval_keys, &seeded(2)).unwrap();
    let out = server.evaluate(client.encrypt(&x).unwrap()).unwrap();
    let got = client.decrypt(out).unwrap().remove(0);
    assert!(max_diff(&got, &want) < 1e-3, "{:?}", got.data);
}

#[test]
fn bad_inputs_are_typed_errors() {
    let program = program();
    let mut client = Client::keygen(program.clone(), &seeded(1)).unwrap();

    let wrong_shape = Tensor::new(vec![5], vec![0.0; 5]);
    let e = client.encrypt(&wrong_shape).unwrap_err();
    assert!(matches!(e, Error::Input(_)), "{e}");
    assert!(e.to_string().contains("shape [5]"), "{e}");

    let nan = Tensor::new(vec![4], vec![0.0, f64::NAN, 0.0, 0.0]);
    let e = client.encrypt(&nan).unwrap_err();
    assert!(e.to_string().contains("element 1 is NaN"), "{e}");

    // A ciphertext under another key set, at the server and at the client.
    let mut other = Client::keygen(program.clone(), &seeded(2)).unwrap();
    let foreign = other.encrypt(&input()).unwrap();
    let mut server = Server::from_key_bytes(
        program.clone(),
        client.evaluation_key_bytes().unwrap(),
        &RunOptions::default(),
    )
    .unwrap();
    let e = server.evaluate(foreign.clone()).unwrap_err();
    assert!(matches!(e, Error::File { .. }), "{e}");
    assert!(e.to_string().contains("this evaluation key set is"), "{e}");
    let e = client.decrypt(foreign).unwrap_err();
    assert!(e.to_string().contains("this secret key is"), "{e}");

    // Truncated and bit-flipped ciphertext bytes.
    let bytes = client.encrypt(&input()).unwrap().to_bytes(&program);
    let e = Encrypted::from_bytes(&program, &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(e.to_string().contains("truncated or corrupted"), "{e}");
    let mut flipped = bytes.clone();
    let at = flipped.len() - 100;
    flipped[at] ^= 0x10;
    let e = Encrypted::from_bytes(&program, flipped).unwrap_err();
    assert!(e.to_string().contains("checksum"), "{e}");

    // Evaluation keys without the Galois key the program rotates by.
    let text = format!(
        r#"module attributes {{ckks.params = {{log_n = 13, log_q = array<i64: 29, 26, 26, 26, 26, 26>, log_p = array<i64: 29, 29>, log_scale = 26}}, ckks.rotations = array<i64>}} {{
  func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {{
    %0 = ckks.encrypt %x {{layout = {LAYOUT}}} : (tensor<4xf32>) -> !ckks.ct<level = 5, log_scale = 26>
    %1 = ckks.decrypt %0 {{layout = {LAYOUT}}} : (!ckks.ct<level = 5, log_scale = 26>) -> tensor<4xf32>
    return %1 : tensor<4xf32>
  }}
}}
"#
    );
    // Same parameters and seed: the same key set, without Galois keys.
    let no_rotation = Arc::new(Program::parse(&text, "norot.mlir").unwrap());
    let keys = Client::keygen(no_rotation, &seeded(3))
        .unwrap()
        .evaluation_key_bytes()
        .unwrap();
    let mut client3 = Client::from_key_bytes(
        program.clone(),
        None::<Vec<u8>>,
        Some(
            Client::keygen(program.clone(), &seeded(3))
                .unwrap()
                .public_key_bytes()
                .unwrap(),
        ),
        &RunOptions::default(),
    )
    .unwrap();
    let mut server3 =
        Server::from_key_bytes(program.clone(), keys, &RunOptions::default()).unwrap();
    let e = server3
        .evaluate(client3.encrypt(&input()).unwrap())
        .unwrap_err();
    assert!(matches!(e, Error::Run(_)), "{e}");
    assert!(e.to_string().contains("missing Galois key"), "{e}");

    // A client with only the public key cannot decrypt, nor export a secret.
    let ct = client3.encrypt(&input()).unwrap();
    let e = client3.decrypt(ct).unwrap_err();
    assert!(matches!(e, Error::MissingKey(_)), "{e}");
    assert!(client3.secret_key_bytes().is_err());
    assert!(client3.evaluation_key_bytes().is_err());
}

#[test]
fn programs_that_are_refused() {
    let e = Program::parse("module {", "broken.mlir").unwrap_err();
    assert!(matches!(e, Error::Program(_)), "{e}");
    assert!(e.to_string().starts_with("broken.mlir:"), "{e}");

    let nn = "module {\n  func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {\n    return %x : tensor<4xf32>\n  }\n}\n";
    let e = Program::parse(nn, "nn.mlir").unwrap_err();
    assert!(e.to_string().contains("not a ckks program"), "{e}");

    let e = Program::load("/".as_ref()).unwrap_err();
    assert!(e.to_string().contains("not a regular file"), "{e}");
    let e = Program::load("no-such-file.mlir".as_ref()).unwrap_err();
    assert!(matches!(e, Error::Unsupported { .. }), "{e}");
}
