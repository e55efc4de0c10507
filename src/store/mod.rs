//! Storage: one set of behaviours over two sqlx backends.
//!
//! SQLite is the embedded default (a file, WAL journal); PostgreSQL is chosen by a
//! `postgres://` URL and lets several gateway instances share one database. Queries are written
//! once, with `$n` placeholders both backends accept, and run on whichever pool is open
//! (see [`on_pool!`]). Migrations are compiled in, one folder per backend.

pub mod audit;
pub mod blobs;
mod error;
pub mod files;
pub mod intake;
pub mod partners;
pub mod pipeline;
pub mod plan;
pub mod submissions;

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

pub use error::StoreError;

/// Runs `$body` with `$pool` bound to the open pool, whichever backend it is. The body is
/// compiled once per backend, so one query text serves both.
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.backend {
            $crate::store::Backend::Sqlite($pool) => $body,
            $crate::store::Backend::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// A handle to the database; cheap to clone (it holds a connection pool).
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
}

#[derive(Clone, Debug)]
pub(crate) enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Which database a [`Store`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

/// How long a query waits for a connection before the store reports itself unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

impl Store {
    /// Opens `url` (`sqlite:path`, `sqlite://path`, `postgres://…`), creating a SQLite file
    /// when missing, and brings the schema up to date.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Opens `url` without migrating.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url).map_err(StoreError::config)?;
            Backend::Postgres(Self::pg_pool().connect_with(Self::pg_options(opts)).await?)
        } else if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(StoreError::config)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .foreign_keys(true)
                .busy_timeout(ACQUIRE_TIMEOUT);
            Backend::Sqlite(
                SqlitePoolOptions::new()
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with(opts)
                    .await?,
            )
        } else {
            return Err(StoreError::config(format!(
                "unsupported database URL {url:?}: use sqlite:PATH or postgres://…"
            )));
        };
        Ok(Self { backend })
    }

    /// Opens PostgreSQL with explicit options (tests use this to pick a schema per test).
    pub async fn open_postgres(opts: PgConnectOptions) -> Result<Self, StoreError> {
        let store = Self {
            backend: Backend::Postgres(Self::pg_pool().connect_with(Self::pg_options(opts)).await?),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// A statement waiting on a lock gives up after the acquire timeout (and is reported as
    /// unavailable, retryable) instead of holding a request forever.
    fn pg_options(opts: PgConnectOptions) -> PgConnectOptions {
        opts.options([("lock_timeout", format!("{}ms", ACQUIRE_TIMEOUT.as_millis()))])
    }

    fn pg_pool() -> PgPoolOptions {
        PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(ACQUIRE_TIMEOUT)
    }

    pub fn kind(&self) -> BackendKind {
        match self.backend {
            Backend::Sqlite(_) => BackendKind::Sqlite,
            Backend::Postgres(_) => BackendKind::Postgres,
        }
    }

    /// Applies every migration not yet applied.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let result = match &self.backend {
            Backend::Sqlite(pool) => migrator(SQLITE_MIGRATIONS).run(pool).await,
            Backend::Postgres(pool) => migrator(POSTGRES_MIGRATIONS).run(pool).await,
        };
        result.map_err(StoreError::migrate)
    }

    /// One round trip to the database (readiness checks; the benchmarks' baseline).
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Closes every connection (waits for checked-out ones).
    pub async fn close(&self) {
        on_pool!(self, |pool| pool.close().await)
    }
}

/// Stored timestamps: UTC, fixed width with microseconds, so text order is time order on both
/// backends (`2023-11-14T22:13:20.123456Z`).
const TIMESTAMP: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
);

pub(crate) fn timestamp(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    // Cannot fail for years 0..=9999; the fallback still sorts correctly against real values.
    t.format(TIMESTAMP)
        .unwrap_or_else(|_| "9999-12-31T23:59:59.999999Z".to_owned())
}

pub(crate) fn parse_timestamp(
    column: &str,
    text: &str,
) -> Result<time::OffsetDateTime, StoreError> {
    time::PrimitiveDateTime::parse(text, TIMESTAMP)
        .map(time::PrimitiveDateTime::assume_utc)
        .map_err(|_| StoreError::corrupt(format!("{column} is not a timestamp: {text:?}")))
}

/// (version, description, SQL) of each migration, in order.
type MigrationList = &'static [(i64, &'static str, &'static str)];

// Migrations are compiled in (no files needed at run time, no database at build time), so the
// list is written out here rather than found by sqlx's `migrate!` macro.
const SQLITE_MIGRATIONS: MigrationList = &[
    (
        1,
        "plan data",
        include_str!("../../migrations/sqlite/0001_plan_data.sql"),
    ),
    (
        2,
        "plan generation",
        include_str!("../../migrations/sqlite/0002_plan_generation.sql"),
    ),
    (
        3,
        "partners",
        include_str!("../../migrations/sqlite/0003_partners.sql"),
    ),
    (
        4,
        "audit",
        include_str!("../../migrations/sqlite/0004_audit.sql"),
    ),
    (
        5,
        "submissions",
        include_str!("../../migrations/sqlite/0005_submissions.sql"),
    ),
    (
        6,
        "blobs",
        include_str!("../../migrations/sqlite/0006_blobs.sql"),
    ),
    (
        7,
        "batch pipeline",
        include_str!("../../migrations/sqlite/0007_batch_pipeline.sql"),
    ),
    (
        8,
        "intake",
        include_str!("../../migrations/sqlite/0008_intake.sql"),
    ),
    (
        9,
        "audit packed",
        include_str!("../../migrations/sqlite/0009_audit_packed.sql"),
    ),
    (
        10,
        "audit payload group",
        include_str!("../../migrations/sqlite/0010_audit_payload_group.sql"),
    ),
];
const POSTGRES_MIGRATIONS: MigrationList = &[
    (
        1,
        "plan data",
        include_str!("../../migrations/postgres/0001_plan_data.sql"),
    ),
    (
        2,
        "plan generation",
        include_str!("../../migrations/postgres/0002_plan_generation.sql"),
    ),
    (
        3,
        "partners",
        include_str!("../../migrations/postgres/0003_partners.sql"),
    ),
    (
        4,
        "audit",
        include_str!("../../migrations/postgres/0004_audit.sql"),
    ),
    (
        5,
        "submissions",
        include_str!("../../migrations/postgres/0005_submissions.sql"),
    ),
    (
        6,
        "blobs",
        include_str!("../../migrations/postgres/0006_blobs.sql"),
    ),
    (
        7,
        "batch pipeline",
        include_str!("../../migrations/postgres/0007_batch_pipeline.sql"),
    ),
    (
        8,
        "intake",
        include_str!("../../migrations/postgres/0008_intake.sql"),
    ),
];

fn migrator(list: MigrationList) -> Migrator {
    let migrations = list
        .iter()
        .map(|&(version, description, sql)| {
            Migration::new(
                version,
                Cow::Borrowed(description),
                MigrationType::Simple,
                SqlStr::from_static(sql),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}
