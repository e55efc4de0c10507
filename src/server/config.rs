//! `serve` configuration: flags, environment variables (`HTS_*`) and an optional TOML file, in
//! that order of precedence, then defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use serde::Deserialize;

use super::Limits;
use crate::payer::PlanIdentity;

/// `hts-gateway serve` options. Each has an environment variable and a key in the TOML file
/// given by `--config` (same name, with underscores).
#[derive(Debug, Default, Args)]
pub struct ServeConfig {
    /// TOML file with any of the settings below.
    #[arg(long, env = "HTS_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 0.0.0.0:8443; --demo: 127.0.0.1:8443].
    #[arg(long, env = "HTS_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Plain-HTTP admin listener for `/metrics` (Prometheus), `/live` and `/ready`, e.g.
    /// 127.0.0.1:9464; off by default. Bind it to a private interface: it is not for partners.
    #[arg(long, env = "HTS_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// Server certificate chain (PEM).
    #[arg(long, env = "HTS_TLS_CERT", value_name = "PEM")]
    pub tls_cert: Option<PathBuf>,
    /// Server private key (PEM).
    #[arg(long, env = "HTS_TLS_KEY", value_name = "PEM")]
    pub tls_key: Option<PathBuf>,
    /// CA whose client certificates are accepted (then mapped to partners); none by default.
    #[arg(long, env = "HTS_CLIENT_CA", value_name = "PEM")]
    pub client_ca: Option<PathBuf>,
    /// Database URL: sqlite:PATH or postgres://… [default: sqlite:hts-gateway.db].
    #[arg(long, env = "HTS_DATABASE_URL")]
    pub database: Option<String>,
    /// ReceiverID values that name this gateway (repeatable; default: DEMOPLAN).
    #[arg(long = "receiver-id", env = "HTS_RECEIVER_IDS", value_delimiter = ',')]
    pub receiver_ids: Vec<String>,
    /// The plan's payer identifier in 271/277 loop 2100A [default: DEMOPLAN].
    #[arg(long, env = "HTS_PAYER_ID")]
    pub payer_id: Option<String>,
    /// The plan's name in 271/277 loop 2100A [default: DEMO HEALTH PLAN].
    #[arg(long, env = "HTS_PAYER_NAME")]
    pub payer_name: Option<String>,
    /// Largest request body in bytes; multipart payloads are spooled to disk as they arrive
    /// [default: 1073741824].
    #[arg(long, env = "HTS_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<u64>,
    /// Largest body or part held in memory: a plain SOAP request, an MTOM root part
    /// [default: 33554432]. Send larger payloads as MTOM or MIME attachments.
    #[arg(long, env = "HTS_MAX_INLINE_BYTES")]
    pub max_inline_bytes: Option<u64>,
    /// Directory for spooled request payloads [default: the system temporary directory].
    #[arg(long, env = "HTS_SPOOL_DIR")]
    pub spool_dir: Option<PathBuf>,
    /// Seconds to receive a plain SOAP request body [default: 60].
    #[arg(long, env = "HTS_BODY_TIMEOUT_SECS")]
    pub body_timeout_secs: Option<u64>,
    /// Seconds to receive a multipart (MTOM, MIME) request body [default: 3600].
    #[arg(long, env = "HTS_UPLOAD_TIMEOUT_SECS")]
    pub upload_timeout_secs: Option<u64>,
    /// Longest pause, in seconds, between two pieces of a request body [default: 30].
    #[arg(long, env = "HTS_IDLE_TIMEOUT_SECS")]
    pub idle_timeout_secs: Option<u64>,
    /// Seconds within which a real-time answer must be ready, from the request's arrival
    /// [default: 10; CORE allows 20].
    #[arg(long, env = "HTS_REALTIME_DEADLINE_SECS")]
    pub realtime_deadline_secs: Option<u64>,
    /// Batch workers in this process (0: another process runs `hts-gateway worker`) [default: 2].
    #[arg(long, env = "HTS_WORKERS")]
    pub workers: Option<usize>,
    /// Seconds a batch worker holds a submission without renewing its lease; a row whose
    /// worker died is taken again after this [default: 60].
    #[arg(long, env = "HTS_WORKER_LEASE_SECS")]
    pub lease_secs: Option<u64>,
    /// Days files and payloads are kept [default: 183, six months].
    #[arg(long, env = "HTS_RETENTION_DAYS")]
    pub retention_days: Option<u32>,
    /// Days a file the partner has not picked up is kept at least [default: 31].
    #[arg(long, env = "HTS_RETENTION_UNPICKED_DAYS")]
    pub retention_unpicked_days: Option<u32>,
}

/// The same settings as a TOML file holds them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    metrics_listen: Option<SocketAddr>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    client_ca: Option<PathBuf>,
    database: Option<String>,
    receiver_ids: Option<Vec<String>>,
    payer_id: Option<String>,
    payer_name: Option<String>,
    max_body_bytes: Option<u64>,
    max_inline_bytes: Option<u64>,
    spool_dir: Option<PathBuf>,
    body_timeout_secs: Option<u64>,
    upload_timeout_secs: Option<u64>,
    idle_timeout_secs: Option<u64>,
    realtime_deadline_secs: Option<u64>,
    workers: Option<usize>,
    lease_secs: Option<u64>,
    retention_days: Option<u32>,
    retention_unpicked_days: Option<u32>,
}

/// Resolved settings.
#[derive(Clone, Debug)]
pub struct Settings {
    pub listen: SocketAddr,
    /// The admin listener (`/metrics`, `/live`, `/ready`), if any.
    pub metrics_listen: Option<SocketAddr>,
    pub tls_cert: PathBuf,
    pub tls_key: PathBuf,
    pub client_ca: Option<PathBuf>,
    pub database: String,
    pub receiver_ids: Vec<String>,
    pub identity: PlanIdentity,
    pub limits: Limits,
    /// Batch workers started with the server.
    pub workers: usize,
    pub worker: crate::worker::WorkerConfig,
    /// Retention runs in the background unless `None`.
    pub retention: Option<crate::worker::retention::Retention>,
}

impl Settings {
    /// A gateway on a free loopback port with everything else at its default: receiver ID
    /// DEMOPLAN, no client certificates, no batch workers, no retention (tests and benches
    /// start from this and change what they need).
    pub fn local(tls_cert: PathBuf, tls_key: PathBuf, database: String) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            metrics_listen: None,
            tls_cert,
            tls_key,
            client_ca: None,
            database,
            receiver_ids: vec!["DEMOPLAN".into()],
            identity: PlanIdentity::default(),
            limits: Limits::default(),
            workers: 0,
            worker: crate::worker::WorkerConfig::default(),
            retention: None,
        }
    }
}

impl ServeConfig {
    /// Resolves flags and environment over the file over the defaults. `tls` gives the
    /// certificate files to use when none is configured (the demo's development ones).
    pub fn resolve(self, fallback_tls: Option<(&Path, &Path)>) -> Result<Settings, String> {
        let file = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                toml::from_str::<FileConfig>(&text)
                    .map_err(|e| format!("{}: {e}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let defaults = Limits::default();
        let tls_cert = self
            .tls_cert
            .or(file.tls_cert)
            .or_else(|| fallback_tls.map(|t| t.0.to_path_buf()))
            .ok_or("a server certificate is needed: --tls-cert (or run with --demo)")?;
        let tls_key = self
            .tls_key
            .or(file.tls_key)
            .or_else(|| fallback_tls.map(|t| t.1.to_path_buf()))
            .ok_or("a server key is needed: --tls-key (or run with --demo)")?;
        let identity = PlanIdentity {
            name: self
                .payer_name
                .or(file.payer_name)
                .unwrap_or_else(|| PlanIdentity::default().name),
            payer_id: self
                .payer_id
                .or(file.payer_id)
                .unwrap_or_else(|| PlanIdentity::default().payer_id),
        };
        let receiver_ids = if self.receiver_ids.is_empty() {
            file.receiver_ids
                .unwrap_or_else(|| vec![identity.payer_id.clone()])
        } else {
            self.receiver_ids
        };
        let retention_defaults = crate::worker::retention::Retention::default();
        let days = |d: u32| Duration::from_secs(u64::from(d) * 86_400);
        let retention = crate::worker::retention::Retention {
            keep: self
                .retention_days
                .or(file.retention_days)
                .map_or(retention_defaults.keep, days),
            keep_unpicked: self
                .retention_unpicked_days
                .or(file.retention_unpicked_days)
                .map_or(retention_defaults.keep_unpicked, days),
            ..retention_defaults
        };
        Ok(Settings {
            workers: self.workers.or(file.workers).unwrap_or(2),
            worker: {
                let mut w = crate::worker::WorkerConfig::default();
                if let Some(secs) = self.lease_secs.or(file.lease_secs) {
                    w.lease = Duration::from_secs(secs.max(1));
                }
                w
            },
            retention: Some(retention),
            listen: self
                .listen
                .or(file.listen)
                .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 8443))),
            metrics_listen: self.metrics_listen.or(file.metrics_listen),
            tls_cert,
            tls_key,
            client_ca: self.client_ca.or(file.client_ca),
            database: self
                .database
                .or(file.database)
                .unwrap_or_else(|| "sqlite:hts-gateway.db".into()),
            receiver_ids,
            identity,
            limits: Limits {
                max_body_bytes: self
                    .max_body_bytes
                    .or(file.max_body_bytes)
                    .unwrap_or(defaults.max_body_bytes),
                max_inline_bytes: self
                    .max_inline_bytes
                    .or(file.max_inline_bytes)
                    .unwrap_or(defaults.max_inline_bytes),
                spool_memory_bytes: defaults.spool_memory_bytes,
                spool_dir: self.spool_dir.or(file.spool_dir),
                body_timeout: self
                    .body_timeout_secs
                    .or(file.body_timeout_secs)
                    .map_or(defaults.body_timeout, Duration::from_secs),
                upload_timeout: self
                    .upload_timeout_secs
                    .or(file.upload_timeout_secs)
                    .map_or(defaults.upload_timeout, Duration::from_secs),
                idle_timeout: self
                    .idle_timeout_secs
                    .or(file.idle_timeout_secs)
                    .map_or(defaults.idle_timeout, Duration::from_secs),
                handshake_timeout: defaults.handshake_timeout,
                realtime_deadline: self
                    .realtime_deadline_secs
                    .or(file.realtime_deadline_secs)
                    .map_or(defaults.realtime_deadline, Duration::from_secs),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn tls() -> Option<(&'static Path, &'static Path)> {
        Some((Path::new("cert.pem"), Path::new("key.pem")))
    }

    /// The admin listener is off unless configured; a flag wins over the file.
    #[test]
    fn metrics_listen_from_the_file_or_a_flag() {
        assert_eq!(
            ServeConfig::default()
                .resolve(tls())
                .unwrap()
                .metrics_listen,
            None
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("gateway.toml");
        std::fs::write(&file, "metrics_listen = \"127.0.0.1:9464\"\n").unwrap();
        let from_file = ServeConfig {
            config: Some(file.clone()),
            ..ServeConfig::default()
        };
        assert_eq!(
            from_file.resolve(tls()).unwrap().metrics_listen,
            Some(SocketAddr::from(([127, 0, 0, 1], 9464)))
        );
        let flag = ServeConfig {
            config: Some(file),
            metrics_listen: Some(SocketAddr::from(([10, 0, 0, 5], 9100))),
            ..ServeConfig::default()
        };
        assert_eq!(
            flag.resolve(tls()).unwrap().metrics_listen,
            Some(SocketAddr::from(([10, 0, 0, 5], 9100)))
        );
    }
}
