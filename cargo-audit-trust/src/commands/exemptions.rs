//! `exemptions renew`: extends matching exemptions, recording why, by editing only their
//! `reason` and `expires` values in `Cargo.audit`.

use std::process::ExitCode;

use audit_trust_core::audit_file::CratePattern;
use audit_trust_core::audit_file::renew::{Renewal, renew_exemptions};

use crate::cli::{ExemptionsCommand, RenewArgs};
use crate::error::CliError;
use crate::project::{InventoryNeed, Project};
use crate::services::audit_file_edit::{io_error, replace_file};
use crate::settings::Settings;

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
    crate::output::exemptions::write(settings, &path, &renewed, &expires.to_string())?;
    Ok(ExitCode::SUCCESS)
}
