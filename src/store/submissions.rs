//! Batch submissions: each accepted upload becomes one queue row with a tracking number, its
//! payload stored as a blob (in chunks: bounded memory whatever the size), all committed before
//! the receipt is sent. Issue #5's workers claim the rows.

use std::io;

use bytes::Bytes;
use futures_util::Stream;
use sqlx::Row;
use time::OffsetDateTime;

use super::{Store, StoreError, on_pool, timestamp};

/// A batch upload to store.
#[derive(Clone, Debug)]
pub struct NewSubmission<'a> {
    pub correlation_id: &'a str,
    pub organization: &'a str,
    pub user_name: &'a str,
    pub sender_id: &'a str,
    pub receiver_id: &'a str,
    pub payload_id: &'a str,
    pub payload_type: &'a str,
    pub operation: &'a str,
    /// ISA15 = T: processed as test only.
    pub test_mode: bool,
    /// 837P, 270, … from the first set's ST01 and GS08; empty for a non-X12 file.
    pub transaction_type: &'a str,
    /// SHA-1 of the payload, lower-case hex (checked against what is stored).
    pub payload_sha1: &'a str,
    pub received_at: OffsetDateTime,
}

/// What storing a submission did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stored {
    /// A new queue row.
    New { tracking_number: String },
    /// The same sender sent the same PayloadID with the same payload again (a retransmission):
    /// nothing new was stored; the first receipt's tracking number stands.
    Repeat { tracking_number: String },
    /// The same sender reused a PayloadID for a different payload: refused.
    Conflict,
}

impl Store {
    /// Stores a submission and its payload and returns its tracking number: `YYMMDD` of
    /// receipt followed by the row number (e.g. `2611220000000042`). The payload is streamed
    /// into a blob first; the queue row that refers to it is committed after, so a receipt
    /// never names a payload that is not all there.
    pub async fn store_submission<S>(
        &self,
        s: &NewSubmission<'_>,
        payload: S,
    ) -> Result<Stored, StoreError>
    where
        S: Stream<Item = io::Result<Bytes>> + Send,
    {
        if let Some(existing) = self
            .submission_by_payload_id(s.sender_id, s.payload_id)
            .await?
        {
            return Ok(if existing.1 == s.payload_sha1 {
                Stored::Repeat {
                    tracking_number: existing.0,
                }
            } else {
                Stored::Conflict
            });
        }
        let day = s.received_at.date();
        let prefix = format!(
            "{:02}{:02}{:02}",
            day.year() % 100,
            u8::from(day.month()),
            day.day()
        );
        let received = timestamp(s.received_at);
        let blob = self.put_blob(payload).await?;
        if !blob.sha1.eq_ignore_ascii_case(s.payload_sha1) {
            self.delete_blob(blob.id).await?;
            return Err(StoreError::corrupt(format!(
                "the payload changed while being stored: SHA-1 {} expected, {} stored",
                s.payload_sha1, blob.sha1
            )));
        }
        // A provisional unique value until the row number is known (same transaction).
        let provisional = format!("pending-{}", s.correlation_id);
        let result = on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let inserted = sqlx::query(
                "INSERT INTO submissions (tracking_number, correlation_id, organization, \
                   user_name, sender_id, receiver_id, payload_id, payload_type, operation, \
                   test_mode, payload_bytes, payload_sha1, payload_blob, received_at, \
                   transaction_type) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
                 ON CONFLICT (sender_id, payload_id) DO NOTHING \
                 RETURNING id",
            )
            .bind(&provisional)
            .bind(s.correlation_id)
            .bind(s.organization)
            .bind(s.user_name)
            .bind(s.sender_id)
            .bind(s.receiver_id)
            .bind(s.payload_id)
            .bind(s.payload_type)
            .bind(s.operation)
            .bind(s.test_mode)
            .bind(i64::try_from(blob.bytes).unwrap_or(i64::MAX))
            .bind(s.payload_sha1)
            .bind(blob.id)
            .bind(&received)
            .bind(s.transaction_type)
            .fetch_optional(&mut *tx)
            .await?;
            match inserted {
                // Another request stored the same PayloadID a moment ago.
                None => None,
                Some(row) => {
                    let id: i64 = row.try_get(0)?;
                    let tracking = format!("{prefix}{id:010}");
                    sqlx::query("UPDATE submissions SET tracking_number = $1 WHERE id = $2")
                        .bind(&tracking)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Some(tracking)
                }
            }
        });
        if let Some(tracking_number) = result {
            return Ok(Stored::New { tracking_number });
        }
        // Another request stored the same PayloadID a moment ago; its row holds its own copy.
        self.delete_blob(blob.id).await?;
        match self
            .submission_by_payload_id(s.sender_id, s.payload_id)
            .await?
        {
            Some((tracking_number, sha1)) if sha1 == s.payload_sha1 => {
                Ok(Stored::Repeat { tracking_number })
            }
            _ => Ok(Stored::Conflict),
        }
    }

    /// (tracking number, payload SHA-1) of a sender's submission with this PayloadID.
    async fn submission_by_payload_id(
        &self,
        sender_id: &str,
        payload_id: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        on_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT tracking_number, payload_sha1 FROM submissions \
                 WHERE sender_id = $1 AND payload_id = $2",
            )
            .bind(sender_id)
            .bind(payload_id)
            .fetch_optional(pool)
            .await?;
            match row {
                None => Ok(None),
                Some(r) => Ok(Some((r.try_get(0)?, r.try_get(1)?))),
            }
        })
    }

    /// A submission as stored, by tracking number.
    pub async fn submission(
        &self,
        tracking_number: &str,
    ) -> Result<Option<StoredSubmission>, StoreError> {
        on_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT organization, sender_id, payload_id, payload_type, operation, test_mode, \
                        status, payload_blob, payload_bytes, payload_sha1 \
                 FROM submissions WHERE tracking_number = $1",
            )
            .bind(tracking_number)
            .fetch_optional(pool)
            .await?;
            match row {
                None => Ok(None),
                Some(r) => Ok(Some(StoredSubmission {
                    organization: r.try_get("organization")?,
                    sender_id: r.try_get("sender_id")?,
                    payload_id: r.try_get("payload_id")?,
                    payload_type: r.try_get("payload_type")?,
                    operation: r.try_get("operation")?,
                    test_mode: r.try_get("test_mode")?,
                    status: r.try_get("status")?,
                    payload_blob: r.try_get("payload_blob")?,
                    payload_bytes: u64::try_from(r.try_get::<i64, _>("payload_bytes")?)
                        .unwrap_or(0),
                    payload_sha1: r.try_get("payload_sha1")?,
                })),
            }
        })
    }
}

/// A stored submission (what issue #5's workers will read).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSubmission {
    pub organization: String,
    pub sender_id: String,
    pub payload_id: String,
    pub payload_type: String,
    pub operation: String,
    pub test_mode: bool,
    pub status: String,
    /// The payload's blob ([`Store::blob_stream`]).
    pub payload_blob: i64,
    pub payload_bytes: u64,
    pub payload_sha1: String,
}
