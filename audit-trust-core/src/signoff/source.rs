//! Verifying what one source (a local store today) serves for the auditors that read from it:
//! every record checked against its key, the key's head, the highest head seen, and the pins in
//! `Cargo.audit`. What fails is kept with its reason, so it can be reported, and never counts.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::head_cache::HeadCache;
use super::record::{RecordId, Statement};
use super::rejection::Rejection;
use super::store::{HEADS_DIR, Location, PossibleFlag, StoreContents};
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

/// A pinned key whose log, as this source serves it, cannot be verified as a whole: its head is
/// missing, unreadable, expired, older than one seen, forked, or does not match the records
/// served. None of the key's records count, and what was withheld may include a flag, so this is
/// not a note: callers refuse to decide anything the auditor covers (see
/// [`ProjectRecords::require_verified_logs`](super::ProjectRecords::require_verified_logs)).
#[derive(Debug, Clone)]
pub struct UnverifiedLog {
    pub auditor: String,
    pub key: PublicKey,
    /// The source as the head cache names it (`folder:/abs/path`, `registry:URL`, `url:URL`).
    pub source: String,
    pub rejection: Rejection,
}

/// A record its own auditor withdrew with a valid revocation: history, not a failure, so it is
/// kept apart from what did not verify.
#[derive(Debug, Clone)]
pub struct RevokedRecord {
    pub auditor: String,
    pub record: SignedRecord,
    pub location: Location,
    /// The revocation's id.
    pub by: RecordId,
}

#[derive(Debug, Default)]
pub struct VerifiedSource {
    pub accepted: Vec<AcceptedRecord>,
    pub rejected: Vec<RejectedItem>,
    pub unverified: Vec<UnverifiedLog>,
    /// Records withdrawn by their auditor.
    pub revoked: Vec<RevokedRecord>,
    /// Rejected lines that say they are flags (see [`PossibleFlag`]).
    pub possible_flags: Vec<PossibleFlag>,
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
    let mut out = VerifiedSource {
        possible_flags: contents.possible_flags,
        ..VerifiedSource::default()
    };
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
        let head_file = root.join(HEADS_DIR).join(format!("{}.json", key.hex()));
        let unreadable_head = problems_at(&out.rejected, &head_file);
        let head_verdict = match (contents.heads.get(&key), unreadable_head) {
            // A head file that is there but does not verify is never "nothing served": it hides
            // whatever the key's real head covered.
            (None, Some(rejection)) => Err(Rejection::UnreadableHead {
                key,
                why: rejection.to_string(),
            }),
            (None, None) if records.is_empty() => cache.check_nothing_served(source_id, &key)?,
            (None, None) => Err(Rejection::NoHead { key }),
            (Some(head), _) => check_head(head, &ids, source_id, cache, now)?,
        };
        if let Err(rejection) = head_verdict {
            out.unverified.push(UnverifiedLog {
                auditor: auditor.name.clone(),
                key,
                source: source_id.to_owned(),
                rejection: rejection.clone(),
            });
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
            admit(&mut out, auditor, record, location, now);
        }
    }
    apply_revocations(&mut out);
    Ok(out)
}

/// The served head of a key against what was seen before and the records served. A head older
/// than the highest seen is a rollback whatever else is wrong with it, so that is checked first:
/// a rolled-back source usually also serves records the old head does not cover.
fn check_head(
    head: &super::SignedHead,
    ids: &BTreeSet<RecordId>,
    source_id: &str,
    cache: &HeadCache,
    now: Timestamp,
) -> Result<Result<(), Rejection>, Error> {
    if let Err(rollback) = cache.check_not_older(source_id, head)? {
        return Ok(Err(rollback));
    }
    if let Err(rejection) = head
        .check_not_expired(now)
        .and_then(|()| head.check_records(ids))
    {
        return Ok(Err(rejection));
    }
    cache.check_and_remember(source_id, head, ids)
}

/// The problem the store reported for the file at `path`, if any.
fn problems_at(rejected: &[RejectedItem], path: &std::path::Path) -> Option<Rejection> {
    rejected
        .iter()
        .find(|r| r.location.path == path)
        .map(|r| r.rejection.clone())
}

/// An accepted revocation withdraws the record it names, if the same key signed both. Not
/// merely the same auditor: a second key of an auditor (a CI or bot key, perhaps limited to
/// `source-matches`) must not be able to withdraw the flag a person signed with another key; the
/// registry refuses such revocations too. Revocations themselves stay accepted: they are part
/// of the history.
/// Files `record` as accepted for `auditor` when the auditor's pin authorizes it (key dates,
/// criteria, coverage), else as rejected with why.
pub(super) fn admit(
    out: &mut VerifiedSource,
    auditor: &Auditor,
    record: SignedRecord,
    location: Location,
    now: Timestamp,
) {
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

pub(super) fn apply_revocations(out: &mut VerifiedSource) {
    let revoked: HashMap<(PublicKey, RecordId), RecordId> = out
        .accepted
        .iter()
        .filter_map(|a| match &a.record.record().statement {
            Statement::Revocation { revokes, .. } => {
                Some(((*a.record.key(), *revokes), a.record.id()))
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
        match revoked.get(&(*accepted.record.key(), accepted.record.id())) {
            Some(by) if !is_revocation => out.revoked.push(RevokedRecord {
                auditor: accepted.auditor,
                record: accepted.record,
                location: accepted.location,
                by: *by,
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
