//! The next step of a package that is blocked or waits for a review: one function for `check`,
//! `update`, `suggest` and `review`, so they never disagree. The step is a value naming a
//! concrete version and the exact command, not a sentence to parse.
//!
//! For a package that must move (an advisory, a flag, a yank) the candidates are the versions
//! the registry's index lists: newer than the locked one, not yanked, not flagged, and outside
//! every advisory that blocks (a version is fixed only when no advisory covers it). The oldest
//! audited candidate wins; else the oldest candidate is the one to review.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::GateInput;
use super::audited::{Standing, advisory_blocks, standing};
use super::report::Status;
use super::update_plan::semver_compatible;
use crate::fetch::index::IndexVersion;
use crate::inventory::{Declaration, Package, PackageId, SourceKind};
use crate::signoff::Criterion;

/// What to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepKind {
    /// `cargo audit-trust update` moves the package to `version`, which is audited.
    Update,
    /// `version` is audited but outside the requirement: change it in `declared_in`.
    ChangeRequirement,
    /// No fixed version is audited: review `version` (the oldest fixed one) first.
    ReviewFix,
    /// Review the package's own version.
    Review,
    /// No version escapes the finding: replace the dependency or waive it.
    NoFix,
    /// The lockfile's checksum is not the registry's.
    RestoreLockfile,
    /// The source is not allowed.
    AllowSource,
    /// No auditor at all: the project has not adopted the tool yet.
    Init,
    /// No auditor covers the package.
    AddAuditor,
    /// The license is not accepted: change `[licenses]`, add an exception, or replace it.
    License,
}

/// The next step of one package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NextStep {
    pub kind: StepKind,
    /// The version the step is about: the one to move to or to review.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<semver::Version>,
    /// Who signed off `version`; empty when nobody did.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub audited_by: Vec<String>,
    /// `version` is outside cargo's default requirement on the locked version, so a
    /// `Cargo.toml` requirement must change (`update` never crosses it).
    pub semver_crossing: bool,
    /// The audited version a review can start from (a delta review).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta_from: Option<semver::Version>,
    /// Where the requirement to change is, for a semver-crossing version.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub declared_in: Vec<Declaration>,
    /// What brings the package in when no workspace member declares it (`name@version`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub via: Vec<String>,
    /// The exact command to run first, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// For a review: the command that records it once done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub then: Option<String>,
    /// The step in plain words, commands included.
    pub text: String,
}

impl NextStep {
    fn plain(kind: StepKind, text: String) -> NextStep {
        NextStep {
            kind,
            version: None,
            audited_by: Vec::new(),
            semver_crossing: false,
            delta_from: None,
            declared_in: Vec::new(),
            via: Vec::new(),
            command: None,
            then: None,
            text,
        }
    }

    /// Whether the step is a review to do (what `suggest` lists).
    pub fn is_review(&self) -> bool {
        matches!(self.kind, StepKind::Review | StepKind::ReviewFix)
    }
}

/// The next step for package `id` of the inventory, whose worst finding is `status` (or
/// `Exempted` for a package admitted only by an exemption). `None` for a package with nothing
/// to do.
pub fn next_step(input: &GateInput<'_>, id: PackageId, status: Status) -> Option<NextStep> {
    let p = input.inventory.packages.get(id)?;
    let spec = p.spec();
    Some(match status {
        Status::ChecksumMismatch => NextStep::plain(
            StepKind::RestoreLockfile,
            format!("restore Cargo.lock from your main branch or run `cargo update -p {spec}`: its checksum is not the registry's"),
        ),
        Status::SourceNotAllowed => NextStep::plain(
            StepKind::AllowSource,
            "add its source to `[allowed-sources]` in Cargo.audit, or replace the dependency".into(),
        ),
        Status::Advisory | Status::Flagged | Status::Yanked => move_off(input, id, p, status),
        // With no auditor at all the project has not adopted the tool yet: one command does it.
        Status::Unassigned if input.audit_file.auditors.is_empty() => NextStep {
            command: Some("cargo audit-trust init".into()),
            ..NextStep::plain(
                StepKind::Init,
                "no auditor yet: `cargo audit-trust init` writes a Cargo.audit that pins your key and admits today's packages for a while".into(),
            )
        },
        Status::Unassigned => NextStep::plain(
            StepKind::AddAuditor,
            format!("add an `[[auditor]]` whose `covers` matches `{}`", p.name),
        ),
        Status::Unaudited | Status::Exempted => unaudited(input, p, status),
        // A denied risk signal: read this version before anything else (docs/risk.md).
        Status::Risk => {
            let versions = published(input, p);
            let base = delta_base(input, p, &versions, &p.version);
            review(input, p, StepKind::Review, &p.version, base)
        }
        Status::License => NextStep::plain(
            StepKind::License,
            format!("allow its license in `[licenses]`, add a `[[licenses.exception]]` for `{spec}` with a reason, or replace the dependency"),
        ),
        Status::FirstParty | Status::Audited | Status::OtherPlatform => return None,
    })
}

/// The versions of `p` the index lists, oldest first (none for other sources or when the index
/// was not read).
fn published<'a>(input: &GateInput<'a>, p: &Package) -> Vec<&'a IndexVersion> {
    match (&p.source, input.index) {
        (SourceKind::Registry { .. }, Some(index)) => index.versions(p),
        _ => Vec::new(),
    }
}

fn dev(p: &Package) -> bool {
    p.dev_only == Some(true)
}

/// Who signed off a published version, `None` when not enough auditors did (or one flagged it).
fn audited_by(input: &GateInput<'_>, p: &Package, v: &IndexVersion) -> Option<Vec<String>> {
    match standing(input, &p.name, &v.version, &v.checksum, dev(p)) {
        Standing::Audited(by) => Some(by),
        _ => None,
    }
}

/// A version the package may move to: not yanked, not flagged, and no blocking advisory.
fn clean(input: &GateInput<'_>, p: &Package, v: &IndexVersion) -> bool {
    !v.yanked
        && (v.version.pre.is_empty() || !p.version.pre.is_empty())
        && advisory_blocks(input, &p.name, &v.version) != Some(true)
        && !matches!(
            standing(input, &p.name, &v.version, &v.checksum, dev(p)),
            Standing::Flagged(_)
        )
}

/// The newest audited version older than `version`: the base of a delta review.
fn delta_base(
    input: &GateInput<'_>,
    p: &Package,
    versions: &[&IndexVersion],
    version: &semver::Version,
) -> Option<semver::Version> {
    versions
        .iter()
        .rev()
        .filter(|v| !v.yanked && v.version < *version)
        .find(|v| audited_by(input, p, v).is_some())
        .map(|v| v.version.clone())
}

fn criteria(input: &GateInput<'_>, p: &Package) -> String {
    let policy = &input.audit_file.policy;
    let required = if dev(p) {
        policy.dev_required_criteria()
    } else {
        policy.required_criteria()
    };
    required
        .iter()
        .map(Criterion::as_str)
        .collect::<Vec<_>>()
        .join(",")
}

/// A review of `name@version`, from `base` when there is one.
fn review(
    input: &GateInput<'_>,
    p: &Package,
    kind: StepKind,
    version: &semver::Version,
    base: Option<semver::Version>,
) -> NextStep {
    let criteria = criteria(input, p);
    let (command, then) = match &base {
        Some(base) => (
            format!("cargo audit-trust diff {} {base} {version}", p.name),
            format!(
                "cargo audit-trust sign {} {version} --criteria {criteria} --delta-from {base}",
                p.name
            ),
        ),
        None => (
            format!("cargo audit-trust diff {}@{version}", p.name),
            format!(
                "cargo audit-trust sign {} {version} --criteria {criteria}",
                p.name
            ),
        ),
    };
    let text = format!("read it (`{command}`, or `cargo audit-trust review`), then `{then}`");
    NextStep {
        version: Some(version.clone()),
        delta_from: base,
        command: Some(command),
        then: Some(then),
        ..NextStep::plain(kind, text)
    }
}

/// The newest audited, semver-compatible version free of findings other than the locked one
/// (older or newer): where `update` takes a blocked, unaudited package.
pub(super) fn newest_audited_compatible<'a>(
    input: &GateInput<'a>,
    p: &Package,
) -> Option<(&'a IndexVersion, Vec<String>)> {
    // Sign-offs first: most versions have none, and that is cheaper to see than advisories.
    published(input, p)
        .into_iter()
        .rev()
        .filter(|v| v.version != p.version && semver_compatible(&p.version, &v.version))
        .filter_map(|v| audited_by(input, p, v).map(|by| (v, by)))
        .find(|(v, _)| clean(input, p, v))
}

/// Unaudited (or only exempted): move to a newer audited compatible version when one exists,
/// else review this one (from the newest audited older version, when there is one).
fn unaudited(input: &GateInput<'_>, p: &Package, status: Status) -> NextStep {
    let versions = published(input, p);
    let fallback = match status {
        Status::Unaudited => newest_audited_compatible(input, p),
        _ => None,
    };
    if let Some((v, by)) = &fallback
        && v.version > p.version
    {
        return update(p, v, by.clone());
    }
    let base = delta_base(input, p, &versions, &p.version);
    let mut step = review(input, p, StepKind::Review, &p.version, base);
    if let Some((v, _)) = fallback {
        // Only an older version is audited: reviewing this one is the way forward, and
        // `update` goes back meanwhile.
        step.text = format!(
            "{}; or `cargo audit-trust update -p {}` goes back to audited {}",
            step.text, p.name, v.version
        );
    }
    step
}

fn update(p: &Package, v: &IndexVersion, by: Vec<String>) -> NextStep {
    let command = format!("cargo audit-trust update -p {}", p.name);
    let text = format!(
        "`{command}` moves it to {} (signed off by {})",
        v.version,
        by.join(", ")
    );
    NextStep {
        version: Some(v.version.clone()),
        audited_by: by,
        command: Some(command),
        ..NextStep::plain(StepKind::Update, text)
    }
}

/// Under an advisory, flagged or yanked: the package must move to a clean version.
fn move_off(input: &GateInput<'_>, id: PackageId, p: &Package, status: Status) -> NextStep {
    let versions = published(input, p);
    let candidates: Vec<&IndexVersion> = versions
        .iter()
        .copied()
        .filter(|v| v.version > p.version && clean(input, p, v))
        .collect();
    let what = match status {
        Status::Advisory => "fixed",
        Status::Flagged => "unflagged",
        _ => "unyanked",
    };
    if let Some((v, by)) = candidates
        .iter()
        .find_map(|v| audited_by(input, p, v).map(|by| (*v, by)))
    {
        if semver_compatible(&p.version, &v.version) {
            let mut step = update(p, v, by);
            step.text = format!(
                "`cargo audit-trust update -p {}` moves it to {}, the oldest audited {what} version (signed off by {})",
                p.name,
                v.version,
                step.audited_by.join(", ")
            );
            return step;
        }
        return change_requirement(input, id, p, v, by, what);
    }
    let Some(first) = candidates.first() else {
        return no_fix(input, p, status, versions.is_empty());
    };
    let base = delta_base(input, p, &versions, &first.version);
    let mut step = review(input, p, StepKind::ReviewFix, &first.version, base);
    step.semver_crossing = !semver_compatible(&p.version, &first.version);
    let crossing = if step.semver_crossing {
        let (declared_in, via, change) = requirement_change(input, id, p, &first.version);
        step.declared_in = declared_in;
        step.via = via;
        format!(
            "; it is not semver-compatible with {}, so {change}",
            p.version
        )
    } else {
        String::new()
    };
    step.text = format!(
        "no audited {what} version yet: review {} {}, the oldest {what} one (`{}`, or `cargo audit-trust review`), then `{}`{crossing}",
        p.name,
        first.version,
        step.command.as_deref().unwrap_or_default(),
        step.then.as_deref().unwrap_or_default()
    );
    step
}

fn change_requirement(
    input: &GateInput<'_>,
    id: PackageId,
    p: &Package,
    v: &IndexVersion,
    by: Vec<String>,
    what: &str,
) -> NextStep {
    let (declared_in, via, change) = requirement_change(input, id, p, &v.version);
    let command = match declared_in.as_slice() {
        [d] if !d.renamed_or_targeted && !d.inherited => {
            let flag = match d.section {
                crate::inventory::DependencySection::Dependencies => "",
                crate::inventory::DependencySection::DevDependencies => " --dev",
                crate::inventory::DependencySection::BuildDependencies => " --build",
            };
            Some(format!(
                "cargo add {}@{}{flag} --manifest-path {}",
                p.name,
                v.version,
                relative(&input.inventory.root, &d.manifest).display()
            ))
        }
        _ => None,
    };
    let text = format!(
        "the oldest audited {what} version, {} (signed off by {}), is not semver-compatible with {}, \
         which `update` never crosses: {change}",
        v.version,
        by.join(", "),
        p.version
    );
    NextStep {
        version: Some(v.version.clone()),
        audited_by: by,
        semver_crossing: true,
        declared_in,
        via,
        command,
        ..NextStep::plain(StepKind::ChangeRequirement, text)
    }
}

/// Where the requirement that holds `p` back lives, and what to do with it, in words.
fn requirement_change(
    input: &GateInput<'_>,
    id: PackageId,
    p: &Package,
    to: &semver::Version,
) -> (Vec<Declaration>, Vec<String>, String) {
    let root = &input.inventory.root;
    let declared: Vec<Declaration> = input
        .inventory
        .declarations
        .iter()
        .filter(|d| d.package == id)
        .cloned()
        .collect();
    if !declared.is_empty() {
        let places = declared
            .iter()
            .map(|d| {
                let table = if d.inherited {
                    "[workspace.dependencies]".to_owned()
                } else {
                    format!("[{}]", d.section.as_str())
                };
                format!(
                    "`{}` in {} {table} (now \"{}\")",
                    p.name,
                    relative(root, &d.manifest).display(),
                    d.requirement
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let change = format!(
            "change the requirement {places} to \"{to}\", then `cargo audit-trust update -p {}`",
            p.name
        );
        return (declared, Vec::new(), change);
    }
    let via: Vec<String> = input
        .inventory
        .dependents(id)
        .iter()
        .map(|d| d.spec())
        .collect();
    let change = if via.is_empty() {
        format!(
            "change the requirement on `{}` in the Cargo.toml that declares it to \"{to}\"",
            p.name
        )
    } else {
        format!(
            "it comes through {}: move {} to a version that requires {} {to} or newer",
            via.join(", "),
            if via.len() == 1 { "it" } else { "them" },
            p.name
        )
    };
    (Vec::new(), via, change)
}

fn no_fix(input: &GateInput<'_>, p: &Package, status: Status, index_unread: bool) -> NextStep {
    let text = match status {
        Status::Advisory => {
            let patched: Vec<String> = input
                .advisories
                .map(|db| db.for_package(&p.name, &p.version))
                .unwrap_or_default()
                .into_iter()
                .filter(|a| !a.patched.is_empty())
                .map(|a| format!("{}: fixed in {}", a.id, a.patched.join(" or ")))
                .collect();
            let said = if patched.is_empty() {
                String::new()
            } else {
                format!(" (the advisories say {})", patched.join("; "))
            };
            if index_unread {
                format!(
                    "the registry's index was not read, so no fixed version can be named{said}; run `cargo audit-trust check` online"
                )
            } else {
                format!(
                    "no published version is outside every advisory{said}: replace the dependency, or add `[[ignore-advisory]]` with a reason"
                )
            }
        }
        Status::Flagged => format!(
            "no newer version is free of findings: replace the dependency (flagged: see `cargo audit-trust query {}`)",
            p.name
        ),
        // Yanked. Never `cargo update -p` to whatever is not yanked: yanking the good versions
        // so that users move to a bad one is the lure of a hijack (see docs/risk.md).
        _ => "no newer version is free of findings: keep this one while you find out why it was \
              yanked (`[policy] yanked = \"warn\"`), or replace the dependency; `cargo audit-trust \
              update` moves only to audited versions"
            .to_owned(),
    };
    NextStep::plain(StepKind::NoFix, text)
}

/// `path` relative to the workspace root when inside it (as a user would type it there).
fn relative(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}
