//! `[policy]`: what the gate requires, and what it does with the cases that are not a plain
//! yes or no.

use serde::Deserialize;

use super::CratePattern;
use crate::signoff::Criterion;

/// How a finding that is not always fatal is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Blocks the package (exit code 1).
    Deny,
    /// Reported, but does not block.
    Warn,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Policy {
    /// Packages with fewer lines of library code than this are "micro".
    pub micro_lines: Option<u64>,
    /// Criteria a package needs (default: `reviewed`).
    pub criteria: Option<Vec<Criterion>>,
    /// Criteria a package reached only through dev-dependencies needs (default:
    /// `source-matches`: code that runs tests, not code that ships).
    pub dev_criteria: Option<Vec<Criterion>>,
    /// The target platforms that matter (triples such as `x86_64-unknown-linux-gnu`); a package
    /// used only on other platforms does not block. Empty: every platform matters.
    #[serde(default)]
    pub targets: Vec<String>,
    /// Packages no auditor covers (default: deny).
    pub unassigned: Option<Action>,
    /// Yanked versions (default: deny).
    pub yanked: Option<Action>,
    /// Unmaintained, unsound and other informational advisories (default: warn).
    pub informational_advisories: Option<Action>,
    /// Independent sign-offs (from different auditors) a package needs (default 1).
    pub sign_offs_required: Option<u32>,
    /// How old cached sign-offs of a source that cannot be synced may be and still be used
    /// (default 0: never; the gate fails closed).
    pub cache_max_age_hours: Option<u64>,
    /// How long an index entry (yanked flags, checksums) is used before it is checked again
    /// (default 30 minutes).
    pub index_max_age_minutes: Option<u64>,
    /// How many days before an exemption or advisory ignore expires `check` starts warning
    /// (default 14; 0 turns the warning off).
    pub expiry_warning_days: Option<u32>,
    /// Packages that need signed evidence: imported audit sets never vouch for them (their
    /// violations still block).
    #[serde(default)]
    pub imports_not_allowed: Vec<CratePattern>,
    /// With `check --base`: what blocking findings of packages the change did not touch do
    /// (default deny; `warn` reports them without failing the pull request).
    pub preexisting: Option<Action>,
    /// How many `[[witness]]` keys must have cosigned a log-pinned registry's checkpoint
    /// (default 0).
    pub witnesses_required: Option<u32>,
    /// How old a witness's cosignature may be and still count (default 24 hours): witnesses
    /// cosign the newest checkpoint they saw, so only a recent cosignature says that nothing
    /// newer exists.
    pub cosignature_max_age_hours: Option<u64>,
}

impl Policy {
    pub fn required_criteria(&self) -> Vec<Criterion> {
        self.criteria
            .clone()
            .unwrap_or_else(|| vec![Criterion::Reviewed])
    }

    pub fn dev_required_criteria(&self) -> Vec<Criterion> {
        self.dev_criteria
            .clone()
            .unwrap_or_else(|| vec![Criterion::SourceMatches])
    }

    /// Cosignatures that count are at most this many seconds old.
    pub fn cosignature_max_age_secs(&self) -> u64 {
        self.cosignature_max_age_hours
            .unwrap_or(24)
            .saturating_mul(3600)
    }

    pub fn unassigned_action(&self) -> Action {
        self.unassigned.unwrap_or(Action::Deny)
    }

    pub fn yanked_action(&self) -> Action {
        self.yanked.unwrap_or(Action::Deny)
    }

    pub fn informational_action(&self) -> Action {
        self.informational_advisories.unwrap_or(Action::Warn)
    }

    pub fn sign_offs_required(&self) -> u32 {
        self.sign_offs_required.unwrap_or(1)
    }

    /// 0 unless the policy opts in: a source that does not answer, or answers an error, could
    /// be hiding a flag published since the last sync, so using an older copy is an explicit
    /// choice of the project's, never a default.
    pub fn cache_max_age_hours(&self) -> u64 {
        self.cache_max_age_hours.unwrap_or(0)
    }

    pub fn index_max_age_minutes(&self) -> u64 {
        self.index_max_age_minutes.unwrap_or(30)
    }

    pub fn preexisting_action(&self) -> Action {
        self.preexisting.unwrap_or(Action::Deny)
    }

    pub fn expiry_warning_days(&self) -> u32 {
        self.expiry_warning_days.unwrap_or(14)
    }

    /// Checks that span fields; `Err((key, message))` names the offending key.
    pub(super) fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.micro_lines == Some(0) {
            return Err((
                "micro-lines",
                "[policy] micro-lines must be at least 1".into(),
            ));
        }
        if self.sign_offs_required == Some(0) {
            return Err((
                "sign-offs-required",
                "[policy] sign-offs-required must be at least 1 (use exemptions to admit packages without one)".into(),
            ));
        }
        for (key, list) in [
            ("criteria", &self.criteria),
            ("dev-criteria", &self.dev_criteria),
        ] {
            if list.as_ref().is_some_and(Vec::is_empty) {
                return Err((
                    key,
                    format!(
                        "[policy] {key} is empty: name at least one criterion, such as `reviewed`"
                    ),
                ));
            }
        }
        for target in &self.targets {
            let ok = !target.is_empty()
                && target.len() <= 80
                && target
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !ok {
                return Err((
                    "targets",
                    format!(
                        "[policy] targets: `{}` is not a target triple",
                        target.escape_default()
                    ),
                ));
            }
        }
        Ok(())
    }
}
