//! One module per subcommand; `run` dispatches.

mod check;
mod diff;
mod key;
mod list;
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
        Command::Diff(args) => diff::run(&cli.global, args),
    }
}
