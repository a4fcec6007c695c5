//! `query`: has anyone this project trusts signed off on (or flagged) a crate? Every record
//! shown was verified against the keys pinned in `Cargo.audit` and its auditor's head; records
//! that failed are listed apart with the reason. Text from records is escaped.

use std::process::ExitCode;

use audit_trust_core::audit_file::RecordLocation;
use audit_trust_core::http::HttpClient;
use audit_trust_core::names::{validate_crate_name, validate_version};
use audit_trust_core::signoff::{AcceptedRecord, ProjectRecords, RegistryClient};

use crate::cli::QueryArgs;
use crate::error::CliError;
use crate::output::query::{
    QueryRecord, QueryReport, RegistryRisk, RejectedRecord, RevokedRecord, UnreadSource, record_of,
};
use crate::project::{InventoryNeed, Project};
use crate::services::evidence::verified_records;
use crate::services::imports::imported_entries;
use crate::services::publish::check_registry_url;
use crate::settings::Settings;

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
            // Another registry than the pinned one: its log is not the pinned log.
            auditor.registry_log = None;
        }
    }
    if let Some(url) = &args.url {
        check_registry_url(url)?;
        for auditor in &mut project.audit_file.auditors {
            auditor.records = RecordLocation::Url(url.clone());
            auditor.registry_log = None;
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
    let records: Vec<QueryRecord> = all
        .accepted
        .iter()
        .filter(|a| is_about(a, &args.name, version.as_ref()))
        .map(|a| record_of(a, covers(&a.auditor)))
        .collect();
    // Versions in semver order (1.0.2 before 1.0.11), then oldest record first.
    let mut records = records;
    records.sort_by(|a, b| {
        let version = |r: &QueryRecord| semver::Version::parse(&r.version).ok();
        (version(a), &a.created).cmp(&(version(b), &b.created))
    });
    let revoked: Vec<RevokedRecord> = all
        .revoked
        .iter()
        .filter(|r| {
            r.record.record().statement.subject().is_some_and(|s| {
                s.name().eq_ignore_ascii_case(&args.name)
                    && version.as_ref().is_none_or(|v| s.version() == v)
            })
        })
        .map(|r| RevokedRecord {
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
    let unread: Vec<UnreadSource<'_>> = all
        .unread
        .iter()
        .map(|(auditor, location)| UnreadSource { auditor, location })
        .collect();
    let (imported, import_notes) = imported_entries(&project, &args.name, version.as_ref())?;
    let mut notes = all.notes.clone();
    notes.extend(import_notes);
    let registry_risk = reported_risk(&project, &args.name, version.as_ref(), &mut notes);
    let report = QueryReport {
        name: &args.name,
        version: args.crate_version.as_deref(),
        records,
        revoked,
        rejected,
        unread_sources: unread,
        imported,
        registry_risk,
        notes: &notes,
    };
    crate::output::query::write(settings, &report)?;
    // What was served is shown above, but an answer from an auditor whose log does not verify
    // may lack a flag: the query has not succeeded.
    all.require_verified_logs(covers)?;
    Ok(ExitCode::SUCCESS)
}

/// What the registries the auditors keep their records in report of the crate's versions
/// (their automatic auditor's verdicts and risk signals): the registries' word, unsigned. A
/// registry that cannot be asked is a note, not a failure: the records above do not depend on it.
fn reported_risk(
    project: &Project,
    name: &str,
    version: Option<&semver::Version>,
    notes: &mut Vec<String>,
) -> Vec<RegistryRisk> {
    let mut registries: Vec<&str> = project
        .audit_file
        .auditors
        .iter()
        .filter_map(|a| match &a.records {
            RecordLocation::Registry(url) => Some(url.as_str()),
            _ => None,
        })
        .collect();
    registries.sort_unstable();
    registries.dedup();
    let http = HttpClient::default();
    let mut out = Vec::new();
    for url in registries {
        let client = RegistryClient::new(url, &http);
        match client.verifications(name) {
            Ok(list) => out.extend(
                list.into_iter()
                    .filter(|v| version.is_none_or(|want| v.version == want.to_string()))
                    .map(|v| RegistryRisk {
                        registry: client.url().to_owned(),
                        risk: v.risk(),
                        version: v.version,
                        verdict: v.verdict,
                        signed: v.signed,
                        reason: v.reason,
                    }),
            ),
            Err(e) => notes.push(format!("the registry's verifications were not read: {e}")),
        }
    }
    out.sort_by(|a, b| {
        let version = |r: &RegistryRisk| semver::Version::parse(&r.version).ok();
        (version(a), &a.registry).cmp(&(version(b), &b.registry))
    });
    out
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
fn rejected_for(all: &ProjectRecords, name: &str) -> Vec<RejectedRecord> {
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
        .map(|r| RejectedRecord {
            auditor: r.auditor.clone(),
            location: r.location.to_string(),
            code: r.rejection.code(),
            message: r.rejection.to_string(),
        })
        .collect()
}
