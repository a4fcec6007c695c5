//! One module per subcommand; `run` dispatches.

mod check;
mod key;
mod list;
mod publish;
mod query;
mod revoke;
mod sign;
mod stats;

use std::process::ExitCode;

use crate::cli::{Cli, Command};
use crate::context::CliError;

pub fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match &cli.command {
        Command::Check(args) => check::run(&cli.global, args),
        Command::Stats(args) => stats::run(&cli.global, args),
        Command::List(args) => list::run(&cli.global, args),
        Command::Key(command) => key::run(&cli.global, command),
        Command::Sign(args) => sign::run(&cli.global, args),
        Command::Query(args) => query::run(&cli.global, args),
        Command::Revoke(args) => revoke::run(&cli.global, args),
        Command::RefreshHead(args) => revoke::refresh_head(&cli.global, args),
        Command::Publish(args) => publish::run(&cli.global, args),
    }
}
