//! Pull-request mode's split, from hand-made lockfiles: crates added, removed and moved, a crate
//! locked at several versions, and one name and version from another registry.

use std::path::Path;

use super::change::{VersionChange, apply_base, introduced_ids, version_changes};
use super::report::{GateReport, Severity};
use super::tests::{audit_file, sum, today};
use super::{GateInput, evaluate};
use crate::audit_file::Action;
use crate::inventory::{CRATES_IO_SOURCE_ID, Inventory};

const OTHER_REGISTRY: &str = "sparse+https://registry.example.com/index/";

/// A lockfile of `app` (a path package) and `(name, version, source)` registry packages.
fn lockfile(packages: &[(&str, &str, &str)]) -> Inventory {
    let mut text =
        String::from("version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n");
    for (i, (name, version, source)) in packages.iter().enumerate() {
        let checksum = sum(char::from(b'a' + u8::try_from(i % 6).unwrap_or(0)));
        text.push_str(&format!(
            "\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\nsource = \"{source}\"\nchecksum = \"{checksum}\"\n"
        ));
    }
    Inventory::from_lockfile_text(&text, Path::new("Cargo.lock")).expect("a valid lockfile")
}

fn base() -> Inventory {
    lockfile(&[
        ("alpha", "1.0.0", CRATES_IO_SOURCE_ID),
        ("beta", "2.0.0", CRATES_IO_SOURCE_ID),
        ("gone", "0.1.0", CRATES_IO_SOURCE_ID),
        ("dup", "1.0.0", CRATES_IO_SOURCE_ID),
        ("dup", "2.0.0", CRATES_IO_SOURCE_ID),
        ("swapped", "1.0.0", CRATES_IO_SOURCE_ID),
    ])
}

/// alpha moved, beta untouched, gone removed, added new, one of dup's two versions moved, and
/// swapped locked at the same version from another registry.
fn head() -> Inventory {
    lockfile(&[
        ("alpha", "1.1.0", CRATES_IO_SOURCE_ID),
        ("beta", "2.0.0", CRATES_IO_SOURCE_ID),
        ("added", "0.2.0", CRATES_IO_SOURCE_ID),
        ("dup", "1.0.0", CRATES_IO_SOURCE_ID),
        ("dup", "3.0.0", CRATES_IO_SOURCE_ID),
        ("swapped", "1.0.0", OTHER_REGISTRY),
    ])
}

fn v(text: &str) -> semver::Version {
    semver::Version::parse(text).expect("version")
}

fn change(name: &str, from: &[&str], to: &[&str]) -> VersionChange {
    VersionChange {
        name: name.into(),
        from: from.iter().map(|x| v(x)).collect(),
        to: to.iter().map(|x| v(x)).collect(),
    }
}

/// The gate's report on `head` with no auditor covering anything: every registry package is
/// blocked as unaudited.
fn report_on(head: &Inventory) -> GateReport {
    let audit = audit_file("");
    evaluate(&GateInput {
        inventory: head,
        audit_file: &audit,
        today: today(),
        evidence: &[],
        rejected: &[],
        advisories: None,
        index: None,
        on_targets: None,
        risk: None,
        licenses: None,
        notes: Vec::new(),
    })
}

fn introduced(report: &GateReport, name: &str, version: &str) -> Option<bool> {
    report
        .packages
        .iter()
        .find(|p| p.name == name && p.version == v(version))
        .unwrap_or_else(|| panic!("{name}@{version} missing"))
        .introduced
}

#[test]
fn version_changes_lists_added_removed_and_moved_crates_by_name() {
    let changes = version_changes(&base(), &head());
    assert_eq!(
        changes,
        vec![
            change("added", &[], &["0.2.0"]),
            change("alpha", &["1.0.0"], &["1.1.0"]),
            // Only the version that moved; 1.0.0 stays in both.
            change("dup", &["2.0.0"], &["3.0.0"]),
            change("gone", &["0.1.0"], &[]),
        ]
    );
    // The same lockfile changes nothing; the workspace's own package is never listed.
    assert!(version_changes(&head(), &head()).is_empty());
    // Versions by name only: the same version from another registry is no version change (the
    // split below still counts it as introduced).
    assert!(!changes.iter().any(|c| c.name == "swapped"));
}

#[test]
fn introduced_means_not_in_the_base_with_the_same_source() {
    let (base, head) = (base(), head());
    let names: Vec<String> = {
        let ids = introduced_ids(&head, &base);
        let mut names: Vec<String> = ids.iter().map(|id| head.packages[*id].spec()).collect();
        names.sort();
        names
    };
    assert_eq!(
        names,
        ["added@0.2.0", "alpha@1.1.0", "dup@3.0.0", "swapped@1.0.0"]
    );
}

#[test]
fn apply_base_splits_findings_and_counts_them() {
    let (base, head) = (base(), head());
    let mut report = report_on(&head);
    apply_base(
        &mut report,
        &head,
        &base,
        "main:Cargo.lock".into(),
        Action::Deny,
    );
    for (name, version, new) in [
        ("alpha", "1.1.0", true),
        ("added", "0.2.0", true),
        ("dup", "3.0.0", true),
        ("swapped", "1.0.0", true),
        ("beta", "2.0.0", false),
        ("dup", "1.0.0", false),
    ] {
        assert_eq!(
            introduced(&report, name, version),
            Some(new),
            "{name}@{version}"
        );
    }
    let change = report.change.as_ref().expect("a change report");
    assert_eq!(change.base, "main:Cargo.lock");
    assert_eq!(change.changes.len(), 4);
    // Everything is unaudited: four introduced, two already present, none relaxed.
    assert_eq!(
        (
            change.introduced_blocked,
            change.present_blocked,
            change.present_warned
        ),
        (4, 2, 0)
    );
    assert_eq!(report.summary.blocked, 6);
}

#[test]
fn preexisting_warn_relaxes_only_what_the_change_did_not_bring_in() {
    let (base, head) = (base(), head());
    let mut report = report_on(&head);
    apply_base(&mut report, &head, &base, "base.lock".into(), Action::Warn);
    let change = report.change.as_ref().expect("a change report");
    assert_eq!(
        (
            change.introduced_blocked,
            change.present_blocked,
            change.present_warned
        ),
        (4, 0, 2)
    );
    // The summary is recomputed: only the introduced packages block.
    assert_eq!(report.summary.blocked, 4);
    for p in &report.packages {
        let present = p.introduced == Some(false);
        assert_eq!(
            p.blocked,
            !present && p.source != "path",
            "{}@{}",
            p.name,
            p.version
        );
        if present && p.source != "path" {
            assert!(
                p.reasons.iter().all(|r| r.severity != Severity::Deny),
                "{p:?}"
            );
            assert!(
                p.reasons
                    .iter()
                    .any(|r| r.message.contains("already present before this change")),
                "{p:?}"
            );
        }
    }
}
