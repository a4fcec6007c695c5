//! `revoke` (withdraw an earlier record with a new, signed one: nothing is ever deleted) and
//! `refresh-head` (a new head over the same records, to renew its expiry or to cover records
//! merged in from another branch).

use std::process::ExitCode;

use audit_trust_core::signoff::{Record, RecordId, SignedHead, SignedRecord, Statement};

use crate::cli::{Format, GlobalArgs, KeyArgs, RevokeArgs};
use crate::context::CliError;
use crate::output::{write_json, write_stdout};
use crate::project::load_project;
use crate::signing::Signer;

pub fn run(global: &GlobalArgs, args: &RevokeArgs) -> Result<ExitCode, CliError> {
    let revokes = RecordId::parse(args.id.trim())
        .map_err(|e| CliError::Usage(format!("`{}`: {e}", args.id.escape_default())))?;
    let project = load_project(global)?;
    let signer = Signer::for_project(global, &project, args.key.key.as_deref())?;
    let record = Record {
        key: signer.public(),
        created: signer.now,
        statement: Statement::Revocation {
            revokes,
            reason: args.reason.clone(),
        },
    };
    let signed = SignedRecord::sign(record, &signer.loaded.key)
        .map_err(|m| CliError::Usage(format!("cannot revoke {revokes}: {m}")))?;
    let head = signer.append(std::slice::from_ref(&signed))?;
    report(
        global,
        &signer,
        &head,
        Some(&signed),
        &format!("Revoked {revokes}"),
    )
}

pub fn refresh_head(global: &GlobalArgs, args: &KeyArgs) -> Result<ExitCode, CliError> {
    let project = load_project(global)?;
    let signer = Signer::for_project(global, &project, args.key.as_deref())?;
    let head = signer.append(&[])?;
    report(global, &signer, &head, None, "Signed a fresh head")
}

#[derive(serde::Serialize)]
struct HeadJson {
    auditor: String,
    record: Option<String>,
    head_sequence: u64,
    head_count: u64,
    head_expires: String,
}

fn report(
    global: &GlobalArgs,
    signer: &Signer<'_>,
    head: &SignedHead,
    record: Option<&SignedRecord>,
    what: &str,
) -> Result<ExitCode, CliError> {
    let h = head.head();
    match global.format {
        Format::Json => write_json(&HeadJson {
            auditor: signer.auditor.name.clone(),
            record: record.map(|r| r.id().to_string()),
            head_sequence: h.sequence,
            head_count: h.count,
            head_expires: h.expires.to_string(),
        })?,
        Format::Human | Format::Sarif => write_stdout(&format!(
            "{what} as auditor `{}`\n  head #{} of {} covers {} record(s), valid until {}\n",
            signer.auditor.name, h.sequence, h.key, h.count, h.expires
        ))?,
    }
    Ok(ExitCode::SUCCESS)
}
