//! Prometheus metrics, and the admin listener that serves them with `/live` and `/ready`.
//!
//! The admin listener (`--metrics-listen`, off unless configured) is plain HTTP for the plan's
//! own monitoring on a private interface, not the partners' TLS port: metrics aggregate every
//! partner's traffic, so they name none (no organization, user or PayloadID label), and
//! partners have no business reading them.
//!
//! Each exchange on `/core` is counted in one place, beside its log line
//! (`handler::core_request`); the audit writer counts the records it writes, retries and loses.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;

use super::AppState;
use super::handler::{self, Body};

/// Labels of one exchange: what was asked, how, and the CORE ErrorCode it was answered with
/// (`Success` included). All from fixed sets, so the number of series is bounded.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ExchangeLabels {
    operation: &'static str,
    wire: &'static str,
    error_code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: &'static str,
}

/// Label value when the request never got as far as naming an operation or a wire.
const UNKNOWN: &str = "unknown";

/// What the audit writer reports (cheap to clone: the counts are shared).
#[derive(Clone, Debug, Default)]
pub struct AuditCounters {
    /// Records committed.
    pub written: Counter,
    /// Batch writes that failed with a retryable error and were tried again.
    pub retried: Counter,
    /// Records refused by the database, each written alone, that still failed: lost.
    pub lost: Counter,
}

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    exchanges: Family<ExchangeLabels, Counter>,
    durations: Family<OperationLabels, Histogram, fn() -> Histogram>,
    audit: AuditCounters,
    audit_queued: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("hts");
        let exchanges = Family::<ExchangeLabels, Counter>::default();
        registry.register(
            "core_requests",
            "Exchanges on /core, by operation, wire and CORE ErrorCode of the answer",
            exchanges.clone(),
        );
        // 0.5 ms to 16 s: real-time answers take milliseconds, CORE allows 20 s.
        let durations =
            Family::<OperationLabels, Histogram, fn() -> Histogram>::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.0005, 2.0, 16))
            });
        registry.register(
            "core_request_duration_seconds",
            "Time from a request's arrival on /core to its answer",
            durations.clone(),
        );
        let audit = AuditCounters::default();
        registry.register(
            "audit_records_written",
            "Audit records committed",
            audit.written.clone(),
        );
        registry.register(
            "audit_write_retries",
            "Audit batch writes tried again after a retryable database error",
            audit.retried.clone(),
        );
        registry.register(
            "audit_records_lost",
            "Audit records the database refused (each is also logged as an error)",
            audit.lost.clone(),
        );
        let audit_queued = Gauge::default();
        registry.register(
            "audit_records_queued",
            "Audit records waiting for the writer",
            audit_queued.clone(),
        );
        Self {
            registry,
            exchanges,
            durations,
            audit,
            audit_queued,
        }
    }
}

impl Metrics {
    /// Counts one exchange on `/core`.
    pub fn exchange(
        &self,
        operation: Option<&'static str>,
        wire: Option<&'static str>,
        error_code: &'static str,
        elapsed: Duration,
    ) {
        let operation = operation.unwrap_or(UNKNOWN);
        self.exchanges
            .get_or_create(&ExchangeLabels {
                operation,
                wire: wire.unwrap_or(UNKNOWN),
                error_code,
            })
            .inc();
        self.durations
            .get_or_create(&OperationLabels { operation })
            .observe(elapsed.as_secs_f64());
    }

    /// The audit writer's counters.
    pub fn audit(&self) -> AuditCounters {
        self.audit.clone()
    }

    /// Everything, in the Prometheus text format; `audit_queued` is read now, not counted.
    fn encode(&self, audit_queued: usize) -> String {
        self.audit_queued
            .set(i64::try_from(audit_queued).unwrap_or(i64::MAX));
        let mut out = String::with_capacity(8 * 1024);
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Serves the admin listener until `stopped`; connections in progress then get a moment to
/// finish.
pub(super) async fn serve_admin(
    listener: TcpListener,
    state: Arc<AppState>,
    stopped: tokio::sync::watch::Receiver<bool>,
) {
    let stop = stopped.clone();
    let serve = |tcp, peer| Some(admin_connection(tcp, peer, state.clone(), stop.clone()));
    super::accept_until_stopped(listener, stopped, Duration::from_secs(5), serve).await;
}

async fn admin_connection(
    tcp: tokio::net::TcpStream,
    peer: SocketAddr,
    state: Arc<AppState>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let service = hyper::service::service_fn(move |req| {
        let state = state.clone();
        async move { Ok::<_, std::convert::Infallible>(admin(&state, &req).await) }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30));
    super::serve_until_stopped!(
        builder.serve_connection(TokioIo::new(tcp), service),
        peer,
        stopped
    );
}

async fn admin(state: &AppState, req: &Request<Incoming>) -> Response<Body> {
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/metrics") => {
            let mut r = Response::new(Full::new(Bytes::from(
                state.metrics.encode(state.audit.queued()),
            )));
            r.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            r
        }
        (&Method::GET, "/live") => handler::live(),
        (&Method::GET, "/ready") => handler::ready(state).await,
        _ => handler::text(
            StatusCode::NOT_FOUND,
            "not found: this listener serves /metrics, /live and /ready\n",
        ),
    }
}
