//! Files partners retrieve (acknowledgements, results, published files), the submission
//! lookups retrieval needs, per-partner settings and certification, and retention.
//! Every read here is scoped to one organization: a partner never sees another's files.

use sqlx::Row;
use time::OffsetDateTime;

use super::blobs::delete_blob_rows;
use super::pipeline::{FileKind, next_value};
use super::{Store, StoreError, on_pool, timestamp};

/// A file as listed and retrieved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRow {
    pub id: i64,
    pub payload_id: String,
    pub organization: String,
    pub file_name: String,
    pub kind: String,
    pub transaction_type: String,
    pub payload_type: String,
    pub tracking_number: String,
    pub provider_id: String,
    pub test_mode: bool,
    pub blob_id: i64,
    pub bytes: u64,
    pub sha1: String,
    pub available_at: String,
    pub last_downloaded_at: Option<String>,
    pub confirmed_at: Option<String>,
}

/// A search of one partner's files; every criterion is optional.
#[derive(Clone, Debug, Default)]
pub struct FileQuery {
    pub provider_id: Option<String>,
    pub tracking_number: Option<String>,
    pub transaction_type: Option<String>,
    /// Available on or after this date/time (`YYYY-MM-DD` or a stored timestamp prefix).
    pub from: Option<String>,
    /// Available before the end of this date.
    pub to: Option<String>,
    pub limit: Option<i64>,
}

/// Where a submission is, as its partner may ask.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubmissionState {
    pub id: i64,
    pub tracking_number: String,
    pub payload_id: String,
    pub status: String,
    pub outcome: Option<String>,
    pub transaction_type: String,
    pub test_mode: bool,
}

/// A partner's processing choices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartnerSettings {
    /// Acknowledge every submission (`always`) or only those with errors (`negative_only`).
    pub ack_policy: String,
    /// Production batches are refused until a test file of their type was accepted.
    pub require_certification: bool,
}

/// What a retention run removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Purged {
    pub files: u64,
    pub submissions: u64,
    pub blobs: u64,
}

const FILE_COLUMNS: &str = "id, payload_id, organization, file_name, kind, transaction_type, \
     payload_type, tracking_number, provider_id, test_mode, blob_id, bytes, sha1, available_at, \
     last_downloaded_at, confirmed_at";

macro_rules! file_row {
    ($r:expr) => {
        FileRow {
            id: $r.try_get("id")?,
            payload_id: $r.try_get("payload_id")?,
            organization: $r.try_get("organization")?,
            file_name: $r.try_get("file_name")?,
            kind: $r.try_get("kind")?,
            transaction_type: $r.try_get("transaction_type")?,
            payload_type: $r.try_get("payload_type")?,
            tracking_number: $r.try_get("tracking_number")?,
            provider_id: $r.try_get("provider_id")?,
            test_mode: $r.try_get("test_mode")?,
            blob_id: $r.try_get("blob_id")?,
            bytes: u64::try_from($r.try_get::<i64, _>("bytes")?).unwrap_or(0),
            sha1: $r.try_get("sha1")?,
            available_at: $r.try_get("available_at")?,
            last_downloaded_at: $r.try_get("last_downloaded_at")?,
            confirmed_at: $r.try_get("confirmed_at")?,
        }
    };
}

impl Store {
    /// One partner's files, newest first.
    pub async fn files(
        &self,
        organization: &str,
        q: &FileQuery,
    ) -> Result<Vec<FileRow>, StoreError> {
        // Unset criteria are bound as '' and switched off in SQL, so one text serves all.
        let to = q.to.as_deref().map(|t| format!("{t}\u{ffff}"));
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {FILE_COLUMNS} FROM files WHERE organization = $1 \
               AND ($2 = '' OR provider_id = $2) \
               AND ($3 = '' OR tracking_number = $3) \
               AND ($4 = '' OR transaction_type = $4) \
               AND ($5 = '' OR available_at >= $5) \
               AND ($6 = '' OR available_at < $6) \
             ORDER BY available_at DESC, id DESC LIMIT $7"
        ));
        on_pool!(self, |pool| {
            let rows = sqlx::query(sql)
                .bind(organization)
                .bind(q.provider_id.as_deref().unwrap_or(""))
                .bind(q.tracking_number.as_deref().unwrap_or(""))
                .bind(q.transaction_type.as_deref().unwrap_or(""))
                .bind(q.from.as_deref().unwrap_or(""))
                .bind(to.as_deref().unwrap_or(""))
                .bind(q.limit.unwrap_or(1000))
                .fetch_all(pool)
                .await?;
            rows.iter().map(|r| Ok(file_row!(r))).collect()
        })
    }

    /// A partner's file by its PayloadID.
    pub async fn file_by_payload_id(
        &self,
        organization: &str,
        payload_id: &str,
    ) -> Result<Option<FileRow>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {FILE_COLUMNS} FROM files WHERE organization = $1 AND payload_id = $2"
        ));
        on_pool!(self, |pool| {
            let row = sqlx::query(sql)
                .bind(organization)
                .bind(payload_id)
                .fetch_optional(pool)
                .await?;
            row.map(|r| Ok(file_row!(r))).transpose()
        })
    }

    /// The acknowledgement or results file of a submission.
    pub async fn file_of_submission(
        &self,
        submission_id: i64,
        kind: FileKind,
    ) -> Result<Option<FileRow>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {FILE_COLUMNS} FROM files WHERE submission_id = $1 AND kind = $2"
        ));
        on_pool!(self, |pool| {
            let row = sqlx::query(sql)
                .bind(submission_id)
                .bind(kind.as_str())
                .fetch_optional(pool)
                .await?;
            row.map(|r| Ok(file_row!(r))).transpose()
        })
    }

    /// A partner's submission by its PayloadID or its tracking number.
    pub async fn find_submission(
        &self,
        organization: &str,
        payload_id_or_tracking: &str,
    ) -> Result<Option<SubmissionState>, StoreError> {
        on_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT id, tracking_number, payload_id, status, outcome, transaction_type, \
                        test_mode \
                 FROM submissions WHERE organization = $1 \
                   AND (payload_id = $2 OR tracking_number = $2) \
                 ORDER BY id DESC LIMIT 1",
            )
            .bind(organization)
            .bind(payload_id_or_tracking)
            .fetch_optional(pool)
            .await?;
            match row {
                None => Ok(None),
                Some(r) => Ok(Some(SubmissionState {
                    id: r.try_get("id")?,
                    tracking_number: r.try_get("tracking_number")?,
                    payload_id: r.try_get("payload_id")?,
                    status: r.try_get("status")?,
                    outcome: r.try_get("outcome")?,
                    transaction_type: r.try_get("transaction_type")?,
                    test_mode: r.try_get("test_mode")?,
                })),
            }
        })
    }

    /// Records a pickup: date last downloaded, and the count.
    pub async fn mark_downloaded(&self, file_id: i64) -> Result<(), StoreError> {
        let now = timestamp(OffsetDateTime::now_utc());
        on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE files SET last_downloaded_at = $1, downloads = downloads + 1 WHERE id = $2",
            )
            .bind(&now)
            .bind(file_id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Records the partner's confirmation that it received a file; `false` when the partner
    /// has no such file.
    pub async fn confirm_file(
        &self,
        organization: &str,
        payload_id: &str,
    ) -> Result<bool, StoreError> {
        let now = timestamp(OffsetDateTime::now_utc());
        let n = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE files SET confirmed_at = COALESCE(confirmed_at, $1) \
                 WHERE organization = $2 AND payload_id = $3",
            )
            .bind(&now)
            .bind(organization)
            .bind(payload_id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n > 0)
    }

    /// Makes a stored blob available to a partner as a file; returns it.
    #[allow(clippy::too_many_arguments)]
    pub async fn publish_file(
        &self,
        organization: &str,
        provider_id: &str,
        transaction_type: &str,
        payload_type: &str,
        channel: &str,
        blob: &super::blobs::BlobInfo,
    ) -> Result<FileRow, StoreError> {
        let now = OffsetDateTime::now_utc();
        let payload_id = uuid::Uuid::new_v4().to_string();
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let seq = next_value!(tx, "file");
            let name = file_name(provider_id, transaction_type, channel, now, seq);
            sqlx::query(
                "INSERT INTO files (payload_id, organization, file_name, kind, transaction_type, \
                   payload_type, provider_id, blob_id, bytes, sha1, available_at) \
                 VALUES ($1, $2, $3, 'published', $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&payload_id)
            .bind(organization)
            .bind(&name)
            .bind(transaction_type)
            .bind(payload_type)
            .bind(provider_id)
            .bind(blob.id)
            .bind(i64::try_from(blob.bytes).unwrap_or(i64::MAX))
            .bind(&blob.sha1)
            .bind(timestamp(now))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        self.file_by_payload_id(organization, &payload_id)
            .await?
            .ok_or_else(|| StoreError::corrupt("a published file vanished".into()))
    }

    /// A partner's settings (defaults when the organization is unknown).
    pub async fn partner_settings(
        &self,
        organization: &str,
    ) -> Result<PartnerSettings, StoreError> {
        on_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT ack_policy, require_certification FROM organizations WHERE name = $1",
            )
            .bind(organization)
            .fetch_optional(pool)
            .await?;
            Ok(match row {
                Some(r) => PartnerSettings {
                    ack_policy: r.try_get(0)?,
                    require_certification: r.try_get(1)?,
                },
                None => PartnerSettings {
                    ack_policy: "always".into(),
                    require_certification: true,
                },
            })
        })
    }

    /// Changes a partner's settings; `false` when there is no such organization.
    pub async fn set_partner_settings(
        &self,
        organization: &str,
        settings: &PartnerSettings,
    ) -> Result<bool, StoreError> {
        let n = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE organizations SET ack_policy = $1, require_certification = $2 WHERE name = $3",
            )
            .bind(&settings.ack_policy)
            .bind(settings.require_certification)
            .bind(organization)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n > 0)
    }

    /// Whether the partner passed a test submission of this transaction type.
    pub async fn is_certified(
        &self,
        organization: &str,
        transaction_type: &str,
    ) -> Result<bool, StoreError> {
        on_pool!(self, |pool| {
            Ok(sqlx::query(
                "SELECT 1 FROM certifications WHERE organization = $1 AND transaction_type = $2",
            )
            .bind(organization)
            .bind(transaction_type)
            .fetch_optional(pool)
            .await?
            .is_some())
        })
    }

    /// (transaction type, certified at, tracking number) of a partner's certifications.
    pub async fn certifications(
        &self,
        organization: &str,
    ) -> Result<Vec<(String, String, String)>, StoreError> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT transaction_type, certified_at, tracking_number FROM certifications \
                 WHERE organization = $1 ORDER BY transaction_type",
            )
            .bind(organization)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
                .collect()
        })
    }

    /// Retention, one bounded batch: removes files available before `expired_before` (never
    /// one the partner has not picked up unless it became available before
    /// `unpicked_expired_before`), finished submissions received before `expired_before`, and
    /// blobs nothing refers to any more (older than `orphan_before`). Call repeatedly until it
    /// returns zeros.
    pub async fn purge(
        &self,
        expired_before: OffsetDateTime,
        unpicked_expired_before: OffsetDateTime,
        orphan_before: OffsetDateTime,
        batch: i64,
    ) -> Result<Purged, StoreError> {
        let (expired, unpicked, orphan) = (
            timestamp(expired_before),
            timestamp(unpicked_expired_before),
            timestamp(orphan_before),
        );
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let files = sqlx::query(
                "DELETE FROM files WHERE id IN (SELECT id FROM files \
                   WHERE available_at < $1 \
                     AND (last_downloaded_at IS NOT NULL OR available_at < $2) \
                   ORDER BY id LIMIT $3)",
            )
            .bind(&expired)
            .bind(&unpicked)
            .bind(batch)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            // A submission goes once it is finished and none of its files remain.
            let submissions = sqlx::query(
                "DELETE FROM submissions WHERE id IN (SELECT s.id FROM submissions s \
                   WHERE s.received_at < $1 AND s.status IN ('done', 'failed') \
                     AND NOT EXISTS (SELECT 1 FROM files f WHERE f.submission_id = s.id) \
                   ORDER BY s.id LIMIT $2)",
            )
            .bind(&expired)
            .bind(batch)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let orphans: Vec<i64> = sqlx::query(
                "SELECT b.id FROM blobs b WHERE b.created_at < $1 \
                   AND NOT EXISTS (SELECT 1 FROM submissions s WHERE s.payload_blob = b.id) \
                   AND NOT EXISTS (SELECT 1 FROM files f WHERE f.blob_id = b.id) \
                 ORDER BY b.id LIMIT $2",
            )
            .bind(&orphan)
            .bind(batch)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
            for id in &orphans {
                delete_blob_rows!(tx, id);
            }
            tx.commit().await?;
            Ok(Purged {
                files,
                submissions,
                blobs: orphans.len() as u64,
            })
        })
    }
}

/// `<provider id><type>.<channel>.<YYMMDD><sequence>`, e.g. `110048577A999.WEB.2611220000042`
/// (DESIGN.md: provider ID/service location, transaction, channel, sequence).
pub fn file_name(
    provider_id: &str,
    transaction_type: &str,
    channel: &str,
    at: OffsetDateTime,
    seq: i64,
) -> String {
    let d = at.date();
    format!(
        "{provider_id}{transaction_type}.{channel}.{:02}{:02}{:02}{seq:07}",
        d.year() % 100,
        u8::from(d.month()),
        d.day()
    )
}
