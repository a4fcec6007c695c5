//! Every `cargo audit-trust …` line of README.md and docs/ parses with this binary's arguments
//! and settings, so the docs cannot name a subcommand, flag or value that does not exist.

use audit_trust_e2e::doc_commands::{documented_commands, repository_root};
use clap::Parser as _;
use clap::error::ErrorKind;

use crate::cli::Cli;
use crate::settings::Settings;

#[test]
fn every_documented_command_parses() {
    let commands = documented_commands(&repository_root(), "cargo audit-trust");
    // README's tour alone shows more than this; fewer means the extraction broke.
    assert!(commands.len() > 30, "only {} found", commands.len());
    let mut failures = Vec::new();
    for command in &commands {
        let argv = std::iter::once("cargo-audit-trust".to_owned()).chain(command.args.clone());
        match Cli::try_parse_from(argv) {
            Ok(cli) => {
                if let Err(e) = Settings::from_args(&cli.global, cli.command.own_format()) {
                    failures.push(format!("{command}\n  {e:?}"));
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {}
            Err(e) => failures.push(format!("{command}\n  {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "documented commands that do not parse:\n{}",
        failures.join("\n")
    );
}
