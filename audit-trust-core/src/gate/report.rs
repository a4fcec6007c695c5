//! The gate's report: one verdict per package with machine-readable reasons, and a summary.

use serde::Serialize;

use super::code::ReasonCode;
use super::next_step::NextStep;
use crate::inventory::PackageId;
use crate::time::Date;

/// Where a package stands. The first four are good; the others are findings, which block the
/// package (exit code 1) unless the policy turned them into warnings (see [`Verdict::blocked`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// A workspace member or path dependency: your own code.
    FirstParty,
    /// Enough valid sign-offs from covering, pinned auditors.
    Audited,
    /// Admitted by a live exemption.
    Exempted,
    /// Used only on platforms the policy does not target.
    OtherPlatform,
    /// No sign-off meets the required criteria.
    Unaudited,
    /// No auditor covers the package.
    Unassigned,
    /// The package's license is not accepted by `[licenses]`, unknown, or contradicted by its
    /// texts (see `docs/licenses.md`).
    License,
    /// Yanked from its registry.
    Yanked,
    /// A RustSec advisory covers this version.
    Advisory,
    /// A risk signal the policy denies (see `docs/risk.md`).
    Risk,
    /// An auditor flagged this version.
    Flagged,
    /// From a registry or git repository the policy does not allow.
    SourceNotAllowed,
    /// The lockfile's checksum is not the registry index's.
    ChecksumMismatch,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::FirstParty => "first-party",
            Status::Audited => "audited",
            Status::Exempted => "exempted",
            Status::OtherPlatform => "other-platform",
            Status::Unaudited => "unaudited",
            Status::Unassigned => "unassigned",
            Status::License => "license",
            Status::Yanked => "yanked",
            Status::Advisory => "advisory",
            Status::Risk => "risk",
            Status::Flagged => "flagged",
            Status::SourceNotAllowed => "source-not-allowed",
            Status::ChecksumMismatch => "checksum-mismatch",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Blocks the package.
    Deny,
    /// Reported; does not block.
    Warn,
    /// Explains a non-blocking status (which sign-offs, which exemption).
    Info,
}

/// One reason behind a verdict. `code` serializes as its stable name, listed in `docs/check.md`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    pub code: ReasonCode,
    pub severity: Severity,
    pub message: String,
    /// Code-specific fields (advisory id, auditor, checksums, …).
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The package in the inventory the report was computed from: later code gets the package
    /// back by this, never by matching its name and version text. Not part of the JSON.
    #[serde(skip)]
    pub id: PackageId,
    pub name: String,
    /// Kept as a version (serialized as its text) so later code compares versions, not text.
    pub version: semver::Version,
    pub source: &'static str,
    pub status: Status,
    /// Whether any reason denies the package.
    pub blocked: bool,
    pub reasons: Vec<Reason>,
    /// What moves this package forward, for blocked packages: a concrete version and the
    /// exact command (see [`super::next_step`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_step: Option<NextStep>,
    /// With a base lockfile (`check --base`): whether the change brought this package version
    /// in (added or moved to it), or it was already there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub introduced: Option<bool>,
}

/// What the advisory check was based on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdvisoryDbSummary {
    /// The folder, or the git URL the database was fetched from.
    pub path: String,
    /// The commit read, for a git copy.
    pub commit: Option<String>,
    pub date: Option<Date>,
    pub age_days: Option<i64>,
    pub advisories: usize,
    pub stale: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    pub packages: usize,
    pub blocked: usize,
    pub warnings: usize,
    /// Count per status, in status order.
    pub by_status: Vec<(Status, usize)>,
    /// Where the evidence comes from (see [`super::EvidenceMix`]).
    pub evidence: super::EvidenceMix,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateReport {
    pub date: Date,
    pub packages: Vec<Verdict>,
    pub summary: Summary,
    pub advisory_db: Option<AdvisoryDbSummary>,
    /// Things the run could not check or decided not to trust, in plain words.
    pub notes: Vec<String>,
    /// Exemptions and advisory ignores that expire soon (a warning; never blocks).
    pub expiring: Vec<super::expiry::ExpiryWarning>,
    /// With a base lockfile (`check --base`): what the change did and how findings split.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<super::change::ChangeReport>,
}

impl GateReport {
    pub fn is_clean(&self) -> bool {
        self.summary.blocked == 0
    }

    /// The verdict on the inventory's package `id`.
    pub fn verdict_of(&self, id: PackageId) -> Option<&Verdict> {
        self.packages.iter().find(|v| v.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::{Reason, Severity, Status, Verdict};
    use crate::gate::ReasonCode;

    #[test]
    fn a_verdict_serializes_its_version_and_codes_as_text() {
        let v = Verdict {
            id: 7,
            name: "alpha".into(),
            version: semver::Version::parse("1.2.3-rc.1+build.5").expect("version"),
            source: "registry",
            status: Status::Unaudited,
            blocked: true,
            reasons: vec![Reason {
                code: ReasonCode::Unaudited,
                severity: Severity::Deny,
                message: "no sign-off".into(),
                details: serde_json::Value::Null,
            }],
            next_step: None,
            introduced: None,
        };
        let json = serde_json::to_value(&v).expect("serializes");
        assert_eq!(json["version"], "1.2.3-rc.1+build.5");
        assert_eq!(json["reasons"][0]["code"], "unaudited");
        assert_eq!(json["status"], "unaudited");
        assert!(
            json.get("id").is_none(),
            "the inventory id is not part of the JSON"
        );
    }

    #[test]
    fn every_verdict_names_its_package_in_the_inventory() {
        use crate::gate::tests::{Extras, audit_file, inventory, run};
        let dir = tempfile::tempdir().expect("dir");
        // The same lockfile `run` evaluates: the same packages in the same order.
        let inventory = inventory(dir.path());
        let report = run(&audit_file(""), &[], Extras::default());
        assert_eq!(report.packages.len(), inventory.packages.len());
        for v in &report.packages {
            let p = &inventory.packages[v.id];
            assert_eq!((&p.name, &p.version), (&v.name, &v.version));
            assert_eq!(report.verdict_of(v.id), Some(v));
        }
        // alpha is locked twice: two ids, two lines of Cargo.lock.
        let alphas: Vec<usize> = report
            .packages
            .iter()
            .filter(|v| v.name == "alpha")
            .map(|v| inventory.lock_line(v.id))
            .collect();
        assert_eq!(alphas.len(), 2);
        assert_ne!(alphas[0], alphas[1]);
    }
}
