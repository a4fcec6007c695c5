//! Every `audit-registry …` line of README.md and docs/ parses with this binary's arguments, so
//! the docs cannot name a subcommand, flag or value that does not exist.

use audit_trust_e2e::doc_commands::{documented_commands, repository_root};
use clap::Parser as _;

use crate::Cli;

#[test]
fn every_documented_command_parses() {
    let commands = documented_commands(&repository_root(), "audit-registry");
    assert!(commands.len() > 8, "only {} found", commands.len());
    let failures: Vec<String> = commands
        .iter()
        .filter_map(|command| {
            let argv = std::iter::once("audit-registry".to_owned()).chain(command.args.clone());
            Cli::try_parse_from(argv)
                .err()
                .map(|e| format!("{command}\n  {e}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "documented commands that do not parse:\n{}",
        failures.join("\n")
    );
}
