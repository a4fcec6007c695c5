//! `cargo audit-trust`: the cargo subcommand. Parses arguments, asks `audit-trust-core` for a
//! report and renders it. Exit codes: 0 clean, 1 policy findings, 2 usage or configuration errors.

mod cli;
mod commands;
#[cfg(test)]
mod doc_commands_tests;
mod error;
mod output;
mod project;
mod services;
mod settings;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Run as `cargo audit-trust …`, cargo passes `audit-trust` as the first argument.
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "audit-trust") {
        args.remove(1);
    }
    let cli = cli::Cli::parse_from(args);
    match commands::run(cli) {
        Ok(code) => code,
        Err(error) => output::report_error(&error),
    }
}
