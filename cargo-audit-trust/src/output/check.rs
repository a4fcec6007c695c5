//! Human rendering of the gate report, and GitHub Actions annotations.

use std::fmt::Write as _;

use audit_trust_core::Inventory;
use audit_trust_core::gate::{GateReport, ReasonCode, Severity, Status, Verdict};

use super::escape;
use super::{Palette, plural, thousands};

/// With a base lockfile: which side of the change a package is on.
fn change_tag(v: &Verdict) -> &'static str {
    match v.introduced {
        Some(true) => " (introduced by this change)",
        Some(false) => " (already present)",
        None => "",
    }
}

/// Blocked packages grouped by status with their reasons and next step, then warnings, then
/// one line of counts for what passed (`verbose` lists those too). `stale_fails`: the advisory
/// database is older than the policy allows and `--allow-stale` was not given, so the run fails
/// even with nothing blocked; the headline must say so, not "passed". `quiet` (`-q`) counts the
/// notes instead of printing them.
pub fn render_human(
    report: &GateReport,
    palette: &Palette,
    verbose: bool,
    quiet: bool,
    stale_fails: bool,
) -> String {
    let mut out = String::new();
    let s = &report.summary;
    let packages = plural(s.packages as u64, "package", "packages");
    let headline = match (report.advisory_db.is_some(), s.blocked) {
        (true, 0) if stale_fails => format!(
            "check failed: the advisory database is stale; {packages}, none blocked otherwise"
        ),
        (true, n) if stale_fails => {
            format!("check failed: {n} of {packages} blocked, and the advisory database is stale")
        }
        // Without advisories the gate has not done its job, whatever else passed.
        (false, 0) => format!(
            "check incomplete: advisories were not checked (see the notes); {packages}, none blocked otherwise"
        ),
        (false, n) => format!(
            "check failed: {n} of {packages} blocked, and advisories were not checked (see the notes)"
        ),
        (true, 0) => format!("check passed: {packages}, none blocked"),
        (true, n) => format!("check failed: {n} of {packages} blocked"),
    };
    let _ = writeln!(out, "{}", palette.paint(palette.bold, &headline));
    if let Some(db) = &report.advisory_db {
        let date = db
            .date
            .map_or_else(|| "undated".to_owned(), |d| d.to_string());
        let age = db
            .age_days
            .map_or_else(String::new, |a| format!(", {a} days old"));
        let stale = if db.stale { " — STALE" } else { "" };
        let commit = db
            .commit
            .as_deref()
            .map_or(String::new(), |c| format!(" at {}", &c[..c.len().min(12)]));
        let _ = writeln!(
            out,
            "advisory database: {}{commit} ({date}{age}, {} advisories){stale}",
            escape::line(&db.path),
            db.advisories
        );
    }

    if let Some(change) = &report.change {
        let _ = writeln!(
            out,
            "compared with {}: {} changed; blocked: {} introduced by this change, {} already present{}",
            escape::line(&change.base),
            plural(change.changes.len() as u64, "crate", "crates"),
            change.introduced_blocked,
            change.present_blocked,
            if change.present_warned > 0 {
                format!(
                    " ({} more already present, warned: preexisting = \"warn\")",
                    change.present_warned
                )
            } else {
                String::new()
            }
        );
    }

    let blocked: Vec<&Verdict> = report.packages.iter().filter(|v| v.blocked).collect();
    for status in statuses_in(&blocked) {
        let group: Vec<&&Verdict> = blocked.iter().filter(|v| v.status == status).collect();
        let _ = writeln!(
            out,
            "\n{} ({})",
            palette.paint(palette.bold, status.as_str()),
            group.len()
        );
        // One next step shared by a whole group (no auditor at all, say) is said once, not
        // once per package.
        let shared_step = match group.first().and_then(|v| step_text(v)) {
            Some(first) if group.len() > 1 && group.iter().all(|v| step_text(v) == Some(first)) => {
                Some(first)
            }
            _ => None,
        };
        for v in &group {
            let _ = writeln!(out, "  {}@{}{}", v.name, v.version, change_tag(v));
            for r in v.reasons.iter().filter(|r| r.severity != Severity::Info) {
                let _ = writeln!(out, "    {}: {}", r.code, escape::line(&r.message));
            }
            if let (Some(step), None) = (&v.next_step, shared_step) {
                let _ = writeln!(out, "    next: {}", escape::line(&step.text));
            }
        }
        if let Some(step) = shared_step {
            let _ = writeln!(
                out,
                "  next, for all {}: {}",
                group.len(),
                escape::line(step)
            );
        }
    }

    let warnings: Vec<(&Verdict, ReasonCode, &str)> = report
        .packages
        .iter()
        .filter(|v| !v.blocked)
        .flat_map(|v| {
            v.reasons
                .iter()
                .filter(|r| r.severity == Severity::Warn)
                .map(move |r| (v, r.code, r.message.as_str()))
        })
        .collect();
    if !warnings.is_empty() {
        let _ = writeln!(
            out,
            "\n{} ({})",
            palette.paint(palette.bold, "warnings"),
            warnings.len()
        );
        for (v, code, message) in warnings {
            let _ = writeln!(
                out,
                "  {}@{}{}: {code}: {}",
                v.name,
                v.version,
                change_tag(v),
                escape::line(message)
            );
        }
    }

    // Debt coming due is a warning of its own: it concerns the policy, not one package.
    for w in &report.expiring {
        let _ = writeln!(
            out,
            "\n{}: {}",
            palette.paint(palette.bold, "warning"),
            escape::line(&w.message)
        );
    }

    let passed: Vec<String> = [
        Status::Audited,
        Status::Exempted,
        Status::FirstParty,
        Status::OtherPlatform,
    ]
    .iter()
    .filter_map(|status| {
        let n = report
            .packages
            .iter()
            .filter(|v| !v.blocked && v.status == *status)
            .count();
        (n > 0).then(|| {
            // Where trust came from: evidence of imported sets is unsigned, and says so.
            let imported = report
                .packages
                .iter()
                .filter(|v| !v.blocked && v.status == *status)
                .filter(|v| {
                    v.reasons.iter().any(|r| {
                        r.code == ReasonCode::Audited && r.details["evidence"] == "imported"
                    })
                })
                .count();
            if imported > 0 {
                format!("{n} {} ({imported} by imported sets)", status.as_str())
            } else {
                format!("{n} {}", status.as_str())
            }
        })
    })
    .collect();
    if !passed.is_empty() {
        let _ = writeln!(out, "\npassed: {}", passed.join(", "));
    }
    if let Some(line) = evidence_line(&report.summary.evidence) {
        let _ = writeln!(out, "{line}");
    }
    if verbose {
        for v in report.packages.iter().filter(|v| !v.blocked) {
            let why = v
                .reasons
                .first()
                .map_or(String::new(), |r| format!(": {}", escape::line(&r.message)));
            let _ = writeln!(out, "  {}@{} {}{why}", v.name, v.version, v.status.as_str());
        }
    }
    if !report.notes.is_empty() {
        if quiet {
            // `-q`: the notes are not printed, but that there are some is, so nothing the run
            // could not check goes unmentioned.
            let _ = writeln!(
                out,
                "\n{} not shown (-q); run without -q to read them",
                plural(report.notes.len() as u64, "note", "notes")
            );
        } else {
            let _ = writeln!(out, "\nnotes:");
            for note in &report.notes {
                let _ = writeln!(out, "  - {}", escape::line(note));
            }
        }
    }
    out
}

fn step_text(v: &Verdict) -> Option<&str> {
    v.next_step.as_ref().map(|s| s.text.as_str())
}

fn statuses_in(verdicts: &[&Verdict]) -> Vec<Status> {
    let mut statuses: Vec<Status> = verdicts.iter().map(|v| v.status).collect();
    statuses.sort();
    statuses.dedup();
    statuses.reverse();
    statuses
}

/// `::error file=…,line=…::…` workflow commands, one per blocked package and warning, so the
/// findings show on the pull request's `Cargo.lock`.
pub fn render_github_annotations(
    report: &GateReport,
    inventory: &Inventory,
    lockfile: &str,
) -> String {
    let mut out = String::new();
    for v in &report.packages {
        let line = inventory.lock_line(v.id);
        for r in v.reasons.iter().filter(|r| r.severity != Severity::Info) {
            let level = if r.severity == Severity::Deny {
                "error"
            } else {
                "warning"
            };
            let _ = writeln!(
                out,
                "::{level} file={},line={line},title={}::{}",
                annotation_property(lockfile),
                annotation_property(&format!("{}@{} {}", v.name, v.version, r.code)),
                annotation_data(&r.message)
            );
        }
    }
    out
}

// GitHub's escaping rules for workflow command data and properties.
fn annotation_data(s: &str) -> String {
    escape::line(s)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn annotation_property(s: &str) -> String {
    annotation_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// `evidence: 262 packages: 41 signed, 93 imported (mozilla 52, google 30, …), 118
/// source-matches, 10 exempted, 18 with none`: where trust comes from, the day-one picture.
pub(crate) fn evidence_line(mix: &audit_trust_core::gate::EvidenceMix) -> Option<String> {
    if mix.packages == 0 {
        return None;
    }
    let mut parts = vec![format!("{} signed", thousands(mix.signed as u64))];
    let mut imported = format!("{} imported", thousands(mix.imported as u64));
    if !mix.by_set.is_empty() {
        let mut sets: Vec<(&String, &usize)> = mix.by_set.iter().collect();
        sets.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let shown: Vec<String> = sets
            .iter()
            .take(4)
            .map(|(name, n)| format!("{} {n}", escape::line(name)))
            .collect();
        let more = if sets.len() > 4 { ", …" } else { "" };
        imported.push_str(&format!(" ({}{more})", shown.join(", ")));
    }
    parts.push(imported);
    parts.push(format!(
        "{} source-matches",
        thousands(mix.source_matches as u64)
    ));
    parts.push(format!("{} exempted", thousands(mix.exempted as u64)));
    parts.push(format!("{} with none", thousands(mix.none as u64)));
    Some(format!(
        "evidence: {}: {}",
        plural(mix.packages as u64, "package", "packages"),
        parts.join(", ")
    ))
}
