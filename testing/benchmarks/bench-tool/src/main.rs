//! `dbsync-bench`: the load side of `make bench` (testing/benchmarks/bench.sh drives it; README there).
//!
//! Each subcommand does one job and prints `key=value` lines on stdout for the script to read; progress goes to
//! stderr. Databases are reached with the admin accounts (application writes), or as the sync service where a
//! subcommand says so.
//!
//! Modules: [`cli`] (flags), [`db`] (connections), [`workload`] (backlog workloads as application writes),
//! [`ceiling`] (the same rows as 500-row upserts, no Kafka), [`drain`] (a consumer group's progress from its
//! committed offsets), [`load`] (steady application writes at a fixed rate), [`lag`] (delay percentiles from the
//! ledgers and the topics), [`stats`] (percentiles).

mod ceiling;
mod cli;
mod db;
mod drain;
mod lag;
mod load;
mod stats;
mod workload;

use clap::Parser;
use cli::{Cli, Command};

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Workload(args) => workload::run(&cli.db, &args).await,
        Command::Ceiling(args) => ceiling::run(&cli.db, &args).await,
        Command::Drain(args) => drain::run(&args).await,
        Command::Load(args) => load::run(&cli.db, &args).await,
        Command::Lag(args) => lag::run(&cli.db, &args).await,
    };
    if let Err(e) = result {
        eprintln!("dbsync-bench: {e:#}");
        std::process::exit(1);
    }
}
