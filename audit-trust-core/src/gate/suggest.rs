//! `suggest`: what to review next. Every registry package whose next step is a review is one:
//! admitted only by an exemption, blocked for want of a sign-off, or under an advisory, flagged
//! or yanked with no audited fix (then the fix is the review). Those blocked by a finding come
//! first; then the cheapest, measured in lines to read: the change from the nearest older
//! audited version when there is one (a delta sign-off), the crate's whole code otherwise.

use serde::Serialize;

use super::GateInput;
use super::next_step::{NextStep, next_step};
use super::report::{GateReport, Status};
use crate::fetch::index::IndexVersion;
use crate::inventory::PackageId;

/// A package to review: its own version, or the fixed version it must move to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewTarget {
    pub id: PackageId,
    /// The package's status in the gate's report.
    pub status: Status,
    /// The review step ([`StepKind::Review`] or [`StepKind::ReviewFix`]), with its commands.
    pub step: NextStep,
    /// The version to review, as the index lists it, when it is not the locked one (a fix).
    pub fix: Option<IndexVersion>,
    /// The newest audited version older than the one to review: review only the change from it.
    pub base: Option<IndexVersion>,
}

impl ReviewTarget {
    /// Packages under an advisory, flagged or yanked come first: they block for a reason
    /// beyond a missing sign-off.
    pub fn urgent(&self) -> bool {
        matches!(
            self.status,
            Status::Advisory | Status::Flagged | Status::Yanked
        )
    }
}

/// The reviews to do, from each package's next step ([`next_step`], the one `check` prints):
/// packages admitted only by an exemption or blocked for want of a sign-off, and packages under
/// an advisory, flagged or yanked whose fix nobody audited yet. A fixed version two locked
/// versions share is listed once.
pub fn review_targets(input: &GateInput<'_>, report: &GateReport) -> Vec<ReviewTarget> {
    let mut out: Vec<ReviewTarget> = Vec::new();
    for (id, p) in input.inventory.packages.iter().enumerate() {
        if !p.source.is_registry() || input.audit_file.auditors_covering(&p.name).next().is_none() {
            continue;
        }
        let Some(verdict) = report.verdict_of(id) else {
            continue;
        };
        let step = match (&verdict.next_step, verdict.status) {
            (Some(step), _) => step.clone(),
            (None, Status::Exempted) => match next_step(input, id, Status::Exempted) {
                Some(step) => step,
                None => continue,
            },
            _ => continue,
        };
        let Some(version) = step.version.clone().filter(|_| step.is_review()) else {
            continue;
        };
        if out.iter().any(|t| {
            input
                .inventory
                .packages
                .get(t.id)
                .is_some_and(|q| q.name == p.name)
                && t.step.version.as_ref() == Some(&version)
        }) {
            continue;
        }
        let listed = input
            .index
            .map(|index| index.versions(p))
            .unwrap_or_default();
        let find = |v: &semver::Version| {
            listed
                .iter()
                .find(|l| l.version == *v)
                .map(|l| (*l).clone())
        };
        out.push(ReviewTarget {
            id,
            status: verdict.status,
            fix: (version != p.version).then(|| find(&version)).flatten(),
            base: step.delta_from.as_ref().and_then(find),
            step,
        });
    }
    out
}

/// One suggested review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suggestion {
    pub name: String,
    /// The version to review: the locked one, or the fixed version the locked one must move to.
    pub version: String,
    /// The locked package's status.
    pub status: Status,
    /// The locked version this review would fix (advisory, flag or yank), when it is not the
    /// version reviewed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixes: Option<String>,
    /// The reviewed version crosses a semver boundary: a requirement must change too.
    pub semver_crossing: bool,
    /// Blocked by an advisory, a flag or a yank: listed first.
    pub urgent: bool,
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
    /// For a fix: what the review leads to, in plain words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

impl Suggestion {
    pub fn new(
        input: &GateInput<'_>,
        target: &ReviewTarget,
        lines_to_read: Option<u64>,
    ) -> Option<Suggestion> {
        let p = input.inventory.packages.get(target.id)?;
        let step = &target.step;
        let version = step.version.as_ref()?;
        Some(Suggestion {
            name: p.name.clone(),
            version: version.to_string(),
            status: target.status,
            fixes: (*version != p.version).then(|| p.version.to_string()),
            semver_crossing: step.semver_crossing,
            urgent: target.urgent(),
            delta_from: step.delta_from.as_ref().map(ToString::to_string),
            lines_to_read,
            start: step.command.clone()?,
            sign: step.then.clone()?,
            why: (*version != p.version).then(|| step.text.clone()),
        })
    }
}

/// Urgent reviews (advisories, flags, yanks) first; then fewest lines first; unknown sizes
/// last; ties by name and version.
pub fn rank(mut suggestions: Vec<Suggestion>) -> Vec<Suggestion> {
    suggestions.sort_by(|a, b| {
        let key = |s: &Suggestion| {
            (
                !s.urgent,
                s.lines_to_read.is_none(),
                s.lines_to_read.unwrap_or(0),
            )
        };
        key(a)
            .cmp(&key(b))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.version.cmp(&b.version))
    });
    suggestions
}
