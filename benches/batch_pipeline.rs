//! Batch pipeline, upload to acknowledgement:
//!
//! (a) a 10,000-claim 837P sent as MTOM over TLS to an in-process gateway with two batch
//!     workers (SQLite), until its 999 can be retrieved (BatchSubmitAckRetrievalTransaction
//!     polled every 10 ms). Baseline in the same run: validating the same bytes in memory with
//!     `hts_gateway::x12::validate`.
//! (b) a ~200 MB 837P streamed as MTOM to the real binary (`hts-gateway serve`, two workers,
//!     SQLite) until its 999 can be retrieved; the server's peak RSS (VmHWM) against the
//!     128 MB budget, with the idle server's VmHWM as the baseline. RSS is also sampled every
//!     50 ms to tell the upload's peak from the processing's.
//!
//! Run: `cargo bench --bench batch_pipeline` (optionally `-- RUNS MB`, default 5 runs of (a)
//! and 200 MB for (b)). Under `cargo test` it runs once, small, as a smoke test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

// The allocator the `hts-gateway` binary ships with (src/main.rs); part (b) runs that binary.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use hts_gateway::auth::HashedPassword;
use hts_gateway::core::envelope::Operation;
use hts_gateway::core::request::{self, Reply, Request};
use hts_gateway::core::soap::PayloadStyle;
use hts_gateway::server::{self, Settings, tls};
use hts_gateway::store::Store;
use hts_gateway::store::files::PartnerSettings;
use hts_gateway::x12::sample::{Sample837, write_837p};
use sha1::Digest as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const USER: (&str, &str) = ("benchuser", "bench password 2026");
const ORGANIZATION: &str = "Bench Hospital";
const SENDER: &str = "110048577A";
const CLAIMS_TYPE: &str = "X12_837_Request_005010X222A1";
const BUDGET_MB: f64 = 128.0;
/// Bound on waiting for one acknowledgement.
const ACK_TIMEOUT: Duration = Duration::from_secs(900);

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    let numbers: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let runs = numbers
        .first()
        .copied()
        .unwrap_or(if benching { 5 } else { 1 });
    let big_mb = numbers
        .get(1)
        .copied()
        .unwrap_or(if benching { 200 } else { 2 });
    let claims = if benching { 10_000 } else { 500 };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        upload_to_999(claims, runs).await;
        large_upload(big_mb).await;
    });
}

async fn partner(store: &Store) {
    let hash = HashedPassword::new(USER.1).unwrap();
    store
        .add_organization(ORGANIZATION, USER.0, &hash)
        .await
        .unwrap();
    store.add_sender_id(USER.0, SENDER).await.unwrap();
    store.add_provider_id(USER.0, SENDER).await.unwrap();
    let settings = PartnerSettings {
        ack_policy: "always".into(),
        require_certification: false,
    };
    assert!(
        store
            .set_partner_settings(ORGANIZATION, &settings)
            .await
            .unwrap()
    );
}

fn sample(claims: usize) -> Vec<u8> {
    let mut out = Vec::new();
    write_837p(
        Sample837 {
            claims,
            ..Sample837::default()
        },
        &mut out,
    )
    .unwrap();
    out
}

fn batch_request(payload: Vec<u8>) -> Request {
    Request::new(Operation::BatchSubmit, CLAIMS_TYPE, payload)
        .sender(SENDER)
        .receiver("DEMOPLAN")
        .credentials(USER.0, USER.1)
}

fn client(ca: &Path) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(&std::fs::read(ca).unwrap()).unwrap();
    reqwest::Client::builder()
        .tls_certs_only([ca])
        .timeout(Duration::from_secs(600))
        .build()
        .unwrap()
}

/// The tracking number in a receipt.
fn tracking_number(reply: &[u8]) -> String {
    let text = String::from_utf8_lossy(reply);
    let at = text
        .find("Tracking number ")
        .unwrap_or_else(|| panic!("no receipt: {text}"));
    text[at + "Tracking number ".len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect()
}

/// Polls BatchSubmitAckRetrievalTransaction until the 999 is there; returns it.
async fn wait_for_999(http: &reqwest::Client, core: &str, tracking: &str) -> Vec<u8> {
    let started = Instant::now();
    loop {
        let r = Request::new(
            Operation::BatchSubmitAckRetrieval,
            "X12_999_RetrievalRequest_005010X231A1",
            tracking.as_bytes().to_vec(),
        )
        .sender(SENDER)
        .receiver("DEMOPLAN")
        .credentials(USER.0, USER.1);
        let text = http
            .post(core)
            .header("content-type", request::soap_content_type(r.operation))
            .body(request::encode_soap_request(&r, PayloadStyle::Text))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        match request::decode_soap_reply(&text, |_| None) {
            Ok(Reply::Core(c)) if c.is_success() => return c.payload,
            Ok(Reply::Core(c)) if c.error_code.as_deref() == Some("NotReady") => {}
            other => panic!("retrieving the 999: {other:?}"),
        }
        assert!(
            started.elapsed() < ACK_TIMEOUT,
            "no 999 after {ACK_TIMEOUT:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn assert_accepting_999(ack: &[u8]) {
    let text = String::from_utf8_lossy(ack);
    assert!(
        text.contains("ST*999*") && text.contains("AK9*A*"),
        "not an accepting 999: {text}"
    );
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// (a): upload → 999 in process, against validation in memory.
async fn upload_to_999(claims: usize, runs: usize) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("bench.db").display());
    let store = Store::open(&url).await.unwrap();
    partner(&store).await;
    let dev = tls::ensure_dev_certificates(dir.path(), &[]).unwrap();
    let gateway = server::start(Settings {
        workers: 2,
        ..Settings::local(dev.cert.clone(), dev.key.clone(), url.clone())
    })
    .await
    .unwrap();
    let core = format!("https://localhost:{}/core", gateway.addr.port());
    let http = client(&dev.ca);
    let bytes = sample(claims);

    // Baseline: the same bytes validated in memory.
    let mut baseline = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let report = hts_gateway::x12::validate(&bytes);
        baseline.push(t.elapsed().as_secs_f64());
        assert!(report.accepted());
    }

    let mut receipt = Vec::new();
    let mut total = Vec::new();
    for n in 0..runs {
        let (ct, body) =
            request::encode_mtom_request(&batch_request(bytes.clone()), &format!("bench-{n}"));
        let t = Instant::now();
        let reply = http
            .post(&core)
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let tracking = tracking_number(&reply);
        receipt.push(t.elapsed().as_secs_f64());
        let ack = wait_for_999(&http, &core, &tracking).await;
        total.push(t.elapsed().as_secs_f64());
        assert_accepting_999(&ack);
    }
    gateway.shutdown().await;
    store.close().await;

    let (b, r, t) = (median(&baseline), median(&receipt), median(&total));
    println!(
        "(a) 837P, {claims} claims, {:.2} MB, MTOM over TLS, 2 workers, SQLite; median of {runs}",
        bytes.len() as f64 / 1e6
    );
    println!("    baseline: x12::validate in memory           {b:>8.3} s");
    println!("    upload → receipt (payload stored)           {r:>8.3} s");
    println!("    upload → 999 retrievable                    {t:>8.3} s");
    println!(
        "    upload → 999 / baseline = {:.1}   (all runs: {})",
        t / b,
        total
            .iter()
            .map(|x| format!("{x:.3}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

/// A writer that hashes and counts what passes through.
struct Hashing<W> {
    inner: W,
    sha1: sha1::Sha1,
    bytes: u64,
}

impl<W: std::io::Write> std::io::Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha1.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes an MTOM request body for an 837P of about `mb` MB into `path`, without holding the
/// payload in memory; returns the Content-Type and the payload size.
fn mtom_body_file(dir: &Path, mb: usize) -> (String, PathBuf, u64) {
    // The payload to a file first (its size and SHA-1 go into the envelope).
    let payload_path = dir.join("payload.x12");
    let mut w = Hashing {
        inner: std::io::BufWriter::new(std::fs::File::create(&payload_path).unwrap()),
        sha1: sha1::Sha1::new(),
        bytes: 0,
    };
    // 360 bytes a claim, give or take.
    write_837p(
        Sample837 {
            claims: mb * 1_000_000 / 360,
            ..Sample837::default()
        },
        &mut w,
    )
    .unwrap();
    w.flush().unwrap();
    let (len, sha1) = (
        w.bytes,
        hts_gateway::core::validate::hex(&w.sha1.finalize()),
    );

    // The envelope around a placeholder, then the placeholder replaced by the file.
    const PLACEHOLDER: &[u8] = b"@@PAYLOAD-GOES-HERE@@";
    let mut r = batch_request(PLACEHOLDER.to_vec());
    r.metadata.payload_length = Some(len.to_string());
    r.metadata.checksum = Some(sha1);
    let (ct, body) = request::encode_mtom_request(&r, "bench-large-upload");
    let at = body
        .windows(PLACEHOLDER.len())
        .position(|w| w == PLACEHOLDER)
        .unwrap();
    let body_path = dir.join("body.mtom");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&body_path).unwrap());
    out.write_all(&body[..at]).unwrap();
    std::io::copy(&mut std::fs::File::open(&payload_path).unwrap(), &mut out).unwrap();
    out.write_all(&body[at + PLACEHOLDER.len()..]).unwrap();
    out.flush().unwrap();
    std::fs::remove_file(&payload_path).unwrap();
    (ct, body_path, len)
}

/// Sends a body file over TLS in 256 KiB pieces (HTTP/1.1, Content-Length, one request on
/// the connection); returns the response.
async fn post_file(addr: SocketAddr, ca: &Path, content_type: &str, body: &Path) -> Vec<u8> {
    use rustls_pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_types::CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut tls = connector
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap();
    let len = std::fs::metadata(body).unwrap().len();
    let head = format!(
        "POST /core HTTP/1.1\r\nHost: localhost\r\nContent-Type: {content_type}\r\n\
         Content-Length: {len}\r\nConnection: close\r\n\r\n"
    );
    tls.write_all(head.as_bytes()).await.unwrap();
    let mut file = tokio::fs::File::open(body).await.unwrap();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        tls.write_all(&buf[..n]).await.unwrap();
    }
    tls.flush().await.unwrap();
    let mut reply = Vec::new();
    // The server closes after answering; a missing close_notify is not our concern here.
    let _ = tls.read_to_end(&mut reply).await;
    reply
}

/// (VmHWM, VmRSS) of a process, in bytes.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0)
            * 1024
    };
    (kb("VmHWM:"), kb("VmRSS:"))
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// (b): a large upload to the real binary, its processing, and the server's peak memory.
async fn large_upload(mb: usize) {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_hts-gateway"));
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("large.db").display());
    let store = Store::open(&db).await.unwrap();
    partner(&store).await;
    store.close().await;
    let dev = tls::ensure_dev_certificates(dir.path(), &[]).unwrap();
    let generated = Instant::now();
    let (ct, body, payload_len) = mtom_body_file(dir.path(), mb);
    let generated = generated.elapsed();

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let spool = dir.path().join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    let log = std::fs::File::create(dir.path().join("serve.log")).unwrap();
    let mut server = Server(
        Command::new(&bin)
            .arg("serve")
            .args(["--database", &db])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--tls-cert")
            .arg(&dev.cert)
            .arg("--tls-key")
            .arg(&dev.key)
            .arg("--spool-dir")
            .arg(&spool)
            .args(["--workers", "2"])
            .env("HTS_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let pid = server.0.id();
    let http = client(&dev.ca);
    let core = format!("https://localhost:{port}/core");
    let started = Instant::now();
    loop {
        if let Ok(r) = http
            .get(format!("https://localhost:{port}/live"))
            .send()
            .await
            && r.status().is_success()
        {
            break;
        }
        if let Some(s) = server.0.try_wait().unwrap() {
            panic!(
                "serve exited with {s}: {}",
                std::fs::read_to_string(dir.path().join("serve.log")).unwrap_or_default()
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "serve did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (idle_hwm, _) = memory(pid);

    // RSS sampled through both phases.
    let uploading = Arc::new(AtomicBool::new(true));
    let stop = Arc::new(AtomicBool::new(false));
    let (upload_peak, process_peak) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let sampler = {
        let (uploading, stop, up, pp) = (
            uploading.clone(),
            stop.clone(),
            upload_peak.clone(),
            process_peak.clone(),
        );
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let (_, rss) = memory(pid);
                let peak = if uploading.load(Ordering::SeqCst) {
                    &up
                } else {
                    &pp
                };
                peak.fetch_max(rss, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };

    let t = Instant::now();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let reply = post_file(addr, &dev.ca, &ct, &body).await;
    let tracking = tracking_number(&reply);
    let upload = t.elapsed();
    uploading.store(false, Ordering::SeqCst);
    let ack = wait_for_999(&http, &core, &tracking).await;
    let total = t.elapsed();
    assert_accepting_999(&ack);
    let (hwm, _) = memory(pid);
    stop.store(true, Ordering::SeqCst);
    sampler.join().unwrap();
    drop(server);

    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let mb_s = payload_len as f64 / 1e6;
    println!(
        "(b) 837P of {mb_s:.1} MB (generated in {:.1} s) as MTOM over TLS to `{}`, 2 workers, SQLite",
        generated.as_secs_f64(),
        bin.display()
    );
    println!(
        "    upload → receipt {:>7.1} s ({:.0} MB/s); upload → 999 {:>7.1} s ({:.0} MB/s end to end)",
        upload.as_secs_f64(),
        mb_s / upload.as_secs_f64(),
        total.as_secs_f64(),
        mb_s / total.as_secs_f64()
    );
    println!(
        "    server peak RSS (VmHWM) {:.1} MiB = {:.2} × the {BUDGET_MB:.0} MB budget{}; idle server \
         (baseline) {:.1} MiB; sampled peaks: upload {:.1} MiB, processing {:.1} MiB",
        mib(hwm),
        hwm as f64 / (BUDGET_MB * 1e6),
        if hwm as f64 > BUDGET_MB * 1e6 {
            " — OVER BUDGET"
        } else {
            ""
        },
        mib(idle_hwm),
        mib(upload_peak.load(Ordering::SeqCst)),
        mib(process_peak.load(Ordering::SeqCst))
    );
}
