//! Command line: `x12 ...` (offline X12 work), `admin ...` (operators), `serve` (the gateway)
//! and `client ...` (send an envelope to a gateway).

mod admin;
mod batch;
mod client;
mod partners;
pub mod serve;
mod x12cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "hts-gateway",
    version,
    about = "HIPAA X12 5010 gateway for CAQH CORE connectivity"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Work with X12 files offline.
    #[command(subcommand)]
    X12(x12cmd::X12Command),
    /// Operators' commands: load plan data; manage partners, users, SenderIDs, provider IDs
    /// and client certificates.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Run the gateway (HTTPS; CORE SOAP, MTOM and MIME envelopes at /core).
    Serve(serve::ServeArgs),
    /// Batch workers in a process of their own (several processes may share a PostgreSQL
    /// database).
    Worker(batch::WorkerArgs),
    /// Send an X12 file to a gateway in a CORE envelope and print the answer.
    #[command(subcommand)]
    Client(client::ClientCommand),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::X12(c) => x12cmd::run(c),
        Command::Admin(c) => admin::run(c),
        Command::Serve(a) => serve::run(a),
        Command::Client(c) => client::run(c),
        Command::Worker(a) => batch::worker(a),
    }
}

/// The multi-threaded runtime of the long-running commands (serve, worker).
fn multi_thread_runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("cannot start the async runtime: {e}");
            ExitCode::from(2)
        })
}

/// Runs a command's async part on a small runtime of its own.
fn block_on<F: std::future::Future<Output = ExitCode>>(f: F) -> ExitCode {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(f),
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            ExitCode::from(2)
        }
    }
}
