//! One opaque error for everything the store does, with predicates for the caller's decision.

use std::fmt;

/// A storage failure. Ask [`StoreError::is_retryable`] whether trying again may help (the
/// database is down or busy) and [`StoreError::is_config`] whether the operator must fix
/// something (a bad URL); anything else is a fault in the stored data or in this program.
#[derive(Debug)]
pub struct StoreError {
    kind: Kind,
    source: Box<dyn std::error::Error + Send + Sync>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Config,
    Unavailable,
    Migrate,
    Corrupt,
    Query,
}

impl StoreError {
    pub(crate) fn config(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self {
            kind: Kind::Config,
            source: e.into(),
        }
    }

    pub(crate) fn migrate(e: sqlx::migrate::MigrateError) -> Self {
        Self {
            kind: Kind::Migrate,
            source: e.into(),
        }
    }

    /// A stored value this program cannot read (e.g. a date that is not a date).
    pub(crate) fn corrupt(what: String) -> Self {
        Self {
            kind: Kind::Corrupt,
            source: what.into(),
        }
    }

    /// Reading what was to be stored failed (a spooled payload's temporary file): the gateway's
    /// fault, and worth a retry.
    pub(crate) fn io(e: std::io::Error) -> Self {
        Self {
            kind: Kind::Unavailable,
            source: e.into(),
        }
    }

    /// The database could not be reached for `what` (its own error was reported where it
    /// happened): worth a retry.
    pub(crate) fn unavailable(what: String) -> Self {
        Self {
            kind: Kind::Unavailable,
            source: what.into(),
        }
    }

    /// The caller broke a precondition of a store method (a fault in this program).
    pub(crate) fn misuse(what: String) -> Self {
        Self {
            kind: Kind::Query,
            source: what.into(),
        }
    }

    /// The database could not be reached or did not answer in time: retry later.
    pub fn is_retryable(&self) -> bool {
        self.kind == Kind::Unavailable
    }

    /// The configuration (database URL) is wrong.
    pub fn is_config(&self) -> bool {
        self.kind == Kind::Config
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        let kind = match &e {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Tls(_) => Kind::Unavailable,
            sqlx::Error::Configuration(_) => Kind::Config,
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => Kind::Corrupt,
            sqlx::Error::Database(db) if is_transient(db.code().as_deref()) => Kind::Unavailable,
            _ => Kind::Query,
        };
        Self {
            kind,
            source: e.into(),
        }
    }
}

/// Database error codes that mean "busy now, try again", not "this query is wrong": SQLite's
/// BUSY and LOCKED (another writer held the database past the busy timeout), PostgreSQL's
/// lock_not_available (lock_timeout), query_canceled (statement_timeout), serialization and
/// deadlock failures, too_many_connections, shutdowns and connection exceptions.
fn is_transient(code: Option<&str>) -> bool {
    let Some(code) = code else { return false };
    // SQLite reports extended result codes; the primary code is the low byte.
    if let Ok(n) = code.parse::<i32>() {
        return matches!(n & 0xff, 5 | 6);
    }
    matches!(
        code,
        "55P03" | "57014" | "40001" | "40P01" | "53300" | "57P01" | "57P02" | "57P03"
    ) || code.starts_with("08")
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            Kind::Config => "database configuration",
            Kind::Unavailable => "database unavailable",
            Kind::Migrate => "database migration failed",
            Kind::Corrupt => "unreadable stored data",
            Kind::Query => "database query failed",
        };
        write!(f, "{what}: {}", self.source)
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}
