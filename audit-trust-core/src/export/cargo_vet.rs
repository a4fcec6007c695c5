//! Verified sign-offs written as a cargo-vet `audits.toml`, so a cargo-vet user can import one of
//! our auditors. Only what the records say is written; nothing is inferred.
//!
//! How our records map onto cargo-vet's format:
//! - a full sign-off on a registry crate is an audit with `version`; a delta sign-off is an audit
//!   with `delta = "BASE -> VERSION"`;
//! - `criteria` is the record's criteria with everything they imply in `Cargo.audit`, written out,
//!   so the importer needs no knowledge of our `implies`;
//! - a flag is a `violation = "=VERSION"` of every criterion the file uses: a flagged version
//!   must pass none of them;
//! - each criterion is defined in `[criteria]` with its description, except cargo-vet's built-in
//!   `safe-to-run` and `safe-to-deploy`, which a project may also use as names of its own;
//! - the crate file's SHA-256, the record id and the signing key go in `notes`: cargo-vet audits
//!   name versions, ours name exact files, and the importer can check which file was read;
//! - git dependencies have no place in the format and are left out (counted in the result).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::audit_file::CustomCriterion;
use crate::gate::evidence::closure;
use crate::signoff::{AcceptedRecord, Criterion, Statement, Subject};

/// cargo-vet's own criteria, which an `audits.toml` must not define again.
const CARGO_VET_BUILT_INS: [&str; 2] = ["safe-to-run", "safe-to-deploy"];

/// The written file and what did not fit in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CargoVetExport {
    /// The `audits.toml` text.
    pub text: String,
    /// Audits written (sign-offs and flags).
    pub audits: usize,
    /// Sign-offs and flags on git dependencies, which the format cannot express.
    pub skipped_git: usize,
}

#[derive(Serialize)]
struct AuditsToml {
    criteria: BTreeMap<String, CriteriaEntry>,
    audits: BTreeMap<String, Vec<AuditEntry>>,
}

#[derive(Serialize)]
struct CriteriaEntry {
    description: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    implies: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct AuditEntry {
    who: String,
    criteria: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delta: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    violation: Option<String>,
    notes: String,
}

/// Writes `records` (already verified, revocations applied) as a cargo-vet `audits.toml`.
/// `custom` is `Cargo.audit`'s `[criteria]`: their descriptions and what they imply.
pub fn export_cargo_vet(
    records: &[&AcceptedRecord],
    custom: &BTreeMap<String, CustomCriterion>,
) -> Result<CargoVetExport, toml::ser::Error> {
    let used = used_criteria(records, custom);
    // A flagged version must pass none of them, cargo-vet's built-ins included.
    let every: Vec<String> = used
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let defined = defined_criteria(&used, custom);
    let mut audits: BTreeMap<String, Vec<(SortKey, AuditEntry)>> = BTreeMap::new();
    let mut skipped_git = 0;
    let mut count = 0;
    for accepted in records {
        let signed = &accepted.record;
        let record = signed.record();
        let Some(Subject::Crate {
            name,
            version,
            checksum,
        }) = record.statement.subject()
        else {
            if record.statement.subject().is_some() {
                skipped_git += 1;
            }
            continue;
        };
        let provenance = format!(
            "crate file sha256 {checksum}; cargo audit-trust record {} signed by {}",
            signed.id(),
            signed.key()
        );
        let entry = match &record.statement {
            Statement::SignOff {
                criteria,
                delta_from,
                notes,
                ..
            } => {
                let (version_field, delta) = match delta_from {
                    None => (Some(version.to_string()), None),
                    Some(base) => (None, Some(format!("{} -> {version}", base.version))),
                };
                AuditEntry {
                    who: accepted.auditor.clone(),
                    criteria: closure(criteria, custom)
                        .iter()
                        .map(|c| c.as_str().to_owned())
                        .collect(),
                    version: version_field,
                    delta,
                    violation: None,
                    notes: joined(notes.as_deref(), &provenance),
                }
            }
            Statement::Flag { reason, notes, .. } => AuditEntry {
                who: accepted.auditor.clone(),
                criteria: every.clone(),
                version: None,
                delta: None,
                violation: Some(format!("={version}")),
                notes: joined(
                    Some(&format!("flagged: {reason}")),
                    &joined(notes.as_deref(), &provenance),
                ),
            },
            Statement::Revocation { .. } => continue,
        };
        count += 1;
        audits
            .entry(name.clone())
            .or_default()
            .push(((version.clone(), accepted.auditor.clone()), entry));
    }
    let audits = audits
        .into_iter()
        .map(|(name, mut entries)| {
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            (name, entries.into_iter().map(|(_, e)| e).collect())
        })
        .collect();
    let file = AuditsToml {
        criteria: defined,
        audits,
    };
    let body = toml::to_string(&file)?;
    Ok(CargoVetExport {
        text: format!(
            "# cargo-vet audits file, written by `cargo audit-trust export --format cargo-vet`\n\
             # from sign-offs whose signatures and auditor heads were verified.\n\n{body}"
        ),
        audits: count,
        skipped_git,
    })
}

type SortKey = (semver::Version, String);

fn joined(first: Option<&str>, second: &str) -> String {
    match first {
        Some(text) if !text.is_empty() => format!("{text}\n\n{second}"),
        _ => second.to_owned(),
    }
}

/// Our two built-ins, every custom criterion of `Cargo.audit`, and any other name a record uses.
fn used_criteria(
    records: &[&AcceptedRecord],
    custom: &BTreeMap<String, CustomCriterion>,
) -> BTreeSet<Criterion> {
    let mut names: BTreeSet<Criterion> = [Criterion::Reviewed, Criterion::SourceMatches].into();
    names.extend(custom.keys().map(|k| Criterion::Custom(k.clone())));
    for accepted in records {
        if let Statement::SignOff { criteria, .. } = &accepted.record.record().statement {
            names.extend(closure(criteria, custom));
        }
    }
    names
}

/// The criteria the file defines: those used, minus cargo-vet's own.
fn defined_criteria(
    used: &BTreeSet<Criterion>,
    custom: &BTreeMap<String, CustomCriterion>,
) -> BTreeMap<String, CriteriaEntry> {
    used.iter()
        .filter(|c| !CARGO_VET_BUILT_INS.contains(&c.as_str()))
        .map(|c| {
            let (description, implies) = describe(c, custom);
            (
                c.as_str().to_owned(),
                CriteriaEntry {
                    description,
                    implies,
                },
            )
        })
        .collect()
}

fn describe(c: &Criterion, custom: &BTreeMap<String, CustomCriterion>) -> (String, Vec<String>) {
    match c {
        Criterion::Reviewed => (
            "A person read the code of this crate version.".into(),
            vec![],
        ),
        Criterion::SourceMatches => (
            "The published crate file equals its git repository at the recorded commit, apart \
             from files cargo generates when it packages (checked by cargo audit-trust's \
             provenance engine against a pinned or signed-off repository)."
                .into(),
            vec![],
        ),
        Criterion::Custom(name) => {
            let def = custom.get(name);
            let description = def
                .and_then(|d| d.description.clone())
                .unwrap_or_else(|| format!("`{name}`, a criterion of the exporting project."));
            let implies = def
                .map(|d| {
                    d.implies
                        .iter()
                        .map(|c| c.as_str().to_owned())
                        .filter(|c| !CARGO_VET_BUILT_INS.contains(&c.as_str()))
                        .collect()
                })
                .unwrap_or_default();
            (description, implies)
        }
    }
}
