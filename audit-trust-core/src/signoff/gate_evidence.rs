//! Verified records as the gate consumes them ([`crate::gate::Evidence`]): sign-offs and flags
//! that passed every check. Revocations have already withdrawn what they name and are not
//! evidence themselves.

use super::project_sources::ProjectRecords;
use super::record::{Statement, Subject};
use crate::gate::{Evidence, EvidenceSubject, RejectedEvidence};

/// The gate's view of a project's records, and notes on sources that were not read.
#[derive(Debug, Default)]
pub struct GateEvidence {
    pub accepted: Vec<Evidence>,
    pub rejected: Vec<RejectedEvidence>,
    pub notes: Vec<String>,
}

impl ProjectRecords {
    pub fn into_gate_evidence(self) -> GateEvidence {
        let mut out = GateEvidence::default();
        for a in self.accepted {
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
                Statement::Revocation { .. } => continue,
            };
            out.accepted.push(Evidence {
                auditor: a.auditor.clone(),
                name: subject.name().to_owned(),
                version: subject.version().clone(),
                subject: match subject {
                    Subject::Crate { checksum, .. } => EvidenceSubject::Crate {
                        checksum: checksum.clone(),
                    },
                    Subject::Git {
                        repository, commit, ..
                    } => EvidenceSubject::Git {
                        repository: repository.clone(),
                        commit: commit.clone(),
                    },
                },
                criteria,
                delta_from,
                flag,
                record_id: a.record.id().to_string(),
            });
        }
        for r in self.rejected {
            // A crate file is named after its crate, which says what the record was about.
            let path = &r.location.path;
            let name = path
                .parent()
                .filter(|p| p.ends_with(super::store::CRATES_DIR))
                .and_then(|_| path.file_stem())
                .map(|s| s.to_string_lossy().into_owned());
            out.rejected.push(RejectedEvidence {
                auditor: r.auditor.unwrap_or_else(|| "(no pinned key)".into()),
                name,
                version: None,
                reason: format!("{} ({}, {})", r.rejection, r.rejection.code(), r.location),
            });
        }
        out.notes.extend(self.notes);
        for (auditor, location) in self.unread {
            out.notes.push(format!(
                "auditor `{auditor}`: records at {location} are not read by this build; its \
                 sign-offs do not count"
            ));
        }
        out
    }
}
