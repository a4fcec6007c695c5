//! `export --format cargo-vet`: the verified sign-offs of this project's auditors as a cargo-vet
//! `audits.toml`, so a cargo-vet user can import one of our auditors. Only records that verify
//! (pinned key, signature, auditor head, revocations applied) and that the auditor's `covers`
//! admits are written; an auditor whose log does not verify stops the export (exit 2), because a
//! flag may be among what could not be read.

use std::path::Path;
use std::process::ExitCode;

use audit_trust_core::export::export_cargo_vet;
use audit_trust_core::fetch::write_atomically;
use audit_trust_core::signoff::AcceptedRecord;

use crate::cli::{ExportArgs, Format};
use crate::error::CliError;
use crate::output::{escape, write_stdout};
use crate::project::{InventoryNeed, Project};
use crate::services::evidence::verified_records;
use crate::settings::Settings;

pub fn run(settings: &Settings, args: &ExportArgs, format: Format) -> Result<ExitCode, CliError> {
    if format != Format::CargoVet {
        return Err(CliError::Usage(
            "`export` writes one format today: pass `--format cargo-vet`".into(),
        ));
    }
    let project = Project::open(settings, InventoryNeed::None)?;
    project.require_audit_file()?;
    let audit_file = &project.audit_file;
    for name in &args.auditor {
        if !audit_file.auditors.iter().any(|a| &a.name == name) {
            return Err(CliError::Usage(format!(
                "--auditor `{}`: {} pins no auditor of that name",
                escape::line(name),
                project.audit_file_name()
            )));
        }
    }
    let chosen =
        |auditor: &str| args.auditor.is_empty() || args.auditor.iter().any(|a| a == auditor);
    let records = verified_records(&project, false)?;
    records.require_verified_logs(chosen)?;
    let covered = |record: &&AcceptedRecord| {
        chosen(&record.auditor)
            && record.record.record().statement.subject().is_some_and(|s| {
                audit_file
                    .auditors
                    .iter()
                    .any(|a| a.name == record.auditor && a.covers(s.name()))
            })
    };
    let selected: Vec<&AcceptedRecord> = records.accepted.iter().filter(covered).collect();
    let outside = records
        .accepted
        .iter()
        .filter(|r| chosen(&r.auditor) && !covered(r))
        .count();
    let export = export_cargo_vet(&selected, &audit_file.criteria)
        .map_err(|e| CliError::Usage(format!("cannot write the audits file: {e}")))?;
    match &args.output {
        Some(path) => write_file(path, &export.text)?,
        None => write_stdout(&export.text)?,
    }
    if !settings.quiet {
        let mut summary = format!(
            "exported {} {}",
            export.audits,
            if export.audits == 1 {
                "audit"
            } else {
                "audits"
            }
        );
        if let Some(path) = &args.output {
            summary.push_str(&format!(
                " to {}",
                escape::line(&path.display().to_string())
            ));
        }
        eprintln!("{summary}");
        if export.skipped_git > 0 {
            eprintln!(
                "left out {} on git dependencies: cargo-vet's format names registry versions only",
                records_word(export.skipped_git)
            );
        }
        if outside > 0 {
            eprintln!(
                "left out {} on crates outside their auditor's `covers`",
                records_word(outside)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn records_word(n: usize) -> String {
    if n == 1 {
        "1 record".into()
    } else {
        format!("{n} records")
    }
}

fn write_file(path: &Path, text: &str) -> Result<(), CliError> {
    write_atomically(path, text.as_bytes(), true).map_err(CliError::from)
}
