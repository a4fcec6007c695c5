//! `revoke` (withdraw an earlier record with a new, signed one: nothing is ever deleted) and
//! `refresh-head` (a new head over the same records, to renew its expiry or to cover records
//! merged in from another branch).

use std::process::ExitCode;

use audit_trust_core::signoff::{Record, RecordId, SignedHead, SignedRecord, Statement};

use crate::cli::{KeyArgs, RevokeArgs};
use crate::error::CliError;
use crate::output::{escape, write_json, write_stdout};
use crate::project::{InventoryNeed, Project};
use crate::services::signing::Signer;
use crate::settings::{OutputFormat, Settings};

pub fn run(settings: &Settings, args: &RevokeArgs) -> Result<ExitCode, CliError> {
    let project = Project::open(settings, InventoryNeed::None)?;
    let signer = Signer::for_project(&project, args.key.key.as_deref())?;
    // A whole id, or a unique prefix of one in the signer's store (as git abbreviates commits).
    let revokes = match RecordId::parse(args.id.trim()) {
        Ok(id) => id,
        Err(_) => signer
            .store
            .find_record_by_prefix(&args.id, &signer.public())
            .map_err(|e| CliError::Usage(format!("`{}`: {e}", escape::line(args.id.trim()))))?,
    };
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
        settings,
        &signer,
        &head,
        Some(&signed),
        &format!("Revoked {revokes}"),
    )
}

pub fn refresh_head(settings: &Settings, args: &KeyArgs) -> Result<ExitCode, CliError> {
    let project = Project::open(settings, InventoryNeed::None)?;
    let signer = Signer::for_project(&project, args.key.as_deref())?;
    let head = signer.append(&[])?;
    report(settings, &signer, &head, None, "Signed a fresh head")
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
    settings: &Settings,
    signer: &Signer<'_>,
    head: &SignedHead,
    record: Option<&SignedRecord>,
    what: &str,
) -> Result<ExitCode, CliError> {
    let h = head.head();
    match settings.format {
        OutputFormat::Json => write_json(&HeadJson {
            auditor: signer.auditor.name.clone(),
            record: record.map(|r| r.id().to_string()),
            head_sequence: h.sequence,
            head_count: h.count,
            head_expires: h.expires.to_string(),
        })?,
        OutputFormat::Human => write_stdout(&format!(
            "{what} as auditor `{}`\n  head #{} of {} covers {}, valid until {}\n",
            signer.auditor.name,
            h.sequence,
            h.key,
            crate::output::plural(h.count, "record", "records"),
            h.expires
        ))?,
    }
    Ok(ExitCode::SUCCESS)
}
