//! Test databases: a fresh SQLite file, or a fresh schema in the PostgreSQL server named by
//! `HTS_TEST_POSTGRES_URL` (scripts/test sets it to the local server). Without that variable,
//! PostgreSQL tests are skipped and say so.

use std::future::Future;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};

use hts_gateway::payer::load::{load_claims, load_members, load_providers};
use hts_gateway::store::Store;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const POSTGRES_URL_VAR: &str = "HTS_TEST_POSTGRES_URL";

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The PostgreSQL URL for tests, or `None` (printing why the test is skipped).
pub fn postgres_url(test: &str) -> Option<String> {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            eprintln!(
                "SKIPPED {test} on PostgreSQL: {POSTGRES_URL_VAR} is not set \
                 (scripts/test sets it to postgres://postgres@127.0.0.1:5432/test)"
            );
            None
        }
    }
}

/// Runs `body` against a fresh, migrated database of `backend`, then removes the database
/// (also when `body` panics).
pub async fn run<F, Fut>(backend: Backend, test: &str, body: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite:{}", dir.path().join("test.db").display());
            let store = Store::open(&url).await.expect("open SQLite");
            let outcome = tokio::spawn(body(store.clone())).await;
            store.close().await;
            if let Err(e) = outcome {
                std::panic::resume_unwind(e.into_panic());
            }
        }
        Backend::Postgres => {
            let Some(url) = postgres_url(test) else {
                return;
            };
            let schema = unique("hts_test");
            let mut admin = PgConnection::connect(&url)
                .await
                .unwrap_or_else(|e| panic!("{POSTGRES_URL_VAR}={url}: {e}"));
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(&mut admin)
                .await
                .expect("create schema");
            let opts = PgConnectOptions::from_str(&url)
                .expect("URL")
                .options([("search_path", schema.as_str())]);
            let store = Store::open_postgres(opts).await.expect("open PostgreSQL");
            let outcome = tokio::spawn(body(store.clone())).await;
            store.close().await;
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                .execute(&mut admin)
                .await
                .expect("drop schema");
            if let Err(e) = outcome {
                std::panic::resume_unwind(e.into_panic());
            }
        }
    }
}

/// Like [`run`], but also gives the body the database URL (for code that opens the database
/// itself, such as the server): `sqlite:PATH`, or the PostgreSQL URL with its schema set in the
/// connection options.
pub async fn run_with_url<F, Fut>(backend: Backend, test: &str, body: F)
where
    F: FnOnce(String, Store) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite:{}", dir.path().join("test.db").display());
            let store = Store::open(&url).await.expect("open SQLite");
            let outcome = tokio::spawn(body(url, store.clone())).await;
            store.close().await;
            if let Err(e) = outcome {
                std::panic::resume_unwind(e.into_panic());
            }
        }
        Backend::Postgres => {
            let Some(base) = postgres_url(test) else {
                return;
            };
            let schema = unique("hts_test");
            let mut admin = PgConnection::connect(&base)
                .await
                .unwrap_or_else(|e| panic!("{POSTGRES_URL_VAR}={base}: {e}"));
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(&mut admin)
                .await
                .expect("create schema");
            let sep = if base.contains('?') { '&' } else { '?' };
            let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
            let store = Store::open(&url).await.expect("open PostgreSQL");
            let outcome = tokio::spawn(body(url, store.clone())).await;
            store.close().await;
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                .execute(&mut admin)
                .await
                .expect("drop schema");
            if let Err(e) = outcome {
                std::panic::resume_unwind(e.into_panic());
            }
        }
    }
}

/// Loads the demo data set of fixtures/plan into `store`.
pub async fn load_demo(store: &Store) {
    let dir = super::root().join("fixtures/plan");
    let open =
        |name: &str| std::fs::File::open(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    load_providers(store, open("providers.csv"))
        .await
        .expect("providers");
    load_members(store, open("members.csv"))
        .await
        .expect("members");
    load_claims(store, open("claims.csv"))
        .await
        .expect("claims");
}

/// Defines `mod $name { sqlite, postgres }`: the same async test body on both backends.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                common::db::run(common::db::Backend::Sqlite, stringify!($name), $body).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                common::db::run(common::db::Backend::Postgres, stringify!($name), $body).await
            }
        }
    };
}

/// Like [`on_both_backends!`], for bodies that also need the database URL.
#[macro_export]
macro_rules! on_both_backends_with_url {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                common::db::run_with_url(common::db::Backend::Sqlite, stringify!($name), $body)
                    .await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                common::db::run_with_url(common::db::Backend::Postgres, stringify!($name), $body)
                    .await
            }
        }
    };
}
