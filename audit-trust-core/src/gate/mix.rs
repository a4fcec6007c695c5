//! Where the evidence of a gate run comes from, package by package: signed sign-offs, imported
//! sets (by set), verified `source-matches` sign-offs, exemptions, or nothing. The day-one
//! picture `check` prints (`262 packages: 41 signed, 93 imported (mozilla 52, …), …`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::code::ReasonCode;
use super::evidence::{Evidence, EvidenceSubject};
use super::report::{Status, Verdict};
use crate::inventory::Package;
use crate::signoff::Criterion;

/// Counts over the third-party packages (first-party and other-platform ones need nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EvidenceMix {
    pub packages: usize,
    /// Audited with at least one signed sign-off.
    pub signed: usize,
    /// Audited by imported sets alone.
    pub imported: usize,
    /// `imported`, per set (a chain across sets is counted under its `a+b` name).
    pub by_set: BTreeMap<String, usize>,
    /// With a verified, signed `source-matches` sign-off on the exact crate file (these may
    /// also be counted above).
    pub source_matches: usize,
    pub exempted: usize,
    /// Neither audited nor exempted: the backlog.
    pub none: usize,
}

/// `verdicts[i]` is the verdict of `packages[i]`.
pub fn evidence_mix(
    packages: &[Package],
    verdicts: &[Verdict],
    evidence: &[Evidence],
) -> EvidenceMix {
    let mut mix = EvidenceMix::default();
    for (p, v) in packages.iter().zip(verdicts) {
        if matches!(v.status, Status::FirstParty | Status::OtherPlatform) {
            continue;
        }
        mix.packages += 1;
        if has_source_matches(p, evidence) {
            mix.source_matches += 1;
        }
        let audited = v.reasons.iter().find(|r| r.code == ReasonCode::Audited);
        let exempted = v.reasons.iter().any(|r| r.code == ReasonCode::Exempted);
        match audited {
            Some(r) if r.details["evidence"] == "imported" => {
                mix.imported += 1;
                for set in r.details["imports"].as_array().into_iter().flatten() {
                    if let Some(set) = set.as_str() {
                        *mix.by_set.entry(set.to_owned()).or_default() += 1;
                    }
                }
            }
            Some(_) => mix.signed += 1,
            None if exempted => mix.exempted += 1,
            None => mix.none += 1,
        }
    }
    mix
}

fn has_source_matches(p: &Package, evidence: &[Evidence]) -> bool {
    evidence.iter().any(|e| {
        e.name == p.name
            && e.version == p.version
            && e.flag.is_none()
            && e.imported.is_none()
            && e.delta_from.is_none()
            && e.criteria.contains(&Criterion::SourceMatches)
            && matches!(&e.subject, EvidenceSubject::Crate { checksum }
                if p.checksum.as_deref() == Some(checksum.as_str()))
    })
}

/// What is left to review, in packages and lines of code: every third-party package the gate
/// admits only by an exemption, or not at all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Backlog {
    pub packages: usize,
    /// Lines of code of those packages whose size is known.
    pub lines: u64,
    /// Of them, admitted by an exemption (debt with a date).
    pub exempted: usize,
    pub exempted_lines: u64,
    /// Of them, with no evidence at all.
    pub none: usize,
    pub none_lines: u64,
    /// Packages of the backlog whose size is unknown (not classified).
    pub size_unknown: usize,
}

/// The backlog of a gate run. `code_lines(name, version)` gives a package's size when known
/// (from the classification); first-party and other-platform packages need nothing.
pub fn backlog(
    verdicts: &[Verdict],
    code_lines: impl Fn(&str, &semver::Version) -> Option<u64>,
) -> Backlog {
    let mut b = Backlog::default();
    for v in verdicts {
        if matches!(v.status, Status::FirstParty | Status::OtherPlatform)
            || v.reasons.iter().any(|r| r.code == ReasonCode::Audited)
        {
            continue;
        }
        let lines = code_lines(&v.name, &v.version);
        let exempted = v.reasons.iter().any(|r| r.code == ReasonCode::Exempted);
        b.packages += 1;
        b.lines += lines.unwrap_or(0);
        if lines.is_none() {
            b.size_unknown += 1;
        }
        if exempted {
            b.exempted += 1;
            b.exempted_lines += lines.unwrap_or(0);
        } else {
            b.none += 1;
            b.none_lines += lines.unwrap_or(0);
        }
    }
    b
}
