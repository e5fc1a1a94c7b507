//! The `trailwatch` command: parses the command line and hands it to the library.

use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    trailwatch::cli::run(trailwatch::cli::Cli::parse()).await
}
