//! The gate's license rule on the shared test inventory, with license inventories made from
//! text (the reading of crate files is tested in `license::tests` and end to end).

use super::tests::{audit_file, codes, inventory, today, verdict};
use super::{GateInput, Severity, evaluate};
use crate::gate::GateReport;
use crate::license::{PackageLicense, inspect_files};

const MIT: &str = "Permission is hereby granted, free of charge";

fn licensed(license: Option<&str>) -> PackageLicense {
    inspect_files(license, None, [("LICENSE", MIT.as_bytes())])
}

/// `licenses` by `name@version`; `dev` marks packages only dev-dependencies reach.
fn judge(policy: &str, licenses: &[(&str, Option<&str>)], dev: &[&str]) -> GateReport {
    let dir = tempfile::tempdir().expect("dir");
    let mut inv = inventory(dir.path());
    let audit = audit_file(policy);
    let by_id: Vec<Option<PackageLicense>> = inv
        .packages
        .iter()
        .map(|p| {
            licenses
                .iter()
                .find(|(spec, _)| *spec == p.spec())
                .map(|(_, l)| licensed(*l))
        })
        .collect();
    for p in &mut inv.packages {
        p.dev_only = Some(dev.contains(&p.spec().as_str()));
    }
    evaluate(&GateInput {
        inventory: &inv,
        audit_file: &audit,
        today: today(),
        evidence: &[],
        rejected: &[],
        advisories: None,
        index: None,
        on_targets: None,
        risk: None,
        licenses: Some(&by_id),
        notes: Vec::new(),
    })
}

fn license_reasons(
    report: &GateReport,
    name: &str,
    version: &str,
) -> Vec<(&'static str, Severity)> {
    verdict(report, name, version)
        .reasons
        .iter()
        .filter(|r| r.code.code().starts_with("license"))
        .map(|r| (r.code.code(), r.severity))
        .collect()
}

#[test]
fn or_needs_one_allowed_choice_and_deny_wins() {
    let all = [
        ("alpha@1.1.0", Some("MIT OR GPL-3.0-only")),
        ("alpha@1.0.0", Some("MIT AND GPL-3.0-only")),
        ("beta@2.0.0", Some("Apache-2.0 WITH LLVM-exception")),
    ];
    let report = judge("[licenses]\nallow = [\"MIT\", \"Apache-2.0\"]\n", &all, &[]);
    assert!(license_reasons(&report, "alpha", "1.1.0").is_empty());
    assert_eq!(
        license_reasons(&report, "alpha", "1.0.0"),
        vec![("license-not-allowed", Severity::Deny)]
    );
    assert!(license_reasons(&report, "beta", "2.0.0").is_empty());
    assert_eq!(
        verdict(&report, "alpha", "1.0.0").status.as_str(),
        "license"
    );

    let report = judge(
        "[licenses]\nallow = [\"MIT\", \"GPL-3.0-only\"]\ndeny = [\"GPL-3.0-only\"]\n",
        &all,
        &[],
    );
    assert!(
        license_reasons(&report, "alpha", "1.1.0").is_empty(),
        "MIT is still a choice"
    );
    assert_eq!(
        license_reasons(&report, "alpha", "1.0.0"),
        vec![("license-not-allowed", Severity::Deny)]
    );
    // The git package is not judged (no crate file read); the path package neither.
    assert!(
        !codes(verdict(&report, "gitdep", "0.3.0"))
            .iter()
            .any(|c| c.starts_with("license"))
    );
}

#[test]
fn unknown_licenses_follow_the_policy_and_never_pass_silently() {
    let none = [("alpha@1.1.0", None), ("alpha@1.0.0", Some("MIT and more"))];
    let report = judge("[licenses]\nallow = [\"MIT\"]\n", &none, &[]);
    for version in ["1.1.0", "1.0.0"] {
        assert_eq!(
            license_reasons(&report, "alpha", version),
            vec![("license-unknown", Severity::Deny)],
            "{version}"
        );
    }
    // beta's license was not read at all: unknown too.
    assert_eq!(
        license_reasons(&report, "beta", "2.0.0"),
        vec![("license-unknown", Severity::Deny)]
    );
    let report = judge(
        "[licenses]\nallow = [\"MIT\"]\nunknown = \"warn\"\n",
        &none,
        &[],
    );
    assert_eq!(
        license_reasons(&report, "alpha", "1.1.0"),
        vec![("license-unknown", Severity::Warn)]
    );
}

#[test]
fn exceptions_expire_and_dev_only_copyleft_is_allowed_by_default() {
    let gpl = [
        ("alpha@1.1.0", Some("GPL-3.0-only")),
        ("beta@2.0.0", Some("LGPL-2.1-only")),
    ];
    let exception = |expires: &str| {
        format!(
            "[licenses]\nallow = [\"MIT\"]\n\n[[licenses.exception]]\npackage = \"alpha@1.1.0\"\n\
             allow = [\"GPL-3.0-only\"]\nreason = \"replacing it\"\nexpires = {expires}\n"
        )
    };
    let live = judge(&exception("2026-12-01"), &gpl, &["beta@2.0.0"]);
    assert!(license_reasons(&live, "alpha", "1.1.0").is_empty());
    assert!(
        license_reasons(&live, "beta", "2.0.0").is_empty(),
        "dev-only copyleft"
    );
    let expired = judge(&exception("2026-11-22"), &gpl, &[]);
    let alpha = verdict(&expired, "alpha", "1.1.0");
    assert!(
        alpha
            .reasons
            .iter()
            .any(|r| r.message.contains("expired on 2026-11-22"))
    );
    assert_eq!(
        license_reasons(&expired, "beta", "2.0.0"),
        vec![("license-not-allowed", Severity::Deny)],
        "not dev-only here"
    );
    let strict = judge(
        "[licenses]\nallow = [\"MIT\"]\ndev-copyleft = \"deny\"\n",
        &gpl,
        &["beta@2.0.0"],
    );
    assert_eq!(
        license_reasons(&strict, "beta", "2.0.0"),
        vec![("license-not-allowed", Severity::Deny)]
    );
}
