//! Risk signals of one release on its own, outside any lockfile: what the registry's automatic
//! auditor computes for each version it audits. The same [`gather`] and [`super::assess`] as
//! `check`: the release is compared with the newest earlier version its index lists that is not
//! yanked, and each dependency it newly brings in is read at the newest version its index lists
//! that is not yanked (what a fresh resolution would lock).

use std::path::Path;
use std::time::Duration;

use super::gather::{GatherInput, gather};
use super::{PackageRisk, Thresholds};
use crate::audit_file::{RiskDecision, RiskPolicy};
use crate::fetch::CrateStore;
use crate::inventory::{Inventory, InventoryMode, Package, SourceKind};
use crate::progress::NoProgress;
use crate::risk::SignalCode;
use crate::tarball::Limits;
use crate::time::Timestamp;

/// One release of a sparse registry.
#[derive(Debug, Clone)]
pub struct Release<'a> {
    /// `sparse+http(s)://…/`: the index the release and its dependencies are read from.
    pub index_url: &'a str,
    pub name: &'a str,
    pub version: &'a semver::Version,
    /// SHA-256 of its `.crate` as the index states it (lowercase hex).
    pub checksum: &'a str,
}

/// The release as a registry package: what the crate store downloads and verifies.
pub fn release_package(release: &Release<'_>) -> Package {
    Package {
        name: release.name.to_owned(),
        version: release.version.clone(),
        source: SourceKind::Registry {
            id: release.index_url.to_owned(),
            crates_io: false,
        },
        source_id: Some(release.index_url.to_owned()),
        checksum: Some(release.checksum.to_owned()),
        dependencies: Vec::new(),
        direct: true,
        dev_only: None,
        workspace_member: false,
        lock_line: 0,
    }
}

/// The signals of `release` under `policy`'s thresholds, at `now`. Never fails: what cannot be
/// read is "not computed" in the answer.
pub fn release_risk(
    store: &CrateStore,
    release: &Release<'_>,
    policy: &RiskPolicy,
    now: Timestamp,
    cache_dir: Option<&Path>,
) -> PackageRisk {
    let package = release_package(release);
    let inventory = Inventory {
        mode: InventoryMode::Lockfile,
        lockfile: Default::default(),
        root: Default::default(),
        packages: vec![package.clone()],
        on_targets: None,
        declarations: Vec::new(),
    };
    // Read now: a release is audited once, right after it appears.
    let fresh = Duration::ZERO;
    let index = match store.index_report(&[&package], fresh, &NoProgress) {
        Ok(index) => index,
        Err(e) => {
            let mut report = crate::fetch::index_report::IndexReport::default();
            report.unavailable.push((package.spec(), e.to_string()));
            report
        }
    };
    let report = gather(&GatherInput {
        store,
        inventory: &inventory,
        index: &index,
        candidates: &[0],
        if_read: &[],
        base_lockfile: None,
        resolve_unlocked: true,
        now,
        thresholds: Thresholds::from_policy(policy, None),
        blob_bytes: policy.blob_bytes(),
        index_max_age: fresh,
        limits: Limits::default(),
        cache_dir,
        progress: &NoProgress,
    });
    report
        .get(release.name, release.version)
        .cloned()
        .unwrap_or_else(|| PackageRisk {
            name: release.name.to_owned(),
            version: release.version.clone(),
            base: None,
            base_from: "none",
            signals: Vec::new(),
            not_computed: vec![super::NotComputed {
                signals: SignalCode::ALL.to_vec(),
                why: "nothing could be computed for this release".into(),
            }],
        })
}

/// What `policy` denies in `risk` on `today`: the codes of the denied signals, and of the
/// signals not computed when `not-computed = "deny"`. Empty: nothing stands in the way.
pub fn denied(policy: &RiskPolicy, risk: &PackageRisk, today: crate::time::Date) -> Denied {
    let signals = risk
        .signals
        .iter()
        .filter(|s| policy.decide(&risk.name, &risk.version, s.code, today) == RiskDecision::Deny)
        .map(|s| s.code)
        .collect();
    let not_computed = if policy.not_computed_action() == crate::audit_file::RiskAction::Deny {
        let mut codes: Vec<SignalCode> = risk
            .not_computed
            .iter()
            .flat_map(|nc| policy.wanted(&nc.signals))
            .collect();
        codes.sort();
        codes.dedup();
        codes
    } else {
        Vec::new()
    };
    Denied {
        signals,
        not_computed,
    }
}

/// The part of a release's signals a policy denies.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Denied {
    pub signals: Vec<SignalCode>,
    /// Signals that could not be computed, denied by `not-computed = "deny"`.
    #[serde(rename = "not-computed", skip_serializing_if = "Vec::is_empty")]
    pub not_computed: Vec<SignalCode>,
}

impl Denied {
    pub fn is_empty(&self) -> bool {
        self.signals.is_empty() && self.not_computed.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::denied;
    use crate::audit_file::AuditFile;
    use crate::risk::{NotComputed, PackageRisk, Signal, SignalCode};
    use crate::time::Date;

    fn risk() -> PackageRisk {
        let signal = |code: SignalCode| Signal {
            code,
            severity: code.severity(),
            message: String::new(),
            evidence: Vec::new(),
        };
        PackageRisk {
            name: "popular".into(),
            version: semver::Version::new(1, 0, 1),
            base: Some(semver::Version::new(1, 0, 0)),
            base_from: "index",
            signals: vec![
                signal(SignalCode::Typosquat),
                signal(SignalCode::BuildScriptSpawns),
                signal(SignalCode::NewDependency),
            ],
            not_computed: vec![NotComputed {
                signals: vec![
                    SignalCode::RecentlyPublished,
                    SignalCode::BuildScriptChanged,
                ],
                why: "no pubtime".into(),
            }],
        }
    }

    fn policy(text: &str) -> crate::audit_file::RiskPolicy {
        AuditFile::parse(text, Path::new("risk.toml"))
            .expect("a valid policy")
            .risk
    }

    #[test]
    fn the_defaults_deny_the_hijack_signs_and_warnings_never_stop_a_signature() {
        let today = Date::parse("2026-12-03").expect("date");
        let d = denied(&policy(""), &risk(), today);
        assert_eq!(
            d.signals,
            [SignalCode::Typosquat, SignalCode::BuildScriptSpawns]
        );
        assert!(d.not_computed.is_empty(), "not-computed warns by default");
        // Allowed, excepted while the exception lives, and not computed when denied (only the
        // signals the policy looks at: build-script-changed is allowed by default).
        let text = "[risk]\nnot-computed = \"deny\"\n\n[risk.signals]\ntyposquat = \"allow\"\n\n\
                    [[risk.exception]]\npackage = \"popular@1.0.1\"\nsignals = [\"build-script-spawns\"]\n\
                    reason = \"read it\"\nexpires = 2026-12-31\n";
        let d = denied(&policy(text), &risk(), today);
        assert!(d.signals.is_empty(), "{d:?}");
        assert_eq!(d.not_computed, [SignalCode::RecentlyPublished]);
        let later = Date::parse("2027-01-01").expect("date");
        assert_eq!(
            denied(&policy(text), &risk(), later).signals,
            [SignalCode::BuildScriptSpawns]
        );
    }
}
