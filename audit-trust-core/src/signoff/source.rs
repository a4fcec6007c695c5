//! Verifying what one source (a local store today) serves for the auditors that read from it:
//! every record checked against its key, the key's head, the highest head seen, and the pins in
//! `Cargo.audit`. What fails is kept with its reason, so it can be reported, and never counts.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::head_cache::HeadCache;
use super::record::{RecordId, Statement};
use super::rejection::Rejection;
use super::store::{Location, StoreContents};
use super::verify::authorize;
use super::{PublicKey, SignedRecord};
use crate::Error;
use crate::audit_file::Auditor;
use crate::time::Timestamp;

/// A record that counts, and which auditor it counts for.
#[derive(Debug, Clone)]
pub struct AcceptedRecord {
    pub auditor: String,
    pub record: SignedRecord,
    pub location: Location,
}

/// Something a source served that does not count, and why.
#[derive(Debug, Clone)]
pub struct RejectedItem {
    pub auditor: Option<String>,
    pub location: Location,
    pub rejection: Rejection,
}

#[derive(Debug, Default)]
pub struct VerifiedSource {
    pub accepted: Vec<AcceptedRecord>,
    pub rejected: Vec<RejectedItem>,
}

/// Verifies `contents`, read from the source at `root` named `source_id` (`folder:/abs/path`),
/// for the `auditors` whose records live there, at `now`. Only a cache that cannot be used is an
/// error.
pub fn verify_source(
    contents: StoreContents,
    root: &std::path::Path,
    auditors: &[&Auditor],
    source_id: &str,
    cache: &HeadCache,
    now: Timestamp,
) -> Result<VerifiedSource, Error> {
    let mut out = VerifiedSource::default();
    for (location, rejection) in contents.problems {
        out.rejected.push(RejectedItem {
            auditor: None,
            location,
            rejection,
        });
    }
    let owner = |key: &PublicKey| auditors.iter().copied().find(|a| a.key(key).is_some());

    let mut by_key: BTreeMap<PublicKey, Vec<(SignedRecord, Location)>> = BTreeMap::new();
    for stored in contents.records {
        by_key
            .entry(*stored.record.key())
            .or_default()
            .push((stored.record, stored.location));
    }
    // Every pinned key is checked, also those with no record here: a source that drops a key's
    // records and head altogether is a rollback too.
    for auditor in auditors {
        for pin in &auditor.keys {
            by_key.entry(pin.key).or_default();
        }
    }
    for (key, records) in by_key {
        let Some(auditor) = owner(&key) else {
            let names: Vec<&str> = auditors.iter().map(|a| a.name.as_str()).collect();
            let rejection = Rejection::KeyNotPinned {
                key,
                auditor: names.join("`, `"),
            };
            reject_all(&mut out, None, records, &rejection);
            continue;
        };
        let ids: BTreeSet<RecordId> = records.iter().map(|(r, _)| r.id()).collect();
        let head_verdict = match contents.heads.get(&key) {
            None if records.is_empty() => cache.check_nothing_served(source_id, &key)?,
            None => Err(Rejection::NoHead { key }),
            Some(head) => match head
                .check_not_expired(now)
                .and_then(|()| head.check_records(&ids))
            {
                Err(rejection) => Err(rejection),
                Ok(()) => cache.check_and_remember(source_id, head, &ids)?,
            },
        };
        if let Err(rejection) = head_verdict {
            if records.is_empty() {
                out.rejected.push(RejectedItem {
                    auditor: Some(auditor.name.clone()),
                    location: Location {
                        path: root.to_owned(),
                        line: None,
                    },
                    rejection,
                });
                continue;
            }
            reject_all(&mut out, Some(&auditor.name), records, &rejection);
            continue;
        }
        for (record, location) in records {
            match authorize(&record, auditor, now) {
                Ok(()) => out.accepted.push(AcceptedRecord {
                    auditor: auditor.name.clone(),
                    record,
                    location,
                }),
                Err(rejection) => out.rejected.push(RejectedItem {
                    auditor: Some(auditor.name.clone()),
                    location,
                    rejection,
                }),
            }
        }
    }
    apply_revocations(&mut out);
    Ok(out)
}

/// An accepted revocation withdraws the record it names, if the same auditor made it.
/// Revocations themselves stay listed: they are part of the history.
fn apply_revocations(out: &mut VerifiedSource) {
    let revoked: HashMap<(String, RecordId), RecordId> = out
        .accepted
        .iter()
        .filter_map(|a| match &a.record.record().statement {
            Statement::Revocation { revokes, .. } => {
                Some(((a.auditor.clone(), *revokes), a.record.id()))
            }
            _ => None,
        })
        .collect();
    let mut kept = Vec::with_capacity(out.accepted.len());
    for accepted in std::mem::take(&mut out.accepted) {
        let is_revocation = matches!(
            accepted.record.record().statement,
            Statement::Revocation { .. }
        );
        match revoked.get(&(accepted.auditor.clone(), accepted.record.id())) {
            Some(by) if !is_revocation => out.rejected.push(RejectedItem {
                auditor: Some(accepted.auditor),
                location: accepted.location,
                rejection: Rejection::Revoked { by: *by },
            }),
            _ => kept.push(accepted),
        }
    }
    out.accepted = kept;
}

fn reject_all(
    out: &mut VerifiedSource,
    auditor: Option<&str>,
    records: Vec<(SignedRecord, Location)>,
    rejection: &Rejection,
) {
    for (_, location) in records {
        out.rejected.push(RejectedItem {
            auditor: auditor.map(str::to_owned),
            location,
            rejection: rejection.clone(),
        });
    }
}
