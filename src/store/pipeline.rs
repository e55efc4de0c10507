//! The batch queue as workers see it: take a submission under a lease, renew the lease, then
//! either complete it (with the files it produced, in one transaction, only while still holding
//! the lease) or put it back for a later attempt. Every state change is recorded in
//! `submission_events`.
//!
//! PostgreSQL: several processes take rows with `FOR UPDATE SKIP LOCKED`, so no row is handed
//! to two workers at once. SQLite: one writer at a time, so the same `UPDATE … RETURNING` is
//! atomic by itself. A worker that dies leaves its row `processing` until the lease runs out;
//! then another takes it.

use std::time::Duration;

use sqlx::Row;
use time::OffsetDateTime;

use super::{Backend, Store, StoreError, on_pool, parse_timestamp, timestamp};

/// A submission taken by a worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claimed {
    pub id: i64,
    pub tracking_number: String,
    pub organization: String,
    pub user_name: String,
    pub sender_id: String,
    pub receiver_id: String,
    pub payload_id: String,
    pub payload_type: String,
    pub operation: String,
    pub test_mode: bool,
    pub transaction_type: String,
    pub payload_blob: i64,
    pub payload_bytes: u64,
    /// 1 for the first attempt.
    pub attempts: i64,
    pub received_at: OffsetDateTime,
}

/// A file a completed submission produced (its blob already stored).
#[derive(Clone, Debug)]
pub struct ProducedFile {
    pub kind: FileKind,
    pub transaction_type: String,
    pub payload_type: String,
    pub blob_id: i64,
    pub bytes: u64,
    pub sha1: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Ack,
    Result,
    Published,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ack => "ack",
            Self::Result => "result",
            Self::Published => "published",
        }
    }
}

/// How processing ended.
#[derive(Clone, Debug)]
pub struct Completion {
    /// accepted | partial | rejected | stored
    pub outcome: String,
    pub files: Vec<ProducedFile>,
    /// A test submission accepted: the partner is certified for this transaction type.
    pub certifies: Option<String>,
    pub detail: String,
}

/// The lease ran out and another worker took the row: this worker's results are dropped.
#[derive(Debug)]
pub struct LeaseLost;

/// `attempts` is INTEGER (INT4 on PostgreSQL): cast so that both backends return a 64-bit
/// integer (sqlx refuses to decode INT4 as `i64`).
const CLAIM_COLUMNS: &str = "id, tracking_number, organization, user_name, sender_id, \
     receiver_id, payload_id, payload_type, operation, test_mode, transaction_type, \
     payload_blob, payload_bytes, CAST(attempts AS BIGINT) AS attempts, received_at";

/// Records a state change inside the caller's transaction (a macro: the body is compiled once
/// per backend inside `on_pool!`).
macro_rules! insert_event {
    ($tx:expr, $submission:expr, $at:expr, $status:expr, $worker:expr, $detail:expr) => {
        sqlx::query(
            "INSERT INTO submission_events (submission_id, at, status, worker, detail) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind($submission)
        .bind($at)
        .bind($status)
        .bind($worker)
        .bind($detail)
        .execute(&mut *$tx)
        .await?
    };
}

/// Moves named counter $1 on by $2 and returns its new value (the last of the $2 taken).
pub(super) const TAKE_FROM_SEQUENCE: &str = "INSERT INTO sequences (name, value) VALUES ($1, $2) \
     ON CONFLICT (name) DO UPDATE SET value = sequences.value + $2 RETURNING value";

/// The next value of a named counter inside the caller's transaction.
macro_rules! next_value {
    ($tx:expr, $name:expr) => {
        sqlx::query($crate::store::pipeline::TAKE_FROM_SEQUENCE)
            .bind($name)
            .bind(1_i64)
            .fetch_one(&mut *$tx)
            .await?
            .try_get::<i64, _>(0)?
    };
}
pub(super) use next_value;

impl Store {
    /// Takes the oldest submission that is queued and due, or whose lease has run out.
    pub async fn claim_submission(
        &self,
        worker: &str,
        lease: Duration,
    ) -> Result<Option<Claimed>, StoreError> {
        let now = OffsetDateTime::now_utc();
        let now_text = timestamp(now);
        let until = timestamp(now + lease);
        // SKIP LOCKED lets PostgreSQL workers pass over rows another worker is taking.
        let lock = match self.backend {
            Backend::Postgres(_) => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite(_) => "",
        };
        let sql = format!(
            "UPDATE submissions SET status = 'processing', lease_owner = $1, lease_until = $2, \
               attempts = attempts + 1 \
             WHERE id = (SELECT id FROM submissions \
                 WHERE (status = 'queued' AND not_before <= $3) \
                    OR (status = 'processing' AND lease_until < $3) \
                 ORDER BY id LIMIT 1{lock}) \
             RETURNING {CLAIM_COLUMNS}"
        );
        let sql = sqlx::AssertSqlSafe(sql);
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let row = sqlx::query(sql)
                .bind(worker)
                .bind(&until)
                .bind(&now_text)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(r) = row else {
                return Ok(None);
            };
            let claimed = Claimed {
                id: r.try_get("id")?,
                tracking_number: r.try_get("tracking_number")?,
                organization: r.try_get("organization")?,
                user_name: r.try_get("user_name")?,
                sender_id: r.try_get("sender_id")?,
                receiver_id: r.try_get("receiver_id")?,
                payload_id: r.try_get("payload_id")?,
                payload_type: r.try_get("payload_type")?,
                operation: r.try_get("operation")?,
                test_mode: r.try_get("test_mode")?,
                transaction_type: r.try_get("transaction_type")?,
                payload_blob: r
                    .try_get::<Option<i64>, _>("payload_blob")?
                    .ok_or_else(|| StoreError::corrupt("a submission without a payload".into()))?,
                payload_bytes: u64::try_from(r.try_get::<i64, _>("payload_bytes")?).unwrap_or(0),
                attempts: r.try_get::<i64, _>("attempts")?,
                received_at: parse_timestamp(
                    "received_at",
                    &r.try_get::<String, _>("received_at")?,
                )?,
            };
            let detail = format!("attempt {}", claimed.attempts);
            insert_event!(tx, claimed.id, &now_text, "processing", worker, &detail);
            tx.commit().await?;
            Ok(Some(claimed))
        })
    }

    /// Extends the lease of a row this worker holds; `Err(LeaseLost)` when it no longer does.
    pub async fn renew_lease(
        &self,
        id: i64,
        worker: &str,
        lease: Duration,
    ) -> Result<Result<(), LeaseLost>, StoreError> {
        let until = timestamp(OffsetDateTime::now_utc() + lease);
        let n = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE submissions SET lease_until = $1 \
                 WHERE id = $2 AND status = 'processing' AND lease_owner = $3",
            )
            .bind(&until)
            .bind(id)
            .bind(worker)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(if n == 1 { Ok(()) } else { Err(LeaseLost) })
    }

    /// Records the end of processing: the files, the certification, the new status, in one
    /// transaction, only if this worker still holds the lease.
    pub async fn complete_submission(
        &self,
        claimed: &Claimed,
        worker: &str,
        done: &Completion,
        file_names: impl Fn(&ProducedFile, i64) -> String,
    ) -> Result<Result<(), LeaseLost>, StoreError> {
        let now = timestamp(OffsetDateTime::now_utc());
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let n = sqlx::query(
                "UPDATE submissions SET status = 'done', processed_at = $1, outcome = $2, \
                   lease_owner = NULL, lease_until = NULL, last_error = NULL \
                 WHERE id = $3 AND status = 'processing' AND lease_owner = $4",
            )
            .bind(&now)
            .bind(&done.outcome)
            .bind(claimed.id)
            .bind(worker)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                return Ok(Err(LeaseLost));
            }
            for f in &done.files {
                let seq = next_value!(tx, "file");
                let name = file_names(f, seq);
                sqlx::query(
                    "INSERT INTO files (payload_id, organization, file_name, kind, \
                       transaction_type, payload_type, submission_id, tracking_number, \
                       provider_id, test_mode, blob_id, bytes, sha1, available_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                )
                .bind(uuid::Uuid::new_v4().to_string())
                .bind(&claimed.organization)
                .bind(&name)
                .bind(f.kind.as_str())
                .bind(&f.transaction_type)
                .bind(&f.payload_type)
                .bind(claimed.id)
                .bind(&claimed.tracking_number)
                .bind(&claimed.sender_id)
                .bind(claimed.test_mode)
                .bind(f.blob_id)
                .bind(i64::try_from(f.bytes).unwrap_or(i64::MAX))
                .bind(&f.sha1)
                .bind(&now)
                .execute(&mut *tx)
                .await?;
            }
            if let Some(tt) = &done.certifies {
                sqlx::query(
                    "INSERT INTO certifications (organization, transaction_type, certified_at, \
                       tracking_number) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (organization, transaction_type) DO NOTHING",
                )
                .bind(&claimed.organization)
                .bind(tt)
                .bind(&now)
                .bind(&claimed.tracking_number)
                .execute(&mut *tx)
                .await?;
            }
            let detail = format!("{}: {}", done.outcome, done.detail);
            insert_event!(tx, claimed.id, &now, "done", worker, &detail);
            tx.commit().await?;
            Ok(Ok(()))
        })
    }

    /// Puts a row back after a failure that may pass (the database was busy, a worker is
    /// shutting down): queued again after `retry_in`, or `failed` for good when `give_up`.
    pub async fn release_submission(
        &self,
        claimed: &Claimed,
        worker: &str,
        error: &str,
        retry_in: Duration,
        give_up: bool,
    ) -> Result<(), StoreError> {
        let now = OffsetDateTime::now_utc();
        let now_text = timestamp(now);
        let status = if give_up { "failed" } else { "queued" };
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let n = sqlx::query(
                "UPDATE submissions SET status = $1, not_before = $2, last_error = $3, \
                   lease_owner = NULL, lease_until = NULL \
                 WHERE id = $4 AND status = 'processing' AND lease_owner = $5",
            )
            .bind(status)
            .bind(timestamp(now + retry_in))
            .bind(error)
            .bind(claimed.id)
            .bind(worker)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                insert_event!(tx, claimed.id, &now_text, status, worker, error);
                tx.commit().await?;
            }
        });
        Ok(())
    }

    /// The next value of a named counter (1, 2, 3, …), never handed out twice.
    pub async fn next_sequence(&self, name: &str) -> Result<i64, StoreError> {
        self.reserve_sequence(name, 1).await
    }

    /// Takes `count` consecutive values of a named counter at once (never handed out to anyone
    /// else) and returns the first. The counter moves on by `count` even if the caller uses
    /// fewer of them.
    pub async fn reserve_sequence(&self, name: &str, count: i64) -> Result<i64, StoreError> {
        on_pool!(self, |pool| {
            let last: i64 = sqlx::query(TAKE_FROM_SEQUENCE)
                .bind(name)
                .bind(count)
                .fetch_one(pool)
                .await?
                .try_get(0)?;
            Ok(last - count + 1)
        })
    }

    /// (status, event detail) history of a submission, oldest first.
    pub async fn submission_events(
        &self,
        tracking_number: &str,
    ) -> Result<Vec<(String, String, String)>, StoreError> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT e.status, e.worker, e.detail FROM submission_events e \
                 JOIN submissions s ON s.id = e.submission_id \
                 WHERE s.tracking_number = $1 ORDER BY e.id",
            )
            .bind(tracking_number)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
                .collect()
        })
    }

    /// Counts of submissions by status (operators; tests).
    pub async fn queue_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT status, COUNT(*) FROM submissions GROUP BY status ORDER BY status",
            )
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect()
        })
    }
}
