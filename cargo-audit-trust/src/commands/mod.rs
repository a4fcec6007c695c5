//! One module per subcommand; `run` dispatches.

mod check;
mod diff;
mod exemptions;
mod export;
mod import;
mod init;
mod key;
mod licenses;
mod list;
mod log;
mod migrate;
mod prune;
mod publish;
mod query;
mod review;
mod revoke;
mod sbom;
mod sign;
mod stats;
mod suggest;
pub(crate) mod update;
mod verify_sources;
mod watch;

use std::process::ExitCode;

use crate::cli::{Cli, Command};
use crate::error::CliError;
use crate::settings::Settings;

/// Resolves the global options once (see [`Settings`]) and runs the command. Each command's
/// `run` is the last place that sees clap's types.
pub fn run(cli: Cli) -> Result<ExitCode, CliError> {
    let settings = &Settings::from_args(&cli.global, cli.command.own_format())?;
    match &cli.command {
        Command::Check(args) => check::run(
            settings,
            args,
            check::CheckFormat::from_arg(cli.global.format),
        ),
        Command::Stats(args) => stats::run(settings, args),
        Command::List(args) => list::run(settings, args),
        Command::Licenses(args) => licenses::run(settings, args),
        Command::Sbom(args) => sbom::run(settings, args),
        Command::Key(command) => key::run(settings, command),
        Command::Diff(args) => diff::run(settings, args),
        Command::VerifySources(args) => verify_sources::run(settings, args),
        Command::Sign(args) => sign::run(settings, args),
        Command::Query(args) => query::run(settings, args),
        Command::Revoke(args) => revoke::run(settings, args),
        Command::RefreshHead(args) => revoke::refresh_head(settings, args),
        Command::Publish(args) => publish::run(settings, args),
        Command::Init(args) if args.from_cargo_vet.is_some() => migrate::run(settings, args),
        Command::Init(args) => init::run(settings, args),
        Command::Prune(args) => prune::run(settings, args),
        Command::Exemptions(command) => exemptions::run(settings, command),
        Command::Update(args) => update::run(settings, args),
        Command::Suggest(args) => suggest::run(settings, args),
        Command::Review(args) => review::run(settings, args),
        Command::Watch(args) => watch::run(settings, args),
        Command::Import(command) => import::run(settings, command),
        Command::Export(args) => export::run(settings, args, cli.global.format),
        Command::Log(command) => log::run(settings, command),
    }
}
