//! Command line: `hts-gateway x12 validate ...`.

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
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::X12(c) => x12cmd::run(c),
    }
}
