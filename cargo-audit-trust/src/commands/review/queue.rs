//! The review queue: every package `check` blocks or that has no sign-off yet, with what the
//! details pane shows about it. Built once from the gate's report, the classification and the
//! verified evidence; every string that came from a crate or a record is made terminal-safe here,
//! so the views never see raw untrusted text.

use std::collections::HashMap;

use audit_trust_core::PackageId;
use audit_trust_core::audit_file::AuditFile;
use audit_trust_core::gate::{Evidence, GateReport, ReasonCode, RejectedEvidence, Status, Verdict};
use audit_trust_core::report::PackageReport;

use super::signals::{EntryRisk, RunSignals, entry_risk};
use crate::output::escape;

/// A property worth a reviewer's attention, always shown as a word (never by color alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Badge {
    Micro,
    Unsafe,
    BuildScript,
    ProcMacro,
    Native,
    Advisory,
    Flagged,
}

impl Badge {
    pub fn label(self) -> &'static str {
        match self {
            Badge::Micro => "micro",
            Badge::Unsafe => "unsafe",
            Badge::BuildScript => "build",
            Badge::ProcMacro => "macro",
            Badge::Native => "native",
            Badge::Advisory => "advisory",
            Badge::Flagged => "flagged",
        }
    }
}

/// One package waiting for review.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueEntry {
    pub name: String,
    pub version: String,
    pub status: Status,
    pub blocked: bool,
    pub badges: Vec<Badge>,
    /// Lines of library code (what there is to read); `None` when not classified.
    pub code_lines: Option<u64>,
    /// "unsafe 3, build script, proc-macro …", or why it is unknown.
    pub classification: String,
    pub reasons: Vec<String>,
    pub next_step: Option<String>,
    /// Auditors in `Cargo.audit` whose patterns cover the package.
    pub auditors: Vec<String>,
    /// Valid sign-offs and flags of this version: "team: reviewed".
    pub signoffs: Vec<String>,
    /// Records for this package that were ignored, with why.
    pub rejected: Vec<String>,
    pub advisories: Vec<String>,
    /// The newest version of the same crate with a valid (unflagged) sign-off, older than this
    /// one: the base of the delta view and of a delta sign-off.
    pub delta_base: Option<String>,
    /// Its risk signals: the rank the queue is ordered by and the details pane's lines.
    pub risk: EntryRisk,
    /// The repository's commit or tag page (or why there is none): terminal-safe lines.
    pub link: Vec<String>,
}

impl QueueEntry {
    pub fn matches(&self, search: &str) -> bool {
        let search = search.to_lowercase();
        search.is_empty()
            || self.name.to_lowercase().contains(&search)
            || self.status.as_str().contains(&search)
            || self.badges.iter().any(|b| b.label() == search)
    }
}

/// Everything the queue is built from.
pub struct QueueInput<'a> {
    pub report: &'a GateReport,
    pub classified: &'a [PackageReport],
    pub audit_file: &'a AuditFile,
    pub evidence: &'a [Evidence],
    pub rejected: &'a [RejectedEvidence],
    /// The risk signals `check` computes, for the same packages.
    pub signals: RunSignals<'a>,
    /// Each queued package's link lines, by package; a package without is shown none.
    pub links: &'a HashMap<PackageId, Vec<String>>,
}

/// Whether a verdict's package waits for review: `check` blocks it, or nobody signed it off.
pub fn is_queued(v: &Verdict) -> bool {
    v.blocked || !matches!(v.status, Status::Audited | Status::FirstParty)
}

/// The queue, riskiest first: by the strongest signal (denied, then high, medium, low, then
/// not computed, then clean), then blocked before passing, the statuses in the gate's order,
/// the smallest first (what a reviewer can finish), and by name.
pub fn build_queue(input: &QueueInput<'_>) -> Vec<QueueEntry> {
    let mut entries: Vec<QueueEntry> = input
        .report
        .packages
        .iter()
        .filter(|v| is_queued(v))
        .map(|v| {
            let classified = input.classified.iter().find(|p| p.id == v.id);
            // Rejected records keep the version as they read it: text.
            let version = v.version.to_string();
            let mut badges = classified.map(badges_of).unwrap_or_default();
            let advisories: Vec<String> = v
                .reasons
                .iter()
                .filter(|r| {
                    matches!(
                        r.code,
                        ReasonCode::Advisory | ReasonCode::AdvisoryInformational
                    )
                })
                .map(|r| escape::cell(&r.message))
                .collect();
            if !advisories.is_empty() {
                badges.push(Badge::Advisory);
            }
            if v.status == Status::Flagged {
                badges.push(Badge::Flagged);
            }
            QueueEntry {
                name: escape::cell(&v.name),
                version: escape::cell(&version),
                status: v.status,
                blocked: v.blocked,
                badges,
                code_lines: classified.and_then(|p| p.code_lines),
                classification: classified
                    .map(describe_classification)
                    .unwrap_or_else(|| "not classified (crate file unavailable)".to_owned()),
                // A denied or warned signal is listed with its evidence under the signals;
                // repeating it here would push the rest of the details off the screen.
                reasons: v
                    .reasons
                    .iter()
                    .filter(|r| !is_listed_signal(r))
                    .map(|r| escape::cell(&r.message))
                    .collect(),
                next_step: v.next_step.as_ref().map(|s| escape::cell(&s.text)),
                auditors: input
                    .audit_file
                    .auditors
                    .iter()
                    .filter(|a| a.covers(&v.name))
                    .map(|a| escape::cell(&a.name))
                    .collect(),
                signoffs: signoffs_of(input.evidence, &v.name, &v.version),
                rejected: input
                    .rejected
                    .iter()
                    .filter(|r| r.name.as_deref() == Some(v.name.as_str()))
                    .filter(|r| r.version.as_deref().is_none_or(|ver| ver == version))
                    .map(|r| escape::cell(&format!("{}: {}", r.auditor, r.reason)))
                    .collect(),
                advisories,
                delta_base: newest_audited_below(input.evidence, &v.name, &v.version),
                risk: entry_risk(v, v.source == "registry", input.signals),
                link: input.links.get(&v.id).cloned().unwrap_or_else(|| {
                    vec![
                        "link: none (not a registry package, or its crate file was not read)"
                            .into(),
                    ]
                }),
            }
        })
        .collect();
    entries.sort_by(|a, b| queue_order(a).cmp(&queue_order(b)));
    entries
}

/// A reason for a signal the details pane lists with its action (`DENY`, `warn`); exceptions
/// stay among the reasons, which say until when.
fn is_listed_signal(r: &audit_trust_core::gate::Reason) -> bool {
    r.code == ReasonCode::Risk
        && r.severity != audit_trust_core::gate::Severity::Info
        && r.details.get("signal").is_some()
}

/// The sort key of [`build_queue`]; unknown sizes after known ones.
fn queue_order(e: &QueueEntry) -> impl Ord + '_ {
    (
        std::cmp::Reverse(e.risk.rank),
        !e.blocked,
        e.status,
        e.code_lines.unwrap_or(u64::MAX),
        &e.name,
        &e.version,
    )
}

fn badges_of(p: &PackageReport) -> Vec<Badge> {
    let flags = [
        (p.micro, Badge::Micro),
        (p.uses_unsafe, Badge::Unsafe),
        (p.build_script, Badge::BuildScript),
        (p.proc_macro, Badge::ProcMacro),
        (p.native, Badge::Native),
    ];
    flags
        .into_iter()
        .filter(|(on, _)| *on == Some(true))
        .map(|(_, badge)| badge)
        .collect()
}

fn describe_classification(p: &PackageReport) -> String {
    let mut parts = Vec::new();
    if let Some(lines) = p.code_lines {
        parts.push(format!("{lines} lines of code"));
    }
    if p.micro == Some(true) {
        parts.push("micro".to_owned());
    }
    match p.uses_unsafe {
        Some(true) => parts.push("uses unsafe".to_owned()),
        Some(false) => parts.push("no unsafe".to_owned()),
        None => {}
    }
    if p.build_script == Some(true) {
        parts.push("build script".to_owned());
    }
    if p.proc_macro == Some(true) {
        parts.push("proc-macro".to_owned());
    }
    if p.native == Some(true) {
        parts.push("native code".to_owned());
    }
    if let Some(links) = &p.links {
        parts.push(format!("links {}", escape::cell(links)));
    }
    if p.leaf {
        parts.push("leaf".to_owned());
    }
    parts.join(", ")
}

fn signoffs_of(evidence: &[Evidence], name: &str, version: &semver::Version) -> Vec<String> {
    evidence
        .iter()
        .filter(|e| e.name == name && e.version == *version)
        .map(|e| {
            let what = match &e.flag {
                Some(reason) => format!("FLAGGED: {reason}"),
                None => {
                    let criteria: Vec<&str> = e.criteria.iter().map(|c| c.as_str()).collect();
                    let delta = e
                        .delta_from
                        .as_ref()
                        .map(|(base, _)| format!(" (delta from {base})"))
                        .unwrap_or_default();
                    format!("{}{delta}", criteria.join(", "))
                }
            };
            // Imported evidence says what it is: unsigned, from a set trusted by URL and pin.
            let who = match &e.imported {
                Some(set) => format!("{set} (evidence: imported)"),
                None => e.auditor.clone(),
            };
            escape::cell(&format!("{who}: {what}"))
        })
        .collect()
}

fn newest_audited_below(
    evidence: &[Evidence],
    name: &str,
    current: &semver::Version,
) -> Option<String> {
    evidence
        .iter()
        .filter(|e| e.name == name && e.flag.is_none() && e.version < *current)
        .map(|e| &e.version)
        .max()
        .map(ToString::to_string)
}

#[cfg(test)]
mod evidence_label_tests {
    use audit_trust_core::gate::{Evidence, EvidenceSubject};
    use audit_trust_core::signoff::Criterion;

    #[test]
    fn imported_evidence_is_labelled_in_the_panel() {
        let signed = Evidence {
            auditor: "team".into(),
            name: "leafy".into(),
            version: semver::Version::new(1, 0, 1),
            subject: EvidenceSubject::Crate {
                checksum: "ab".repeat(32),
            },
            criteria: vec![Criterion::Reviewed],
            delta_from: None,
            flag: None,
            record_id: "r".into(),
            imported: None,
        };
        let imported = Evidence {
            auditor: "mozilla".into(),
            imported: Some("mozilla".into()),
            flag: Some("bad \u{1b}[2J".into()),
            ..signed.clone()
        };
        let shown =
            super::signoffs_of(&[signed, imported], "leafy", &semver::Version::new(1, 0, 1));
        assert_eq!(shown[0], "team: reviewed");
        assert_eq!(
            shown[1],
            "mozilla (evidence: imported): FLAGGED: bad \\u{1b}[2J"
        );
    }
}
