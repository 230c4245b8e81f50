//! The `domreg` command line: argument parsing and dispatch. Each verb lives in its own file.

mod args;
mod bench;
mod log;
mod opensrs;
mod sandbox;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Event-sourced domain registration through OpenSRS, for hosting providers.
#[derive(Debug, Parser)]
#[command(name = "domreg", version, about, long_about = None)]
pub struct Cli {
    /// Directory holding the event log, read models and secrets.
    #[arg(
        long,
        env = "DOMREG_DATA",
        default_value = "domreg-data",
        global = true
    )]
    pub data_dir: PathBuf,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Measure performance (figures for docs/benchmarks.md).
    Bench(bench::BenchArgs),
    /// Inspect the event log.
    Log(log::LogArgs),
    /// Run an OpenSRS-compatible sandbox server (for tests and trying domreg out).
    Sandbox(sandbox::SandboxArgs),
    /// Ask OpenSRS whether a domain is available.
    Lookup(opensrs::DomainQueryArgs),
    /// Ask OpenSRS whether a domain can be transferred in, and how a transfer is going.
    TransferStatus(opensrs::DomainQueryArgs),
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Bench(args) => bench::run(args).await,
        Command::Log(args) => log::run(&cli.data_dir, args).await,
        Command::Sandbox(args) => sandbox::run(args).await,
        Command::Lookup(args) => opensrs::lookup(args).await,
        Command::TransferStatus(args) => opensrs::transfer_status(args).await,
    }
}

/// The embedded log file inside the data directory.
pub fn log_path(data_dir: &std::path::Path) -> PathBuf {
    data_dir.join("events.db")
}
