//! `suggest`: what to review next, the fewest lines to read first, each with the command that
//! starts the review and the one that records it.

use std::process::ExitCode;

use audit_trust_core::Package;
use audit_trust_core::classify::classify_files;
use audit_trust_core::fetch::index::IndexVersion;
use audit_trust_core::fetch::package_of;
use audit_trust_core::gate::evaluate;
use audit_trust_core::gate::suggest::{Suggestion, rank, review_targets};
use audit_trust_core::progress::NoProgress;
use audit_trust_core::provenance::diff_versions;
use audit_trust_core::tarball::{CrateArchive, Limits, read_crate};

use crate::cli::SuggestArgs;
use crate::error::CliError;
use crate::output::plural;
use crate::services::classify::analyze_inventory;
use crate::services::gate::GateContext;
use crate::settings::Settings;

pub fn run(settings: &Settings, args: &SuggestArgs) -> Result<ExitCode, CliError> {
    let context = GateContext::gather(settings, args.advisory_db.as_deref())?;
    let input = context.input();
    let report = evaluate(&input);
    let inventory = &context.inventory;
    let targets = review_targets(&input, &report);
    let classified = analyze_inventory(&context.project, inventory, None)?;
    let mut suggestions = Vec::new();
    for target in &targets {
        let Some(p) = inventory.packages.get(target.id) else {
            continue;
        };
        // The version to read: the locked one, or the fix it must move to.
        let reviewed = match &target.fix {
            Some(fix) => package_of(&p.name, fix, &p.source),
            None => p.clone(),
        };
        let lines = match &target.base {
            Some(base) => delta_lines(&context, &reviewed, base),
            None if target.fix.is_some() => code_lines(&context, &reviewed),
            None => classified.package(target.id).and_then(|c| c.code_lines),
        };
        if let Some(s) = Suggestion::new(&input, target, lines) {
            suggestions.push(s);
        }
    }
    let suggestions = rank(suggestions);
    let mut notes = context.notes.clone();
    if let Some(db) = report.advisory_db.as_ref().filter(|d| d.stale)
        && !args.allow_stale
    {
        notes.push(format!(
            "the advisory database is stale ({}): fixes may be missing; update it, or pass --allow-stale",
            db.age_days
                .map_or_else(|| "undated".to_owned(), |d| plural(d.unsigned_abs(), "day", "days") + " old")
        ));
    }
    crate::output::suggest::write(settings, &suggestions, &targets, &notes)?;
    Ok(ExitCode::SUCCESS)
}

/// Lines of code of a version that is not in the lockfile (a fix to review); `None` when its
/// crate file cannot be read.
fn code_lines(context: &GateContext, package: &Package) -> Option<u64> {
    let archive = read_package(context, package)?;
    classify_files(
        archive
            .files()
            .iter()
            .map(|f| (f.path.as_str(), f.contents.as_slice())),
    )
    .ok()
    .map(|c| c.code_lines)
}

/// The crate file of `package`, downloaded and checked against the index's checksum.
fn read_package(context: &GateContext, package: &Package) -> Option<CrateArchive> {
    context.store.ensure_all(&[package], &NoProgress).ok()?;
    let bytes = context.store.read_verified(package).ok()?;
    read_crate(
        &bytes,
        &package.name,
        &package.version.to_string(),
        &Limits::default(),
    )
    .ok()
}

/// Lines added and removed between the audited base and the package; `None` when either crate
/// file cannot be read (the suggestion is still listed, last).
fn delta_lines(context: &GateContext, p: &Package, base: &IndexVersion) -> Option<u64> {
    let old = package_of(&p.name, base, &p.source);
    let (old_archive, new_archive) = (read_package(context, &old)?, read_package(context, p)?);
    let diff = diff_versions(
        &p.name,
        &base.version.to_string(),
        &old_archive,
        &p.version.to_string(),
        &new_archive,
    );
    u64::try_from(diff.totals.lines_added + diff.totals.lines_removed).ok()
}
