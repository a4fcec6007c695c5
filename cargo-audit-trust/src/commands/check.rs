//! `check`: the CI gate. Gathers what the core needs (inventory, policy, index, advisories,
//! verified sign-offs, see `services::gate`), lets it decide, renders the report, and exits 0 clean, 1 blocked.

use std::process::ExitCode;

use audit_trust_core::advisories::DEFAULT_MAX_AGE_DAYS;
use audit_trust_core::gate::change::apply_base;
use audit_trust_core::gate::{GateReport, evaluate};

use crate::cli::{CheckArgs, Format};
use crate::error::CliError;
use crate::output::check::{render_github_annotations, render_human};
use crate::output::markdown::render_markdown;
use crate::output::sarif::render_sarif;
use crate::output::{write_json, write_stdout};
use crate::services::base::{CiEnv, resolve as resolve_base};
use crate::services::gate::GateContext;
use crate::settings::Settings;

/// How the gate's report is written (`--format`; SARIF only here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckFormat {
    Human,
    Json,
    Sarif,
    Markdown,
}

impl CheckFormat {
    pub fn from_arg(format: Format) -> CheckFormat {
        match format {
            // `Settings::from_args` refuses cargo-vet's format for `check` before this runs.
            Format::Human | Format::CargoVet => CheckFormat::Human,
            Format::Json => CheckFormat::Json,
            Format::Sarif => CheckFormat::Sarif,
            Format::Markdown => CheckFormat::Markdown,
        }
    }
}

/// Exit code when any package is blocked.
const EXIT_BLOCKED: u8 = 1;

pub fn run(
    settings: &Settings,
    args: &CheckArgs,
    format: CheckFormat,
) -> Result<ExitCode, CliError> {
    let mut context = GateContext::gather(settings, args.advisory_db.as_deref())?;
    let base = resolve_base(
        args.base.as_deref(),
        &context.inventory.lockfile,
        &CiEnv::from_process(),
        &mut context.notes,
    )?;
    crate::services::risk::compute(
        &mut context,
        base.as_ref().map(|b| &b.inventory),
        args.signals,
    )?;
    crate::services::licenses::for_gate(&mut context)?;
    let mut report = evaluate(&context.input());
    if let Some(base) = base {
        let preexisting = context.project.audit_file.policy.preexisting_action();
        apply_base(
            &mut report,
            &context.inventory,
            &base.inventory,
            base.label,
            preexisting,
        );
    }
    let stale = report.advisory_db.as_ref().is_some_and(|d| d.stale) && !args.allow_stale;
    render(&context, format, &report, stale)?;
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
    context: &GateContext,
    format: CheckFormat,
    report: &GateReport,
    stale: bool,
) -> Result<(), CliError> {
    let (project, inventory) = (&context.project, &context.inventory);
    let settings = &project.settings;
    let lockfile = report_path(&inventory.lockfile);
    match format {
        CheckFormat::Json => write_json(report),
        CheckFormat::Sarif => write_json(&render_sarif(report, inventory, &lockfile)),
        CheckFormat::Markdown => write_stdout(&render_markdown(report, stale)),
        CheckFormat::Human => {
            let mut text = render_human(
                report,
                &settings.palette,
                settings.verbose,
                settings.quiet,
                stale,
            );
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
                text.push_str(&render_github_annotations(report, inventory, &lockfile));
            }
            write_stdout(&text)
        }
    }
}

/// The lockfile as SARIF and annotations name it: relative to the current folder when it is
/// inside it (CI runs at the repository's root, and code scanning matches repository-relative
/// paths), with `/` separators; otherwise as given.
fn report_path(lockfile: &std::path::Path) -> String {
    let relative = std::env::current_dir().ok().and_then(|cwd| {
        lockfile
            .strip_prefix(&cwd)
            .ok()
            .map(std::path::Path::to_path_buf)
    });
    match relative {
        Some(path) => path
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/"),
        None => lockfile.display().to_string(),
    }
}
