//! Batch operations from the command line: `hts-gateway worker` (batch workers in their own
//! process), and for operators `admin publish`, `admin files`, `admin settings`, `admin queue`
//! and `admin purge`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand, ValueEnum};

use super::admin::DatabaseArgs;
use crate::store::Store;
use crate::store::files::FileQuery;
use crate::worker::{WorkerConfig, retention};

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Workers in this process.
    #[arg(long, env = "HTS_WORKERS", default_value_t = 2)]
    pub workers: usize,
    /// Process what is queued, then exit (instead of waiting for more).
    #[arg(long)]
    pub drain: bool,
    /// Seconds a worker holds a submission without renewing its lease; a row whose worker
    /// died is taken again after this.
    #[arg(long, env = "HTS_WORKER_LEASE_SECS", default_value_t = 60)]
    pub lease_secs: u64,
    #[command(flatten)]
    pub db: DatabaseArgs,
}

#[derive(Debug, Subcommand)]
pub enum BatchCommand {
    /// Make a file available to a partner for retrieval (835s, 834 confirmations, reports).
    Publish {
        /// The organization (trading partner) that may retrieve it.
        #[arg(long)]
        partner: String,
        /// Transaction type or label: 835, 834, 820, a report name.
        #[arg(long = "type")]
        transaction_type: String,
        /// Provider ID / service location the file is for (the first part of its name).
        #[arg(long)]
        provider: String,
        /// PayloadType it is sent with [default: X12_<type>_Response… for X12 types, else
        /// the type].
        #[arg(long)]
        payload_type: Option<String>,
        file: PathBuf,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// List a partner's files: name, type, date available, date last downloaded.
    Files {
        #[arg(long)]
        partner: String,
        #[arg(long)]
        provider: Option<String>,
        #[arg(long)]
        tracking: Option<String>,
        #[arg(long = "type")]
        transaction_type: Option<String>,
        /// Available on or after (YYYY-MM-DD).
        #[arg(long)]
        from: Option<String>,
        /// Available on or before (YYYY-MM-DD).
        #[arg(long)]
        to: Option<String>,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Show or change a partner's batch settings.
    Settings {
        partner: String,
        /// Acknowledge every file, or only files with errors.
        #[arg(long)]
        ack_policy: Option<AckPolicy>,
        /// Refuse production files until a test file of the type was accepted.
        #[arg(long)]
        require_certification: Option<bool>,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Submissions by status.
    Queue {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Purge files and payloads past retention now (serve also does it hourly).
    Purge {
        /// Keep files and payloads this many days.
        #[arg(long, default_value_t = 183)]
        days: u32,
        /// Keep files nobody picked up at least this many days.
        #[arg(long, default_value_t = 31)]
        unpicked_days: u32,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum AckPolicy {
    Always,
    NegativeOnly,
}

pub fn worker(args: WorkerArgs) -> ExitCode {
    super::serve::init_logging();
    let rt = match super::multi_thread_runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    rt.block_on(async move {
        let store = match Store::open(&args.db.database).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{}: {e}", args.db.database);
                return ExitCode::from(2);
            }
        };
        let config = WorkerConfig {
            lease: std::time::Duration::from_secs(args.lease_secs.max(1)),
            ..WorkerConfig::default()
        };
        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        if args.drain {
            // Each worker stops once nothing is left to take.
            let mut handles = Vec::new();
            for n in 1..=args.workers.max(1) {
                let (store, mut c) = (store.clone(), config.clone());
                c.name = format!("{}-{n}", config.name);
                handles.push(tokio::spawn(async move { drain(&store, &c).await }));
            }
            let (mut processed, mut gave_up) = (0, false);
            for h in handles {
                match h.await {
                    Ok(Ok(n)) => processed += n,
                    Ok(Err(n)) => {
                        processed += n;
                        gave_up = true;
                    }
                    Err(_) => gave_up = true,
                }
            }
            println!("processed {processed} submissions");
            store.close().await;
            if gave_up {
                eprintln!("a worker gave up: submissions could not be taken (see above)");
                return ExitCode::from(1);
            }
            return ExitCode::SUCCESS;
        }
        let workers = crate::worker::spawn(
            store.clone(),
            config,
            args.workers.max(1),
            Arc::new(tokio::sync::Notify::new()),
            stop,
        );
        tracing::info!(workers = args.workers, "batch workers started");
        let _ = tokio::signal::ctrl_c().await;
        let _ = stop_tx.send(true);
        for w in workers {
            let _ = w.await;
        }
        store.close().await;
        ExitCode::SUCCESS
    })
}

/// Consecutive failures to take a submission before a draining worker gives up (the database
/// is gone, or its schema is not what this build reads): about a minute with the backoff.
const DRAIN_MAX_FAILURES: u32 = 12;

/// Processes submissions until none is left to take: `Ok(processed)`, or `Err(processed)`
/// when taking them kept failing.
async fn drain(store: &Store, config: &WorkerConfig) -> Result<usize, usize> {
    let (mut n, mut failures) = (0, 0u32);
    loop {
        match store.claim_submission(&config.name, config.lease).await {
            Ok(Some(c)) => {
                failures = 0;
                crate::worker::handle(store, config, c).await;
                n += 1;
            }
            Ok(None) => return Ok(n),
            Err(e) => {
                failures += 1;
                eprintln!("taking a submission failed: {e}");
                if failures >= DRAIN_MAX_FAILURES {
                    return Err(n);
                }
                let backoff = 200 * 2u64.pow(failures.min(5));
                tokio::time::sleep(std::time::Duration::from_millis(backoff)).await;
            }
        }
    }
}

pub fn run(cmd: BatchCommand) -> ExitCode {
    super::block_on(async move {
        match execute(cmd).await {
            Ok(code) => code,
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(2)
            }
        }
    })
}

async fn open(db: &DatabaseArgs) -> Result<Store, String> {
    Store::open(&db.database)
        .await
        .map_err(|e| format!("{}: {e}", db.database))
}

async fn execute(cmd: BatchCommand) -> Result<ExitCode, String> {
    match cmd {
        BatchCommand::Publish {
            partner,
            transaction_type,
            provider,
            payload_type,
            file,
            db,
        } => {
            let store = open(&db).await?;
            if !store
                .organizations()
                .await
                .map_err(|e| e.to_string())?
                .iter()
                .any(|o| o.name == partner)
            {
                return Err(format!("no partner {partner:?} (see admin partner list)"));
            }
            let f = tokio::fs::File::open(&file)
                .await
                .map_err(|e| format!("{}: {e}", file.display()))?;
            // Streamed into the store: a large 835 costs a chunk of memory, not its size.
            let stream = file_stream(f);
            let blob = store.put_blob(stream).await.map_err(|e| e.to_string())?;
            let payload_type =
                payload_type.unwrap_or_else(|| default_payload_type(&transaction_type));
            let row = store
                .publish_file(
                    &partner,
                    &provider,
                    &transaction_type,
                    &payload_type,
                    "WEB",
                    &blob,
                )
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "published {} ({} bytes) for {partner}: PayloadID {}",
                row.file_name, row.bytes, row.payload_id
            );
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        BatchCommand::Files {
            partner,
            provider,
            tracking,
            transaction_type,
            from,
            to,
            db,
        } => {
            let store = open(&db).await?;
            let q = FileQuery {
                provider_id: provider,
                tracking_number: tracking,
                transaction_type,
                from,
                to,
                limit: None,
            };
            let files = store.files(&partner, &q).await.map_err(|e| e.to_string())?;
            println!(
                "{:<36} {:<6} {:<27} {:<27} {:>10}  payload id",
                "file name", "type", "available", "last downloaded", "bytes"
            );
            for f in &files {
                println!(
                    "{:<36} {:<6} {:<27} {:<27} {:>10}  {}",
                    f.file_name,
                    f.transaction_type,
                    f.available_at,
                    f.last_downloaded_at.as_deref().unwrap_or("-"),
                    f.bytes,
                    f.payload_id
                );
            }
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        BatchCommand::Settings {
            partner,
            ack_policy,
            require_certification,
            db,
        } => {
            let store = open(&db).await?;
            let mut s = store
                .partner_settings(&partner)
                .await
                .map_err(|e| e.to_string())?;
            if ack_policy.is_some() || require_certification.is_some() {
                if let Some(p) = ack_policy {
                    s.ack_policy = match p {
                        AckPolicy::Always => "always",
                        AckPolicy::NegativeOnly => "negative_only",
                    }
                    .into();
                }
                if let Some(r) = require_certification {
                    s.require_certification = r;
                }
                if !store
                    .set_partner_settings(&partner, &s)
                    .await
                    .map_err(|e| e.to_string())?
                {
                    return Err(format!("no partner {partner:?} (see admin partner list)"));
                }
            }
            println!(
                "{partner}: ack policy {}, certification {}",
                s.ack_policy,
                if s.require_certification {
                    "required"
                } else {
                    "not required"
                }
            );
            for (tt, at, tracking) in store
                .certifications(&partner)
                .await
                .map_err(|e| e.to_string())?
            {
                println!("  certified for {tt} at {at} (tracking number {tracking})");
            }
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        BatchCommand::Queue { db } => {
            let store = open(&db).await?;
            for (status, n) in store.queue_counts().await.map_err(|e| e.to_string())? {
                println!("{status} {n}");
            }
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        BatchCommand::Purge {
            days,
            unpicked_days,
            db,
        } => {
            let store = open(&db).await?;
            let day = |d: u32| std::time::Duration::from_secs(u64::from(d) * 86_400);
            let r = retention::Retention {
                keep: day(days),
                keep_unpicked: day(unpicked_days),
                ..retention::Retention::default()
            };
            let p = retention::purge_all(&store, &r, time::OffsetDateTime::now_utc())
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "purged {} files, {} submissions, {} payloads",
                p.files, p.submissions, p.blobs
            );
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `X12_835_Response_005010X221A1`-style names for the X12 types the plan publishes.
fn default_payload_type(transaction_type: &str) -> String {
    match transaction_type {
        "835" => "X12_835_Response_005010X221A1".into(),
        "834" => "X12_834_Response_005010X220A1".into(),
        "820" => "X12_820_Response_005010X218".into(),
        "999" => "X12_999_Response_005010X231A1".into(),
        other => other.into(),
    }
}

/// A file as a stream of 1 MiB pieces.
fn file_stream(
    f: tokio::fs::File,
) -> impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> + Send {
    use tokio::io::AsyncReadExt as _;
    futures_util::stream::try_unfold(f, |mut f| async move {
        let mut buf = vec![0u8; 1 << 20];
        let n = f.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.truncate(n);
        Ok(Some((bytes::Bytes::from(buf), f)))
    })
}
