//! `publish --registry URL`: send the records of your key that the registry lacks (see
//! `services::publish`).

use std::process::ExitCode;

use serde::Serialize;

use crate::cli::PublishArgs;
use crate::error::CliError;
use crate::output::{write_json, write_stdout};
use crate::services::publish::publish_to;
use crate::settings::{OutputFormat, Settings};

#[derive(Serialize)]
struct PublishJson<'a> {
    registry: &'a str,
    auditor: &'a str,
    published: usize,
    already_there: usize,
    head_sequence: u64,
}

pub fn run(settings: &Settings, args: &PublishArgs) -> Result<ExitCode, CliError> {
    let done = publish_to(settings, &args.registry, args.key.key.as_deref())?;
    match settings.format {
        OutputFormat::Json => write_json(&PublishJson {
            registry: &done.registry,
            auditor: &done.auditor,
            published: done.published,
            already_there: done.already_there,
            head_sequence: done.head_sequence,
        })?,
        OutputFormat::Human => write_stdout(&format!("{}\n", done.summary()))?,
    }
    Ok(ExitCode::SUCCESS)
}
