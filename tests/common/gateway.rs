//! The real gateway started in process for end-to-end tests: the demo data, partner alice
//! (SenderID and provider ID 110048577A), development certificates, an ephemeral port.

use std::path::PathBuf;

use hts_gateway::auth::HashedPassword;
use hts_gateway::server::{self, Limits, Settings, tls};
use hts_gateway::store::Store;

pub const ALICE: (&str, &str) = ("alice", "correct horse battery staple");
pub const SENDER: &str = "110048577A";
pub const ORGANIZATION: &str = "Demo Community Hospital";

pub struct Gateway {
    /// `https://localhost:PORT`
    pub url: String,
    /// `https://localhost:PORT/core`
    pub core: String,
    /// The development CA that signed the server certificate.
    pub ca: PathBuf,
    pub running: server::Running,
    /// Holds the certificates; also a scratch folder for the test.
    pub certs: tempfile::TempDir,
}

/// The gateway without batch workers (submissions stay queued, as tests of receipts expect).
pub async fn start(database: &str, store: &Store, limits: Limits) -> Gateway {
    start_with(
        database,
        store,
        Options {
            limits,
            ..Options::default()
        },
    )
    .await
}

/// What a test may change about the gateway it starts.
#[derive(Default)]
pub struct Options {
    pub limits: Limits,
    /// Clients may present a certificate issued by this CA.
    pub client_ca: Option<PathBuf>,
    /// Batch workers started with the server.
    pub workers: usize,
    pub worker: hts_gateway::worker::WorkerConfig,
    /// The admin listener (`/metrics`, `/live`, `/ready`), e.g. `127.0.0.1:0`.
    pub metrics_listen: Option<std::net::SocketAddr>,
}

pub async fn start_with(database: &str, store: &Store, options: Options) -> Gateway {
    let Options {
        limits,
        client_ca,
        workers,
        worker,
        metrics_listen,
    } = options;
    let _ = rustls::crypto::ring::default_provider().install_default();
    super::db::load_demo(store).await;
    let hash = HashedPassword::new(ALICE.1).unwrap();
    store
        .add_organization(ORGANIZATION, ALICE.0, &hash)
        .await
        .unwrap();
    store.add_sender_id(ALICE.0, SENDER).await.unwrap();
    store.add_provider_id(ALICE.0, SENDER).await.unwrap();

    let certs = tempfile::tempdir().unwrap();
    let dev = tls::ensure_dev_certificates(certs.path(), &[]).unwrap();
    let settings = Settings {
        client_ca,
        limits,
        workers,
        worker,
        metrics_listen,
        ..Settings::local(dev.cert.clone(), dev.key.clone(), database.to_string())
    };
    let running = server::start(settings).await.unwrap();
    let url = format!("https://localhost:{}", running.addr.port());
    Gateway {
        core: format!("{url}/core"),
        url,
        ca: dev.ca.clone(),
        running,
        certs,
    }
}

impl Gateway {
    /// An HTTPS client trusting the gateway's development CA (HTTP/2 or 1.1 by ALPN).
    pub fn https(&self) -> reqwest::Client {
        let ca = reqwest::Certificate::from_pem(&std::fs::read(&self.ca).unwrap()).unwrap();
        reqwest::Client::builder()
            .tls_certs_only([ca])
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .unwrap()
    }
}

/// A raw TLS connection to the gateway, to write a request by hand (and stall, or send
/// something no HTTP client library would).
pub async fn raw_tls(gw: &Gateway) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    use rustls_pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_types::CertificateDer::pem_file_iter(&gw.ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(gw.running.addr)
        .await
        .unwrap();
    connector
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap()
}
