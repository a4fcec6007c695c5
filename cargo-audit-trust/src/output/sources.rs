//! Output of `verify-sources`: a table (problems first), one summary line, and the JSON document.
//! Names, URLs, reasons and warnings come from crates and repositories: every one is escaped.

use std::fmt::Write as _;

use audit_trust_core::provenance::RepositorySource;
use audit_trust_core::provenance::sweep::{
    SignOffState, SourceOutcome, SourceVerdict, SourcesReport,
};
use serde::Serialize;

use crate::output::{Palette, escape, thousands};
use crate::services::verify_sources::SignedBatch;

/// The package column is never wider than this.
const MAX_PACKAGE_WIDTH: usize = 40;

/// `--format json`: the core's report, what `--sign` wrote, and the run's notes.
#[derive(Serialize)]
pub struct SourcesJson<'a> {
    #[serde(flatten)]
    pub report: &'a SourcesReport,
    /// Present with `--sign`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed: Option<&'a SignedBatch>,
    pub notes: &'a [String],
}

/// The word in the verdict column.
pub fn verdict_label(outcome: &SourceOutcome) -> &'static str {
    match outcome.verdict {
        SourceVerdict::Matches if outcome.matches_claimed_only() => {
            "matches (claimed repository, not signed)"
        }
        SourceVerdict::Matches => "matches",
        SourceVerdict::Differs => "DIFFERS",
        SourceVerdict::Unverifiable => "unverifiable",
        SourceVerdict::Error => "ERROR",
    }
}

/// Problems first: errors, differs, unverifiable, claimed-only matches, matches.
fn rank(outcome: &SourceOutcome) -> u8 {
    match outcome.verdict {
        SourceVerdict::Error => 0,
        SourceVerdict::Differs => 1,
        SourceVerdict::Unverifiable => 2,
        SourceVerdict::Matches if outcome.matches_claimed_only() => 3,
        SourceVerdict::Matches => 4,
    }
}

fn source_word(source: Option<RepositorySource>) -> &'static str {
    match source {
        Some(RepositorySource::Pinned) => "pinned",
        Some(RepositorySource::SignedOff) => "signed off",
        Some(RepositorySource::Claimed) => "claimed",
        None => "",
    }
}

pub fn render_sources(
    report: &SourcesReport,
    signed: Option<&SignedBatch>,
    notes: &[String],
    quiet: bool,
    palette: &Palette,
) -> String {
    let mut out = String::new();
    let mut rows: Vec<&SourceOutcome> = report.packages.iter().collect();
    rows.sort_by(|a, b| (rank(a), &a.name, &a.version).cmp(&(rank(b), &b.name, &b.version)));
    let cells: Vec<(String, String)> = rows
        .iter()
        .map(|o| {
            let package = format!("{} {}", escape::line(&o.name), escape::line(&o.version));
            let mut verdict = verdict_label(o).to_owned();
            match o.sign_off {
                Some(SignOffState::Signed) => verdict.push_str(", signed"),
                Some(SignOffState::AlreadySigned) => verdict.push_str(", already signed"),
                None => {}
            }
            (package, verdict)
        })
        .collect();
    let width = |f: fn(&(String, String)) -> usize| cells.iter().map(f).max().unwrap_or(0);
    // A very long name or version (build metadata) overflows its cell rather than widening
    // the column for every row.
    let (package_width, verdict_width) = (
        width(|c| c.0.chars().count()).clamp("PACKAGE".len(), MAX_PACKAGE_WIDTH),
        width(|c| c.1.chars().count()).max("VERDICT".len()),
    );
    if !rows.is_empty() {
        let header = format!(
            "{:package_width$}  {:verdict_width$}  REPOSITORY / REASON",
            "PACKAGE", "VERDICT"
        );
        let _ = writeln!(out, "{}", palette.paint(palette.bold, header.trim_end()));
    }
    for (o, (package, verdict)) in rows.iter().zip(&cells) {
        let repository = match &o.repository {
            Some(url) => format!(
                "{} ({})",
                escape::line(url),
                source_word(o.repository_source)
            ),
            None => "-".to_owned(),
        };
        let verdict = if o.verdict == SourceVerdict::Matches {
            format!("{verdict:verdict_width$}")
        } else {
            palette.paint(palette.bold, &format!("{verdict:verdict_width$}"))
        };
        let _ = writeln!(out, "{package:package_width$}  {verdict}  {repository}");
        let indent = " ".repeat(package_width + 2);
        let reason = match o.unverifiable {
            Some(code) => format!(
                "{}: {}",
                serde_json::to_value(code)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                escape::line(&o.reason)
            ),
            None => escape::line(&o.reason),
        };
        let _ = writeln!(out, "{indent}{}", palette.paint(palette.dim, &reason));
        if !quiet {
            for warning in &o.warnings {
                let _ = writeln!(out, "{indent}warning: {}", escape::line(warning));
            }
        }
    }
    if !rows.is_empty() {
        out.push('\n');
    }
    let _ = writeln!(out, "{}", summary_line(report));
    if let Some(batch) = signed {
        let _ = writeln!(out, "{}", signed_line(report, batch));
    }
    if !quiet {
        for note in notes {
            let _ = writeln!(out, "note: {}", escape::line(note));
        }
        if report.summary.matches_claimed_only > 0 {
            let _ = writeln!(
                out,
                "note: a match against the repository a crate names is a claim its publisher \
                 made; pin the repository in [sources] to make it evidence (`--sign` signs only \
                 pinned or signed-off repositories)"
            );
        }
    }
    out
}

/// `5 packages: 2 match (1 only against a claimed repository), 1 differs, 1 unverifiable, 1 error`
pub fn summary_line(report: &SourcesReport) -> String {
    let s = &report.summary;
    let mut parts = vec![format!(
        "{} match{}",
        thousands(s.matches as u64),
        if s.matches == 1 { "es" } else { "" }
    )];
    if s.matches_claimed_only > 0 {
        let last = parts.len() - 1;
        parts[last].push_str(&format!(
            " ({} only against a claimed repository)",
            thousands(s.matches_claimed_only as u64)
        ));
    }
    parts.push(format!(
        "{} differ{}",
        thousands(s.differs as u64),
        if s.differs == 1 { "s" } else { "" }
    ));
    parts.push(format!("{} unverifiable", thousands(s.unverifiable as u64)));
    if s.errors > 0 {
        parts.push(format!(
            "{} could not be checked",
            thousands(s.errors as u64)
        ));
    }
    format!(
        "{} package{}: {}",
        thousands(s.packages as u64),
        if s.packages == 1 { "" } else { "s" },
        parts.join(", ")
    )
}

fn signed_line(report: &SourcesReport, batch: &SignedBatch) -> String {
    let s = &report.summary;
    let head = batch
        .head_sequence
        .map(|n| format!(", head {n}"))
        .unwrap_or_default();
    let mut line = format!(
        "Signed source-matches for {} package{} as auditor `{}`{head}",
        thousands(s.signed as u64),
        if s.signed == 1 { "" } else { "s" },
        escape::line(&batch.auditor)
    );
    if s.already_signed > 0 {
        line.push_str(&format!(
            "; {} already signed",
            thousands(s.already_signed as u64)
        ));
    }
    line
}

#[cfg(test)]
mod tests {
    use audit_trust_core::provenance::sweep::UnverifiableCode;

    use super::*;
    use crate::cli::ColorChoice;

    fn outcome(name: &str, verdict: SourceVerdict, reason: &str) -> SourceOutcome {
        SourceOutcome {
            name: name.into(),
            version: "1.0.0".into(),
            verdict,
            reason: reason.into(),
            unverifiable: (verdict == SourceVerdict::Unverifiable)
                .then_some(UnverifiableCode::NoCommit),
            repository: Some("https://git.example/a/a".into()),
            repository_source: Some(RepositorySource::Pinned),
            claimed_repository: None,
            commit: None,
            reference: None,
            checksum: None,
            differing_files: Vec::new(),
            warnings: vec!["tag \u{202e}v1".into()],
            signable: verdict == SourceVerdict::Matches,
            sign_off: None,
            evidence: None,
        }
    }

    #[test]
    fn problems_come_first_and_hostile_text_is_escaped() {
        let report = SourcesReport::new(vec![
            outcome("fine", SourceVerdict::Matches, "all 3 files match"),
            outcome(
                "evil",
                SourceVerdict::Differs,
                "src/\u{1b}[2Jlib.rs (modified)",
            ),
            outcome("odd", SourceVerdict::Unverifiable, "no tag"),
        ]);
        let text = render_sources(&report, None, &[], false, &Palette::new(ColorChoice::Never));
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{202e}'),
            "{text}"
        );
        assert!(text.contains("src/\\u{1b}[2Jlib.rs"), "{text}");
        let rows: Vec<&str> = text.lines().filter(|l| !l.starts_with(' ')).collect();
        assert!(rows[1].starts_with("evil 1.0.0  DIFFERS"), "{text}");
        assert!(rows[2].starts_with("odd 1.0.0   unverifiable"), "{text}");
        assert!(rows[3].starts_with("fine 1.0.0  matches"), "{text}");
        assert!(text.contains("no-commit: no tag"), "{text}");
        assert!(
            text.contains("3 packages: 1 matches, 1 differs, 1 unverifiable\n"),
            "{text}"
        );
        let quiet = render_sources(&report, None, &[], true, &Palette::new(ColorChoice::Never));
        assert!(!quiet.contains("warning:"), "{quiet}");
    }
}
