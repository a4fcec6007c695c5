//! Verified sign-off records as gate evidence. Verification (signature, pinned and live key,
//! allowed criteria, heads, revocations) happened in `signoff::project_sources`; this only
//! changes the shape.

use super::evidence::{Evidence, EvidenceSubject, RejectedEvidence};
use crate::signoff::ProjectRecords;
use crate::signoff::{Statement, Subject};

/// Sign-offs and flags that count, and every rejected item, for the gate.
pub fn evidence_from_records(
    records: &ProjectRecords,
) -> (Vec<Evidence>, Vec<RejectedEvidence>, Vec<String>) {
    let mut accepted = Vec::new();
    for a in &records.accepted {
        let record = a.record.record();
        let (subject, criteria, delta_from, flag) = match &record.statement {
            Statement::SignOff {
                subject,
                criteria,
                delta_from,
                ..
            } => (
                subject,
                criteria.clone(),
                delta_from
                    .as_ref()
                    .map(|d| (d.version.clone(), d.checksum.clone())),
                None,
            ),
            Statement::Flag {
                subject, reason, ..
            } => (subject, Vec::new(), None, Some(reason.clone())),
            // Revocations were applied during verification.
            Statement::Revocation { .. } => continue,
        };
        let evidence_subject = match subject {
            Subject::Crate { checksum, .. } => EvidenceSubject::Crate {
                checksum: checksum.clone(),
            },
            Subject::Git {
                repository, commit, ..
            } => EvidenceSubject::Git {
                repository: repository.clone(),
                commit: commit.clone(),
            },
        };
        accepted.push(Evidence {
            auditor: a.auditor.clone(),
            name: subject.name().to_owned(),
            version: subject.version().clone(),
            subject: evidence_subject,
            criteria,
            delta_from,
            flag,
            record_id: a.record.id().to_string(),
            imported: None,
        });
    }
    let rejected = records
        .rejected
        .iter()
        .map(|r| {
            let flag = records
                .possible_flags
                .iter()
                .find(|f| f.location == r.location);
            let why = format!("{} ({}, {})", r.rejection, r.rejection.code(), r.location);
            RejectedEvidence {
                auditor: r.auditor.clone().unwrap_or_else(|| "(unknown key)".into()),
                // A crate file is named after its crate, which says what the record was about.
                name: flag
                    .map(|f| f.name.clone())
                    .or_else(|| crate_of_location(&r.location.path)),
                version: flag.map(|f| f.version.clone()),
                // Nothing of a line that does not verify is trusted, but a flag is the one
                // statement whose loss is dangerous: say so.
                reason: match flag {
                    Some(_) => format!(
                        "POSSIBLE WITHHELD FLAG: a flag record that does not verify: {why}; \
                         ask the auditor whether they flagged this version"
                    ),
                    None => why,
                },
            }
        })
        .collect();
    let mut notes = records.notes.clone();
    notes.extend(records.unread.iter().map(|(auditor, location)| {
        format!(
            "the records of auditor `{auditor}` at {location} were not read: this command reads \
             local folders only"
        )
    }));
    (accepted, rejected, notes)
}

/// `serde` for `…/crates/serde.jsonl`.
fn crate_of_location(path: &std::path::Path) -> Option<String> {
    let in_crates = path.parent().is_some_and(|p| p.ends_with("crates"));
    let stem = path.file_stem()?.to_string_lossy();
    (in_crates && path.extension().is_some_and(|e| e == "jsonl")).then(|| stem.into_owned())
}
