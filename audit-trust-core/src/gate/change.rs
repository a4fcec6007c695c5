//! Pull-request mode: the gate's report split by what a change did to the lockfile. A package
//! version the base lockfile did not have (added, or moved to another version) is *introduced*
//! by the change; any other is *already present*. With `[policy] preexisting = "warn"` the
//! blocking findings of packages the change did not touch (a new advisory against a crate
//! nobody moved) are reported as warnings, so advisories can stay in the fast CI of every pull
//! request without failing the ones that did not cause them.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use super::report::{GateReport, Severity, Status};
use crate::audit_file::Action;
use crate::inventory::Inventory;

/// One crate whose locked versions differ between the base and the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionChange {
    pub name: String,
    /// Versions in the base lockfile and not in the change's (empty: the crate is new).
    pub from: Vec<semver::Version>,
    /// Versions in the change's lockfile and not in the base's (empty: the crate is gone).
    pub to: Vec<semver::Version>,
}

/// What a change did to the lockfile, and how the findings split along it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeReport {
    /// The base compared with: `REV:path/Cargo.lock` or a file's path.
    pub base: String,
    /// Crates added, removed, or moved to other versions, by name.
    pub changes: Vec<VersionChange>,
    /// Blocked packages the change brings in.
    pub introduced_blocked: usize,
    /// Packages already in the base that are still blocked.
    pub present_blocked: usize,
    /// Packages already in the base whose blocking findings `preexisting = "warn"` turned into
    /// warnings.
    pub present_warned: usize,
}

/// Whether a status may be turned into a warning for an untouched package. A checksum that no
/// longer matches the index, or a source the policy does not allow, is not a finding that
/// arrives with time: it stays blocking.
fn may_be_relaxed(status: Status) -> bool {
    !matches!(status, Status::ChecksumMismatch | Status::SourceNotAllowed)
}

/// Marks every verdict of `report` (computed from `inventory`) as introduced or not against
/// `base`, applies `preexisting`, and records the split in `report.change`.
pub fn apply_base(
    report: &mut GateReport,
    inventory: &Inventory,
    base: &Inventory,
    base_label: String,
    preexisting: Action,
) {
    let in_base: HashSet<(&str, &semver::Version, Option<&str>)> = base
        .packages
        .iter()
        .map(|p| (p.name.as_str(), &p.version, p.source_id.as_deref()))
        .collect();
    let (mut introduced_blocked, mut present_blocked, mut present_warned) = (0, 0, 0);
    for v in &mut report.packages {
        let Some(p) = inventory.packages.get(v.id) else {
            continue;
        };
        let introduced = !in_base.contains(&(p.name.as_str(), &p.version, p.source_id.as_deref()));
        v.introduced = Some(introduced);
        if !v.blocked {
            continue;
        }
        if introduced {
            introduced_blocked += 1;
        } else if preexisting == Action::Warn && may_be_relaxed(v.status) {
            for r in &mut v.reasons {
                if r.severity == Severity::Deny {
                    r.severity = Severity::Warn;
                    r.message.push_str(
                        " (already present before this change: `preexisting = \"warn\"`)",
                    );
                }
            }
            v.blocked = false;
            present_warned += 1;
        } else {
            present_blocked += 1;
        }
    }
    let evidence = std::mem::take(&mut report.summary.evidence);
    report.summary = super::summarize(&report.packages);
    report.summary.evidence = evidence;
    report.change = Some(ChangeReport {
        base: base_label,
        changes: version_changes(base, inventory),
        introduced_blocked,
        present_blocked,
        present_warned,
    });
}

/// The packages of `inventory` a change brings in against `base` (their ids), for computing
/// risk signals only for them.
pub fn introduced_ids(inventory: &Inventory, base: &Inventory) -> HashSet<usize> {
    let in_base: HashSet<(&str, &semver::Version, Option<&str>)> = base
        .packages
        .iter()
        .map(|p| (p.name.as_str(), &p.version, p.source_id.as_deref()))
        .collect();
    inventory
        .packages
        .iter()
        .enumerate()
        .filter(|(_, p)| !in_base.contains(&(p.name.as_str(), &p.version, p.source_id.as_deref())))
        .map(|(id, _)| id)
        .collect()
}

/// Crates whose set of locked versions differs, sorted by name.
pub(super) fn version_changes(base: &Inventory, head: &Inventory) -> Vec<VersionChange> {
    let versions = |inv: &Inventory| {
        let mut by_name: BTreeMap<String, Vec<semver::Version>> = BTreeMap::new();
        for p in inv.packages.iter().filter(|p| !p.workspace_member) {
            by_name
                .entry(p.name.clone())
                .or_default()
                .push(p.version.clone());
        }
        by_name
    };
    let (before, after) = (versions(base), versions(head));
    let names: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let empty = Vec::new();
    names
        .into_iter()
        .filter_map(|name| {
            let old = before.get(name).unwrap_or(&empty);
            let new = after.get(name).unwrap_or(&empty);
            let mut from: Vec<semver::Version> =
                old.iter().filter(|v| !new.contains(v)).cloned().collect();
            let mut to: Vec<semver::Version> =
                new.iter().filter(|v| !old.contains(v)).cloned().collect();
            from.sort();
            to.sort();
            (!from.is_empty() || !to.is_empty()).then(|| VersionChange {
                name: name.clone(),
                from,
                to,
            })
        })
        .collect()
}
