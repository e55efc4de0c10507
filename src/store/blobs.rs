//! Blobs: payloads and files of any size, written and read back in chunks of at most
//! [`CHUNK_BYTES`] so that neither side holds a whole 200 MB batch in memory.
//!
//! A blob is committed in its own transaction before the row that refers to it (a submission,
//! an acknowledgement, a published file); a crash in between leaves an unreferenced blob,
//! which retention collects. Chunks are never updated.

use std::io;

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt as _};
use sha1::{Digest, Sha1};
use sqlx::Row;

use super::{Store, StoreError, on_pool, timestamp};

/// Largest chunk stored in one row.
pub const CHUNK_BYTES: usize = 1024 * 1024;

/// A stored blob's identity, size and digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobInfo {
    pub id: i64,
    pub bytes: u64,
    /// SHA-1 of the content, lower-case hex.
    pub sha1: String,
}

/// Deletes a blob and its chunks inside the caller's transaction (a macro: the body is compiled
/// once per backend inside `on_pool!`).
macro_rules! delete_blob_rows {
    ($tx:expr, $id:expr) => {
        sqlx::query("DELETE FROM blob_chunks WHERE blob_id = $1")
            .bind($id)
            .execute(&mut *$tx)
            .await?;
        sqlx::query("DELETE FROM blobs WHERE id = $1")
            .bind($id)
            .execute(&mut *$tx)
            .await?;
    };
}
pub(super) use delete_blob_rows;

impl Store {
    /// Stores everything `content` yields as one blob, in one transaction, re-cut into chunks of
    /// [`CHUNK_BYTES`]. Fails (and stores nothing) if `content` fails.
    pub async fn put_blob<S>(&self, content: S) -> Result<BlobInfo, StoreError>
    where
        S: Stream<Item = io::Result<Bytes>> + Send,
    {
        let mut content = std::pin::pin!(content);
        let created = timestamp(time::OffsetDateTime::now_utc());
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let id: i64 = sqlx::query(
                "INSERT INTO blobs (bytes, sha1, created_at) VALUES (0, '', $1) RETURNING id",
            )
            .bind(&created)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            let mut sha1 = Sha1::new();
            let mut bytes = 0u64;
            let mut seq = 0i64;
            let mut pending = BytesMut::new();
            loop {
                let next = content.next().await.transpose().map_err(StoreError::io)?;
                if let Some(piece) = &next {
                    sha1.update(piece);
                    bytes += piece.len() as u64;
                    pending.extend_from_slice(piece);
                }
                // Full chunks as they fill up; the remainder at the end.
                while pending.len() >= CHUNK_BYTES || (next.is_none() && !pending.is_empty()) {
                    let take = pending.len().min(CHUNK_BYTES);
                    let chunk = pending.split_to(take);
                    sqlx::query("INSERT INTO blob_chunks (blob_id, seq, data) VALUES ($1, $2, $3)")
                        .bind(id)
                        .bind(seq)
                        .bind(&chunk[..])
                        .execute(&mut *tx)
                        .await?;
                    seq += 1;
                }
                if next.is_none() {
                    break;
                }
            }
            let sha1 = crate::core::validate::hex(&sha1.finalize());
            sqlx::query("UPDATE blobs SET bytes = $1, sha1 = $2 WHERE id = $3")
                .bind(i64::try_from(bytes).unwrap_or(i64::MAX))
                .bind(&sha1)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(BlobInfo { id, bytes, sha1 })
        })
    }

    /// Stores bytes already in memory as a blob.
    pub async fn put_blob_bytes(&self, content: &[u8]) -> Result<BlobInfo, StoreError> {
        let piece = Bytes::copy_from_slice(content);
        self.put_blob(futures_util::stream::iter([Ok(piece)])).await
    }

    /// A blob's size and digest; `None` when there is no such blob.
    pub async fn blob_info(&self, id: i64) -> Result<Option<BlobInfo>, StoreError> {
        on_pool!(self, |pool| {
            let row = sqlx::query("SELECT bytes, sha1 FROM blobs WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?;
            match row {
                None => Ok(None),
                Some(r) => Ok(Some(BlobInfo {
                    id,
                    bytes: u64::try_from(r.try_get::<i64, _>(0)?).unwrap_or(0),
                    sha1: r.try_get(1)?,
                })),
            }
        })
    }

    /// One chunk of a blob; `None` past the last one.
    pub async fn blob_chunk(&self, id: i64, seq: i64) -> Result<Option<Bytes>, StoreError> {
        on_pool!(self, |pool| {
            let row = sqlx::query("SELECT data FROM blob_chunks WHERE blob_id = $1 AND seq = $2")
                .bind(id)
                .bind(seq)
                .fetch_optional(pool)
                .await?;
            match row {
                None => Ok(None),
                Some(r) => Ok(Some(Bytes::from(r.try_get::<Vec<u8>, _>(0)?))),
            }
        })
    }

    /// A blob's content, one chunk in memory at a time.
    pub fn blob_stream(
        &self,
        id: i64,
    ) -> impl Stream<Item = Result<Bytes, StoreError>> + Send + 'static {
        let store = self.clone();
        futures_util::stream::try_unfold(0i64, move |seq| {
            let store = store.clone();
            async move {
                Ok(store
                    .blob_chunk(id, seq)
                    .await?
                    .map(|chunk| (chunk, seq + 1)))
            }
        })
    }

    /// A small blob's whole content (acknowledgements, receipts): refuses blobs over `max`.
    pub async fn read_blob(&self, id: i64, max: u64) -> Result<Vec<u8>, StoreError> {
        let mut out = Vec::new();
        let mut stream = std::pin::pin!(self.blob_stream(id));
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            if (out.len() + chunk.len()) as u64 > max {
                return Err(StoreError::corrupt(format!(
                    "blob {id} is larger than the {max} bytes expected"
                )));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    /// Deletes a blob and its chunks.
    pub async fn delete_blob(&self, id: i64) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            delete_blob_rows!(tx, id);
            tx.commit().await?;
        });
        Ok(())
    }
}
