//! The batch queue read straight from the database (raw SQL, independent of the store's own
//! queries), for tests that check what workers did: crash recovery, several processes
//! draining one queue.

use std::collections::BTreeMap;

use sqlx::Row;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqlitePool, SqlitePoolOptions};

/// A direct connection to a test database (`sqlite:PATH` or a `postgres://` URL, search_path
/// included).
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

macro_rules! on_db {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            Db::Sqlite($pool) => $body,
            Db::Postgres($pool) => $body,
        }
    };
}

/// One submission and what was recorded for it.
#[derive(Clone, Debug)]
pub struct SubmissionRow {
    pub id: i64,
    pub tracking_number: String,
    pub status: String,
    pub outcome: String,
    pub attempts: i64,
    /// files.kind = 'ack' rows of this submission.
    pub acks: i64,
    /// submission_events with status 'done'.
    pub done_events: i64,
    /// submission_events with status 'processing' (one per claim).
    pub processing_events: i64,
    /// The worker named in the 'done' event(s).
    pub done_by: Vec<String>,
}

const SUBMISSIONS: &str = "SELECT s.id, s.tracking_number, s.status, COALESCE(s.outcome, ''), \
       CAST(s.attempts AS BIGINT), \
       (SELECT COUNT(*) FROM files f WHERE f.submission_id = s.id AND f.kind = 'ack'), \
       (SELECT COUNT(*) FROM submission_events e WHERE e.submission_id = s.id AND e.status = 'done'), \
       (SELECT COUNT(*) FROM submission_events e WHERE e.submission_id = s.id AND e.status = 'processing') \
     FROM submissions s ORDER BY s.id";

const DONE_BY: &str =
    "SELECT submission_id, worker FROM submission_events WHERE status = 'done' ORDER BY id";

impl Db {
    pub async fn connect(url: &str) -> Self {
        if url.starts_with("sqlite:") {
            Db::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(2)
                    .connect(url)
                    .await
                    .unwrap_or_else(|e| panic!("{url}: {e}")),
            )
        } else {
            Db::Postgres(
                PgPoolOptions::new()
                    .max_connections(2)
                    .connect(url)
                    .await
                    .unwrap_or_else(|e| panic!("{url}: {e}")),
            )
        }
    }

    /// Every submission, oldest first.
    pub async fn submissions(&self) -> Vec<SubmissionRow> {
        let mut done_by: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        on_db!(self, |pool| {
            for r in sqlx::query(DONE_BY).fetch_all(pool).await.expect("events") {
                done_by
                    .entry(r.get::<i64, _>(0))
                    .or_default()
                    .push(r.get(1));
            }
        });
        let rows = on_db!(self, |pool| {
            sqlx::query(SUBMISSIONS)
                .fetch_all(pool)
                .await
                .expect("submissions")
                .iter()
                .map(|r| SubmissionRow {
                    id: r.get(0),
                    tracking_number: r.get(1),
                    status: r.get(2),
                    outcome: r.get(3),
                    attempts: r.get(4),
                    acks: r.get(5),
                    done_events: r.get(6),
                    processing_events: r.get(7),
                    done_by: Vec::new(),
                })
                .collect::<Vec<_>>()
        });
        rows.into_iter()
            .map(|mut s| {
                s.done_by = done_by.remove(&s.id).unwrap_or_default();
                s
            })
            .collect()
    }

    /// Submissions by status.
    pub async fn counts(&self) -> BTreeMap<String, i64> {
        on_db!(self, |pool| {
            sqlx::query("SELECT status, COUNT(*) FROM submissions GROUP BY status")
                .fetch_all(pool)
                .await
                .expect("counts")
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect()
        })
    }

    /// Tracking numbers of the rows a worker holds right now.
    pub async fn processing(&self) -> Vec<String> {
        on_db!(self, |pool| {
            sqlx::query("SELECT tracking_number FROM submissions WHERE status = 'processing'")
                .fetch_all(pool)
                .await
                .expect("processing")
                .iter()
                .map(|r| r.get(0))
                .collect()
        })
    }

    /// Acknowledgement files whose submission is not done (there must be none).
    pub async fn acks_of_unfinished(&self) -> i64 {
        on_db!(self, |pool| {
            sqlx::query(
                "SELECT COUNT(*) FROM files f JOIN submissions s ON s.id = f.submission_id \
                 WHERE f.kind = 'ack' AND s.status <> 'done'",
            )
            .fetch_one(pool)
            .await
            .expect("acks")
            .get(0)
        })
    }

    pub async fn close(&self) {
        on_db!(self, |pool| pool.close().await)
    }
}

/// Every submission done and accepted, with exactly one acknowledgement file, exactly one
/// 'done' event, and one 'processing' event per attempt.
pub fn assert_each_done_once(rows: &[SubmissionRow]) {
    for s in rows {
        assert_eq!(s.status, "done", "{s:?}");
        assert_eq!(s.outcome, "accepted", "{s:?}");
        assert_eq!(s.acks, 1, "one acknowledgement: {s:?}");
        assert_eq!(s.done_events, 1, "processed once: {s:?}");
        assert_eq!(s.done_by.len(), 1, "{s:?}");
        assert_eq!(
            s.processing_events, s.attempts,
            "an event per attempt: {s:?}"
        );
    }
}
