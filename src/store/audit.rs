//! The audit log (CORE 270 §4.3.4): date, time and PayloadID of every inbound message, with the
//! outbound message answering it, so "what did you send back for PayloadID X?" has an answer.
//!
//! One row per exchange (request and response together): the request's metadata is only
//! complete once the answer is known, and writing once keeps the hot path to one `INSERT`.
//! Payload bodies are never stored (PHI, size): a SHA-1 of each lets an exchange be matched to
//! files kept elsewhere.

use std::borrow::Cow;
use std::sync::{Arc, LazyLock};

use sqlx::{ColumnIndex, Decode, Row, Type};
use time::OffsetDateTime;

use super::{Backend, Store, StoreError, on_pool, parse_timestamp, timestamp};
use crate::core::Wire;
use crate::x12::writer::Digits;

const COLUMNS: &str = "correlation_id, received_at, answered_at, operation, wire, organization, \
     user_name, sender_id, receiver_id, payload_id, payload_type, response_payload_type, \
     request_bytes, response_bytes, http_status, error_code, isa13, gs06, st02, response_isa13, \
     test_mode, request_sha1, response_sha1";
/// Values per row of `INSERT INTO messages`.
const COLUMN_COUNT: usize = 23;
/// Rows per PostgreSQL INSERT statement: few statements per batch, few distinct statement
/// texts for sqlx's prepared-statement cache, and 23 × 32 = 736 parameters, far below the limit
/// of 65,535.
const POSTGRES_ROWS_PER_INSERT: usize = 32;

/// SQLite: most rows per INSERT statement. A batch up to this size is one statement in
/// autocommit; a larger one takes several in one transaction, and each of those statements then
/// needs a statement journal (a temporary file SQLite writes the pages it changes to, so that
/// one statement can be undone alone): with 64 rows per statement that journal was half of
/// SQLite's `pwrite` calls for batches of 256 (`strace -c` on `cargo bench --bench
/// audit_write`: 5.6 → 2.9 per record, CPU time −20%). The server's audit writer never
/// batches more than this (see `server::audit`).
pub const SQLITE_ROWS_PER_INSERT: usize = 512;

/// SQLite stores the columns that queries filter or sort on as columns of `message_log` and
/// the other 19 values as one JSON array, `detail` (migrations/sqlite/0009_audit_packed.sql;
/// the view `messages` shows them as the columns of [`COLUMNS`] again). Five bound values per
/// row instead of 23 halve SQLite's work per row: every bound text is a copy and an allocation
/// in SQLite, and the record it builds has 6 fields instead of 24.
const SQLITE_COLUMNS: &str = "correlation_id, received_at, organization, payload_id, detail";
/// Values per row of `INSERT INTO message_log`.
const SQLITE_COLUMN_COUNT: usize = 5;

/// SQLite INSERT texts for 1, 2, 4, … [`SQLITE_ROWS_PER_INSERT`] rows of bound values (see
/// [`sqlite_insert_sql`]). Few, fixed texts: sqlx prepares each once per connection and caches
/// it by its text.
static SQLITE_INSERTS: LazyLock<Vec<String>> = LazyLock::new(|| {
    std::iter::successors(Some(1), |&n| (n < SQLITE_ROWS_PER_INSERT).then_some(n * 2))
        .map(sqlite_insert_text)
        .collect()
});

/// Binds the 23 values of [`COLUMNS`] of `$r` to `$q`, in order, as PostgreSQL's table (and
/// SQLite's before migration 0009) stores them. A macro: the query types of the two backends
/// share no trait that would take all seven value types.
macro_rules! bind_columns {
    ($q:expr, $r:expr) => {
        $q.bind($r.correlation_id.as_str())
            .bind(timestamp($r.received_at))
            .bind($r.answered_at.map(timestamp))
            .bind($r.operation.as_deref())
            .bind($r.wire.map(wire_text))
            .bind($r.organization.as_deref())
            .bind($r.user_name.as_deref())
            .bind($r.sender_id.as_deref())
            .bind($r.receiver_id.as_deref())
            .bind($r.payload_id.as_deref())
            .bind($r.payload_type.as_deref())
            .bind($r.response_payload_type.as_deref())
            .bind(size($r.request_bytes))
            .bind($r.response_bytes.map(size))
            .bind($r.http_status.map(i32::from))
            .bind($r.error_code.as_deref())
            .bind($r.isa13.as_deref())
            .bind($r.gs06.as_deref())
            .bind($r.st02.as_deref())
            .bind($r.response_isa13.as_deref())
            .bind($r.test_mode)
            .bind($r.request_sha1.as_deref())
            .bind($r.response_sha1.as_deref())
    };
}

/// One request/response exchange. `None` means "not known or not sent" (e.g. no PayloadID in a
/// request refused before its envelope was read, no answer when the client went away).
/// Times are stored to the microsecond; what is read back is truncated to that.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    /// The gateway's own id of the exchange (unique; the log's key for it).
    pub correlation_id: String,
    pub received_at: OffsetDateTime,
    pub answered_at: Option<OffsetDateTime>,
    /// CORE operation name (`Operation::name()`), or what the caller asked for.
    // `Cow` here and below: constants on the request path, owned when read back.
    pub operation: Option<Cow<'static, str>>,
    pub wire: Option<Wire>,
    /// The authenticated organization and user.
    pub organization: Option<String>,
    pub user_name: Option<String>,
    pub sender_id: Option<String>,
    pub receiver_id: Option<String>,
    pub payload_id: Option<String>,
    /// PayloadType of the request.
    pub payload_type: Option<String>,
    pub response_payload_type: Option<Cow<'static, str>>,
    /// Size of the request payload (or body, when no payload could be read).
    pub request_bytes: u64,
    pub response_bytes: Option<u64>,
    pub http_status: Option<u16>,
    /// CORE ErrorCode of the answer.
    pub error_code: Option<Cow<'static, str>>,
    /// Control numbers of the request's first interchange, group and set
    /// (see [`crate::x12::tree::control_numbers`]).
    pub isa13: Option<String>,
    pub gs06: Option<String>,
    pub st02: Option<String>,
    /// ISA13 of the answer.
    pub response_isa13: Option<String>,
    /// ISA15 of the request was `T`.
    pub test_mode: bool,
    /// Lower-case hex SHA-1 of each payload (`crate::core::validate::sha1_hex`).
    pub request_sha1: Option<String>,
    pub response_sha1: Option<String>,
}

impl Store {
    /// Records one exchange. A `correlation_id` already on file is an error (nothing is
    /// overwritten: the log is append-only).
    pub async fn record_message(&self, r: &AuditRecord) -> Result<(), StoreError> {
        self.record_messages(std::slice::from_ref(r)).await
    }

    /// Records several exchanges in one transaction (the server's audit writer batches them:
    /// one commit, one fsync, for many requests). All or none: a refused record (e.g. a
    /// duplicate correlation ID) leaves none of them written.
    pub async fn record_messages(&self, records: &[AuditRecord]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        match &self.backend {
            Backend::Sqlite(pool) => {
                // Bound values, not a JSON array split by SQLite's JSON functions: those cost
                // more than half of SQLite's work per row. One statement is one round trip to
                // sqlx's SQLite worker thread and, in autocommit, needs no BEGIN, no COMMIT and
                // no statement journal.
                if records.len() <= SQLITE_ROWS_PER_INSERT {
                    sqlite_insert(records).execute(pool).await?;
                } else {
                    let mut tx = pool.begin().await?;
                    for chunk in records.chunks(SQLITE_ROWS_PER_INSERT) {
                        sqlite_insert(chunk).execute(&mut *tx).await?;
                    }
                    tx.commit().await?;
                }
            }
            Backend::Postgres(pool) => {
                // Multi-row INSERTs, in chunks so no statement nears the parameter limit. The
                // table keeps its 23 columns here: the row's cost is the server's, in another
                // process (often another machine), and binary parameters cost the gateway no
                // allocation each as SQLite's copies do.
                let mut tx = pool.begin().await?;
                for chunk in records.chunks(POSTGRES_ROWS_PER_INSERT) {
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(postgres_insert_sql(chunk.len())));
                    for r in chunk {
                        q = bind_columns!(q, r);
                    }
                    q.execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// Every exchange that carried `payload_id`, oldest first (a PayloadID should be unique per
    /// sender, but a retry or another sender may reuse it; the caller picks).
    pub async fn messages_by_payload_id(
        &self,
        payload_id: &str,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM messages WHERE payload_id = $1 ORDER BY received_at, id"
        );
        on_pool!(self, |pool| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(payload_id)
                .fetch_all(pool)
                .await?;
            rows.iter().map(record_from_row).collect()
        })
    }

    /// The latest `limit` exchanges, newest first, of one organization or of all.
    pub async fn recent_messages(
        &self,
        organization: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        // `id` breaks ties between exchanges received in the same microsecond.
        let sql = match organization {
            Some(_) => format!(
                "SELECT {COLUMNS} FROM messages WHERE organization = $1 \
                 ORDER BY received_at DESC, id DESC LIMIT $2"
            ),
            None => {
                format!(
                    "SELECT {COLUMNS} FROM messages ORDER BY received_at DESC, id DESC LIMIT $1"
                )
            }
        };
        on_pool!(self, |pool| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            if let Some(org) = organization {
                q = q.bind(org);
            }
            let rows = q.bind(i64::from(limit)).fetch_all(pool).await?;
            rows.iter().map(record_from_row).collect()
        })
    }
}

fn record_from_row<'r, R>(row: &'r R) -> Result<AuditRecord, StoreError>
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    i32: Decode<'r, R::Database> + Type<R::Database>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
{
    let text = |c: &str| -> Result<Option<String>, StoreError> { Ok(row.try_get(c)?) };
    let wire = text("wire")?
        .map(|w| parse_wire(&w).ok_or_else(|| StoreError::corrupt(format!("wire {w:?}"))))
        .transpose()?;
    let http_status = row
        .try_get::<Option<i32>, _>("http_status")?
        .map(|s| u16::try_from(s).map_err(|_| StoreError::corrupt(format!("http_status {s}"))))
        .transpose()?;
    Ok(AuditRecord {
        correlation_id: row.try_get("correlation_id")?,
        received_at: parse_timestamp("received_at", &row.try_get::<String, _>("received_at")?)?,
        answered_at: text("answered_at")?
            .map(|t| parse_timestamp("answered_at", &t))
            .transpose()?,
        operation: text("operation")?.map(Cow::Owned),
        wire,
        organization: text("organization")?,
        user_name: text("user_name")?,
        sender_id: text("sender_id")?,
        receiver_id: text("receiver_id")?,
        payload_id: text("payload_id")?,
        payload_type: text("payload_type")?,
        response_payload_type: text("response_payload_type")?.map(Cow::Owned),
        request_bytes: read_size("request_bytes", row.try_get("request_bytes")?)?,
        response_bytes: row
            .try_get::<Option<i64>, _>("response_bytes")?
            .map(|n| read_size("response_bytes", n))
            .transpose()?,
        http_status,
        error_code: text("error_code")?.map(Cow::Owned),
        isa13: text("isa13")?,
        gs06: text("gs06")?,
        st02: text("st02")?,
        response_isa13: text("response_isa13")?,
        test_mode: row.try_get("test_mode")?,
        request_sha1: text("request_sha1")?,
        response_sha1: text("response_sha1")?,
    })
}

/// `INSERT INTO messages (…) VALUES ($1, …), ($24, …)` for `rows` rows.
fn postgres_insert_sql(rows: usize) -> String {
    use std::fmt::Write as _;
    let mut sql = String::with_capacity(300 + rows * COLUMN_COUNT * 6);
    sql.push_str("INSERT INTO messages (");
    sql.push_str(COLUMNS);
    sql.push_str(") VALUES ");
    let mut n = 0;
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for col in 0..COLUMN_COUNT {
            if col > 0 {
                sql.push_str(", ");
            }
            n += 1;
            let _ = write!(sql, "${n}");
        }
        sql.push(')');
    }
    sql
}

/// `INSERT INTO message_log (…) SELECT * FROM (VALUES (?, …), …) WHERE column1 IS NOT NULL`
/// for `rows` rows. Anonymous `?`: sqlx looks up the name of every numbered or named parameter.
fn sqlite_insert_text(rows: usize) -> String {
    let mut sql = String::with_capacity(200 + rows * SQLITE_COLUMN_COUNT * 2);
    sql.push_str("INSERT INTO message_log (");
    sql.push_str(SQLITE_COLUMNS);
    sql.push_str(") SELECT * FROM (VALUES ");
    for row in 0..rows {
        sql.push_str(if row == 0 { "(?" } else { ", (?" });
        sql.push_str(&",?".repeat(SQLITE_COLUMN_COUNT - 1));
        sql.push(')');
    }
    sql.push_str(") WHERE column1 IS NOT NULL");
    sql
}

/// The smallest statement of [`SQLITE_INSERTS`] that holds `rows` rows (at most
/// [`SQLITE_ROWS_PER_INSERT`]). The rows past `rows` are left unbound, which SQLite reads as
/// NULL, and the filter on `correlation_id` (never NULL in a record) drops them: one statement
/// text per power of two rather than one per batch size.
fn sqlite_insert_sql(rows: usize) -> &'static str {
    debug_assert!(rows <= SQLITE_ROWS_PER_INSERT, "{rows} rows");
    let i = rows.next_power_of_two().trailing_zeros() as usize;
    SQLITE_INSERTS[i.min(SQLITE_INSERTS.len() - 1)].as_str()
}

/// The insert of `records` (at most [`SQLITE_ROWS_PER_INSERT`]) with their values bound: the
/// indexed columns, then the rest packed as `detail` (see [`write_detail`]).
fn sqlite_insert(
    records: &[AuditRecord],
) -> sqlx::query::Query<'static, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
    // `Arc<str>`: what sqlx keeps of a bound text; from `&str` it would copy twice. Texts are
    // written into one reused buffer first, so each costs one allocation of its final size.
    let text = |v: Option<&str>| v.map(Arc::<str>::from);
    let mut buf = String::with_capacity(1024);
    let mut q = sqlx::query(sqlite_insert_sql(records.len()));
    for r in records {
        buf.clear();
        push_timestamp(&mut buf, r.received_at);
        let received_at = Arc::<str>::from(buf.as_str());
        buf.clear();
        write_detail(&mut buf, r);
        q = q
            .bind(Arc::<str>::from(r.correlation_id.as_str()))
            .bind(received_at)
            .bind(text(r.organization.as_deref()))
            .bind(text(r.payload_id.as_deref()))
            .bind(Arc::<str>::from(buf.as_str()));
    }
    q
}

/// Appends the JSON array `detail` of `r`: the values of [`COLUMNS`] that are not columns of
/// SQLite's `message_log`, in the order 0009_audit_packed.sql lists (and its view reads them).
fn write_detail(out: &mut String, r: &AuditRecord) {
    out.push('[');
    match r.answered_at {
        Some(t) => {
            out.push('"');
            push_timestamp(out, t);
            out.push('"');
        }
        None => out.push_str("null"),
    }
    let text = |out: &mut String, v: Option<&str>| {
        out.push(',');
        match v {
            Some(s) => push_json_string(out, s),
            None => out.push_str("null"),
        }
    };
    let number = |out: &mut String, v: Option<u64>| {
        out.push(',');
        match v {
            Some(n) => out.push_str(Digits::new(n).as_str()),
            None => out.push_str("null"),
        }
    };
    text(out, r.operation.as_deref());
    text(out, r.wire.map(wire_text));
    text(out, r.user_name.as_deref());
    text(out, r.sender_id.as_deref());
    text(out, r.receiver_id.as_deref());
    text(out, r.payload_type.as_deref());
    text(out, r.response_payload_type.as_deref());
    // Sizes as the columns store them (saturated to i64).
    number(out, Some(size(r.request_bytes).unsigned_abs()));
    number(out, r.response_bytes.map(|n| size(n).unsigned_abs()));
    number(out, r.http_status.map(u64::from));
    text(out, r.error_code.as_deref());
    text(out, r.isa13.as_deref());
    text(out, r.gs06.as_deref());
    text(out, r.st02.as_deref());
    text(out, r.response_isa13.as_deref());
    number(out, Some(u64::from(r.test_mode)));
    text(out, r.request_sha1.as_deref());
    text(out, r.response_sha1.as_deref());
    out.push(']');
}

/// Appends `s` as a JSON string: `"` and `\` and control characters escaped, the rest (UTF-8
/// included) as is. By hand rather than with serde_json: it writes only to an `io::Write`, and
/// its `to_string` would cost an allocation per value, which this row writer exists to avoid
/// (the migration and both-backend tests read escape-heavy values back through SQLite's JSON).
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escaped = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        // `i` is at an ASCII byte: a character boundary.
        out.push_str(&s[start..i]);
        if escaped.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(escaped);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Appends [`timestamp`]'s text of `t` (`2023-11-14T22:13:20.123456Z`), written digit by digit:
/// `time`'s formatter costs about ten times as much, twice per row.
fn push_timestamp(out: &mut String, t: OffsetDateTime) {
    let t = t.to_offset(time::UtcOffset::UTC);
    // Four-digit years only; the formatter writes (or stands in for) the others.
    if !(0..=9999).contains(&t.year()) {
        out.push_str(&timestamp(t));
        return;
    }
    crate::core::envelope::push_utc_seconds(out, t);
    let mut fraction = *b".000000Z";
    crate::x12::writer::put_digits(&mut fraction[1..7], t.microsecond());
    out.push_str(std::str::from_utf8(&fraction).unwrap_or_default());
}

fn wire_text(w: Wire) -> &'static str {
    match w {
        Wire::Soap => "soap",
        Wire::Mtom => "mtom",
        Wire::Mime => "mime",
    }
}

fn parse_wire(s: &str) -> Option<Wire> {
    match s {
        "soap" => Some(Wire::Soap),
        "mtom" => Some(Wire::Mtom),
        "mime" => Some(Wire::Mime),
        _ => None,
    }
}

/// Sizes are BIGINT; no payload comes near `i64::MAX`, so saturating loses nothing real.
fn size(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn read_size(column: &str, n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError::corrupt(format!("{column} {n}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn insert_has_one_placeholder_per_column() {
        assert_eq!(COLUMNS.split(',').count(), COLUMN_COUNT);
        let pg = postgres_insert_sql(2);
        assert!(pg.ends_with("$45, $46)"), "{pg}");
        assert_eq!(pg.matches('$').count(), 2 * COLUMN_COUNT);
        assert_eq!(SQLITE_COLUMNS.split(',').count(), SQLITE_COLUMN_COUNT);
        let sqlite = sqlite_insert_text(3);
        assert_eq!(sqlite.matches('?').count(), 3 * SQLITE_COLUMN_COUNT);
        assert!(
            sqlite.contains(&format!("message_log ({SQLITE_COLUMNS}) SELECT")),
            "{sqlite}"
        );
    }

    #[test]
    fn sqlite_statements_are_powers_of_two() {
        let rows = |n| sqlite_insert_sql(n).matches("(?").count();
        for (n, want) in [
            (1, 1),
            (2, 2),
            (3, 4),
            (5, 8),
            (33, 64),
            (64, 64),
            (257, 512),
        ] {
            assert_eq!(rows(n), want, "{n} rows");
        }
        // 1, 2, 4, … 512.
        assert_eq!(SQLITE_INSERTS.len(), 10);
        assert_eq!(
            sqlite_insert_sql(SQLITE_ROWS_PER_INSERT)
                .matches('?')
                .count(),
            SQLITE_ROWS_PER_INSERT * SQLITE_COLUMN_COUNT
        );
    }

    #[test]
    fn wire_names_round_trip() {
        for w in [Wire::Soap, Wire::Mtom, Wire::Mime] {
            assert_eq!(parse_wire(wire_text(w)), Some(w));
        }
        assert_eq!(parse_wire("SOAP"), None);
    }

    /// Every value set, texts needing escapes; whole microseconds (what the store keeps).
    fn full_record() -> AuditRecord {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_000).unwrap();
        AuditRecord {
            correlation_id: "c-1".to_owned(),
            received_at: t,
            answered_at: Some(t),
            operation: Some("RealTimeTransaction".into()),
            wire: Some(Wire::Mtom),
            organization: Some("Clinic".to_owned()),
            user_name: Some(
                "quote \" back \\ nl \n tab \t cr \r bell \u{7} del \u{7f} é 😀".to_owned(),
            ),
            sender_id: Some("S".to_owned()),
            receiver_id: None,
            payload_id: Some("p".to_owned()),
            payload_type: Some("X12_270_Request_005010X279A1".to_owned()),
            response_payload_type: None,
            request_bytes: u64::MAX,
            response_bytes: Some(0),
            http_status: Some(200),
            error_code: Some("Success".into()),
            isa13: Some("000000101".to_owned()),
            gs06: Some(String::new()),
            st02: Some("0001".to_owned()),
            response_isa13: None,
            test_mode: true,
            request_sha1: Some("a".repeat(40)),
            response_sha1: None,
        }
    }

    #[test]
    fn detail_is_the_json_array_the_view_reads() {
        let r = full_record();
        let mut out = String::new();
        write_detail(&mut out, &r);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let want = serde_json::json!([
            "2023-11-14T22:13:20.123456Z",
            "RealTimeTransaction",
            "mtom",
            r.user_name,
            "S",
            null,
            "X12_270_Request_005010X279A1",
            null,
            i64::MAX,
            0,
            200,
            "Success",
            "000000101",
            "",
            "0001",
            null,
            1,
            "a".repeat(40),
            null
        ]);
        assert_eq!(v, want, "{out}");
        // One position per value the view reads (`detail ->> 0` … `->> 18`).
        let view = include_str!("../../migrations/sqlite/0009_audit_packed.sql");
        assert!(view.contains("detail ->> 18 AS response_sha1"));
        assert!(!view.contains("detail ->> 19"));
    }

    #[test]
    fn timestamp_digits_match_the_formatter() {
        let utc = time::UtcOffset::UTC;
        let minus5 = time::UtcOffset::from_hms(-5, 0, 0).unwrap();
        for nanos in [
            0,
            1_700_000_000_123_456_789,
            1_781_524_800_000_000_999,
            -62_135_596_800_000_000_000, // 0001-01-01
            253_402_300_799_999_999_999, // 9999-12-31T23:59:59.999999999
        ] {
            let t = OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap();
            for off in [utc, minus5] {
                let t = t.to_offset(off);
                let mut s = String::new();
                push_timestamp(&mut s, t);
                assert_eq!(s, timestamp(t), "{nanos}");
            }
        }
        let mut s = String::new();
        push_timestamp(&mut s, time::macros::datetime!(-0001-06-01 0:00 UTC));
        assert_eq!(s, timestamp(time::macros::datetime!(-0001-06-01 0:00 UTC)));
    }

    /// Rows written before 0009 read back identically afterwards, through the view.
    #[tokio::test]
    async fn packing_migration_carries_rows_over() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("m.db").display());
        let store = Store::connect(&url).await.unwrap();
        let pool = sqlite_pool(&store);
        let before_packing = &super::super::SQLITE_MIGRATIONS[..8];
        assert_eq!(before_packing.last().unwrap().0, 8);
        super::super::migrator(before_packing)
            .run(pool)
            .await
            .unwrap();
        let full = full_record();
        let mut sparse = full_record();
        sparse.correlation_id = "c-2".to_owned();
        sparse.received_at += time::Duration::microseconds(1);
        sparse.answered_at = None;
        sparse.operation = None;
        sparse.wire = None;
        sparse.user_name = None;
        sparse.request_bytes = 7;
        sparse.response_bytes = None;
        sparse.http_status = None;
        sparse.test_mode = false;
        sparse.request_sha1 = None;
        let mut other = full_record();
        other.correlation_id = "c-3".to_owned();
        other.payload_id = Some("q".to_owned());
        other.organization = None;
        other.request_bytes = 1 << 40;
        // The old table, as 0004 made it and the old writer filled it.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(postgres_insert_sql(3)));
        for r in [&full, &sparse, &other] {
            q = bind_columns!(q, r);
        }
        q.execute(pool).await.unwrap();
        store.migrate().await.unwrap();

        let mut want_full = full.clone();
        want_full.request_bytes = i64::MAX.unsigned_abs(); // saturated, as stored
        assert_eq!(
            store.messages_by_payload_id("p").await.unwrap(),
            vec![want_full.clone(), sparse.clone()]
        );
        assert_eq!(
            store.recent_messages(None, 10).await.unwrap(),
            vec![sparse.clone(), other.clone(), want_full.clone()]
        );
        // Row ids carried over: new rows sort after the old ones at equal times.
        let mut new = other.clone();
        new.correlation_id = "c-4".to_owned();
        store.record_message(&new).await.unwrap();
        assert_eq!(
            store.messages_by_payload_id("q").await.unwrap(),
            vec![other, new]
        );
        // The old column names still answer plain SQL.
        let (isa13, bytes): (String, i64) = sqlx::query_as(
            "SELECT isa13, request_bytes FROM messages WHERE correlation_id = 'c-3'",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!((isa13.as_str(), bytes), ("000000101", 1 << 40));
        store.close().await;
    }

    fn sqlite_pool(store: &Store) -> &sqlx::SqlitePool {
        match &store.backend {
            Backend::Sqlite(pool) => pool,
            Backend::Postgres(_) => unreachable!("a sqlite: URL opens SQLite"),
        }
    }

    /// How SQLite would run an operator's lookup by PayloadID on the `messages` view.
    async fn payload_id_plan(pool: &sqlx::SqlitePool) -> String {
        let plan: Vec<(i64, i64, i64, String)> =
            sqlx::query_as("EXPLAIN QUERY PLAN SELECT * FROM messages WHERE payload_id = ?")
                .bind("p")
                .fetch_all(pool)
                .await
                .unwrap();
        plan.into_iter()
            .map(|(.., detail)| detail)
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Migration 0010: the PayloadID index leads with the row's group (id / 1024), and lookups
    /// by PayloadID still go through it (skip-scan) rather than scanning the table, with the
    /// statistics the migration writes and with those ANALYZE measures; rows in several groups
    /// are all found, in order.
    #[tokio::test]
    async fn payload_id_lookups_use_the_index() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("g.db").display());
        let store = Store::open(&url).await.unwrap();
        let pool = sqlite_pool(&store);
        let index = "USING INDEX messages_payload_id (ANY(payload_group) AND payload_id=?)";
        let plan = payload_id_plan(pool).await;
        assert!(plan.contains(index), "empty log: {plan}");

        // 2,600 rows: groups 0, 1 and 2 (ids start at 1). "p" in the first row, at the
        // first id of group 1 and in the last row; a PayloadID of its own on every other row.
        let mut base = full_record();
        base.request_bytes = 312; // full_record's u64::MAX is stored saturated
        let records: Vec<AuditRecord> = (1..=2600i64)
            .map(|id| {
                let mut r = base.clone();
                r.correlation_id = format!("c-{id}");
                r.received_at += time::Duration::microseconds(id);
                r.payload_id = Some(if [1, 1024, 2600].contains(&id) {
                    "p".to_owned()
                } else {
                    format!("q-{id}")
                });
                r
            })
            .collect();
        for chunk in records.chunks(SQLITE_ROWS_PER_INSERT) {
            store.record_messages(chunk).await.unwrap();
        }
        let groups: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT id, payload_group FROM message_log WHERE payload_id = 'p' ORDER BY id",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        assert_eq!(groups, vec![(1, 0), (1024, 1), (2600, 2)]);
        let want = vec![
            records[0].clone(),
            records[1023].clone(),
            records[2599].clone(),
        ];
        assert_eq!(store.messages_by_payload_id("p").await.unwrap(), want);

        // Connections opened after the migration read the statistics too; so do they after
        // ANALYZE has replaced the migration's row with measured figures.
        let again = Store::connect(&url).await.unwrap();
        let fresh = sqlite_pool(&again);
        let plan = payload_id_plan(fresh).await;
        assert!(plan.contains(index), "new connection: {plan}");
        sqlx::query("ANALYZE").execute(fresh).await.unwrap();
        let stat: String =
            sqlx::query_scalar("SELECT stat FROM sqlite_stat1 WHERE idx = 'messages_payload_id'")
                .fetch_one(fresh)
                .await
                .unwrap();
        assert!(stat.starts_with("2600 "), "{stat}");
        let plan = payload_id_plan(fresh).await;
        assert!(plan.contains(index), "after ANALYZE: {plan}");
        assert_eq!(again.messages_by_payload_id("p").await.unwrap(), want);
        again.close().await;
        store.close().await;
    }

    #[test]
    fn timestamps_are_fixed_width_utc() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).unwrap();
        let s = timestamp(t.to_offset(time::UtcOffset::from_hms(-5, 0, 0).unwrap()));
        assert_eq!(s, "2023-11-14T22:13:20.123456Z");
        assert_eq!(
            parse_timestamp("t", &s).unwrap().unix_timestamp_nanos(),
            1_700_000_000_123_456_000
        );
    }
}
