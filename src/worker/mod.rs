//! Batch workers: take queued submissions under a lease, validate them, write their TA1/999,
//! produce their results and apply their effects, and record the outcome. They run inside
//! `serve` and as `hts-gateway worker` processes sharing the same database.
//!
//! Nothing is lost or done twice: a row is taken by one worker at a time (see
//! [`crate::store::pipeline`]); its acknowledgement and results are recorded in the same
//! transaction as its completion, and only by the worker still holding the lease; effects on
//! plan data (claims, enrollment) are idempotent per submission, so a retry after a crash
//! repeats nothing. A worker that dies mid-way leaves the row to be taken again when its lease
//! runs out.

mod process;
pub mod retention;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};

use crate::payer::PlanIdentity;
use crate::store::Store;
use crate::store::pipeline::LeaseLost;

pub use process::{ProcessError, process};

/// How workers behave.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Prefix of worker names in leases and events (`host-pid`); each worker appends `-N`.
    pub name: String,
    /// How long a taken row stays this worker's without renewal.
    pub lease: Duration,
    /// How often an idle worker looks for work (a local receipt wakes it at once).
    pub poll: Duration,
    /// Attempts before a row is marked failed (a fault in the gateway, not in the file).
    pub max_attempts: i64,
    pub identity: PlanIdentity,
    /// Largest batch 270/276 answered (it is answered in memory).
    pub max_inquiry_bytes: u64,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            name: default_name(),
            lease: Duration::from_secs(60),
            poll: Duration::from_secs(1),
            max_attempts: 8,
            identity: PlanIdentity::default(),
            max_inquiry_bytes: 64 * 1024 * 1024,
        }
    }
}

/// `hostname-pid-xxxx`: the random suffix keeps a restarted container (same hostname, same
/// pid) from taking a dead worker's name.
pub fn default_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .unwrap_or_else(|| "worker".into());
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}-{}-{}", std::process::id(), &suffix[..4])
}

/// Starts `count` workers; they stop when `stop` turns true (finishing the row in hand).
pub fn spawn(
    store: Store,
    config: WorkerConfig,
    count: usize,
    wake: Arc<Notify>,
    stop: watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (1..=count)
        .map(|n| {
            let mut c = config.clone();
            c.name = format!("{}-{n}", config.name);
            tokio::spawn(run(store.clone(), c, wake.clone(), stop.clone()))
        })
        .collect()
}

/// One worker's loop.
pub async fn run(
    store: Store,
    config: WorkerConfig,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let mut idle_backoff = config.poll;
    loop {
        if *stop.borrow() {
            return;
        }
        match store.claim_submission(&config.name, config.lease).await {
            Ok(Some(claimed)) => {
                idle_backoff = config.poll;
                handle(&store, &config, claimed).await;
                continue;
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(worker = %config.name, error = %e, "taking a submission failed");
                idle_backoff = (idle_backoff * 2).min(Duration::from_secs(30));
            }
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(idle_backoff) => {}
            _ = stop.changed() => {}
        }
    }
}

pub async fn handle(
    store: &Store,
    config: &WorkerConfig,
    claimed: crate::store::pipeline::Claimed,
) {
    let started = std::time::Instant::now();
    // Renew the lease while processing runs (a 200 MB file takes a while).
    let renew = {
        let (store, name, id, lease) =
            (store.clone(), config.name.clone(), claimed.id, config.lease);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(lease / 3).await;
                match store.renew_lease(id, &name, lease).await {
                    Ok(Ok(())) => {}
                    Ok(Err(LeaseLost)) => return,
                    Err(e) => tracing::warn!(error = %e, "renewing a lease failed"),
                }
            }
        })
    };
    let result = process(store, config, &claimed).await;
    renew.abort();
    let tracking = &claimed.tracking_number;
    match result {
        Ok(done) => match store
            .complete_submission(&claimed, &config.name, &done, |f, seq| {
                crate::store::files::file_name(
                    &claimed.sender_id,
                    &f.transaction_type,
                    "WEB",
                    time::OffsetDateTime::now_utc(),
                    seq,
                )
            })
            .await
        {
            Ok(Ok(())) => {
                tracing::info!(
                    worker = %config.name,
                    tracking_number = %tracking,
                    outcome = %done.outcome,
                    files = done.files.len(),
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "submission processed"
                );
            }
            Ok(Err(LeaseLost)) => {
                tracing::warn!(worker = %config.name, tracking_number = %tracking, "lease lost: another worker finishes this submission");
            }
            Err(e) => {
                tracing::warn!(worker = %config.name, tracking_number = %tracking, error = %e, "recording a processed submission failed");
                release(store, config, &claimed, &e.to_string()).await;
            }
        },
        Err(e) => {
            tracing::warn!(worker = %config.name, tracking_number = %tracking, error = %e, "processing failed");
            release(store, config, &claimed, &e.to_string()).await;
        }
    }
}

/// Puts a row back with exponential backoff, or marks it failed after the last attempt.
async fn release(
    store: &Store,
    config: &WorkerConfig,
    claimed: &crate::store::pipeline::Claimed,
    error: &str,
) {
    let exponent = u32::try_from(claimed.attempts.clamp(1, 10) - 1).unwrap_or(0);
    let retry_in = Duration::from_secs(2u64.pow(exponent)).min(Duration::from_secs(300));
    let give_up = claimed.attempts >= config.max_attempts;
    if let Err(e) = store
        .release_submission(claimed, &config.name, error, retry_in, give_up)
        .await
    {
        // The lease runs out and the row is taken again anyway.
        tracing::warn!(error = %e, "releasing a submission failed");
    }
}
