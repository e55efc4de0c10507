//! Crash safety with the real binary: `hts-gateway serve` (two batch workers, a 2-second lease)
//! receives a few hundred batch submissions (837P of varying sizes, MTOM and MIME) from
//! concurrent clients and is killed with SIGKILL three times: while uploads arrive, while
//! uploads arrive and workers process, and once every upload is receipted (by a gateway
//! without workers, so that a backlog waits), while workers process. Each time it is started
//! again on the same database. At the end every receipted submission is done with exactly one
//! acknowledgement, nothing was processed twice, and rows cut short by a kill were taken again
//! and finished once.
//!
//! A client that lost its answer (the gateway died mid-request) sends the same PayloadID again,
//! as a CORE client would; the gateway answers a retransmission with the first receipt's
//! tracking number.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::queue::{Db, assert_each_done_once};
use hts_gateway::auth::HashedPassword;
use hts_gateway::core::envelope::Operation;
use hts_gateway::core::request::{self, Reply, Request};
use hts_gateway::core::soap::PayloadStyle;
use hts_gateway::store::Store;
use hts_gateway::store::files::PartnerSettings;
use hts_gateway::x12::sample::{Sample837, write_837p};

const USER: (&str, &str) = ("crashtest", "crash test password 2026");
const ORGANIZATION: &str = "Crash Test Hospital";
const SENDER: &str = "110048577A";
const CLAIMS_TYPE: &str = "X12_837_Request_005010X222A1";
const SUBMISSIONS: usize = 300;
const CLIENTS: usize = 12;
/// Short, so that rows a killed process held are taken again soon after a restart.
const LEASE_SECS: u64 = 2;
/// Kills of busy workers tried before the test gives up on cutting a row short.
const KILL_ATTEMPTS: usize = 5;
/// Bound on every wait: a step that takes longer fails the test (it never hangs).
const STEP: Duration = Duration::from_secs(90);

on_both_backends_with_url!(
    killed_gateway_loses_nothing_and_repeats_nothing,
    |url: String, store: Store| async move { crash_test(url, store).await }
);

/// One batch submission as a client sends it, again if it must.
struct Job {
    content_type: String,
    body: Vec<u8>,
}

fn jobs() -> Vec<Job> {
    (0..SUBMISSIONS)
        .map(|i| {
            let mut payload = Vec::new();
            write_837p(
                Sample837 {
                    // 1 to 200 claims (360 bytes to 72 KB), a few files of several sets.
                    claims: 1 + (i * 53) % 200,
                    claims_per_set: if i % 10 == 0 { 40 } else { 5000 },
                    ..Sample837::default()
                },
                &mut payload,
            )
            .unwrap();
            let r = Request::new(Operation::BatchSubmit, CLAIMS_TYPE, payload)
                .sender(SENDER)
                .receiver("DEMOPLAN")
                .credentials(USER.0, USER.1);
            let (content_type, body) = if i % 2 == 0 {
                request::encode_mtom_request(&r, &format!("mtom-{i}"))
            } else {
                request::encode_mime_request(&r, &format!("mime-{i}"))
            };
            Job { content_type, body }
        })
        .collect()
}

/// What the clients have done so far.
#[derive(Default)]
struct Clients {
    /// Jobs not yet receipted.
    todo: Mutex<VecDeque<usize>>,
    /// Job → tracking number of its receipt.
    receipts: Mutex<BTreeMap<usize, String>>,
    /// Requests that ended without a receipt (cut by a kill, or refused while the gateway
    /// was down); their jobs went back to `todo`.
    cut: AtomicUsize,
    stop: AtomicBool,
}

impl Clients {
    fn receipted(&self) -> usize {
        self.receipts.lock().unwrap().len()
    }
}

/// `CLIENTS` concurrent clients sending jobs to `core` until none is left or `stop` is set.
fn send(
    clients: &Arc<Clients>,
    jobs: &Arc<Vec<Job>>,
    http: &reqwest::Client,
    core: &str,
) -> tokio::task::JoinSet<()> {
    clients.stop.store(false, Ordering::SeqCst);
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..CLIENTS {
        let (clients, jobs, http, core) = (
            clients.clone(),
            jobs.clone(),
            http.clone(),
            core.to_string(),
        );
        set.spawn(async move {
            loop {
                if clients.stop.load(Ordering::SeqCst) {
                    return;
                }
                let Some(i) = clients.todo.lock().unwrap().pop_front() else {
                    return;
                };
                let job = &jobs[i];
                match post(&http, &core, job).await {
                    Some(tracking) => {
                        let mut receipts = clients.receipts.lock().unwrap();
                        if let Some(first) = receipts.insert(i, tracking.clone()) {
                            panic!("job {i} receipted twice: {first} and {tracking}");
                        }
                    }
                    None => {
                        clients.cut.fetch_add(1, Ordering::SeqCst);
                        clients.todo.lock().unwrap().push_back(i);
                        // The gateway is down or busy: do not spin.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        });
    }
    set
}

/// The tracking number of a receipt; `None` when the request got no receipt.
async fn post(http: &reqwest::Client, core: &str, job: &Job) -> Option<String> {
    let r = http
        .post(core)
        .header("content-type", &job.content_type)
        .body(job.body.clone())
        .send()
        .await
        .ok()?;
    let status = r.status().as_u16();
    let text = r.text().await.ok()?;
    if status != 200 {
        return None;
    }
    let code = field(&text, "ErrorCode");
    let message = field(&text, "ErrorMessage");
    assert_eq!(code, "Success", "a 200 that is not a receipt: {text}");
    let tracking = message
        .split("Tracking number ")
        .nth(1)
        .unwrap_or_else(|| panic!("no tracking number in {text}"))
        .trim_end_matches('.')
        .to_string();
    assert!(
        !tracking.is_empty() && tracking.bytes().all(|b| b.is_ascii_digit()),
        "{message}"
    );
    Some(tracking)
}

/// An element of the SOAP answer or a field of the MIME one.
fn field(text: &str, name: &str) -> String {
    if let (Some(s), Some(e)) = (
        text.find(&format!("<{name}>")),
        text.find(&format!("</{name}>")),
    ) {
        return text[s + name.len() + 2..e].to_string();
    }
    let marker = format!("name=\"{name}\"\r\n\r\n");
    text.find(&marker)
        .map(|s| {
            let rest = &text[s + marker.len()..];
            rest[..rest.find("\r\n").unwrap_or(rest.len())].to_string()
        })
        .unwrap_or_default()
}

/// The gateway as a child process.
struct Gateway {
    child: Child,
    core: String,
}

struct Setup {
    bin: PathBuf,
    database: String,
    cert: PathBuf,
    key: PathBuf,
    spool: PathBuf,
    log: PathBuf,
}

impl Setup {
    /// Starts `serve` with two batch workers on a free port and waits until it answers /live.
    async fn start(&self, http: &reqwest::Client) -> Gateway {
        self.start_with_workers(http, 2).await
    }

    async fn start_with_workers(&self, http: &reqwest::Client, workers: usize) -> Gateway {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(&self.bin)
            .arg("serve")
            .args(["--database", &self.database])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--tls-cert")
            .arg(&self.cert)
            .arg("--tls-key")
            .arg(&self.key)
            .arg("--spool-dir")
            .arg(&self.spool)
            .args(["--workers", &workers.to_string()])
            .args(["--lease-secs", &LEASE_SECS.to_string()])
            .env("HTS_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut gw = Gateway {
            child,
            core: format!("https://localhost:{port}/core"),
        };
        let live = format!("https://localhost:{port}/live");
        let started = Instant::now();
        loop {
            if let Ok(r) = http.get(&live).send().await
                && r.status().is_success()
            {
                return gw;
            }
            if let Some(status) = gw.child.try_wait().unwrap() {
                panic!("serve exited with {status}: {}", self.log_text());
            }
            assert!(
                started.elapsed() < STEP,
                "serve did not come up: {}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Gateway {
    /// SIGKILL: no shutdown, no cleanup.
    fn kill(self) {
        drop(self);
    }
}

/// Also when a test fails: no gateway outlives its test.
impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `done` holds, checking every 20 ms; fails the test after [`STEP`] (with the
/// gateway's log).
async fn wait_for<F, Fut>(setup: &Setup, what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !done().await {
        assert!(
            started.elapsed() < STEP,
            "timed out waiting for {what}; the gateway's log:\n{}",
            setup.log_text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn crash_test(url: String, store: Store) {
    let started = Instant::now();
    let _ = rustls::crypto::ring::default_provider().install_default();
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

    let dir = tempfile::tempdir().unwrap();
    let dev = hts_gateway::server::tls::ensure_dev_certificates(dir.path(), &[]).unwrap();
    let spool = dir.path().join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    let setup = Setup {
        bin: PathBuf::from(env!("CARGO_BIN_EXE_hts-gateway")),
        database: url.clone(),
        cert: dev.cert.clone(),
        key: dev.key.clone(),
        spool,
        log: dir.path().join("serve.log"),
    };
    let ca = reqwest::Certificate::from_pem(&std::fs::read(&dev.ca).unwrap()).unwrap();
    let http = reqwest::Client::builder()
        .tls_certs_only([ca])
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let db = Db::connect(&url).await;

    let jobs = Arc::new(jobs());
    let clients = Arc::new(Clients::default());
    clients.todo.lock().unwrap().extend(0..SUBMISSIONS);
    // Rows a killed worker held (status 'processing' after the kill).
    let mut interrupted: BTreeSet<String> = BTreeSet::new();

    // 1. Killed while uploads arrive (a third of them receipted).
    let gw = setup.start(&http).await;
    let mut senders = send(&clients, &jobs, &http, &gw.core);
    wait_for(&setup, "a third of the receipts", || async {
        clients.receipted() >= SUBMISSIONS / 3
    })
    .await;
    gw.kill();
    clients.stop.store(true, Ordering::SeqCst);
    join(&mut senders).await;
    let cut_1 = clients.cut.load(Ordering::SeqCst);
    interrupted.extend(db.processing().await);

    // 2. Killed while uploads arrive and workers process.
    let gw = setup.start(&http).await;
    let mut senders = send(&clients, &jobs, &http, &gw.core);
    wait_for(
        &setup,
        "two thirds of the receipts, and a row in processing",
        || async {
            clients.receipted() >= 2 * SUBMISSIONS / 3 && !db.processing().await.is_empty()
        },
    )
    .await;
    gw.kill();
    clients.stop.store(true, Ordering::SeqCst);
    join(&mut senders).await;
    let cut_2 = clients.cut.load(Ordering::SeqCst) - cut_1;
    interrupted.extend(db.processing().await);

    // 3. Every upload receipted by a gateway without workers, so that a backlog waits; then
    // started with workers and killed while they process. Processing a row takes
    // milliseconds, so a kill can land between two rows: the kill is tried again, on a
    // backlog that is still there, until one cuts a row short.
    let gw = setup.start_with_workers(&http, 0).await;
    let mut senders = send(&clients, &jobs, &http, &gw.core);
    join(&mut senders).await;
    assert_eq!(clients.receipted(), SUBMISSIONS, "every job receipted");
    gw.kill();
    // Rows the second kill cut short still show 'processing' until a worker takes them again:
    // only rows other than those count as held by the workers killed here.
    let held_before = interrupted.clone();
    let not_held_before = |mut held: Vec<String>| {
        held.retain(|t| !held_before.contains(t));
        held
    };
    let mut held_at_kill_3 = Vec::new();
    let mut backlog_at_kill_3 = BTreeMap::new();
    for _ in 0..KILL_ATTEMPTS {
        let gw = setup.start(&http).await;
        wait_for(&setup, "a row of the backlog in processing", || async {
            !not_held_before(db.processing().await).is_empty()
        })
        .await;
        backlog_at_kill_3 = db.counts().await;
        gw.kill();
        let held = db.processing().await;
        interrupted.extend(held.iter().cloned());
        held_at_kill_3 = not_held_before(held);
        if !held_at_kill_3.is_empty() {
            break;
        }
    }

    // 4. Started once more: it finishes the queue, rows the dead workers held included.
    let gw = setup.start(&http).await;
    wait_for(&setup, "an empty queue", || async {
        let c = db.counts().await;
        c.get("queued").copied().unwrap_or(0) == 0 && c.get("processing").copied().unwrap_or(0) == 0
    })
    .await;

    // What the partner sees: the 999 of a submission cut short by a kill.
    if let Some(t) = interrupted.first() {
        let reply = retrieve_ack(&http, &gw.core, t).await;
        let Ok(Reply::Core(core)) = request::decode_soap_reply(reply.as_bytes(), |_| None) else {
            panic!("not a CORE response: {reply}");
        };
        assert!(core.is_success(), "{reply}");
        let ack = String::from_utf8_lossy(&core.payload);
        assert!(ack.contains("ST*999*") && ack.contains("AK9*A*"), "{ack}");
    }
    gw.kill();

    // Every receipted submission, once, with one acknowledgement.
    let receipts = clients.receipts.lock().unwrap().clone();
    let receipted: BTreeSet<String> = receipts.values().cloned().collect();
    assert_eq!(receipted.len(), SUBMISSIONS, "distinct tracking numbers");
    let rows = db.submissions().await;
    let stored: BTreeSet<String> = rows.iter().map(|s| s.tracking_number.clone()).collect();
    let missing: Vec<_> = receipted.difference(&stored).collect();
    assert!(missing.is_empty(), "receipted but not stored: {missing:?}");
    // Uploads cut by a kill left no row (a stored row was receipted on retransmission).
    assert_eq!(stored, receipted, "rows that no receipt names");
    assert_each_done_once(&rows);
    assert_eq!(db.acks_of_unfinished().await, 0);
    // The kills did cut uploads and processing.
    assert!(cut_1 + cut_2 > 0, "no upload was cut by a kill");
    assert!(
        !held_at_kill_3.is_empty(),
        "{KILL_ATTEMPTS} kills of busy workers found nothing in processing"
    );
    for s in rows
        .iter()
        .filter(|s| interrupted.contains(&s.tracking_number))
    {
        assert!(s.attempts >= 2, "taken again after the kill: {s:?}");
    }
    let retried = rows.iter().filter(|s| s.attempts > 1).count();
    db.close().await;
    eprintln!(
        "crash test: {SUBMISSIONS} receipted; requests cut by kills: {cut_1} (uploads), \
         {cut_2} (uploads + processing); rows held by killed workers: {}; queue at the last \
         kill: {backlog_at_kill_3:?}; rows processed more than once attempted: {retried}; \
         {:.1} s",
        interrupted.len(),
        started.elapsed().as_secs_f64()
    );
}

async fn join(senders: &mut tokio::task::JoinSet<()>) {
    let all = async {
        while let Some(r) = senders.join_next().await {
            if let Err(e) = r {
                std::panic::resume_unwind(e.into_panic());
            }
        }
    };
    tokio::time::timeout(STEP, all)
        .await
        .expect("clients did not finish");
}

/// BatchSubmitAckRetrievalTransaction for a tracking number (named in the Payload).
async fn retrieve_ack(http: &reqwest::Client, core: &str, tracking: &str) -> String {
    let r = Request::new(
        Operation::BatchSubmitAckRetrieval,
        "X12_999_RetrievalRequest_005010X231A1",
        tracking.as_bytes().to_vec(),
    )
    .sender(SENDER)
    .receiver("DEMOPLAN")
    .credentials(USER.0, USER.1);
    let body = request::encode_soap_request(&r, PayloadStyle::Text);
    http.post(core)
        .header(
            "content-type",
            request::soap_content_type(Operation::BatchSubmitAckRetrieval),
        )
        .body(body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}
