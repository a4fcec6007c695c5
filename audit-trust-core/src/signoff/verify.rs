//! Whether a correctly signed record counts for a project: its key is pinned by the auditor in
//! `Cargo.audit`, still live, allowed to assert what it asserts, and the record is about the
//! exact package at hand.

use super::record::{Statement, Subject};
use super::rejection::Rejection;
use super::signed::SignedRecord;
use crate::audit_file::Auditor;
use crate::time::Timestamp;

/// Checks `record` against `auditor`'s pins at `now`.
pub fn authorize(
    record: &SignedRecord,
    auditor: &Auditor,
    now: Timestamp,
) -> Result<(), Rejection> {
    let key = *record.key();
    let pin = auditor.key(&key).ok_or_else(|| Rejection::KeyNotPinned {
        key,
        auditor: auditor.name.clone(),
    })?;
    if !pin.is_live(now) {
        return Err(Rejection::KeyExpired {
            key,
            // `is_live` is false only with a date.
            not_after: pin.not_after.unwrap_or(now.date()),
        });
    }
    if let Statement::SignOff { criteria, .. } = &record.record().statement
        && let Some(criterion) = criteria.iter().find(|c| !pin.may_assert(c))
    {
        return Err(Rejection::CriterionNotAllowed {
            key,
            criterion: criterion.clone(),
        });
    }
    Ok(())
}

/// Checks that a sign-off or flag is about `name@version` with this `.crate` checksum (the
/// index's, never only the lockfile's).
pub fn check_crate_subject(
    record: &SignedRecord,
    name: &str,
    version: &semver::Version,
    checksum: &str,
) -> Result<(), Rejection> {
    let other = || Rejection::OtherPackage {
        expected: format!("{name}@{version}"),
    };
    match record.record().statement.subject() {
        Some(Subject::Crate {
            name: n,
            version: v,
            checksum: c,
        }) => {
            if n != name || v != version {
                return Err(other());
            }
            if c != checksum {
                return Err(Rejection::ChecksumMismatch {
                    signed: c.clone(),
                    actual: checksum.to_owned(),
                });
            }
            Ok(())
        }
        _ => Err(other()),
    }
}
