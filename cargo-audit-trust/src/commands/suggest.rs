//! `suggest`: what to review next, the fewest lines to read first, each with the command that
//! starts the review and the one that records it.

use std::process::ExitCode;

use audit_trust_core::Package;
use audit_trust_core::classify::classify_files;
use audit_trust_core::fetch::index::IndexVersion;
use audit_trust_core::fetch::package_of;
use audit_trust_core::gate::evaluate;
use audit_trust_core::gate::suggest::{ReviewTarget, Suggestion, rank, review_targets};
use audit_trust_core::progress::NoProgress;
use audit_trust_core::provenance::diff_versions;
use audit_trust_core::tarball::{CrateArchive, Limits, read_crate};

use crate::cli::SuggestArgs;
use crate::error::CliError;
use crate::output::escape;
use crate::output::{plural, thousands, write_json, write_stdout};
use crate::services::classify::analyze_inventory;
use crate::services::gate::GateContext;
use crate::settings::{OutputFormat, Settings};

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
    match settings.format {
        OutputFormat::Json => write_json(&suggestions)?,
        OutputFormat::Human => {
            let mut text = render(&suggestions, &targets);
            if !settings.quiet {
                for note in &notes {
                    text.push_str(&format!("note: {}\n", escape::line(note)));
                }
            }
            write_stdout(&text)?;
        }
    }
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

fn render(suggestions: &[Suggestion], targets: &[ReviewTarget]) -> String {
    if targets.is_empty() {
        return "nothing to review: every covered package is audited\n".into();
    }
    let mut out = match suggestions.len() {
        1 => "1 review to do:\n".to_owned(),
        n if suggestions.iter().any(|s| s.urgent) => format!(
            "{} reviews to do, findings first, then fewest lines:\n",
            thousands(n as u64)
        ),
        n => format!(
            "{} reviews to do, fewest lines first:\n",
            thousands(n as u64)
        ),
    };
    for s in suggestions {
        let size = match (s.lines_to_read, &s.delta_from) {
            (Some(n), Some(base)) => {
                format!(
                    "{} changed lines since audited {}",
                    thousands(n),
                    escape::line(base)
                )
            }
            (Some(n), None) => format!("{} lines of code", thousands(n)),
            (None, _) => "size unknown".into(),
        };
        let status = match &s.fixes {
            Some(locked) => format!(
                "fixes {} {}{}",
                s.status.as_str(),
                escape::line(locked),
                if s.semver_crossing {
                    ", semver-incompatible"
                } else {
                    ""
                }
            ),
            None => s.status.as_str().to_owned(),
        };
        out.push_str(&format!(
            "  {}@{} ({status}, {size})\n      start: {}\n      then:  {}\n",
            escape::line(&s.name),
            escape::line(&s.version),
            escape::line(&s.start),
            escape::line(&s.sign)
        ));
        if let Some(why) = &s.why {
            out.push_str(&format!("      why:   {}\n", escape::line(why)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use audit_trust_core::gate::Status;

    fn suggestion(name: &str, lines: u64) -> Suggestion {
        Suggestion {
            name: name.into(),
            version: "1.0.0".into(),
            status: Status::Unaudited,
            fixes: None,
            semver_crossing: false,
            urgent: false,
            why: None,
            delta_from: None,
            lines_to_read: Some(lines),
            start: format!("cargo audit-trust diff {name}@1.0.0"),
            sign: format!("cargo audit-trust sign {name} 1.0.0 --criteria reviewed"),
        }
    }

    #[test]
    fn counts_read_as_numbers_do() {
        let target = |id| ReviewTarget {
            id,
            status: Status::Unaudited,
            step: audit_trust_core::gate::NextStep {
                kind: audit_trust_core::gate::StepKind::Review,
                version: None,
                audited_by: Vec::new(),
                semver_crossing: false,
                delta_from: None,
                declared_in: Vec::new(),
                via: Vec::new(),
                command: None,
                then: None,
                text: String::new(),
            },
            fix: None,
            base: None,
        };
        let one = render(&[suggestion("big", 12_345)], &[target(0)]);
        assert!(one.starts_with("1 review to do:\n"), "{one}");
        assert!(one.contains("12,345 lines of code"), "{one}");
        let two = render(
            &[suggestion("a", 10), suggestion("b", 1_000_000)],
            &[target(0), target(1)],
        );
        assert!(
            two.starts_with("2 reviews to do, fewest lines first:"),
            "{two}"
        );
        assert!(two.contains("1,000,000 lines of code"), "{two}");
    }
}
