//! The gate's risk rule and the next steps that avoid the lure, from hand-made signals.

use super::tests::{Extras, audit_file, codes, run, signoff, sum, verdict};
use super::*;
use crate::fetch::IndexVersion;
use crate::risk::{NotComputed, PackageRisk, Signal, SignalCode, SignalEvidence};

fn v(text: &str) -> semver::Version {
    semver::Version::parse(text).expect("version")
}

fn signal(code: SignalCode) -> Signal {
    Signal {
        code,
        severity: code.severity(),
        message: format!("{code} found"),
        evidence: vec![SignalEvidence {
            package: "alpha@1.1.0".into(),
            file: Some("build.rs".into()),
            line: Some(3),
            names: vec!["Command::new".into()],
        }],
    }
}

fn risk_of(signals: &[SignalCode], not_computed: Vec<NotComputed>) -> RiskReport {
    let mut report = RiskReport::default();
    report.insert(PackageRisk {
        name: "alpha".into(),
        version: v("1.1.0"),
        base: Some(v("1.0.0")),
        base_from: "index",
        signals: signals.iter().map(|c| signal(*c)).collect(),
        not_computed,
    });
    report
}

const EXEMPT_ALPHA: &str =
    "[[exemption]]\npackage = \"alpha@1.1.0\"\nreason = \"vendored\"\nexpires = 2027-01-01\n";

#[test]
fn a_denied_signal_blocks_with_its_code_and_evidence() {
    let risk = risk_of(
        &[SignalCode::BuildScriptSpawns, SignalCode::NewDependency],
        vec![],
    );
    let report = run(
        &audit_file(EXEMPT_ALPHA),
        &[],
        Extras {
            risk: Some(&risk),
            ..Extras::default()
        },
    );
    let alpha = verdict(&report, "alpha", "1.1.0");
    assert_eq!(alpha.status, Status::Risk);
    assert!(alpha.blocked);
    let denied: Vec<&Reason> = alpha
        .reasons
        .iter()
        .filter(|r| r.code == ReasonCode::Risk && r.severity == Severity::Deny)
        .collect();
    assert_eq!(denied.len(), 1, "{:#?}", alpha.reasons);
    assert_eq!(denied[0].details["signal"], "build-script-spawns");
    assert_eq!(denied[0].details["evidence"][0]["file"], "build.rs");
    assert_eq!(denied[0].details["evidence"][0]["line"], 3);
    assert_eq!(denied[0].details["base"], "1.0.0");
    assert!(denied[0].message.starts_with("[build-script-spawns]"));
    // new-dependency is a warning by default.
    assert!(
        alpha
            .reasons
            .iter()
            .any(|r| r.severity == Severity::Warn && r.details["signal"] == "new-dependency")
    );
    let step = alpha
        .next_step
        .as_ref()
        .map(|s| s.text.as_str())
        .unwrap_or_default();
    assert!(
        step.starts_with("do not build it before reading it"),
        "{step}"
    );
    assert!(
        step.contains("cargo audit-trust diff alpha 1.0.0 1.1.0"),
        "{step}"
    );
}

#[test]
fn a_sign_off_for_the_exact_version_passes_whatever_the_signals() {
    let risk = risk_of(&[SignalCode::Typosquat, SignalCode::OpaqueFile], vec![]);
    let evidence = [signoff("team", "alpha", "1.1.0", 'a', &["reviewed"])];
    let report = run(
        &audit_file(""),
        &evidence,
        Extras {
            risk: Some(&risk),
            ..Extras::default()
        },
    );
    let alpha = verdict(&report, "alpha", "1.1.0");
    assert_eq!(
        (alpha.status, codes(alpha)),
        (Status::Audited, vec!["audited"])
    );
}

#[test]
fn policy_actions_and_exceptions() {
    let risk = risk_of(&[SignalCode::Typosquat], vec![]);
    let extras = || Extras {
        risk: Some(&risk),
        ..Extras::default()
    };
    let allowed = audit_file(&format!(
        "{EXEMPT_ALPHA}\n[risk.signals]\ntyposquat = \"allow\"\n"
    ));
    let alpha = verdict(&run(&allowed, &[], extras()), "alpha", "1.1.0").clone();
    assert_eq!(
        (alpha.status, codes(&alpha)),
        (Status::Exempted, vec!["exempted"])
    );
    let excepted = audit_file(&format!(
        "{EXEMPT_ALPHA}\n[[risk.exception]]\npackage = \"alpha\"\nversions = \"^1\"\nsignals = [\"typosquat\"]\n\
         reason = \"the name is the author's own\"\nexpires = 2026-12-31\n"
    ));
    let report = run(&excepted, &[], extras());
    let alpha = verdict(&report, "alpha", "1.1.0");
    assert!(!alpha.blocked);
    assert!(
        alpha.reasons.iter().any(
            |r| r.severity == Severity::Info && r.message.contains("excepted until 2026-12-31")
        )
    );
    // An expired exception no longer counts.
    let expired = audit_file(&format!(
        "{EXEMPT_ALPHA}\n[[risk.exception]]\npackage = \"alpha@1.1.0\"\nreason = \"old\"\nexpires = 2026-01-01\n"
    ));
    assert!(verdict(&run(&expired, &[], extras()), "alpha", "1.1.0").blocked);
}

#[test]
fn not_computed_is_reported_never_clean() {
    let risk = risk_of(
        &[],
        vec![NotComputed {
            signals: vec![
                SignalCode::BuildScriptSpawns,
                SignalCode::BuildScriptChanged,
            ],
            why: "its crate file was refused: too large".into(),
        }],
    );
    let extras = || Extras {
        risk: Some(&risk),
        ..Extras::default()
    };
    let report = run(&audit_file(EXEMPT_ALPHA), &[], extras());
    let alpha = verdict(&report, "alpha", "1.1.0");
    assert!(!alpha.blocked);
    let warned = alpha
        .reasons
        .iter()
        .find(|r| r.code == ReasonCode::Risk)
        .expect("a not-computed reason");
    assert_eq!(warned.severity, Severity::Warn);
    // Only signals the policy looks at are listed (build-script-changed is allowed).
    assert_eq!(
        warned.details["not-computed"],
        serde_json::json!(["build-script-spawns"])
    );
    let strict = audit_file(&format!(
        "{EXEMPT_ALPHA}\n[risk]\nnot-computed = \"deny\"\n"
    ));
    assert!(verdict(&run(&strict, &[], extras()), "alpha", "1.1.0").blocked);
    // A package the signals were not computed for at all is not clean either.
    let empty = RiskReport::default();
    let report = run(
        &audit_file(EXEMPT_ALPHA),
        &[],
        Extras {
            risk: Some(&empty),
            ..Extras::default()
        },
    );
    assert!(codes(verdict(&report, "alpha", "1.1.0")).contains(&"risk"));
}

#[test]
fn a_skipped_package_is_said_not_warned_and_keeps_its_own_block() {
    let mut risk = RiskReport::default();
    risk.skip("alpha", &v("1.1.0"), crate::risk::Skipped::AlreadyBlocked);
    // Even with not-computed = "deny": nothing was tried, so nothing failed.
    let strict = audit_file("[risk]\nnot-computed = \"deny\"\n");
    let report = run(
        &strict,
        &[],
        Extras {
            risk: Some(&risk),
            ..Extras::default()
        },
    );
    let alpha = verdict(&report, "alpha", "1.1.0");
    assert!(alpha.blocked);
    assert_eq!(alpha.status, Status::Unaudited, "{alpha:?}");
    let said = alpha
        .reasons
        .iter()
        .find(|r| r.code == ReasonCode::Risk)
        .expect("a skipped reason");
    assert_eq!(said.severity, Severity::Info);
    assert_eq!(said.details["why"], "already-blocked");
    assert_eq!(said.details["not-computed"], "skipped");
}

fn listed(version: &str, checksum: char, yanked: bool) -> IndexVersion {
    IndexVersion {
        version: v(version),
        checksum: sum(checksum),
        yanked,
        pubtime: None,
    }
}

#[test]
fn a_yanked_version_whose_only_way_out_is_newer_and_unaudited_is_called_a_hijack_pattern() {
    let mut index = IndexReport::default();
    index.insert(CRATES_IO_SOURCE_ID, "beta", listed("2.0.0", 'c', true));
    index.insert(CRATES_IO_SOURCE_ID, "beta", listed("2.0.1", 'd', false));
    let mut evidence = vec![signoff("team", "beta", "2.0.0", 'c', &["reviewed"])];
    let report = run(
        &audit_file(""),
        &evidence,
        Extras {
            index: Some(&index),
            ..Extras::default()
        },
    );
    let beta = verdict(&report, "beta", "2.0.0");
    assert_eq!(beta.status, Status::Yanked);
    let step = beta
        .next_step
        .as_ref()
        .map(|s| s.text.as_str())
        .unwrap_or_default();
    // Review the newer version first; never move to it because it is not yanked.
    assert!(step.contains("review beta 2.0.1"), "{step}");
    assert!(step.contains("pattern of a hijack"), "{step}");
    assert!(
        step.contains("the yanked version may be the safe one"),
        "{step}"
    );
    assert!(
        step.contains("cargo audit-trust diff beta 2.0.0 2.0.1"),
        "{step}"
    );
    assert!(!step.contains("cargo update -p"), "{step}");
    // With an audited way out, `update` takes it: no warning.
    evidence.push(signoff("team", "beta", "2.0.1", 'd', &["reviewed"]));
    let report = run(
        &audit_file(""),
        &evidence,
        Extras {
            index: Some(&index),
            ..Extras::default()
        },
    );
    let step = verdict(&report, "beta", "2.0.0")
        .next_step
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default();
    assert!(step.contains("cargo audit-trust update -p beta"), "{step}");
    assert!(!step.contains("hijack"), "{step}");
}

#[test]
fn update_never_moves_to_an_unaudited_version_because_it_is_not_yanked() {
    use std::collections::{HashMap, HashSet};

    use super::update_plan::{PlanInput, plan_updates};

    let dir = tempfile::tempdir().expect("dir");
    let inv = super::tests::inventory(dir.path());
    let audit = audit_file("");
    let evidence = [signoff("team", "alpha", "1.1.0", 'a', &["reviewed"])];
    let input = GateInput {
        inventory: &inv,
        audit_file: &audit,
        today: super::tests::today(),
        evidence: &evidence,
        rejected: &[],
        advisories: None,
        index: None,
        on_targets: None,
        risk: None,
        licenses: None,
        notes: Vec::new(),
    };
    let published = HashMap::from([(
        "alpha".to_owned(),
        vec![
            listed("1.0.0", 'b', true),
            listed("1.1.0", 'a', true),
            listed("1.2.0", 'd', false),
        ],
    )]);
    let blocked: HashMap<PackageId, Status> = inv
        .packages
        .iter()
        .enumerate()
        .filter(|(_, p)| p.name == "alpha")
        .map(|(id, _)| (id, Status::Yanked))
        .collect();
    let plan = plan_updates(
        &input,
        &PlanInput {
            published: &published,
            micro: &HashSet::new(),
            blocked: &blocked,
        },
    );
    assert_eq!(plan.moves().count(), 0, "{plan:#?}");
    assert!(plan.steps.iter().all(|s| s.to.is_none()), "{plan:#?}");
}
