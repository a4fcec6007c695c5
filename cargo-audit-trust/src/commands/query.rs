//! `query`: has anyone this project trusts signed off on (or flagged) a crate? Every record
//! shown was verified against the keys pinned in `Cargo.audit` and its auditor's head; records
//! that failed are listed apart with the reason. Text from records is escaped.

use std::fmt::Write as _;
use std::process::ExitCode;

use audit_trust_core::audit_file::RecordLocation;
use audit_trust_core::names::{validate_crate_name, validate_version};
use audit_trust_core::signoff::{AcceptedRecord, ProjectRecords, Statement, Subject};
use serde::Serialize;

use crate::cli::QueryArgs;
use crate::error::CliError;
use crate::output::escape;
use crate::output::{write_json, write_stdout};
use crate::project::{InventoryNeed, Project};
use crate::services::evidence::verified_records;
use crate::services::imports::{ImportedEntry, imported_entries};
use crate::services::publish::check_registry_url;
use crate::settings::{OutputFormat, Settings};

#[derive(Serialize)]
struct QueryJson<'a> {
    name: &'a str,
    version: Option<&'a str>,
    records: Vec<RecordJson>,
    /// Records their own auditor withdrew: history, and no longer counted.
    revoked: Vec<RevokedJson>,
    rejected: Vec<RejectedJson>,
    unread_sources: Vec<UnreadJson<'a>>,
    /// What the imported sets (`[[import]]`, pinned in Cargo.audit.lock) say: unsigned.
    imported: Vec<ImportedEntry>,
    notes: &'a [String],
}

#[derive(Serialize)]
struct RecordJson {
    auditor: String,
    /// Whether the auditor's `covers` patterns include this crate (only then does it count).
    covers: bool,
    kind: &'static str,
    name: String,
    version: String,
    checksum: Option<String>,
    commit: Option<String>,
    criteria: Vec<String>,
    delta_from: Option<String>,
    reason: Option<String>,
    notes: Option<String>,
    id: String,
    key: String,
    created: String,
    location: String,
}

#[derive(Serialize)]
struct RevokedJson {
    auditor: String,
    kind: &'static str,
    version: String,
    id: String,
    /// The revocation's id.
    by: String,
}

#[derive(Serialize)]
struct RejectedJson {
    auditor: Option<String>,
    location: String,
    code: &'static str,
    message: String,
}

#[derive(Serialize)]
struct UnreadJson<'a> {
    auditor: &'a str,
    location: &'a str,
}

pub fn run(settings: &Settings, args: &QueryArgs) -> Result<ExitCode, CliError> {
    validate_crate_name(&args.name).map_err(|e| CliError::Usage(e.to_string()))?;
    let version = match &args.crate_version {
        Some(v) => Some(validate_version(v).map_err(|e| CliError::Usage(e.to_string()))?),
        None => None,
    };
    let mut project = Project::open(settings, InventoryNeed::None)?;
    project.require_audit_file()?;
    if let Some(url) = &args.registry {
        check_registry_url(url)?;
        for auditor in &mut project.audit_file.auditors {
            auditor.records = RecordLocation::Registry(url.clone());
        }
    }
    if let Some(url) = &args.url {
        check_registry_url(url)?;
        for auditor in &mut project.audit_file.auditors {
            auditor.records = RecordLocation::Url(url.clone());
        }
    }
    let all = verified_records(&project, false)?;
    let covers = |auditor: &str| {
        project
            .audit_file
            .auditors
            .iter()
            .any(|a| a.name == auditor && a.covers(&args.name))
    };
    let records: Vec<RecordJson> = all
        .accepted
        .iter()
        .filter(|a| is_about(a, &args.name, version.as_ref()))
        .map(|a| record_json(a, covers(&a.auditor)))
        .collect();
    // Versions in semver order (1.0.2 before 1.0.11), then oldest record first.
    let mut records = records;
    records.sort_by(|a, b| {
        let version = |r: &RecordJson| semver::Version::parse(&r.version).ok();
        (version(a), &a.created).cmp(&(version(b), &b.created))
    });
    let revoked: Vec<RevokedJson> = all
        .revoked
        .iter()
        .filter(|r| {
            r.record.record().statement.subject().is_some_and(|s| {
                s.name().eq_ignore_ascii_case(&args.name)
                    && version.as_ref().is_none_or(|v| s.version() == v)
            })
        })
        .map(|r| RevokedJson {
            auditor: r.auditor.clone(),
            kind: r.record.record().statement.kind(),
            version: r
                .record
                .record()
                .statement
                .subject()
                .map(|s| s.version().to_string())
                .unwrap_or_default(),
            id: r.record.id().to_string(),
            by: r.by.to_string(),
        })
        .collect();
    let rejected = rejected_for(&all, &args.name);
    let unread: Vec<UnreadJson<'_>> = all
        .unread
        .iter()
        .map(|(auditor, location)| UnreadJson { auditor, location })
        .collect();
    let (imported, import_notes) = imported_entries(&project, &args.name, version.as_ref())?;
    let mut notes = all.notes.clone();
    notes.extend(import_notes);
    let out = QueryJson {
        name: &args.name,
        version: args.crate_version.as_deref(),
        records,
        revoked,
        rejected,
        unread_sources: unread,
        imported,
        notes: &notes,
    };
    match settings.format {
        OutputFormat::Json => write_json(&out)?,
        OutputFormat::Human => write_stdout(&render_human(&out))?,
    }
    // What was served is shown above, but an answer from an auditor whose log does not verify
    // may lack a flag: the query has not succeeded.
    all.require_verified_logs(covers)?;
    Ok(ExitCode::SUCCESS)
}

fn is_about(accepted: &AcceptedRecord, name: &str, version: Option<&semver::Version>) -> bool {
    accepted
        .record
        .record()
        .statement
        .subject()
        .is_some_and(|s| {
            s.name().eq_ignore_ascii_case(name) && version.is_none_or(|v| s.version() == v)
        })
}

/// Rejections in this crate's file, and the ones that concern a whole source (they may hide
/// this crate's records).
fn rejected_for(all: &ProjectRecords, name: &str) -> Vec<RejectedJson> {
    let file = format!("{}.jsonl", name.to_ascii_lowercase());
    all.rejected
        .iter()
        .filter(|r| {
            let path = &r.location.path;
            path.is_dir()
                || path
                    .file_name()
                    .is_some_and(|f| f.to_string_lossy() == file)
                || path.parent().is_some_and(|p| p.ends_with("heads"))
        })
        .map(|r| RejectedJson {
            auditor: r.auditor.clone(),
            location: r.location.to_string(),
            code: r.rejection.code(),
            message: r.rejection.to_string(),
        })
        .collect()
}

fn record_json(a: &AcceptedRecord, covers: bool) -> RecordJson {
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
    RecordJson {
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

fn render_human(q: &QueryJson<'_>) -> String {
    let mut out = String::new();
    let subject = match q.version {
        Some(v) => format!("{}@{v}", q.name),
        None => q.name.to_owned(),
    };
    let flags = q.records.iter().filter(|r| r.kind == "flag").count();
    let _ = writeln!(
        out,
        "{subject}: {}, {} from auditors you trust",
        crate::output::plural((q.records.len() - flags) as u64, "sign-off", "sign-offs"),
        crate::output::plural(flags as u64, "flag", "flags")
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
