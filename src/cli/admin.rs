//! `hts-gateway admin ...`: operators' commands.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};

use crate::payer::load::{LoadError, load_claims, load_members, load_providers};
use crate::store::Store;

/// Where the gateway keeps its data.
#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite:PATH` (created if missing) or `postgres://user@host/db`.
    #[arg(
        long,
        env = "HTS_DATABASE_URL",
        default_value = "sqlite:hts-gateway.db"
    )]
    pub database: String,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Load plan data from a CSV file (columns: docs/plan-data.md). A file with any problem
    /// changes nothing; every problem is listed with its line number.
    ///
    /// Exit status: 0 loaded, 1 the file has problems, 2 it cannot be read or stored.
    Load {
        /// What the file holds.
        kind: LoadKind,
        file: PathBuf,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Trading partners, users, their SenderIDs and provider IDs, client certificates.
    #[command(flatten)]
    Partners(super::partners::PartnerCommand),
    /// Files, partner batch settings, the queue, retention.
    #[command(flatten)]
    Batch(super::batch::BatchCommand),
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LoadKind {
    Members,
    Providers,
    Claims,
}

pub fn run(cmd: AdminCommand) -> ExitCode {
    match cmd {
        AdminCommand::Load { kind, file, db } => super::block_on(load(kind, file, db)),
        AdminCommand::Partners(c) => super::partners::run(c),
        AdminCommand::Batch(c) => super::batch::run(c),
    }
}

async fn load(kind: LoadKind, path: PathBuf, db: DatabaseArgs) -> ExitCode {
    let input = match File::open(&path) {
        Ok(f) => BufReader::new(f),
        Err(e) => {
            eprintln!("{}: cannot read: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    let store = match Store::open(&db.database).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{}: {e}", db.database);
            return ExitCode::from(2);
        }
    };
    let result = match kind {
        LoadKind::Members => load_members(&store, input).await,
        LoadKind::Providers => load_providers(&store, input).await,
        LoadKind::Claims => load_claims(&store, input).await,
    };
    let status = match result {
        Ok(loaded) => {
            let what = match kind {
                LoadKind::Members => format!("{} members ({} spans)", loaded.records, loaded.spans),
                LoadKind::Providers => format!("{} providers", loaded.records),
                LoadKind::Claims => format!("{} claims", loaded.records),
            };
            println!("{}: loaded {what}", path.display());
            if let Ok(c) = store.plan_counts().await {
                println!(
                    "database now holds {} providers, {} members ({} spans), {} claims",
                    c.providers, c.members, c.spans, c.claims
                );
            }
            ExitCode::SUCCESS
        }
        Err(e @ LoadError::Invalid { .. }) => {
            eprint!("{}: {e}", path.display());
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("{}: {e}", path.display());
            ExitCode::from(2)
        }
    };
    store.close().await;
    status
}
