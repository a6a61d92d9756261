//! Running the service: on a listener, with TLS if given, until a shutdown
//! signal, after which running requests finish and new ones are refused.

use std::future::Future;
use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::{Identity, Server, ServerTlsConfig};

use crate::proto::inference_server::InferenceServer;
use crate::service::{InferenceService, ServeConfig};

/// A server's certificate chain and private key, PEM.
#[derive(Clone, Debug)]
pub struct TlsIdentity {
    pub cert_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
}

/// Selects rustls' crypto provider for the process (ring), once: tonic and
/// object_store both depend on rustls, and with two providers compiled in
/// rustls will not guess.
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // An error means one is installed already, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Runs a command-line tool's async body on a runtime of its own; an error
/// (already one line) is printed and gives exit status 1.
pub fn run_tool(
    multi_thread: bool,
    body: impl Future<Output = Result<(), String>>,
) -> std::process::ExitCode {
    let mut builder = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let result = match builder.enable_all().build() {
        Ok(runtime) => runtime.block_on(body),
        Err(e) => Err(format!("error: cannot start the async runtime: {e}")),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Serves `service` on `listener` until `shutdown` completes.
pub async fn serve(
    service: InferenceService,
    listener: TcpListener,
    tls: Option<TlsIdentity>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    install_crypto_provider();
    let mut builder = Server::builder();
    if let Some(t) = tls {
        let identity = Identity::from_pem(t.cert_pem, t.key_pem);
        builder = builder.tls_config(ServerTlsConfig::new().identity(identity))?;
    }
    builder
        .add_service(InferenceServer::new(service))
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
        .await
}

/// A server running in this process (tests, benchmarks): its address, a
/// handle on the service, and what stops it.
pub struct Running {
    pub addr: SocketAddr,
    pub service: InferenceService,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), tonic::transport::Error>>,
}

impl Running {
    /// Starts a server on an ephemeral loopback port.
    pub async fn start(config: ServeConfig, tls: Option<TlsIdentity>) -> std::io::Result<Running> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let service = InferenceService::new(config);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(service.clone(), listener, tls, async {
            let _ = stopped.await;
        }));
        Ok(Running {
            addr,
            service,
            stop: Some(stop),
            task,
        })
    }

    /// `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting requests, lets the running ones finish, and waits.
    pub async fn shutdown(mut self) -> Result<(), String> {
        self.service.begin_shutdown();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.await {
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        }
    }
}
