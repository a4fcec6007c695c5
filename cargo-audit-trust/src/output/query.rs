//! `query`'s output: the verified records of a crate, revoked and rejected ones apart, as JSON or
//! as text. Text from records is escaped.

use std::fmt::Write as _;

use audit_trust_core::signoff::{AcceptedRecord, ReportedRisk, Statement, Subject};
use serde::Serialize;

use super::escape;
use super::{write_json, write_stdout};
use crate::error::CliError;
use crate::services::imports::ImportedEntry;
use crate::settings::{OutputFormat, Settings};

/// What `query` found; its JSON output is this value.
#[derive(Serialize)]
pub struct QueryReport<'a> {
    pub name: &'a str,
    pub version: Option<&'a str>,
    pub records: Vec<QueryRecord>,
    /// Records their own auditor withdrew: history, and no longer counted.
    pub revoked: Vec<RevokedRecord>,
    pub rejected: Vec<RejectedRecord>,
    pub unread_sources: Vec<UnreadSource<'a>>,
    /// What the imported sets (`[[import]]`, pinned in Cargo.audit.lock) say: unsigned.
    pub imported: Vec<ImportedEntry>,
    /// What the registries' automatic auditors report of each version, risk signals included
    /// (unsigned: the registry's word).
    pub registry_risk: Vec<RegistryRisk>,
    pub notes: &'a [String],
}

#[derive(Serialize)]
pub struct RegistryRisk {
    pub registry: String,
    pub version: String,
    /// The provenance verdict (`matches`, `differs`, ...).
    pub verdict: String,
    /// Whether its automatic auditor signed `source-matches`.
    pub signed: bool,
    pub reason: String,
    /// `None`: the registry reported no risk signals for this version.
    pub risk: Option<ReportedRisk>,
}

#[derive(Serialize)]
pub struct QueryRecord {
    pub auditor: String,
    /// Whether the auditor's `covers` patterns include this crate (only then does it count).
    pub covers: bool,
    pub kind: &'static str,
    pub name: String,
    pub version: String,
    pub checksum: Option<String>,
    pub commit: Option<String>,
    pub criteria: Vec<String>,
    pub delta_from: Option<String>,
    pub reason: Option<String>,
    pub notes: Option<String>,
    pub id: String,
    pub key: String,
    pub created: String,
    pub location: String,
}

#[derive(Serialize)]
pub struct RevokedRecord {
    pub auditor: String,
    pub kind: &'static str,
    pub version: String,
    pub id: String,
    /// The revocation's id.
    pub by: String,
}

#[derive(Serialize)]
pub struct RejectedRecord {
    pub auditor: Option<String>,
    pub location: String,
    pub code: &'static str,
    pub message: String,
}

#[derive(Serialize)]
pub struct UnreadSource<'a> {
    pub auditor: &'a str,
    pub location: &'a str,
}

/// Writes the report in the run's format.
pub fn write(settings: &Settings, report: &QueryReport<'_>) -> Result<(), CliError> {
    match settings.format {
        OutputFormat::Json => write_json(report),
        OutputFormat::Human => write_stdout(&render_human(report)),
    }
}

/// One verified record as the report shows it; `covers`: whether its auditor covers the crate.
pub fn record_of(a: &AcceptedRecord, covers: bool) -> QueryRecord {
    let record = a.record.record();
    let (mut checksum, mut commit, mut name, mut version) =
        (None, None, String::new(), String::new());
    if let Some(subject) = record.statement.subject() {
        name = subject.name().to_owned();
        version = subject.version().to_string();
        match subject {
            Subject::Crate { checksum: c, .. } => checksum = Some(c.clone()),
            Subject::Git { commit: c, .. } => commit = Some(c.clone()),
        }
    }
    let (mut criteria, mut delta_from, mut reason, mut notes) = (Vec::new(), None, None, None);
    match &record.statement {
        Statement::SignOff {
            criteria: c,
            delta_from: d,
            notes: n,
            ..
        } => {
            criteria = c.iter().map(|c| c.as_str().to_owned()).collect();
            delta_from = d.as_ref().map(|d| d.version.to_string());
            notes = n.clone();
        }
        Statement::Flag {
            reason: r,
            notes: n,
            ..
        } => {
            reason = Some(r.clone());
            notes = n.clone();
        }
        Statement::Revocation { .. } => {}
    }
    QueryRecord {
        auditor: a.auditor.clone(),
        covers,
        kind: record.statement.kind(),
        name,
        version,
        checksum,
        commit,
        criteria,
        delta_from,
        reason,
        notes,
        id: a.record.id().to_string(),
        key: record.key.to_string(),
        created: record.created.to_string(),
        location: a.location.to_string(),
    }
}

/// The records, then revoked and rejected ones, then notes; text from records is escaped.
pub fn render_human(q: &QueryReport<'_>) -> String {
    let mut out = String::new();
    let subject = match q.version {
        Some(v) => format!("{}@{v}", q.name),
        None => q.name.to_owned(),
    };
    let flags = q.records.iter().filter(|r| r.kind == "flag").count();
    let _ = writeln!(
        out,
        "{subject}: {}, {} from auditors you trust",
        super::plural((q.records.len() - flags) as u64, "sign-off", "sign-offs"),
        super::plural(flags as u64, "flag", "flags")
    );
    for r in &q.records {
        let what = match r.kind {
            "flag" => "FLAGGED".to_owned(),
            _ => match &r.delta_from {
                Some(base) => format!("{} (delta from {base})", r.criteria.join(", ")),
                None => r.criteria.join(", "),
            },
        };
        let coverage = if r.covers {
            ""
        } else {
            " [does not cover this crate]"
        };
        let _ = writeln!(
            out,
            "  {}@{}  {what}  by {}{coverage}, {}",
            r.name,
            r.version,
            escape::line(&r.auditor),
            r.created
        );
        if let Some(reason) = &r.reason {
            let _ = writeln!(out, "      reason: {}", escape::line(reason));
        }
        if let Some(notes) = &r.notes {
            let _ = writeln!(out, "      notes: {}", escape::line(notes));
        }
        let _ = writeln!(
            out,
            "      checksum {}  record {}",
            r.checksum.as_deref().or(r.commit.as_deref()).unwrap_or("-"),
            r.id
        );
    }
    render_imported(&mut out, &q.imported);
    render_registry_risk(&mut out, &q.registry_risk);
    if !q.revoked.is_empty() {
        let _ = writeln!(out, "\nRevoked by their auditor (no longer counted):");
        for r in &q.revoked {
            let _ = writeln!(
                out,
                "  {} {}@{} by {}: record {} revoked by {}",
                r.kind,
                escape::line(q.name),
                r.version,
                escape::line(&r.auditor),
                r.id,
                r.by
            );
        }
    }
    if !q.rejected.is_empty() {
        let _ = writeln!(out, "\nIgnored, because they did not verify:");
        for r in &q.rejected {
            let _ = writeln!(
                out,
                "  {}: {} ({})",
                escape::line(&r.location),
                escape::line(&r.message),
                r.code
            );
        }
    }
    for note in q.notes {
        let _ = writeln!(out, "\nnote: {}", escape::line(note));
    }
    for u in &q.unread_sources {
        let _ = writeln!(
            out,
            "\nnote: auditor `{}` keeps its records at {}, which this command does not read",
            u.auditor,
            escape::line(u.location)
        );
    }
    out
}

/// Entries of imported sets: unsigned evidence, labelled as such.
fn render_imported(out: &mut String, entries: &[ImportedEntry]) {
    if entries.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nFrom imported sets (evidence: imported, unsigned):");
    for e in entries {
        let maps = if e.maps_to.is_empty() {
            " (maps to none of ours)".to_owned()
        } else {
            format!(" -> {}", e.maps_to.join(", "))
        };
        let coverage = if e.covers || e.kind == "violation" {
            ""
        } else {
            " [does not cover this crate]"
        };
        let who = if e.who.is_empty() {
            String::new()
        } else {
            format!(" by {}", e.who.join(", "))
        };
        let _ = writeln!(
            out,
            "  {} {}: {}  {}{maps}{}{coverage}",
            escape::line(&e.import),
            e.kind,
            escape::line(&e.what),
            escape::line(&e.criteria.join(", ")),
            escape::line(&who)
        );
        if let Some(notes) = &e.notes {
            let _ = writeln!(out, "      notes: {}", escape::line(notes));
        }
    }
}

/// The registries' automatic auditors: verdict, whether signed, and each risk signal with its
/// evidence; every text came from the registry and is escaped.
fn render_registry_risk(out: &mut String, entries: &[RegistryRisk]) {
    if entries.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nReported by the registry's automatic auditor (unsigned: the registry's word):"
    );
    for e in entries {
        let _ = writeln!(
            out,
            "  {}  {}, {}  at {}",
            escape::line(&e.version),
            escape::line(&e.verdict),
            if e.signed { "signed" } else { "not signed" },
            escape::line(&e.registry)
        );
        if !e.reason.is_empty() {
            let _ = writeln!(out, "      reason: {}", escape::line(&e.reason));
        }
        let Some(risk) = &e.risk else {
            let _ = writeln!(out, "      risk signals: none reported");
            continue;
        };
        let base = risk.base.as_deref().map_or_else(
            || "first version read".to_owned(),
            |b| format!("against {}", escape::line(b)),
        );
        let none = if risk.signals.is_empty() { " none" } else { "" };
        let _ = writeln!(out, "      risk signals ({base}):{none}");
        for s in &risk.signals {
            let denied = if risk.denied.signals.contains(&s.code) {
                "denied"
            } else {
                "not denied"
            };
            let _ = writeln!(
                out,
                "        [{}] {} ({}, {denied})",
                escape::line(&s.code),
                escape::line(&s.message),
                escape::line(&s.severity)
            );
            for ev in &s.evidence {
                let place = match (&ev.file, ev.line) {
                    (Some(f), Some(l)) => format!(" {}:{l}", escape::line(f)),
                    (Some(f), None) => format!(" {}", escape::line(f)),
                    _ => String::new(),
                };
                let _ = writeln!(
                    out,
                    "          {}{place} {}",
                    escape::line(&ev.package),
                    escape::line(&ev.names.join(", "))
                );
            }
        }
        for nc in &risk.not_computed {
            let _ = writeln!(
                out,
                "        not computed ({}): {}",
                escape::line(&nc.signals.join(", ")),
                escape::line(&nc.why)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use audit_trust_core::signoff::{ReportedEvidence, ReportedRisk, ReportedSignal};

    use super::{RegistryRisk, render_registry_risk};

    #[test]
    fn what_a_registry_reports_is_escaped() {
        let hostile = "evil\u{1b}[2J\u{202e}name\nnext";
        let entry = RegistryRisk {
            registry: format!("http://127.0.0.1:1/{hostile}"),
            version: "1.0.1".into(),
            verdict: hostile.into(),
            signed: false,
            reason: hostile.into(),
            risk: Some(ReportedRisk {
                base: Some(hostile.into()),
                signals: vec![ReportedSignal {
                    code: hostile.into(),
                    severity: "high".into(),
                    message: hostile.into(),
                    evidence: vec![ReportedEvidence {
                        package: hostile.into(),
                        file: Some(hostile.into()),
                        line: Some(8),
                        names: vec![hostile.into()],
                    }],
                }],
                ..ReportedRisk::default()
            }),
        };
        let mut out = String::new();
        render_registry_risk(&mut out, &[entry]);
        assert!(out.contains("[evil"), "{out}");
        assert!(
            !out.contains('\u{1b}') && !out.contains('\u{202e}'),
            "{out}"
        );
        // One line per item: a newline in the registry's text does not start a line of its own.
        assert!(!out.lines().any(|l| l.starts_with("next")), "{out}");
    }
}
