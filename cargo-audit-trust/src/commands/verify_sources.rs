//! `verify-sources`: the provenance engine on every registry package of the lockfile, in one
//! pass; `--sign` signs `source-matches` for those whose match is evidence, in one batch.

use std::process::ExitCode;

use crate::cli::VerifySourcesArgs;
use crate::error::CliError;
use crate::output::sources::{SourcesJson, render_sources};
use crate::output::{EXIT_ERROR, write_json, write_stdout};
use crate::project::{InventoryNeed, Project};
use crate::services::verify_sources::{
    VerifyRequest, sign_matches, signer_for_sources, verify_project,
};
use crate::settings::{OutputFormat, Settings};

/// Exit code when a package differs from its repository.
const EXIT_DIFFERS: u8 = 1;

pub fn run(settings: &Settings, args: &VerifySourcesArgs) -> Result<ExitCode, CliError> {
    let project = Project::open(settings, InventoryNeed::LockfileIfPresent)?;
    // A missing or unusable key is said before the long pass, not after it.
    let signer = if args.sign {
        Some(signer_for_sources(&project, args.key.key.as_deref())?)
    } else {
        None
    };
    let request = VerifyRequest {
        only: &args.packages,
        jobs: usize::from(args.jobs),
    };
    let mut verified = verify_project(&project, &request, &settings.progress())?;
    let signed = match &signer {
        Some(signer) => Some(sign_matches(&project, signer, &mut verified.report)?),
        None => None,
    };
    let report = &verified.report;
    match settings.format {
        OutputFormat::Json => write_json(&SourcesJson {
            report,
            signed: signed.as_ref(),
            notes: &verified.notes,
        })?,
        OutputFormat::Human => write_stdout(&render_sources(
            report,
            signed.as_ref(),
            &verified.notes,
            settings.quiet,
            &settings.palette,
        ))?,
    }
    Ok(if report.summary.errors > 0 {
        ExitCode::from(EXIT_ERROR)
    } else if report.summary.differs > 0 {
        ExitCode::from(EXIT_DIFFERS)
    } else {
        ExitCode::SUCCESS
    })
}
