//! Two `hts-gateway worker --drain` processes (two workers each) on one PostgreSQL database
//! drain a queue of 1,000 submissions: every row is processed exactly once (one 'done' event,
//! one acknowledgement), and both processes did part of the work. Skipped without
//! HTS_TEST_POSTGRES_URL (SQLite has one writer and one process).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::db::Backend;
use common::queue::{Db, assert_each_done_once};
use futures_util::StreamExt as _;
use hts_gateway::store::Store;
use hts_gateway::store::submissions::{NewSubmission, Stored};
use hts_gateway::x12::sample::{Sample837, write_837p};

const SUBMISSIONS: usize = 1000;
const SENDER: &str = "110048577A";
const ORGANIZATION: &str = "Drain Test Hospital";
/// Bound on the drain: a process still running after this fails the test (it never hangs).
const DRAIN_TIMEOUT: Duration = Duration::from_secs(180);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_worker_processes_drain_one_queue_once() {
    common::db::run_with_url(
        Backend::Postgres,
        "two_worker_processes_drain_one_queue_once",
        |url: String, store: Store| async move { drain(url, store).await },
    )
    .await
}

fn payload(i: usize) -> Vec<u8> {
    let mut out = Vec::new();
    write_837p(
        Sample837 {
            claims: 1 + i % 3,
            ..Sample837::default()
        },
        &mut out,
    )
    .unwrap();
    out
}

async fn enqueue(store: &Store, i: usize) -> String {
    let payload = payload(i);
    let sha1 = hts_gateway::core::validate::sha1_hex(&payload);
    let payload_id = format!("drain-{i:04}");
    let correlation = format!("correlation-{i}");
    let s = NewSubmission {
        correlation_id: &correlation,
        organization: ORGANIZATION,
        user_name: "drainer",
        sender_id: SENDER,
        receiver_id: "DEMOPLAN",
        payload_id: &payload_id,
        payload_type: "X12_837_Request_005010X222A1",
        operation: "BatchSubmitTransaction",
        test_mode: false,
        transaction_type: "837P",
        payload_sha1: &sha1,
        received_at: time::OffsetDateTime::now_utc(),
    };
    let stream = futures_util::stream::iter([Ok(Bytes::from(payload))]);
    match store.store_submission(&s, stream).await.unwrap() {
        Stored::New { tracking_number } => tracking_number,
        other => panic!("submission {i}: {other:?}"),
    }
}

/// `hts-gateway worker --drain --workers 2` on `url`, its output to `log`.
fn worker(url: &str, log: &Path) -> Child {
    let out = std::fs::File::create(log).unwrap();
    Command::new(env!("CARGO_BIN_EXE_hts-gateway"))
        .args(["worker", "--drain", "--workers", "2", "--database", url])
        .env("HTS_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap()
}

/// Waits for every child (killing them all if one is still running after [`DRAIN_TIMEOUT`]);
/// whether each one succeeded.
fn wait_all(mut children: Vec<Child>) -> Result<Vec<bool>, String> {
    let started = Instant::now();
    let mut status = vec![None; children.len()];
    while status.iter().any(Option::is_none) {
        for (c, s) in children.iter_mut().zip(status.iter_mut()) {
            if s.is_none() {
                *s = c.try_wait().unwrap();
            }
        }
        if started.elapsed() > DRAIN_TIMEOUT {
            for c in &mut children {
                let _ = c.kill();
                let _ = c.wait();
            }
            return Err(format!(
                "the workers did not drain the queue in {DRAIN_TIMEOUT:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(status
        .into_iter()
        .map(|s| s.is_some_and(|s| s.success()))
        .collect())
}

async fn drain(url: String, store: Store) {
    let started = Instant::now();
    let tracking: Vec<String> = futures_util::stream::iter(0..SUBMISSIONS)
        .map(|i| {
            let store = store.clone();
            async move { enqueue(&store, i).await }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    assert_eq!(tracking.len(), SUBMISSIONS);
    let queued = store.queue_counts().await.unwrap();
    assert_eq!(queued, vec![("queued".to_string(), SUBMISSIONS as i64)]);
    let enqueued_in = started.elapsed();

    // Both processes at once, on the same queue.
    let logs = tempfile::tempdir().unwrap();
    let log = |n: usize| logs.path().join(format!("worker-{n}.log"));
    let children = vec![worker(&url, &log(1)), worker(&url, &log(2))];
    let pids: Vec<u32> = children.iter().map(Child::id).collect();
    let ended = tokio::task::spawn_blocking(move || wait_all(children))
        .await
        .unwrap();
    let outputs: Vec<String> = (1..=2)
        .map(|n| std::fs::read_to_string(log(n)).unwrap_or_default())
        .collect();
    let ended = ended.unwrap_or_else(|e| panic!("{e}: {outputs:?}"));
    let mut claimed_total = 0;
    for ((pid, ok), out) in pids.iter().zip(&ended).zip(&outputs) {
        assert!(*ok, "worker {pid} failed: {out}");
        let n: usize = out
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("processed "))
            .and_then(|r| r.strip_suffix(" submissions"))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("worker {pid} said {out:?}"));
        claimed_total += n;
    }
    // Each claim was one row handed to one worker: no row was handed out twice.
    assert_eq!(claimed_total, SUBMISSIONS, "{outputs:?}");

    let db = Db::connect(&url).await;
    let rows = db.submissions().await;
    db.close().await;
    assert_eq!(rows.len(), SUBMISSIONS);
    assert_each_done_once(&rows);
    assert!(rows.iter().all(|s| s.attempts == 1), "each row taken once");
    // Worker names are `host-pid-xxxx-N` (xxxx random): the work per process.
    let mut per_process: BTreeMap<u32, usize> = BTreeMap::new();
    for s in &rows {
        let pid = s.done_by[0]
            .rsplit('-')
            .nth(2)
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("worker name {:?}", s.done_by[0]));
        assert!(pids.contains(&pid), "done by {pid}, not one of {pids:?}");
        *per_process.entry(pid).or_default() += 1;
    }
    assert_eq!(
        per_process.len(),
        2,
        "both processes worked: {per_process:?}"
    );
    eprintln!(
        "drain: {SUBMISSIONS} submissions enqueued in {:.1} s, drained in {:.1} s; per process {per_process:?}",
        enqueued_in.as_secs_f64(),
        (started.elapsed() - enqueued_in).as_secs_f64()
    );
}
