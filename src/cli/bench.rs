//! `domreg bench ...`

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::bench::{self, store::StoreBenchSize};

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub which: Which,
    /// Print one JSON object instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Which {
    /// Audit replay: an account with 100,000 events (in a log of 200,000) and one domain.
    Audit {
        /// Orders of the audited account (five events each); as many again of another account.
        #[arg(long, default_value_t = 20_000)]
        orders: u64,
        /// Directory for the scratch database (removed afterwards); default: the system temp dir.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// End to end: registrations through the engine and the sandbox on loopback.
    Engine {
        /// Synchronous (.com) registrations.
        #[arg(long, default_value_t = 2_000)]
        orders: u64,
        /// Asynchronous (.de) registrations, each completing at its third poll.
        #[arg(long, default_value_t = 500)]
        async_orders: u64,
        /// Engines sharing the log, each with its own data directory (more than one
        /// needs `--store postgres://...`, an empty database).
        #[arg(long, default_value_t = 1)]
        engines: usize,
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Read models: fold speed and query latency (pending-order pages, ledgers) at scale.
    Models {
        /// Domains to fold in (each: requested, charged, submitted, confirmed or pending).
        #[arg(long, default_value_t = 1_000_000)]
        domains: u64,
        /// Repetitions of each query.
        #[arg(long, default_value_t = 1_000)]
        runs: usize,
        /// Directory for the scratch database (removed afterwards); default: the system temp dir.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// The OpenSRS codec (SW_REGISTER request and reply) and client <-> sandbox LOOKUPs.
    Opensrs {
        /// Codec operations per figure.
        #[arg(long, default_value_t = 200_000)]
        ops: u64,
        /// Concurrent LOOKUP callers.
        #[arg(long, default_value_t = 32)]
        callers: u64,
        /// LOOKUP calls in all.
        #[arg(long, default_value_t = 20_000)]
        calls: u64,
    },
    /// Reconciliation: one `sync` of an account of many domains against the sandbox.
    Sync {
        /// Domains in the account (and the log); 100 more are unknown here.
        #[arg(long, default_value_t = 100_000)]
        domains: u64,
        /// The call rate the reconciliation keeps to.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
        calls_per_second: u32,
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Moving a log: an embedded log of EVENTS events copied (`store copy`) into the empty
    /// log --store names, or a second file, and verified.
    Copy {
        #[arg(long, default_value_t = 1_000_000)]
        events: u64,
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// The event store: durable appends (single, concurrent, batched) and reads; the
    /// embedded one, or an empty server log named by --store.
    Store {
        /// Directory for the benchmark's scratch database (removed afterwards); default: the system temp dir.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Untimed single appends to the store and its raw ceiling before the figures: a
        /// fresh file's first commits are slow by varying amounts.
        #[arg(long, default_value_t = StoreBenchSize::default().warm_up)]
        warm_up: u64,
        /// Appends by the single writer.
        #[arg(long, default_value_t = StoreBenchSize::default().single_appends)]
        single: u64,
        /// Concurrent writers.
        #[arg(long, default_value_t = StoreBenchSize::default().concurrent_writers)]
        writers: u64,
        /// Appends per concurrent writer.
        #[arg(long, default_value_t = StoreBenchSize::default().appends_per_writer)]
        per_writer: u64,
        /// Appends of 100 events each.
        #[arg(long, default_value_t = StoreBenchSize::default().batches)]
        batches: u64,
        /// Concurrent writers sharing the batched appends.
        #[arg(long, default_value_t = StoreBenchSize::default().batch_writers)]
        batch_writers: u64,
        /// Full reads of the log after the writes; the median is reported.
        #[arg(long, default_value_t = StoreBenchSize::default().reads)]
        reads: u64,
    },
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.which {
        Which::Copy { events, dir } => {
            let scratch = scratch_dir(dir)?;
            let figures = bench::copy::run(scratch.path(), events).await?;
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({ "bench": "copy", "figures": figures })
                );
            } else {
                print!("{}", bench::table("moving a log (store copy)", &figures));
            }
            Ok(())
        }
        Which::Audit { orders, dir } => {
            let scratch = scratch_dir(dir)?;
            let figures = bench::audit::run(scratch.path(), orders).await?;
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({ "bench": "audit", "figures": figures })
                );
            } else {
                print!(
                    "{}",
                    bench::table("audit replay (target: the account in under 1 s)", &figures)
                );
            }
            Ok(())
        }
        Which::Engine {
            orders,
            async_orders,
            engines,
            dir,
        } => {
            let scratch = scratch_dir(dir)?;
            let store = crate::app::chosen_store();
            let bench::engine::EngineRun {
                figures,
                calls,
                sync_cpu,
            } = bench::engine::run(scratch.path(), orders, async_orders, store, engines).await?;
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({
                        "bench": "engine",
                        "figures": figures,
                        "opensrs_calls": calls,
                        "sync_cpu": sync_cpu,
                    })
                );
            } else {
                let log = store.map_or("the embedded log".into(), |u| u.describe());
                print!(
                    "{}",
                    bench::table(
                        &format!("engine end to end (sandbox on loopback, {log})"),
                        &figures
                    )
                );
                let by_action: Vec<String> =
                    calls.iter().map(|(a, n)| format!("{a} {n}")).collect();
                println!(
                    "OpenSRS calls for the {} orders: {} ({})",
                    orders + async_orders,
                    calls.values().sum::<u64>(),
                    by_action.join(", ")
                );
                if let Some(cpu) = sync_cpu {
                    println!(
                        "CPU for the {orders} synchronous registrations (engine, store and sandbox): {:.2} s, {:.3} ms an order, {:.0} % of the cores",
                        cpu.seconds,
                        cpu.ms_per_operation,
                        cpu.share_of_cores * 100.0
                    );
                }
            }
            Ok(())
        }
        Which::Sync {
            domains,
            calls_per_second,
            dir,
        } => {
            let scratch = scratch_dir(dir)?;
            let figures = bench::sync::run(scratch.path(), domains, calls_per_second).await?;
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({ "bench": "sync", "figures": figures })
                );
            } else {
                print!(
                    "{}",
                    bench::table("reconciliation (sandbox on loopback)", &figures)
                );
            }
            Ok(())
        }
        Which::Models { domains, runs, dir } => {
            let scratch = scratch_dir(dir)?;
            let (fold, latencies) = bench::models::run(scratch.path(), domains, runs)?;
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({ "bench": "models", "domains": domains, "fold": fold, "queries": latencies })
                );
            } else {
                print!(
                    "{}",
                    bench::table("read models", std::slice::from_ref(&fold))
                );
                print!("{}", bench::models::latency_table(&latencies));
            }
            Ok(())
        }
        Which::Opensrs {
            ops,
            callers,
            calls,
        } => {
            let mut figures = bench::opensrs::codec_figures(ops);
            figures.push(bench::opensrs::lookup_figure(callers, calls).await?);
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({ "bench": "opensrs", "figures": figures })
                );
            } else {
                print!("{}", bench::table("OpenSRS codec and client", &figures));
            }
            Ok(())
        }
        Which::Store {
            dir,
            warm_up,
            single,
            writers,
            per_writer,
            batches,
            batch_writers,
            reads,
        } => {
            let scratch = scratch_dir(dir)?;
            let size = StoreBenchSize {
                warm_up,
                single_appends: single,
                concurrent_writers: writers,
                appends_per_writer: per_writer,
                batches,
                batch_writers,
                reads,
            };
            let figures = bench::store::run(scratch.path(), size).await?;
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({ "bench": "store", "dir": scratch.path(), "figures": figures })
                );
            } else {
                print!(
                    "{}",
                    bench::table(
                        &match crate::app::chosen_store() {
                            Some(url) => format!("event store ({})", url.describe()),
                            None => format!("event store (SQLite in {})", scratch.path().display()),
                        },
                        &figures
                    )
                );
            }
            Ok(())
        }
    }
}

/// A scratch directory under `dir` (default: the system temp dir), removed when dropped.
fn scratch_dir(dir: Option<PathBuf>) -> anyhow::Result<tempfile::TempDir> {
    let base = dir.unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&base)?;
    Ok(tempfile::Builder::new()
        .prefix("domreg-bench-")
        .tempdir_in(&base)?)
}
