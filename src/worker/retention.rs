//! Retention: files and payloads older than the retention period are purged in bounded
//! batches, off the request path; a file the partner has not picked up is kept at least the
//! minimum window. Unreferenced blobs (a crash between writing a blob and the row naming it)
//! go too, once they are a day old.

use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::watch;

use crate::store::files::Purged;
use crate::store::{Store, StoreError};

#[derive(Clone, Debug)]
pub struct Retention {
    /// How long files and payloads are kept (six months).
    pub keep: Duration,
    /// How long a file nobody picked up is kept at least.
    pub keep_unpicked: Duration,
    /// Rows removed per transaction.
    pub batch: i64,
    /// Time between runs.
    pub every: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            keep: Duration::from_secs(183 * 86_400),
            keep_unpicked: Duration::from_secs(31 * 86_400),
            batch: 500,
            every: Duration::from_secs(3600),
        }
    }
}

/// One full pass: batches until nothing is left to purge.
pub async fn purge_all(
    store: &Store,
    r: &Retention,
    now: OffsetDateTime,
) -> Result<Purged, StoreError> {
    // A file nobody picked up stays for whichever period is longer.
    let expired = now - r.keep;
    let unpicked = now - r.keep.max(r.keep_unpicked);
    let orphan = now - Duration::from_secs(86_400);
    let mut total = Purged::default();
    loop {
        let p = store.purge(expired, unpicked, orphan, r.batch).await?;
        total.files += p.files;
        total.submissions += p.submissions;
        total.blobs += p.blobs;
        if p == Purged::default() {
            return Ok(total);
        }
        // Let other writers in between batches (SQLite has one writer at a time).
        tokio::task::yield_now().await;
    }
}

/// Runs [`purge_all`] every [`Retention::every`] until `stop`.
pub async fn run(store: Store, r: Retention, mut stop: watch::Receiver<bool>) {
    loop {
        match purge_all(&store, &r, OffsetDateTime::now_utc()).await {
            Ok(p) if p != Purged::default() => {
                tracing::info!(
                    files = p.files,
                    submissions = p.submissions,
                    blobs = p.blobs,
                    "retention purged"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "retention failed; trying again next run"),
        }
        tokio::select! {
            _ = tokio::time::sleep(r.every) => {}
            _ = stop.changed() => return,
        }
    }
}
