//! `check`: the CI gate. Gathers what the core needs (inventory, policy, index, advisories,
//! verified sign-offs), lets it decide, renders the report, and exits 0 clean, 1 blocked.
//! `review` reuses [`gather_gate_report`] so the queue is exactly what `check` blocks.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use audit_trust_core::advisories::{
    AdvisoryDatabase, DEFAULT_ADVISORY_DB_URL, DEFAULT_MAX_AGE_DAYS, fetch_advisory_db,
};
use audit_trust_core::gate::{GateInput, GateReport, evaluate};
use audit_trust_core::progress::Progress;
use audit_trust_core::provenance::git_cache::{FetchLimits, GitCache};
use audit_trust_core::{Error, Package};

use crate::cli::{CheckArgs, Format, GlobalArgs};
use crate::context::{
    CliError, EvidenceSet, Project, cache_dir, crate_store, load_evidence, load_project,
};
use crate::output::check::{render_github_annotations, render_human};
use crate::output::progress::BarProgress;
use crate::output::sarif::render_sarif;
use crate::output::{Palette, write_json, write_stdout};
use crate::project::now;

/// Exit code when any package is blocked.
const EXIT_BLOCKED: u8 = 1;

pub fn run(global: &GlobalArgs, args: &CheckArgs) -> Result<ExitCode, CliError> {
    let show_progress =
        !global.quiet && global.format == Format::Human && std::env::var_os("CI").is_none();
    let gathered = gather_gate_report(global, args.advisory_db.as_deref(), show_progress)?;
    let (project, report) = (&gathered.project, &gathered.report);
    let stale = report.advisory_db.as_ref().is_some_and(|d| d.stale) && !args.allow_stale;
    render(global, project, report, stale)?;
    if gathered.advisory_db_error.is_some() {
        // The report is printed, but a gate that could not check advisories has not passed.
        return Ok(ExitCode::from(crate::output::EXIT_ERROR));
    }
    Ok(if report.is_clean() && !stale {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_BLOCKED)
    })
}

/// The gate's decision on the project, with what it was decided from; `check` renders it and
/// `review` builds its queue from it.
pub struct GatheredGate {
    pub project: Project,
    pub report: GateReport,
    /// Verified sign-offs and flags (the review shows them per package).
    pub evidence: EvidenceSet,
    /// Set when the advisory database could not be opened: the report then says advisories
    /// were not checked.
    pub advisory_db_error: Option<Error>,
}

/// Gathers what the core needs (inventory, policy, index, advisories, verified sign-offs) and
/// lets it decide. `advisory_db` is `--advisory-db`.
pub fn gather_gate_report(
    global: &GlobalArgs,
    advisory_db: Option<&Path>,
    show_progress: bool,
) -> Result<GatheredGate, CliError> {
    let now = now(global)?;
    let today = now.date();
    let project = load_project(global, true)?;
    let policy = &project.audit_file.policy;
    let mut notes = Vec::new();
    if global.lockfile.is_some() {
        notes.push(
            "lockfile-only mode: dev-only packages and target platforms are unknown, so every package \
             is held to the full criteria"
                .to_owned(),
        );
    }

    let store = crate_store(global, &project)?;
    let registry_packages: Vec<&Package> = project
        .inventory
        .packages
        .iter()
        .filter(|p| p.source.is_registry())
        .collect();
    let index = store.index_report(
        &registry_packages,
        Duration::from_secs(policy.index_max_age_minutes() * 60),
        &BarProgress::new(show_progress),
    )?;
    // Within the policy's maximum age cached index data is as good as fresh; offline it may
    // be older, and the report says how old.
    if global.offline
        && let Some(oldest) = index.oldest_cached
        && let Ok(age) = oldest.elapsed()
    {
        let minutes = age.as_secs() / 60;
        let age = if minutes < 120 {
            format!("{minutes} minutes")
        } else {
            format!("{} hours", minutes / 60)
        };
        notes.push(format!(
            "--offline: index data (yanked flags, checksums) is up to {age} old"
        ));
    }
    for (package, why) in &index.unavailable {
        notes.push(format!(
            "{package}: yanked status and index checksum not checked: {why}"
        ));
    }

    let progress = BarProgress::new(show_progress);
    let (db, advisory_db_error) = match open_advisory_db(global, advisory_db, &project, &progress) {
        Ok(db) => (Some(db), None),
        Err(CliError::Core(e @ Error::AdvisoryDb { .. })) => {
            notes.push(format!("ADVISORIES WERE NOT CHECKED: {e}"));
            (None, Some(e))
        }
        Err(other) => return Err(other),
    };
    let mut evidence = load_evidence(global, &project, now)?;
    notes.append(&mut evidence.notes);

    let report = evaluate(&GateInput {
        inventory: &project.inventory,
        audit_file: &project.audit_file,
        today,
        evidence: &evidence.accepted,
        rejected: &evidence.rejected,
        advisories: db.as_ref(),
        index: Some(&index),
        on_targets: project.inventory.on_targets.as_ref(),
        notes,
    });
    Ok(GatheredGate {
        project,
        report,
        evidence,
        advisory_db_error,
    })
}

/// `--advisory-db`, else `[advisories] db` (relative to Cargo.audit's folder), else the git
/// repository of `[advisories] git` (RustSec's by default), fetched into the cache.
fn open_advisory_db(
    global: &GlobalArgs,
    advisory_db: Option<&Path>,
    project: &Project,
    progress: &dyn Progress,
) -> Result<AdvisoryDatabase, CliError> {
    let configured = project.audit_file.advisories.db.as_ref().map(|db| {
        let base = project
            .audit_path
            .as_ref()
            .and_then(|p| p.parent())
            .map(PathBuf::from)
            .unwrap_or_default();
        base.join(db)
    });
    if let Some(path) = advisory_db.map(Path::to_path_buf).or(configured) {
        return Ok(AdvisoryDatabase::open(&path)?);
    }
    let url = project
        .audit_file
        .advisories
        .git
        .as_deref()
        .unwrap_or(DEFAULT_ADVISORY_DB_URL);
    let cache_dir = cache_dir(global)?;
    let git = GitCache::new(&cache_dir, FetchLimits::default(), global.offline);
    Ok(fetch_advisory_db(url, &git, &cache_dir, progress)?)
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
