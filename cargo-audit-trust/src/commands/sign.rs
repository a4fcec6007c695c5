//! `sign`: sign off on (or flag) one crate version, into the local store of the auditor in
//! `Cargo.audit` that pins the signing key (see `services::sign`).

use std::io::Write as _;
use std::process::ExitCode;

use serde::Serialize;

use crate::cli::SignArgs;
use crate::error::CliError;
use crate::output::{escape, write_json, write_stdout};
use crate::services::sign::{SignRequest, sign_record};
use crate::settings::{OutputFormat, Settings};

#[derive(Serialize)]
struct SignJson<'a> {
    id: String,
    kind: &'a str,
    auditor: &'a str,
    name: &'a str,
    version: &'a str,
    checksum: &'a str,
    criteria: Vec<&'a str>,
    file: String,
    head_sequence: u64,
    head_expires: String,
}

pub fn run(settings: &Settings, args: &SignArgs) -> Result<ExitCode, CliError> {
    let request = SignRequest {
        name: args.name.clone(),
        version: args.crate_version.clone(),
        criteria: args.criteria.clone(),
        delta_from: args.delta_from.clone(),
        notes: args.notes.clone(),
        flag: args.flag.clone(),
    };
    let signed = sign_record(settings, &request, args.key.key.as_deref())?;
    if !settings.quiet {
        for note in &signed.notes {
            let _ = writeln!(std::io::stderr(), "note: {}", escape::line(note));
        }
    }
    match settings.format {
        OutputFormat::Json => write_json(&SignJson {
            id: signed.id.clone(),
            kind: signed.kind,
            auditor: &signed.auditor,
            name: &args.name,
            version: &args.crate_version,
            checksum: &signed.checksum,
            criteria: signed.criteria.iter().map(String::as_str).collect(),
            file: signed.file.display().to_string(),
            head_sequence: signed.head_sequence,
            head_expires: signed.head_expires.clone(),
        })?,
        OutputFormat::Human => write_stdout(&format!(
            "{}\n  record {} in {}\n  {} {}\n  head #{} of {}, valid until {}\n",
            signed.summary(&args.name, &args.crate_version),
            signed.id,
            signed.file.display(),
            if signed.git { "commit" } else { "checksum" },
            signed.checksum,
            signed.head_sequence,
            signed.public_key,
            signed.head_expires,
        ))?,
    }
    Ok(ExitCode::SUCCESS)
}
