//! The organization's view: every registered project's latest lockfile evaluated as `check`
//! would (the core gate over a lockfile-only inventory) against the organization's default
//! policy, with evidence from this registry's own records only.
//!
//! Nothing here reaches the network: advisories and the crates.io index are not consulted (the
//! report says so in its notes), and records are the ones this registry verified when they were
//! published, authorized again against the policy's pinned keys. Results are computed lazily:
//! a [`Snapshot`] is valid for one pair of counters (records, projects and policy) and is built
//! again by the first read after either moves, on whichever instance reads.

mod evaluate;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use audit_trust_core::Inventory;
use audit_trust_core::gate::{Evidence, GateReport, ReasonCode, Status, Verdict};
use audit_trust_core::signoff::Criterion;
use audit_trust_core::time::Timestamp;
use serde::Serialize;

use crate::db::{Db, DbError};
pub use evaluate::{
    MAX_LOCKFILE_PACKAGES, MAX_POLICY_BYTES, parse_lockfile, parse_policy, read_policy_file,
};

/// What no evaluation here includes, shown on every page and in every JSON answer.
pub const NOT_CONSULTED: &str = "advisories (RustSec), risk signals of unaudited versions and the \
    crates.io index (yanked versions, checksums) are not part of this gate's view: run \
    `cargo audit-trust check` for them";

/// How a project stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProjectStatus {
    Passes,
    Blocked,
    /// No organization policy is set, so nothing could be decided.
    NoPolicy,
}

impl ProjectStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectStatus::Passes => "passes",
            ProjectStatus::Blocked => "blocked",
            ProjectStatus::NoPolicy => "no-policy",
        }
    }
}

/// Packages by the kind of evidence that admits them (or its absence).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct EvidenceMix {
    pub first_party: usize,
    /// Admitted by sign-offs, all kinds together: `reviewed + imported + source_matches`.
    pub signed: usize,
    /// Of `signed`: a signed record with a reviewing criterion (a person read it).
    pub reviewed: usize,
    /// Of `signed`: imported audit sets alone.
    pub imported: usize,
    /// Of `signed`: only `source-matches` (the published file is the repository's commit;
    /// nobody signed that they read it).
    pub source_matches: usize,
    pub exempted: usize,
    pub other_platform: usize,
    /// No evidence: unaudited or unassigned (the review backlog).
    pub none: usize,
    /// Flagged, yanked, advisory, source not allowed, checksum mismatch.
    pub findings: usize,
}

impl EvidenceMix {
    /// `inventory` is the one `report` was evaluated over, `evidence` what admitted its
    /// packages.
    pub fn of(report: &GateReport, inventory: &Inventory, evidence: &[Evidence]) -> EvidenceMix {
        let mut mix = EvidenceMix::default();
        for v in &report.packages {
            match v.status {
                Status::FirstParty => mix.first_party += 1,
                Status::Audited => {
                    mix.signed += 1;
                    match audited_by(v, inventory, evidence) {
                        AuditedBy::Imported => mix.imported += 1,
                        AuditedBy::Reviewed => mix.reviewed += 1,
                        AuditedBy::SourceMatches => mix.source_matches += 1,
                    }
                }
                Status::Exempted => mix.exempted += 1,
                Status::OtherPlatform => mix.other_platform += 1,
                Status::Unaudited | Status::Unassigned => mix.none += 1,
                _ => mix.findings += 1,
            }
        }
        mix
    }

    /// `(label, count)` in display order; the parts are disjoint.
    pub fn parts(&self) -> [(&'static str, usize); 8] {
        [
            ("reviewed", self.reviewed),
            ("imported", self.imported),
            ("source-matches", self.source_matches),
            ("exempted", self.exempted),
            ("first-party", self.first_party),
            ("other-platform", self.other_platform),
            ("none", self.none),
            ("findings", self.findings),
        ]
    }
}

enum AuditedBy {
    Reviewed,
    Imported,
    SourceMatches,
}

/// What admitted an audited package: the gate says when imported sets alone did; otherwise a
/// signed, non-flag record of this version with any criterion besides `source-matches` is a
/// review, and without one only `source-matches` remains.
fn audited_by(v: &Verdict, inventory: &Inventory, evidence: &[Evidence]) -> AuditedBy {
    let imported = v
        .reasons
        .iter()
        .any(|r| r.code == ReasonCode::Audited && r.details["evidence"] == "imported");
    if imported {
        return AuditedBy::Imported;
    }
    let Some(p) = inventory.packages.get(v.id) else {
        return AuditedBy::Reviewed;
    };
    let reviewed = evidence.iter().any(|e| {
        e.name == p.name
            && e.version == p.version
            && e.flag.is_none()
            && e.imported.is_none()
            && e.criteria.iter().any(|c| *c != Criterion::SourceMatches)
    });
    if reviewed {
        AuditedBy::Reviewed
    } else {
        AuditedBy::SourceMatches
    }
}

/// One package version, for what changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct NameVersions {
    pub name: String,
    pub versions: Vec<String>,
}

/// What changed between a project's previous lockfile and its latest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Changes {
    /// Sequence number of the previous lockfile; `None` for a project's first.
    pub since: Option<i64>,
    pub added: Vec<NameVersions>,
    pub removed: Vec<NameVersions>,
    /// `(name, versions before, versions after)`.
    pub updated: Vec<Updated>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Updated {
    pub name: String,
    pub from: Vec<String>,
    pub to: Vec<String>,
}

/// One project as evaluated.
#[derive(Debug, Clone)]
pub struct ProjectView {
    pub name: String,
    pub created: String,
    pub updated: String,
    pub uploaded_by: String,
    pub lockfile_seq: i64,
    pub sha256: String,
    pub status: ProjectStatus,
    /// `None` without a policy.
    pub report: Option<GateReport>,
    pub packages: usize,
    pub mix: EvidenceMix,
    pub changes: Changes,
    /// Every package name of the latest lockfile, lowercase (for search).
    pub names: BTreeSet<String>,
    /// Lines of code of the backlog's packages whose size the automatic auditor read.
    pub backlog_lines: u64,
    /// Backlog packages of unknown size (never downloaded by this registry).
    pub backlog_lines_unknown: usize,
}

impl ProjectView {
    /// Packages to review: no evidence at all.
    pub fn backlog(&self) -> usize {
        self.mix.none
    }
}

/// When the policy was set, and by whom.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyInfo {
    pub set_at: String,
    pub set_by: String,
    pub auditors: Vec<String>,
    /// Per auditor of the policy: its pinned keys and the crate patterns it covers.
    #[serde(skip)]
    pub pins: BTreeMap<String, AuditorPins>,
}

/// What the organization policy says of one auditor.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditorPins {
    /// `(key, last day it counts)`.
    pub keys: Vec<(String, Option<String>)>,
    pub covers: Vec<String>,
}

/// Everything the organization's pages show, for one pair of counters.
#[derive(Debug)]
pub struct Snapshot {
    /// (records generation, projects-and-policy generation) it was built from.
    pub key: (i64, i64),
    /// The lockfiles it parsed, by SHA-256 (the next snapshot reuses them).
    lockfiles: evaluate::ParsedLockfiles,
    /// The day it was evaluated on (exemptions and keys expire by date).
    pub day: audit_trust_core::time::Date,
    pub policy: Option<PolicyInfo>,
    pub projects: Vec<ProjectView>,
    /// Crate names of records and of every project's packages, lowercase, sorted.
    pub crate_names: Vec<String>,
    /// Sign-offs per week (by the date their auditor signed them), oldest first.
    pub signoff_weeks: Vec<WeekCount>,
}

/// How many of something happened in one week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WeekCount {
    /// Weeks since Monday 1969-12-29 (see [`crate::db::views::WEEK`]).
    pub week: i64,
    pub count: i64,
}

/// The week (since Monday 1969-12-29) of a Unix time.
pub fn week_of(unix_seconds: i64) -> i64 {
    (unix_seconds + crate::db::views::MONDAY_OFFSET).div_euclid(crate::db::views::WEEK)
}

/// The Monday a week starts on, `YYYY-MM-DD`.
pub fn week_start(week: i64) -> String {
    let monday = Timestamp(week * crate::db::views::WEEK - crate::db::views::MONDAY_OFFSET);
    monday.date().to_string()
}

impl Snapshot {
    pub fn project(&self, name: &str) -> Option<&ProjectView> {
        self.projects.iter().find(|p| p.name == name)
    }

    /// Every version of `crate_name` (lowercase) in a project's latest lockfile, with the
    /// projects that use it and how the gate judged it there.
    pub fn versions_of(
        &self,
        crate_name: &str,
    ) -> BTreeMap<semver::Version, Vec<(String, &'static str)>> {
        let mut out: BTreeMap<semver::Version, Vec<(String, &'static str)>> = BTreeMap::new();
        for p in &self.projects {
            if !p.names.contains(crate_name) {
                continue;
            }
            if let Some(report) = &p.report {
                for v in &report.packages {
                    if v.name.eq_ignore_ascii_case(crate_name) {
                        out.entry(v.version.clone())
                            .or_default()
                            .push((p.name.clone(), v.status.as_str()));
                    }
                }
            } else if let Some(lock) = self.lockfiles.get(&p.sha256) {
                for pkg in &lock.packages {
                    if pkg.name.eq_ignore_ascii_case(crate_name) {
                        out.entry(pkg.version.clone())
                            .or_default()
                            .push((p.name.clone(), ProjectStatus::NoPolicy.as_str()));
                    }
                }
            }
        }
        out
    }

    /// Projects whose latest lockfile has `crate_name` (lowercase).
    pub fn projects_using(&self, crate_name: &str) -> Vec<&str> {
        self.projects
            .iter()
            .filter(|p| p.names.contains(crate_name))
            .map(|p| p.name.as_str())
            .collect()
    }
}

/// The latest snapshot; the first read after a counter moved builds the next one while later
/// readers wait for it (one build at a time per instance).
#[derive(Debug, Default)]
pub struct OrgCache {
    current: tokio::sync::Mutex<Option<Arc<Snapshot>>>,
}

impl OrgCache {
    /// The snapshot for `key` (read by the caller before this call, so a change that lands
    /// during a build makes the next read build again).
    pub async fn get(
        &self,
        db: &Db,
        key: (i64, i64),
        now: Timestamp,
    ) -> Result<Arc<Snapshot>, DbError> {
        let mut current = self.current.lock().await;
        if let Some(snapshot) = current.as_ref()
            && snapshot.key.0 >= key.0
            && snapshot.key.1 >= key.1
            && snapshot.day == now.date()
        {
            return Ok(Arc::clone(snapshot));
        }
        let known = current
            .as_ref()
            .map(|s| s.lockfiles.clone())
            .unwrap_or_default();
        let built = Arc::new(evaluate::build(db, key, now, &known).await?);
        *current = Some(Arc::clone(&built));
        Ok(built)
    }
}

/// Name → versions of a lockfile's packages.
fn versions_by_name(lock: &audit_trust_core::lockfile::Lockfile) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, BTreeSet<semver::Version>> = BTreeMap::new();
    for p in &lock.packages {
        out.entry(p.name.to_ascii_lowercase())
            .or_default()
            .insert(p.version.clone());
    }
    out.into_iter()
        .map(|(n, v)| (n, v.iter().map(ToString::to_string).collect()))
        .collect()
}

/// What changed from `before` to `after`.
pub fn changes(
    before: &audit_trust_core::lockfile::Lockfile,
    after: &audit_trust_core::lockfile::Lockfile,
    since: i64,
) -> Changes {
    let (old, new) = (versions_by_name(before), versions_by_name(after));
    let mut out = Changes {
        since: Some(since),
        ..Changes::default()
    };
    for (name, versions) in &new {
        match old.get(name) {
            None => out.added.push(NameVersions {
                name: name.clone(),
                versions: versions.clone(),
            }),
            Some(was) if was != versions => out.updated.push(Updated {
                name: name.clone(),
                from: was.clone(),
                to: versions.clone(),
            }),
            Some(_) => {}
        }
    }
    for (name, versions) in &old {
        if !new.contains_key(name) {
            out.removed.push(NameVersions {
                name: name.clone(),
                versions: versions.clone(),
            });
        }
    }
    out
}
