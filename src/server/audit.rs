//! The audit writer: every exchange on /core becomes one row of `messages` (CORE vC2.2.0
//! §4.3.4: date, time and PayloadID of every inbound message and its answer).
//!
//! Requests hand their record to a bounded queue; one task writes the queue in batches (one
//! transaction per batch), so the audit costs the request path no database round trip, and a
//! burst costs one commit rather than one per request. The writer lingers a moment after the
//! first record of a batch so that, under load, each commit (and its fsync) carries hundreds of
//! records instead of a handful: commits, not rows, were most of the database's cost. When the
//! queue is full, requests wait for room: records are never dropped. On shutdown the queue is
//! drained before the server stops.

use std::time::Duration;

use tokio::sync::mpsc;

use super::metrics::AuditCounters;
use crate::store::Store;
use crate::store::audit::AuditRecord;

/// Records waiting before requests are made to wait.
const QUEUE: usize = 10_000;
/// Largest batch per transaction: on SQLite, one INSERT statement (see
/// [`crate::store::audit::SQLITE_ROWS_PER_INSERT`]).
const BATCH: usize = crate::store::audit::SQLITE_ROWS_PER_INSERT;
/// How long the writer waits for more records after the first of a batch. The answer has
/// already gone to the client, so this delays only the row, never a response.
const LINGER: Duration = Duration::from_millis(20);

#[derive(Debug, Clone)]
pub struct AuditLog {
    tx: mpsc::Sender<AuditRecord>,
}

impl AuditLog {
    /// Starts the writer; it ends when every `AuditLog` clone is dropped and the queue is empty.
    pub fn start(store: Store, counters: AuditCounters) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        (Self { tx }, tokio::spawn(write_loop(store, rx, counters)))
    }

    /// Records waiting for the writer.
    pub fn queued(&self) -> usize {
        QUEUE - self.tx.capacity()
    }

    /// Queues a record (waits when the queue is full).
    pub async fn record(&self, r: AuditRecord) {
        if self.tx.send(r).await.is_err() {
            tracing::error!("audit writer stopped: a record was not written");
        }
    }
}

async fn write_loop(store: Store, mut rx: mpsc::Receiver<AuditRecord>, counters: AuditCounters) {
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        if batch.len() < BATCH {
            // Let the batch fill. Sleeping rather than waiting on the queue: records arriving
            // meanwhile cost no wake-up of this task each.
            tokio::time::sleep(LINGER).await;
            while batch.len() < BATCH {
                match rx.try_recv() {
                    Ok(r) => batch.push(r),
                    Err(_) => break,
                }
            }
        }
        // Retry a failed write with back-off: the database may be restarting. Records stay in
        // memory meanwhile (and requests wait once the queue is full).
        let mut delay = Duration::from_millis(100);
        loop {
            match store.record_messages(&batch).await {
                Ok(()) => {
                    counters.written.inc_by(batch.len() as u64);
                    break;
                }
                Err(e) if e.is_retryable() => {
                    counters.retried.inc();
                    tracing::warn!(error = %e, records = batch.len(), "audit write failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
                Err(e) => {
                    // Not retryable (e.g. a duplicate correlation ID): write them one by one so
                    // one bad record does not cost the others.
                    tracing::error!(error = %e, "audit batch refused; writing records one by one");
                    for r in &batch {
                        match store.record_message(r).await {
                            Ok(()) => {
                                counters.written.inc();
                            }
                            Err(e) => {
                                counters.lost.inc();
                                tracing::error!(error = %e, correlation_id = %r.correlation_id, "audit record not written");
                            }
                        }
                    }
                    break;
                }
            }
        }
        batch.clear();
    }
}
