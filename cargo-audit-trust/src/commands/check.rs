//! `check`: the CI gate. Gathers what the core needs (inventory, policy, index, advisories,
//! verified sign-offs, see `gate_context`), lets it decide, renders the report, and exits 0 clean, 1 blocked.

use std::process::ExitCode;

use audit_trust_core::advisories::DEFAULT_MAX_AGE_DAYS;
use audit_trust_core::gate::{GateReport, evaluate};

use crate::cli::{CheckArgs, Format, GlobalArgs};
use crate::context::{CliError, Project};
use crate::gate_context::GateContext;
use crate::output::check::{render_github_annotations, render_human};
use crate::output::sarif::render_sarif;
use crate::output::{Palette, write_json, write_stdout};

/// Exit code when any package is blocked.
const EXIT_BLOCKED: u8 = 1;

pub fn run(global: &GlobalArgs, args: &CheckArgs) -> Result<ExitCode, CliError> {
    let context = GateContext::gather(global, args.advisory_db.as_deref())?;
    let report = evaluate(&context.input());
    let stale = report.advisory_db.as_ref().is_some_and(|d| d.stale) && !args.allow_stale;
    render(global, &context.project, &report, stale)?;
    if context.db_error.is_some() {
        // The report is printed, but a gate that could not check advisories has not passed.
        return Ok(ExitCode::from(crate::output::EXIT_ERROR));
    }
    Ok(if report.is_clean() && !stale {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_BLOCKED)
    })
}

fn render(
    global: &GlobalArgs,
    project: &Project,
    report: &GateReport,
    stale: bool,
) -> Result<(), CliError> {
    let lockfile = project.inventory.lockfile.display().to_string();
    match global.format {
        Format::Json => write_json(report),
        Format::Sarif => write_json(&render_sarif(report, &project.inventory, &lockfile)),
        Format::Human => {
            let palette = Palette::new(global.color);
            let mut text = render_human(report, &palette, global.verbose > 0);
            if stale {
                let max = project
                    .audit_file
                    .advisories
                    .max_age_days
                    .map_or(DEFAULT_MAX_AGE_DAYS, i64::from);
                text.push_str(&format!(
                    "\nThe advisory database is older than {max} days: update it, or pass --allow-stale.\n"
                ));
            }
            if std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true") {
                text.push_str(&render_github_annotations(
                    report,
                    &project.inventory,
                    &lockfile,
                ));
            }
            write_stdout(&text)
        }
    }
}
