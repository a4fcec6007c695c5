//! `suggest`: what to review next. Every registry package that is admitted only by an
//! exemption, or not at all for want of a sign-off, is a review to do; the cheapest reviews come
//! first, measured in lines to read: the change from the nearest older audited version when
//! there is one (a delta sign-off), the crate's whole code otherwise.

use std::collections::HashMap;

use serde::Serialize;

use super::GateInput;
use super::audited::audited_versions;
use super::report::{GateReport, Status};
use crate::fetch::index::IndexVersion;
use crate::inventory::PackageId;
use crate::signoff::Criterion;

/// A package to review, and the audited version to review it from, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewTarget {
    pub id: PackageId,
    /// The newest audited version older than the package's: review only the change from it.
    pub base: Option<IndexVersion>,
}

/// The packages waiting for a review (status `unaudited` or `exempted`, and someone covers
/// them), each with its delta base.
pub fn review_targets(
    input: &GateInput<'_>,
    report: &GateReport,
    published: &HashMap<String, Vec<IndexVersion>>,
) -> Vec<ReviewTarget> {
    let mut out = Vec::new();
    for (id, p) in input.inventory.packages.iter().enumerate() {
        if !p.source.is_registry() || input.audit_file.auditors_covering(&p.name).next().is_none() {
            continue;
        }
        let waiting = report
            .verdict_of(id)
            .is_some_and(|v| matches!(v.status, Status::Unaudited | Status::Exempted));
        if !waiting {
            continue;
        }
        let base = published.get(&p.name).and_then(|versions| {
            audited_versions(input, &p.name, versions, p.dev_only == Some(true))
                .into_iter()
                .map(|(v, _)| v)
                .rfind(|v| v.version < p.version)
                .cloned()
        });
        out.push(ReviewTarget { id, base });
    }
    out
}

/// One suggested review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suggestion {
    pub name: String,
    pub version: String,
    pub status: Status,
    /// The audited version the review starts from (a delta review), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta_from: Option<String>,
    /// Lines to read: changed lines of the delta, or the crate's code lines. `None`: unknown
    /// (the crate file could not be read); such reviews come last.
    pub lines_to_read: Option<u64>,
    /// The command that starts the review.
    pub start: String,
    /// The command that records it once done.
    pub sign: String,
}

impl Suggestion {
    pub fn new(
        input: &GateInput<'_>,
        target: &ReviewTarget,
        status: Status,
        lines_to_read: Option<u64>,
    ) -> Option<Suggestion> {
        let p = input.inventory.packages.get(target.id)?;
        let required: Vec<Criterion> = if p.dev_only == Some(true) {
            input.audit_file.policy.dev_required_criteria()
        } else {
            input.audit_file.policy.required_criteria()
        };
        let criteria = required
            .iter()
            .map(Criterion::as_str)
            .collect::<Vec<_>>()
            .join(",");
        let (start, sign) = match &target.base {
            Some(base) => (
                format!(
                    "cargo audit-trust diff {} {} {}",
                    p.name, base.version, p.version
                ),
                format!(
                    "cargo audit-trust sign {} {} --criteria {criteria} --delta-from {}",
                    p.name, p.version, base.version
                ),
            ),
            None => (
                format!("cargo audit-trust diff {}@{}", p.name, p.version),
                format!(
                    "cargo audit-trust sign {} {} --criteria {criteria}",
                    p.name, p.version
                ),
            ),
        };
        Some(Suggestion {
            name: p.name.clone(),
            version: p.version.to_string(),
            status,
            delta_from: target.base.as_ref().map(|b| b.version.to_string()),
            lines_to_read,
            start,
            sign,
        })
    }
}

/// Fewest lines first; unknown sizes last; ties by name and version.
pub fn rank(mut suggestions: Vec<Suggestion>) -> Vec<Suggestion> {
    suggestions.sort_by(|a, b| {
        let key = |s: &Suggestion| (s.lines_to_read.is_none(), s.lines_to_read.unwrap_or(0));
        key(a)
            .cmp(&key(b))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.version.cmp(&b.version))
    });
    suggestions
}
