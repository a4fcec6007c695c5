//! `suggest`: what to review next, the fewest lines to read first, each with the command that
//! starts the review and the one that records it.

use std::process::ExitCode;

use audit_trust_core::Package;
use audit_trust_core::fetch::index::IndexVersion;
use audit_trust_core::fetch::package_of;
use audit_trust_core::gate::evaluate;
use audit_trust_core::gate::suggest::{ReviewTarget, Suggestion, rank, review_targets};
use audit_trust_core::progress::NoProgress;
use audit_trust_core::provenance::diff_versions;
use audit_trust_core::tarball::{Limits, read_crate};

use crate::cli::SuggestArgs;
use crate::error::CliError;
use crate::output::escape;
use crate::output::{thousands, write_json, write_stdout};
use crate::services::classify::analyze_inventory;
use crate::services::gate::GateContext;
use crate::settings::{OutputFormat, Settings};

pub fn run(settings: &Settings, args: &SuggestArgs) -> Result<ExitCode, CliError> {
    let mut context = GateContext::gather(settings, args.advisory_db.as_deref())?;
    let published = context.published_versions();
    let input = context.input();
    let report = evaluate(&input);
    let inventory = &context.inventory;
    let targets = review_targets(&input, &report, &published);
    let classified = analyze_inventory(&context.project, inventory, None)?;
    let mut suggestions = Vec::new();
    for target in &targets {
        let Some(p) = inventory.packages.get(target.id) else {
            continue;
        };
        let status = report.verdict_of(target.id).map(|v| v.status);
        let lines = match &target.base {
            Some(base) => delta_lines(&context, p, base),
            None => classified.package(target.id).and_then(|c| c.code_lines),
        };
        if let Some(status) = status
            && let Some(s) = Suggestion::new(&input, target, status, lines)
        {
            suggestions.push(s);
        }
    }
    let suggestions = rank(suggestions);
    match settings.format {
        OutputFormat::Json => write_json(&suggestions)?,
        OutputFormat::Human => {
            let mut text = render(&suggestions, &targets);
            if !settings.quiet {
                for note in &context.notes {
                    text.push_str(&format!("note: {}\n", escape::line(note)));
                }
            }
            write_stdout(&text)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Lines added and removed between the audited base and the package; `None` when either crate
/// file cannot be read (the suggestion is still listed, last).
fn delta_lines(context: &GateContext, p: &Package, base: &IndexVersion) -> Option<u64> {
    let old = package_of(&p.name, base, &p.source);
    let read = |package: &Package| {
        context.store.ensure_all(&[package], &NoProgress).ok()?;
        let bytes = context.store.read_verified(package).ok()?;
        read_crate(
            &bytes,
            &package.name,
            &package.version.to_string(),
            &Limits::default(),
        )
        .ok()
    };
    let (old_archive, new_archive) = (read(&old)?, read(p)?);
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
        out.push_str(&format!(
            "  {}@{} ({}, {size})\n      start: {}\n      then:  {}\n",
            escape::line(&s.name),
            escape::line(&s.version),
            s.status.as_str(),
            escape::line(&s.start),
            escape::line(&s.sign)
        ));
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
            delta_from: None,
            lines_to_read: Some(lines),
            start: format!("cargo audit-trust diff {name}@1.0.0"),
            sign: format!("cargo audit-trust sign {name} 1.0.0 --criteria reviewed"),
        }
    }

    #[test]
    fn counts_read_as_numbers_do() {
        let target = |id| ReviewTarget { id, base: None };
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
