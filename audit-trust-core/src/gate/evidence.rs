//! Verified statements as the gate consumes them, and the rules that turn them into "this
//! auditor vouches for this package with these criteria": criteria closure through `implies`,
//! and delta chains.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::audit_file::CustomCriterion;
use crate::signoff::Criterion;

/// What a statement is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum EvidenceSubject {
    /// A registry crate file, by its SHA-256.
    Crate { checksum: String },
    /// A git dependency, by repository and commit.
    Git { repository: String, commit: String },
}

/// A statement that passed verification (signature, pinned and live key, allowed criteria,
/// auditor head) and was not revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub auditor: String,
    pub name: String,
    pub version: semver::Version,
    pub subject: EvidenceSubject,
    pub criteria: Vec<Criterion>,
    /// A delta sign-off: the base version and its checksum.
    pub delta_from: Option<(semver::Version, String)>,
    /// A flag (negative sign-off) and its reason.
    pub flag: Option<String>,
    pub record_id: String,
    /// `Some(set)`: unsigned evidence from the imported audit set `set` (`auditor` is then the
    /// set's name too); `None`: a verified, signed record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imported: Option<String>,
}

/// A record that was ignored, and why; the report shows these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedEvidence {
    pub auditor: String,
    pub name: Option<String>,
    pub version: Option<String>,
    pub reason: String,
}

/// Every criterion `criteria` stands for, following `implies` of custom criteria.
pub fn closure(
    criteria: &[Criterion],
    custom: &BTreeMap<String, CustomCriterion>,
) -> BTreeSet<Criterion> {
    let mut out = BTreeSet::new();
    let mut stack: Vec<Criterion> = criteria.to_vec();
    while let Some(c) = stack.pop() {
        if !out.insert(c.clone()) {
            continue;
        }
        if let Criterion::Custom(name) = &c
            && let Some(def) = custom.get(name)
        {
            stack.extend(def.implies.iter().cloned());
        }
    }
    out
}

/// [`closure`] for imported (unsigned) evidence: criteria whose `[criteria.X]` says
/// `imports-allowed = false` are neither granted nor followed.
pub fn imported_closure(
    criteria: &[Criterion],
    custom: &BTreeMap<String, CustomCriterion>,
) -> BTreeSet<Criterion> {
    let allowed = |c: &Criterion| match c {
        Criterion::Custom(name) => custom.get(name).is_none_or(CustomCriterion::allows_imports),
        _ => true,
    };
    let mut out = BTreeSet::new();
    let mut stack: Vec<Criterion> = criteria.iter().filter(|c| allowed(c)).cloned().collect();
    while let Some(c) = stack.pop() {
        if !out.insert(c.clone()) {
            continue;
        }
        if let Criterion::Custom(name) = &c
            && let Some(def) = custom.get(name)
        {
            stack.extend(def.implies.iter().filter(|c| allowed(c)).cloned());
        }
    }
    out
}

/// The criteria `auditor` vouches for on the crate `name@version` with `checksum`: the union of
/// its full sign-offs, and of delta sign-offs whose chain reaches a full sign-off by the same
/// auditor (a delta carries the criteria both it and its base have). Deltas that go backwards
/// (base not older) are not followed.
pub fn vouched_criteria(
    evidence: &[&Evidence],
    auditor: &str,
    version: &semver::Version,
    checksum: &str,
    custom: &BTreeMap<String, CustomCriterion>,
) -> BTreeSet<Criterion> {
    let mine: Vec<&Evidence> = evidence
        .iter()
        .copied()
        .filter(|e| e.auditor == auditor && e.flag.is_none())
        .collect();
    vouched(&mine, version, checksum, custom, 0)
}

/// Longest delta chain followed; real chains are far shorter, this only bounds hostile input.
const MAX_CHAIN: usize = 64;

fn vouched(
    mine: &[&Evidence],
    version: &semver::Version,
    checksum: &str,
    custom: &BTreeMap<String, CustomCriterion>,
    depth: usize,
) -> BTreeSet<Criterion> {
    let mut out = BTreeSet::new();
    if depth > MAX_CHAIN {
        return out;
    }
    for e in mine {
        let same_file = &e.version == version
            && matches!(&e.subject, EvidenceSubject::Crate { checksum: c } if c == checksum);
        if !same_file {
            continue;
        }
        let own = if e.imported.is_some() {
            imported_closure(&e.criteria, custom)
        } else {
            closure(&e.criteria, custom)
        };
        match &e.delta_from {
            None => out.extend(own),
            Some((base_version, _)) if base_version >= version => {}
            Some((base_version, base_checksum)) => {
                let base = vouched(mine, base_version, base_checksum, custom, depth + 1);
                out.extend(own.intersection(&base).cloned());
            }
        }
    }
    out
}

/// The criteria an auditor vouches for on a git dependency at one commit (no deltas for git).
pub fn vouched_git_criteria(
    evidence: &[&Evidence],
    auditor: &str,
    commit: &str,
    custom: &BTreeMap<String, CustomCriterion>,
) -> BTreeSet<Criterion> {
    let mut out = BTreeSet::new();
    for e in evidence {
        if e.auditor == auditor
            && e.flag.is_none()
            && matches!(&e.subject, EvidenceSubject::Git { commit: c, .. } if c == commit)
        {
            out.extend(closure(&e.criteria, custom));
        }
    }
    out
}
