//! `Client` (keys, encryption, decryption), `Server` (evaluation with the
//! evaluation keys only) and `Ciphertext` (bytes on the wire).

use std::path::PathBuf;
use std::sync::Arc;

use orion_runtime::{Encrypted, RunOptions};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::arrays::input_tensor;
use crate::errors::orion_err;
use crate::program::{first_output, Program};

/// Encrypted input or output of a program, under one key set.
#[pyclass(module = "orion_rs._native", name = "Ciphertext", frozen)]
pub struct Ciphertext {
    inner: Encrypted,
    program: Arc<orion_runtime::Program>,
}

#[pymethods]
impl Ciphertext {
    /// The versioned file bytes (parameter fingerprint, key id, checksum).
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.to_bytes(&self.program))
    }

    /// Reads ciphertext bytes of `program`'s parameters.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, program: &Program, data: Vec<u8>) -> PyResult<Ciphertext> {
        let p = program.inner.clone();
        let inner = py
            .detach(|| Encrypted::from_bytes(&p, data))
            .map_err(orion_err)?;
        Ok(Ciphertext {
            inner,
            program: program.inner.clone(),
        })
    }

    /// The id of the key set (hex).
    #[getter]
    fn key_id(&self) -> String {
        self.inner.key_id.to_string()
    }

    /// How many ciphertexts it holds (a layout may span several).
    fn __len__(&self) -> usize {
        self.inner.ciphertexts.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "Ciphertext({} ciphertext(s), key {})",
            self.inner.ciphertexts.len(),
            self.inner.key_id
        )
    }
}

/// The largest key file read (evaluation keys at LogN 16 are ~6 GB).
const MAX_KEY_FILE_BYTES: u64 = 64 << 30;

/// Bytes given directly, or read from a path.
fn bytes_or_file(data: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<u8>> {
    if let Ok(b) = data.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    let path: PathBuf = if data.is_instance_of::<PyString>() {
        PathBuf::from(data.extract::<String>()?)
    } else {
        data.extract().map_err(|_| {
            orion_err(format!(
                "error: {what}: expected bytes or a path, got {}",
                data.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ))
        })?
    };
    orion_dialects::files::read_regular(&path, MAX_KEY_FILE_BYTES)
        .map_err(|e| orion_err(format!("error: {e}")))
}

/// The party that holds the secret key: makes the keys, encrypts inputs,
/// decrypts results.
#[pyclass(module = "orion_rs._native", name = "Client")]
pub struct Client {
    program: Arc<orion_runtime::Program>,
    inner: Option<orion_runtime::Client>,
}

impl Client {
    fn client(&mut self) -> PyResult<&mut orion_runtime::Client> {
        self.inner.as_mut().ok_or_else(|| {
            orion_err("error: this client has no keys: call keygen() or give its key files")
        })
    }
}

#[pymethods]
impl Client {
    /// A client of `program`; with `secret_key` and/or `public_key` (bytes
    /// or paths of key files) it uses those, else `keygen()` makes them.
    #[new]
    #[pyo3(signature = (program, *, secret_key = None, public_key = None, seed = None))]
    fn new(
        py: Python<'_>,
        program: &Program,
        secret_key: Option<Bound<'_, PyAny>>,
        public_key: Option<Bound<'_, PyAny>>,
        seed: Option<u64>,
    ) -> PyResult<Client> {
        let sk = secret_key
            .map(|k| bytes_or_file(&k, "secret_key"))
            .transpose()?;
        let pk = public_key
            .map(|k| bytes_or_file(&k, "public_key"))
            .transpose()?;
        let p = program.inner.clone();
        let inner = if sk.is_some() || pk.is_some() {
            let opts = RunOptions {
                seed,
                ..RunOptions::default()
            };
            let c = py
                .detach(|| orion_runtime::Client::from_key_bytes(p, sk, pk, &opts))
                .map_err(orion_err)?;
            Some(c)
        } else {
            None
        };
        Ok(Client {
            program: program.inner.clone(),
            inner,
        })
    }

    /// Generates a key set: secret, public and evaluation keys.
    #[pyo3(signature = (*, seed = None, quiet = false))]
    fn keygen(&mut self, py: Python<'_>, seed: Option<u64>, quiet: bool) -> PyResult<()> {
        let opts = RunOptions {
            seed,
            progress: !quiet,
            ..RunOptions::default()
        };
        let p = self.program.clone();
        let c = py
            .detach(|| orion_runtime::Client::keygen(p, &opts))
            .map_err(orion_err)?;
        self.inner = Some(c);
        Ok(())
    }

    /// The id of the key set (hex).
    #[getter]
    fn key_id(&mut self) -> PyResult<String> {
        Ok(self.client()?.key_id().to_string())
    }

    /// Encrypts one input (a float32/float64 array of the program's input
    /// shape, or of that shape without its size-1 dimensions).
    fn encrypt(&mut self, py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<Ciphertext> {
        let x = input_tensor(x, self.program.input_shape())?;
        let client = self.client()?;
        let inner = py.detach(|| client.encrypt(&x)).map_err(orion_err)?;
        Ok(Ciphertext {
            inner,
            program: self.program.clone(),
        })
    }

    /// Decrypts a result of the server: the program's output as a float64
    /// array. A NaN or infinite value is an error, never a result.
    fn decrypt<'py>(&mut self, py: Python<'py>, ct: &Ciphertext) -> PyResult<Bound<'py, PyAny>> {
        let client = self.client()?;
        let input = ct.inner.clone();
        let outs = py.detach(|| client.decrypt(input)).map_err(orion_err)?;
        if let Some(v) = outs.iter().flat_map(|t| &t.data).find(|v| !v.is_finite()) {
            return Err(orion_err(format!(
                "error: the decrypted output holds {v}: the encrypted run failed numerically"
            )));
        }
        first_output(py, outs)
    }

    /// The evaluation keys (what a server needs, nothing that decrypts): as
    /// bytes, or written to `path` when one is given.
    #[pyo3(signature = (path = None))]
    fn evaluation_keys<'py>(
        &mut self,
        py: Python<'py>,
        path: Option<PathBuf>,
    ) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let client = self.client()?;
        let bytes = py
            .detach(|| client.evaluation_key_bytes())
            .map_err(orion_err)?;
        write_or_return(py, bytes, path)
    }

    /// The secret key's file bytes (or written to `path`).
    #[pyo3(signature = (path = None))]
    fn secret_key<'py>(
        &mut self,
        py: Python<'py>,
        path: Option<PathBuf>,
    ) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let bytes = self.client()?.secret_key_bytes().map_err(orion_err)?;
        write_or_return(py, bytes, path)
    }

    /// The public key's file bytes (or written to `path`).
    #[pyo3(signature = (path = None))]
    fn public_key<'py>(
        &mut self,
        py: Python<'py>,
        path: Option<PathBuf>,
    ) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let bytes = self.client()?.public_key_bytes().map_err(orion_err)?;
        write_or_return(py, bytes, path)
    }
}

fn write_or_return(
    py: Python<'_>,
    bytes: Vec<u8>,
    path: Option<PathBuf>,
) -> PyResult<Option<Bound<'_, PyBytes>>> {
    match path {
        None => Ok(Some(PyBytes::new(py, &bytes))),
        Some(p) => {
            std::fs::write(&p, &bytes)
                .map_err(|e| orion_err(format!("error: {}: {e}", p.display())))?;
            Ok(None)
        }
    }
}

/// Evaluates a program on ciphertexts with one client's evaluation keys;
/// it never holds a secret or public key.
#[pyclass(module = "orion_rs._native", name = "Server")]
pub struct Server {
    program: Arc<orion_runtime::Program>,
    inner: orion_runtime::Server,
}

#[pymethods]
impl Server {
    /// A server of `program` on `evaluation_keys` (bytes or a path).
    #[new]
    #[pyo3(signature = (program, evaluation_keys, *, quiet = true))]
    fn new(
        py: Python<'_>,
        program: &Program,
        evaluation_keys: &Bound<'_, PyAny>,
        quiet: bool,
    ) -> PyResult<Server> {
        let bytes = bytes_or_file(evaluation_keys, "evaluation_keys")?;
        let p = program.inner.clone();
        let opts = RunOptions {
            progress: !quiet,
            ..RunOptions::default()
        };
        let inner = py
            .detach(|| orion_runtime::Server::from_key_bytes(p, bytes, &opts))
            .map_err(orion_err)?;
        Ok(Server {
            program: program.inner.clone(),
            inner,
        })
    }

    /// The key set whose ciphertexts it evaluates (hex).
    #[getter]
    fn key_id(&self) -> String {
        self.inner.key_id().to_string()
    }

    /// Evaluates the program on an encrypted input; the result is under the
    /// same key set.
    fn evaluate(&mut self, py: Python<'_>, ct: &Ciphertext) -> PyResult<Ciphertext> {
        let server = &mut self.inner;
        let input = ct.inner.clone();
        let inner = py.detach(|| server.evaluate(input)).map_err(orion_err)?;
        Ok(Ciphertext {
            inner,
            program: self.program.clone(),
        })
    }
}
