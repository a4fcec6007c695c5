//! `exemptions renew`: extends matching exemptions, recording why, by editing only their
//! `reason` and `expires` values in `Cargo.audit`.

use std::path::Path;
use std::process::ExitCode;

use audit_trust_core::audit_file::CratePattern;
use audit_trust_core::audit_file::renew::{Renewal, Renewed, renew_exemptions};
use serde::Serialize;

use crate::cli::{ExemptionsCommand, RenewArgs};
use crate::error::CliError;
use crate::output::{escape, write_json, write_stdout};
use crate::project::{InventoryNeed, Project};
use crate::services::audit_file_edit::{io_error, replace_file};
use crate::settings::{OutputFormat, Settings};

#[derive(Serialize)]
struct RenewJson<'a> {
    path: String,
    expires: String,
    renewed: &'a [Renewed],
}

pub fn run(settings: &Settings, command: &ExemptionsCommand) -> Result<ExitCode, CliError> {
    match command {
        ExemptionsCommand::Renew(args) => renew(settings, args),
    }
}

fn renew(settings: &Settings, args: &RenewArgs) -> Result<ExitCode, CliError> {
    let pattern = args
        .pattern
        .as_deref()
        .map(CratePattern::parse)
        .transpose()
        .map_err(CliError::Usage)?;
    if args.reason.as_deref().is_some_and(|r| r.trim().is_empty()) {
        return Err(CliError::Usage(
            "--reason is empty: say why, for the next reader".into(),
        ));
    }
    // The lockfile is not needed: renewing is about the file's entries, not the packages.
    let project = Project::open(settings, InventoryNeed::None)?;
    let path = project.require_audit_file()?.to_path_buf();
    let text = std::fs::read_to_string(&path).map_err(|e| io_error(&path, e))?;
    let today = settings.now.date();
    let expires = settings.now.plus_days(i64::from(args.days)).date();
    let renewal = Renewal {
        pattern: pattern.as_ref(),
        today,
        expires,
        reason: args.reason.as_deref(),
    };
    let (edited, renewed) = renew_exemptions(&text, &project.audit_file, &renewal, &path)?;
    if !renewed.is_empty() {
        replace_file(&path, &edited)?;
    }
    match settings.format {
        OutputFormat::Json => write_json(&RenewJson {
            path: path.display().to_string(),
            expires: expires.to_string(),
            renewed: &renewed,
        })?,
        OutputFormat::Human => write_stdout(&render(&path, &renewed, &expires.to_string()))?,
    }
    Ok(ExitCode::SUCCESS)
}

fn render(path: &Path, renewed: &[Renewed], expires: &str) -> String {
    if renewed.is_empty() {
        return format!(
            "{}: nothing to renew (no matching exemption expires before {expires})\n",
            path.display()
        );
    }
    let noun = if renewed.len() == 1 {
        "exemption"
    } else {
        "exemptions"
    };
    let mut out = format!(
        "{}: renewed {} {noun} until {expires}\n",
        path.display(),
        renewed.len()
    );
    for r in renewed {
        out.push_str(&format!(
            "  line {}: {} (was {})\n",
            r.line,
            escape::line(&r.label),
            r.was
        ));
    }
    out
}
