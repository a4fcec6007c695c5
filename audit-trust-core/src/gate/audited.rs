//! "Is this published version audited?" for versions that are not (yet) in the lockfile: what
//! `update` may move to and what `suggest` measures a review from. The same rules as the gate:
//! covering auditors, required criteria, delta chains, flags winning, advisories.

use std::collections::BTreeSet;

use super::GateInput;
use super::evidence::{EvidenceSubject, closure, vouched_criteria};
use crate::fetch::index::IndexVersion;
use crate::signoff::Criterion;

/// Why a published version may not be moved to, or who vouches for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// Enough covering auditors vouch for the required criteria; their names.
    Audited(Vec<String>),
    /// A covering auditor flagged this exact file.
    Flagged(String),
    /// Not enough sign-offs.
    Unaudited,
}

/// Where `name@version` (the file with `checksum`) stands with the project's auditors.
/// `dev_only` picks the weaker dev criteria, as the gate does.
pub fn standing(
    input: &GateInput<'_>,
    name: &str,
    version: &semver::Version,
    checksum: &str,
    dev_only: bool,
) -> Standing {
    let policy = &input.audit_file.policy;
    let required: Vec<Criterion> = if dev_only {
        policy.dev_required_criteria()
    } else {
        policy.required_criteria()
    };
    let needed: BTreeSet<Criterion> = closure(&required, &input.audit_file.criteria);
    let covering: Vec<&str> = input
        .audit_file
        .auditors_covering(name)
        .map(|a| a.name.as_str())
        .collect();
    let about: Vec<_> = input
        .evidence
        .iter()
        .filter(|e| e.name == name)
        .filter(|e| matches!(e.subject, EvidenceSubject::Crate { .. }))
        .collect();
    let flag = about.iter().find(|e| {
        e.flag.is_some()
            && &e.version == version
            && covering.contains(&e.auditor.as_str())
            && matches!(&e.subject, EvidenceSubject::Crate { checksum: c } if c == checksum)
    });
    if let Some(flag) = flag {
        return Standing::Flagged(flag.auditor.clone());
    }
    let satisfied: Vec<String> = covering
        .iter()
        .filter(|auditor| {
            let vouched = vouched_criteria(
                &about,
                auditor,
                version,
                checksum,
                &input.audit_file.criteria,
            );
            needed.is_subset(&vouched)
        })
        .map(|a| (*a).to_owned())
        .collect();
    if satisfied.len() >= policy.sign_offs_required() as usize && !satisfied.is_empty() {
        Standing::Audited(satisfied)
    } else {
        Standing::Unaudited
    }
}

/// Whether a vulnerability advisory (or a denied informational one) covers `name@version` and
/// is not ignored today. `None` when advisories were not checked.
pub fn advisory_blocks(
    input: &GateInput<'_>,
    name: &str,
    version: &semver::Version,
) -> Option<bool> {
    let db = input.advisories?;
    let deny_informational =
        input.audit_file.policy.informational_action() == crate::audit_file::Action::Deny;
    Some(db.for_package(name, version).iter().any(|a| {
        let ignored = input
            .audit_file
            .ignored_advisories
            .iter()
            .any(|i| i.id == a.id && i.is_live(input.today));
        !ignored && (a.kind.is_vulnerability() || deny_informational)
    }))
}

/// The published versions that are audited and not flagged, oldest first (yanked ones left
/// out: cargo will not move to them).
pub fn audited_versions<'a>(
    input: &GateInput<'_>,
    name: &str,
    published: &'a [IndexVersion],
    dev_only: bool,
) -> Vec<(&'a IndexVersion, Vec<String>)> {
    let mut out: Vec<(&IndexVersion, Vec<String>)> = published
        .iter()
        .filter(|v| !v.yanked)
        .filter_map(
            |v| match standing(input, name, &v.version, &v.checksum, dev_only) {
                Standing::Audited(by) => Some((v, by)),
                _ => None,
            },
        )
        .collect();
    out.sort_by(|a, b| a.0.version.cmp(&b.0.version));
    out
}
