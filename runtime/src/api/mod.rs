//! The one API every front end uses (`orion-run`, a server, the Python
//! package): a compiled program plus keys.
//!
//! - [`Program`]: a `ckks` program, parsed and verified, with its context;
//! - [`Client`]: keygen, encrypt, decrypt, export of the evaluation keys;
//! - [`Server`]: evaluation with the evaluation keys only;
//! - [`Encrypted`]: ciphertexts with their key set, to and from bytes;
//! - [`LocalRun`]: all of it in one process;
//! - [`Error`]: what can go wrong, one line each.
//!
//! ```no_run
//! use std::sync::Arc;
//! use orion_runtime::{Client, Encrypted, Program, RunOptions, Server};
//! use orion_dialects::tensor::Tensor;
//!
//! # fn main() -> Result<(), orion_runtime::Error> {
//! let program = Arc::new(Program::load("mlp.ckks.mlir".as_ref())?);
//! let opts = RunOptions::default();
//! // Client: keys, and an encrypted input.
//! let mut client = Client::keygen(program.clone(), &opts)?;
//! let x = Tensor::new(program.input_shape().to_vec(), vec![0.5; 784]);
//! let request = client.encrypt(&x)?.to_bytes(&program);
//! let eval_keys = client.evaluation_key_bytes()?;
//! // Server: evaluation keys only.
//! let mut server = Server::from_key_bytes(program.clone(), eval_keys, &opts)?;
//! let input = Encrypted::from_bytes(&program, request)?;
//! let response = server.evaluate(input)?.to_bytes(&program);
//! // Client: the logits.
//! let logits = client.decrypt(Encrypted::from_bytes(&program, response)?)?;
//! println!("class {}", logits[0].argmax());
//! # Ok(())
//! # }
//! ```

mod client;
mod encrypted;
mod error;
mod local;
mod program;
mod server;

pub use client::Client;
pub use encrypted::Encrypted;
pub use error::Error;
pub use local::LocalRun;
pub use program::Program;
pub use server::Server;
