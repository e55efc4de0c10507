//! The listener: TLS (rustls), HTTP/1.1 and HTTP/2 (hyper), routing, limits, graceful
//! shutdown. `/core` takes CORE envelopes; `/core?wsdl` and the XSD publish the contract;
//! `/live` and `/ready` are for orchestrators; `/metrics`, with them, is on the admin listener
//! (`metrics`).

mod audit;
mod batch;
mod config;
mod connection_threads;
mod control;
mod handler;
pub mod metrics;
mod realtime;
pub mod retrieval;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

pub use config::{ServeConfig, Settings};
use connection_threads::ConnectionThreads;

use crate::auth::LockoutPolicy;
use crate::auth::cache::CredentialCache;
use crate::core::validate::Rules;
use crate::payer::PlanIdentity;
use crate::payer::cache::CachedPlan;
use crate::store::Store;

/// Everything a request handler shares.
#[derive(Debug)]
pub struct AppState {
    pub store: Store,
    pub plan: CachedPlan<Store>,
    pub identity: PlanIdentity,
    pub rules: Rules,
    pub lockout: LockoutPolicy,
    /// Recent verified sign-ins (see `auth::cache` for why and for how long).
    pub signins: CredentialCache,
    pub audit: audit::AuditLog,
    pub metrics: metrics::Metrics,
    pub limits: Limits,
    /// Wakes this process's batch workers when a submission is stored.
    pub queue_wake: Arc<tokio::sync::Notify>,
    /// ISA13 and GS06 of real-time answers.
    pub control_numbers: control::ControlNumbers,
}

/// Bounds on what a request may cost.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest request body accepted. Multipart payloads (MTOM attachments, the MIME Payload
    /// field) are spooled to disk as they arrive, so this can be large.
    pub max_body_bytes: u64,
    /// Largest body, or part, held in memory: a plain SOAP request, an MTOM root part, a
    /// metadata field. Larger payloads must come as MTOM or MIME attachments.
    pub max_inline_bytes: u64,
    /// Payloads larger than this go to a temporary file while the request is read.
    pub spool_memory_bytes: usize,
    /// Directory for those files (the system temporary directory when `None`).
    pub spool_dir: Option<std::path::PathBuf>,
    /// Time allowed to receive a body held in memory (plain SOAP).
    pub body_timeout: Duration,
    /// Time allowed to receive a streamed (multipart) body: large uploads take a while.
    pub upload_timeout: Duration,
    /// Longest pause between two pieces of any body.
    pub idle_timeout: Duration,
    /// Time allowed for the TLS handshake.
    pub handshake_timeout: Duration,
    /// Real-time answers must be ready within this, counted from the request's arrival (CORE
    /// allows 20 s end to end).
    pub realtime_deadline: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024 * 1024,
            max_inline_bytes: 32 * 1024 * 1024,
            spool_memory_bytes: 1024 * 1024,
            spool_dir: None,
            body_timeout: Duration::from_secs(60),
            upload_timeout: Duration::from_secs(3600),
            idle_timeout: Duration::from_secs(30),
            handshake_timeout: Duration::from_secs(10),
            realtime_deadline: Duration::from_secs(10),
        }
    }
}

/// A running server: its address, and a way to stop it.
#[derive(Debug)]
pub struct Running {
    pub addr: SocketAddr,
    /// The admin listener's address (`/metrics`, `/live`, `/ready`), when one was configured.
    pub metrics_addr: Option<SocketAddr>,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops accepting, lets requests in flight finish (up to 10 s), writes the last audit
    /// records, and returns.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Binds and starts serving in the background.
pub async fn start(settings: Settings) -> Result<Running, ServeError> {
    let tls = tls::server_config(
        &settings.tls_cert,
        &settings.tls_key,
        settings.client_ca.as_deref(),
    )
    .map_err(|e| ServeError(e.to_string()))?;
    let store = Store::open(&settings.database)
        .await
        .map_err(|e| ServeError(format!("{}: {e}", settings.database)))?;
    let metrics = metrics::Metrics::default();
    let (audit, audit_writer) = audit::AuditLog::start(store.clone(), metrics.audit());
    let state = Arc::new(AppState {
        plan: CachedPlan::new(store.clone()),
        store,
        identity: settings.identity.clone(),
        rules: Rules {
            receiver_ids: settings.receiver_ids.clone(),
        },
        lockout: LockoutPolicy::default(),
        signins: CredentialCache::default(),
        audit,
        metrics,
        limits: settings.limits,
        queue_wake: Arc::new(tokio::sync::Notify::new()),
        control_numbers: control::ControlNumbers::default(),
    });
    let listener = TcpListener::bind(settings.listen)
        .await
        .map_err(|e| ServeError(format!("{}: {e}", settings.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| ServeError(e.to_string()))?;
    let admin_listener = match settings.metrics_listen {
        Some(a) => Some(
            TcpListener::bind(a)
                .await
                .map_err(|e| ServeError(format!("metrics listener {a}: {e}")))?,
        ),
        None => None,
    };
    let metrics_addr = admin_listener
        .as_ref()
        .map(TcpListener::local_addr)
        .transpose()
        .map_err(|e| ServeError(e.to_string()))?;
    let threads =
        ConnectionThreads::start().map_err(|e| ServeError(format!("connection threads: {e}")))?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let acceptor = TlsAcceptor::from(tls);
    let mut worker_config = settings.worker.clone();
    worker_config.identity = settings.identity.clone();
    let workers = crate::worker::spawn(
        state.store.clone(),
        worker_config,
        settings.workers,
        state.queue_wake.clone(),
        stopped.clone(),
    );
    let retention = settings.retention.clone().map(|r| {
        tokio::spawn(crate::worker::retention::run(
            state.store.clone(),
            r,
            stopped.clone(),
        ))
    });
    let admin = admin_listener
        .map(|l| tokio::spawn(metrics::serve_admin(l, state.clone(), stopped.clone())));
    let task = tokio::spawn(async move {
        accept_loop(listener, acceptor, state, &threads, stopped).await;
        if let Some(a) = admin {
            let _ = a.await;
        }
        // Workers finish the submission in hand; an unfinished one is taken again later.
        for w in workers {
            let _ = w.await;
        }
        if let Some(r) = retention {
            let _ = r.await;
        }
        // Every request has finished and dropped its handle: the writer drains and ends.
        let _ = audit_writer.await;
        // Last: a database connection opened while serving a request is registered with that
        // connection thread's reactor, and the writer may have used it to drain.
        threads.stop().await;
    });
    Ok(Running {
        addr,
        metrics_addr,
        stop,
        task,
    })
}

/// A storage failure as the client sees it: unavailable (retry later) when the database is
/// down or busy, otherwise the gateway's own fault.
pub(crate) fn store_failure(e: &crate::store::StoreError) -> crate::core::Failure {
    use crate::core::Kind;
    tracing::warn!(error = %e, "storage failed while serving a request");
    crate::core::Failure::new(
        if e.is_retryable() {
            Kind::Unavailable
        } else {
            Kind::Internal
        },
        "",
    )
}

/// Why the server could not start (the operator's to fix).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ServeError(String);

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    state: Arc<AppState>,
    threads: &ConnectionThreads,
    stopped: tokio::sync::watch::Receiver<bool>,
) {
    let stop = stopped.clone();
    let serve = |tcp: tokio::net::TcpStream, peer: SocketAddr| {
        let _ = tcp.set_nodelay(true);
        let (acceptor, state, stop) = (acceptor.clone(), state.clone(), stop.clone());
        let serve = move |tcp| serve_connection(tcp, peer, acceptor, state, stop);
        match threads.serve(tcp, serve) {
            Ok(served) => Some(served.finished()),
            Err(e) => {
                tracing::warn!(%peer, error = %e, "connection not handed over");
                None
            }
        }
    };
    accept_until_stopped(listener, stopped, Duration::from_secs(10), serve).await;
}

/// Accepts connections until `stopped` and hands each to `serve`, whose future (if any) ends
/// with the connection; then gives the connections in progress `drain` to finish (each watches
/// `stopped` and ends gracefully) before dropping the rest.
pub(crate) async fn accept_until_stopped<F, Fut>(
    listener: TcpListener,
    mut stopped: tokio::sync::watch::Receiver<bool>,
    drain: Duration,
    mut serve: F,
) where
    F: FnMut(tokio::net::TcpStream, SocketAddr) -> Option<Fut>,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            accepted = listener.accept() => {
                match accepted {
                    Ok((tcp, peer)) => {
                        if let Some(connection) = serve(tcp, peer) {
                            connections.spawn(connection);
                        }
                    }
                    Err(e) => {
                        // Out of file descriptors and the like: pause rather than spin.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    let finish = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(drain, finish).await.is_err() {
        connections.abort_all();
    }
}

/// Runs a hyper connection until it ends, or until `stopped`, when it finishes the request in
/// hand and closes. A macro: hyper's connection types share no trait for `graceful_shutdown`.
macro_rules! serve_until_stopped {
    ($conn:expr, $peer:expr, $stopped:expr) => {{
        let conn = $conn;
        tokio::pin!(conn);
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(peer = %$peer, error = %e, "connection ended with an error");
                }
            }
            _ = $stopped.changed() => {
                conn.as_mut().graceful_shutdown();
                let _ = conn.await;
            }
        }
    }};
}
pub(crate) use serve_until_stopped;

async fn serve_connection(
    tcp: tokio::net::TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    state: Arc<AppState>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let handshake = tokio::time::timeout(state.limits.handshake_timeout, acceptor.accept(tcp));
    let tls = match handshake.await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            return;
        }
    };
    let client_cert = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .map(tls::fingerprint);
    let conn_state = state.clone();
    let service = hyper::service::service_fn(move |req| {
        let state = conn_state.clone();
        let cert = client_cert.clone();
        async move { Ok::<_, std::convert::Infallible>(handler::handle(state, req, cert).await) }
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30));
    serve_until_stopped!(
        builder.serve_connection(TokioIo::new(tls), service),
        peer,
        stopped
    );
}
