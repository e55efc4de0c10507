//! What the real-time benches share: the request, the gateway set up with the demo data and a
//! partner on SQLite, and the baseline server.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use hts_gateway::auth::HashedPassword;
use hts_gateway::payer::load::{load_claims, load_members, load_providers};
use hts_gateway::server::{self, Running, Settings, tls};
use hts_gateway::store::Store;
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};

/// The PayloadID of [`envelope`].
pub const PAYLOAD_ID: &str = "f81d4fae-7dec-11d0-a765-00a0c91e6bf6";

/// The demo 270 in a SOAP 1.2 envelope with a WS-Security UsernameToken.
pub fn envelope() -> String {
    let x12 = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/x12/270_jane_doe.x12"),
    )
    .unwrap();
    format!(
        r#"<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:cor="http://www.caqh.org/SOAP/WSDL/CORERule2.2.0.xsd"><soap:Header><wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><wsse:UsernameToken><wsse:Username>loaduser</wsse:Username><wsse:Password>load test password</wsse:Password></wsse:UsernameToken></wsse:Security></soap:Header><soap:Body><cor:COREEnvelopeRealTimeRequest><PayloadType>X12_270_Request_005010X279A1</PayloadType><ProcessingMode>RealTime</ProcessingMode><PayloadID>{PAYLOAD_ID}</PayloadID><TimeStamp>2026-06-15T12:00:00Z</TimeStamp><SenderID>110048577A</SenderID><ReceiverID>DEMOPLAN</ReceiverID><CORERuleVersion>2.2.0</CORERuleVersion><Payload><![CDATA[{x12}]]></Payload></cor:COREEnvelopeRealTimeRequest></soap:Body></soap:Envelope>"#
    )
}

/// A keep-alive HTTP/1.1 client trusting the development CA at `ca_path`.
pub fn client(ca_path: &std::path::Path) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(&std::fs::read(ca_path).unwrap()).unwrap();
    reqwest::Client::builder()
        .tls_certs_only([ca])
        .http1_only()
        .build()
        .unwrap()
}

/// Sends one real-time request and checks that a 271 came back.
pub async fn post(client: &reqwest::Client, url: &str, body: &str) {
    let r = client
        .post(url)
        .header(
            "content-type",
            "application/soap+xml; charset=utf-8; action=\"RealTimeTransaction\"",
        )
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let text = r.text().await.unwrap();
    assert!(text.contains("EB*1*IND*30"), "{text}");
}

/// A store at `url` loaded with the demo plan data (fixtures/plan).
pub async fn demo_plan_store(url: &str) -> Store {
    let store = Store::open(url).await.unwrap();
    let plan = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/plan");
    let open = |n: &str| std::fs::File::open(plan.join(n)).unwrap();
    load_providers(&store, open("providers.csv")).await.unwrap();
    load_members(&store, open("members.csv")).await.unwrap();
    load_claims(&store, open("claims.csv")).await.unwrap();
    store
}

/// Both servers, ready: the gateway (SQLite in `dir`, demo data, partner `loaduser`) and the
/// baseline answering with the gateway's own response bytes.
pub struct Servers {
    pub dir: tempfile::TempDir,
    pub gateway: Running,
    pub gateway_url: String,
    pub base_url: String,
    pub ca_path: std::path::PathBuf,
    pub body: String,
    pub response_len: usize,
}

pub async fn start() -> Servers {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("load.db").display());
    let store = demo_plan_store(&url).await;
    let hash = HashedPassword::new("load test password").unwrap();
    store
        .add_organization("Load Test Hospital", "loaduser", &hash)
        .await
        .unwrap();
    store.add_sender_id("loaduser", "110048577A").await.unwrap();
    store
        .add_provider_id("loaduser", "110048577A")
        .await
        .unwrap();
    let dev = tls::ensure_dev_certificates(dir.path(), &[]).unwrap();
    let ca = reqwest::Certificate::from_pem(&std::fs::read(&dev.ca).unwrap()).unwrap();
    let gateway = server::start(Settings::local(
        dev.cert.clone(),
        dev.key.clone(),
        url.clone(),
    ))
    .await
    .unwrap();
    let body = envelope();
    let gateway_url = format!("https://localhost:{}/core", gateway.addr.port());
    // The baseline answers with what the gateway answers (same size, same headers).
    let sample = reqwest::Client::builder()
        .tls_certs_only([ca.clone()])
        .build()
        .unwrap()
        .post(&gateway_url)
        .header("content-type", "application/soap+xml; charset=utf-8")
        .body(body.clone())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let tls_config = tls::server_config(&dev.cert, &dev.key, None).unwrap();
    let base_addr = baseline(tls_config, sample.clone()).await;
    let base_url = format!("https://localhost:{}/core", base_addr.port());
    Servers {
        dir,
        gateway,
        gateway_url,
        base_url,
        ca_path: dev.ca.clone(),
        body,
        response_len: sample.len(),
    }
}

/// The baseline: hyper + rustls answering every request with the same bytes.
async fn baseline(tls: Arc<rustls::ServerConfig>, answer: Bytes) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            let answer = answer.clone();
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let answer = answer.clone();
                        async move {
                            use http_body_util::BodyExt;
                            let _ = req.into_body().collect().await;
                            let mut r = hyper::Response::new(Full::new(answer));
                            r.headers_mut().insert(
                                "content-type",
                                http::HeaderValue::from_static(
                                    "application/soap+xml; charset=utf-8",
                                ),
                            );
                            Ok::<_, std::convert::Infallible>(r)
                        }
                    },
                );
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}
