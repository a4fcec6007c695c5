//! One module per subcommand; `run` dispatches.

mod check;
pub mod diff;
mod init;
mod key;
mod list;
mod prune;
pub mod publish;
mod query;
mod review;
mod revoke;
pub mod sign;
mod stats;
mod suggest;
mod update;
mod watch;

use std::process::ExitCode;

use crate::cli::{Cli, Command, Format};
use crate::context::CliError;

pub fn run(cli: Cli) -> Result<ExitCode, CliError> {
    // SARIF describes findings; only the gate has them. Other commands render SARIF as human.
    if cli.global.format == Format::Sarif && !matches!(cli.command, Command::Check(_)) {
        return Err(CliError::Usage(
            "--format sarif is for `check`; use human or json".into(),
        ));
    }
    match &cli.command {
        Command::Check(args) => check::run(&cli.global, args),
        Command::Stats(args) => stats::run(&cli.global, args),
        Command::List(args) => list::run(&cli.global, args),
        Command::Key(command) => key::run(&cli.global, command),
        Command::Diff(args) => diff::run(&cli.global, args),
        Command::Sign(args) => sign::run(&cli.global, args),
        Command::Query(args) => query::run(&cli.global, args),
        Command::Revoke(args) => revoke::run(&cli.global, args),
        Command::RefreshHead(args) => revoke::refresh_head(&cli.global, args),
        Command::Publish(args) => publish::run(&cli.global, args),
        Command::Init(args) => init::run(&cli.global, args),
        Command::Prune(args) => prune::run(&cli.global, args),
        Command::Update(args) => update::run(&cli.global, args),
        Command::Suggest(args) => suggest::run(&cli.global, args),
        Command::Review(args) => review::run(&cli.global, args),
        Command::Watch(args) => watch::run(&cli.global, args),
    }
}
