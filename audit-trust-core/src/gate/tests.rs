//! Every status and reason code, from hand-made inputs.

use std::collections::HashSet;
use std::path::Path;

use super::*;
use crate::inventory::CRATES_IO_SOURCE_ID;
use crate::signoff::Criterion;

const KEY: &str = "ed25519:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const OTHER_KEY: &str = "ed25519:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

pub(super) fn sum(c: char) -> String {
    std::iter::repeat_n(c, 64).collect()
}

/// app → alpha 1.1.0, beta 2.0.0, gitdep; plus alpha 1.0.0 (for deltas) reached through beta.
pub(super) fn inventory(dir: &Path) -> Inventory {
    let lock = format!(
        r#"version = 4
[[package]]
name = "app"
version = "0.1.0"
dependencies = ["alpha 1.1.0", "beta", "gitdep"]

[[package]]
name = "alpha"
version = "1.1.0"
source = "{CRATES_IO_SOURCE_ID}"
checksum = "{a}"

[[package]]
name = "alpha"
version = "1.0.0"
source = "{CRATES_IO_SOURCE_ID}"
checksum = "{b}"

[[package]]
name = "beta"
version = "2.0.0"
source = "{CRATES_IO_SOURCE_ID}"
checksum = "{c}"
dependencies = ["alpha 1.0.0"]

[[package]]
name = "gitdep"
version = "0.3.0"
source = "git+https://example.com/gitdep.git#0123456789abcdef0123456789abcdef01234567"
"#,
        a = sum('a'),
        b = sum('b'),
        c = sum('c'),
    );
    let path = dir.join("Cargo.lock");
    std::fs::write(&path, lock).expect("write lockfile");
    Inventory::from_lockfile(&path).expect("inventory")
}

pub(super) fn audit_file(extra: &str) -> AuditFile {
    let text = format!(
        "[[auditor]]\nname = \"team\"\ncovers = [\"alpha\", \"beta\", \"gitdep\"]\nrecords = {{ folder = \"s\" }}\nkeys = [{{ key = \"{KEY}\" }}]\n\n\
         [[auditor]]\nname = \"other\"\ncovers = [\"beta\"]\nrecords = {{ folder = \"o\" }}\nkeys = [{{ key = \"{OTHER_KEY}\" }}]\n\n{extra}"
    );
    AuditFile::parse(&text, Path::new("Cargo.audit")).expect("valid audit file")
}

pub(super) fn signoff(
    auditor: &str,
    name: &str,
    version: &str,
    checksum: char,
    criteria: &[&str],
) -> Evidence {
    Evidence {
        auditor: auditor.into(),
        name: name.into(),
        version: semver::Version::parse(version).expect("version"),
        subject: EvidenceSubject::Crate {
            checksum: sum(checksum),
        },
        criteria: criteria
            .iter()
            .map(|c| Criterion::parse(c).expect("criterion"))
            .collect(),
        delta_from: None,
        flag: None,
        record_id: format!("{auditor}-{name}-{version}"),
        imported: None,
    }
}

pub(super) fn delta(
    auditor: &str,
    version: &str,
    checksum: char,
    base: &str,
    base_sum: char,
    criteria: &[&str],
) -> Evidence {
    Evidence {
        delta_from: Some((semver::Version::parse(base).expect("v"), sum(base_sum))),
        ..signoff(auditor, "alpha", version, checksum, criteria)
    }
}

pub(super) fn today() -> Date {
    Date::parse("2026-11-23").expect("date")
}

/// The optional inputs a test may set.
#[derive(Default)]
pub(super) struct Extras<'a> {
    pub(super) index: Option<&'a IndexReport>,
    pub(super) on_targets: Option<&'a HashSet<PackageId>>,
    pub(super) rejected: &'a [RejectedEvidence],
    pub(super) risk: Option<&'a crate::risk::RiskReport>,
    pub(super) licenses: Option<&'a [Option<crate::license::PackageLicense>]>,
}

pub(super) fn run(audit: &AuditFile, evidence: &[Evidence], extras: Extras<'_>) -> GateReport {
    let dir = tempfile::tempdir().expect("dir");
    let inv = inventory(dir.path());
    let input = GateInput {
        inventory: &inv,
        audit_file: audit,
        today: today(),
        evidence,
        rejected: extras.rejected,
        advisories: None,
        index: extras.index,
        on_targets: extras.on_targets,
        risk: extras.risk,
        licenses: extras.licenses,
        notes: Vec::new(),
    };
    evaluate(&input)
}

pub(super) fn verdict<'a>(report: &'a GateReport, name: &str, version: &str) -> &'a Verdict {
    report
        .packages
        .iter()
        .find(|v| v.name == name && v.version.to_string() == version)
        .unwrap_or_else(|| panic!("{name}@{version} missing"))
}

pub(super) fn codes(v: &Verdict) -> Vec<&'static str> {
    v.reasons.iter().map(|r| r.code.code()).collect()
}

#[test]
fn statuses_without_evidence() {
    let audit = audit_file("");
    let report = run(&audit, &[], Extras::default());
    assert_eq!(verdict(&report, "app", "0.1.0").status, Status::FirstParty);
    let alpha = verdict(&report, "alpha", "1.1.0");
    assert_eq!(alpha.status, Status::Unaudited);
    assert_eq!(codes(alpha), ["unaudited"]);
    assert!(
        alpha
            .next_step
            .as_ref()
            .map(|s| s.text.as_str())
            .is_some_and(|s| s.contains("cargo audit-trust diff alpha@1.1.0"))
    );
    assert_eq!(
        verdict(&report, "gitdep", "0.3.0").status,
        Status::Unaudited
    );
    assert_eq!(report.summary.blocked, 4);
    assert!(
        report
            .packages
            .iter()
            .filter(|v| v.status != Status::FirstParty)
            .all(|v| v.blocked)
    );
    assert!(!report.is_clean());
}

#[test]
fn audited_exempted_and_unassigned() {
    let audit = audit_file(
        "[[exemption]]\npackage = \"gitdep@0.3.0\"\nreason = \"internal\"\nexpires = 2026-11-23\n\n\
         [[exemption]]\npackage = \"beta@2.0.0\"\nreason = \"old\"\nexpires = 2026-11-22\n",
    );
    let evidence = [
        signoff("team", "alpha", "1.1.0", 'a', &["reviewed"]),
        signoff("team", "alpha", "1.0.0", 'b', &["source-matches"]),
    ];
    let report = run(&audit, &evidence, Extras::default());
    let alpha = verdict(&report, "alpha", "1.1.0");
    assert_eq!(
        (alpha.status, codes(alpha)),
        (Status::Audited, vec!["audited"])
    );
    let old = verdict(&report, "alpha", "1.0.0");
    assert_eq!(
        old.status,
        Status::Unaudited,
        "source-matches is not reviewed"
    );
    assert!(
        old.reasons[0]
            .message
            .contains("`team` vouches for source-matches"),
        "{:?}",
        old.reasons
    );
    assert_eq!(
        verdict(&report, "gitdep", "0.3.0").status,
        Status::Exempted,
        "the expiry day counts"
    );
    let beta = verdict(&report, "beta", "2.0.0");
    assert_eq!(
        (beta.status, codes(beta)),
        (Status::Unaudited, vec!["exemption-expired", "unaudited"])
    );

    let nobody = AuditFile::parse("", Path::new("Cargo.audit")).expect("empty");
    let report = run(&nobody, &[], Extras::default());
    assert_eq!(
        verdict(&report, "alpha", "1.1.0").status,
        Status::Unassigned
    );
    let warn = AuditFile::parse(
        "[policy]\nunassigned = \"warn\"\n",
        Path::new("Cargo.audit"),
    )
    .expect("valid");
    let report = run(&warn, &[], Extras::default());
    let alpha = verdict(&report, "alpha", "1.1.0");
    assert_eq!((alpha.status, alpha.blocked), (Status::Unassigned, false));
    assert_eq!(alpha.reasons[0].severity, Severity::Warn);
    assert!(report.summary.warnings >= 1);
}

#[test]
fn a_flag_wins_and_only_covering_auditors_count() {
    let audit = audit_file("");
    let mut flag = signoff("team", "alpha", "1.1.0", 'a', &["reviewed"]);
    flag.flag = Some("contains a backdoor".into());
    let evidence = [
        signoff("team", "alpha", "1.1.0", 'a', &["reviewed"]),
        flag.clone(),
    ];
    let report = run(&audit, &evidence, Extras::default());
    let alpha = verdict(&report, "alpha", "1.1.0");
    assert_eq!(
        (alpha.status, codes(alpha)),
        (Status::Flagged, vec!["flagged"])
    );

    // `other` does not cover alpha: neither its sign-offs nor its flags count there.
    let mut foreign_flag = flag;
    foreign_flag.auditor = "other".into();
    let evidence = [
        signoff("team", "alpha", "1.1.0", 'a', &["reviewed"]),
        foreign_flag,
        signoff("other", "alpha", "1.0.0", 'b', &["reviewed"]),
    ];
    let report = run(&audit, &evidence, Extras::default());
    assert_eq!(verdict(&report, "alpha", "1.1.0").status, Status::Audited);
    assert_eq!(verdict(&report, "alpha", "1.0.0").status, Status::Unaudited);
}

#[test]
fn sign_offs_bind_to_the_checksum() {
    let audit = audit_file("");
    let report = run(
        &audit,
        &[signoff("team", "alpha", "1.1.0", 'x', &["reviewed"])],
        Extras::default(),
    );
    assert_eq!(verdict(&report, "alpha", "1.1.0").status, Status::Unaudited);
}

#[test]
fn delta_chains_valid_broken_backwards() {
    let audit = audit_file("");
    let full = signoff(
        "team",
        "alpha",
        "1.0.0",
        'b',
        &["reviewed", "source-matches"],
    );
    let valid = [
        full.clone(),
        delta("team", "1.1.0", 'a', "1.0.0", 'b', &["reviewed"]),
    ];
    let report = run(&audit, &valid, Extras::default());
    assert_eq!(verdict(&report, "alpha", "1.1.0").status, Status::Audited);

    // The delta's base checksum is not the one signed off: the chain is broken.
    let broken = [
        full.clone(),
        delta("team", "1.1.0", 'a', "1.0.0", 'z', &["reviewed"]),
    ];
    assert_eq!(
        verdict(&run(&audit, &broken, Extras::default()), "alpha", "1.1.0").status,
        Status::Unaudited
    );

    // A delta "from" a newer version is never followed.
    let backwards = [
        signoff("team", "alpha", "1.1.0", 'a', &["source-matches"]),
        delta("team", "1.0.0", 'b', "1.1.0", 'a', &["reviewed"]),
    ];
    let report = run(&audit, &backwards, Extras::default());
    assert_eq!(verdict(&report, "alpha", "1.0.0").status, Status::Unaudited);

    // A chain carries only the criteria every link has.
    let weak_base = [
        signoff("team", "alpha", "1.0.0", 'b', &["source-matches"]),
        delta("team", "1.1.0", 'a', "1.0.0", 'b', &["reviewed"]),
    ];
    assert_eq!(
        verdict(
            &run(&audit, &weak_base, Extras::default()),
            "alpha",
            "1.1.0"
        )
        .status,
        Status::Unaudited
    );

    // A base signed off by another auditor does not complete this auditor's chain.
    let foreign_base = [
        signoff("other", "alpha", "1.0.0", 'b', &["reviewed"]),
        delta("team", "1.1.0", 'a', "1.0.0", 'b', &["reviewed"]),
    ];
    assert_eq!(
        verdict(
            &run(&audit, &foreign_base, Extras::default()),
            "alpha",
            "1.1.0"
        )
        .status,
        Status::Unaudited
    );
}

#[test]
fn custom_criteria_dev_criteria_and_several_sign_offs() {
    let audit = audit_file(
        "[policy]\ncriteria = [\"safe-to-deploy\"]\nsign-offs-required = 2\n\n\
         [criteria.safe-to-deploy]\nimplies = [\"reviewed\"]\n",
    );
    let evidence = [
        signoff("team", "beta", "2.0.0", 'c', &["safe-to-deploy"]),
        signoff("other", "beta", "2.0.0", 'c', &["safe-to-deploy"]),
        signoff("team", "alpha", "1.1.0", 'a', &["safe-to-deploy"]),
    ];
    let report = run(&audit, &evidence, Extras::default());
    assert_eq!(verdict(&report, "beta", "2.0.0").status, Status::Audited);
    let alpha = verdict(&report, "alpha", "1.1.0");
    assert_eq!(alpha.status, Status::Unaudited);
    assert!(
        alpha.reasons[0]
            .message
            .starts_with("1 of 2 required sign-offs"),
        "{:?}",
        alpha.reasons
    );

    // `reviewed` alone does not imply `safe-to-deploy`; the custom one implies `reviewed`.
    let audit = audit_file("[criteria.safe-to-deploy]\nimplies = [\"reviewed\"]\n");
    let report = run(
        &audit,
        &[signoff("team", "alpha", "1.1.0", 'a', &["safe-to-deploy"])],
        Extras::default(),
    );
    assert_eq!(verdict(&report, "alpha", "1.1.0").status, Status::Audited);

    // Dev-only packages need the dev criteria (source-matches by default).
    let dir = tempfile::tempdir().expect("dir");
    let mut inv = inventory(dir.path());
    for p in &mut inv.packages {
        p.dev_only = Some(p.name == "beta");
    }
    let audit = audit_file("");
    let evidence = [signoff("team", "beta", "2.0.0", 'c', &["source-matches"])];
    let input = GateInput {
        inventory: &inv,
        audit_file: &audit,
        today: today(),
        evidence: &evidence,
        rejected: &[],
        advisories: None,
        index: None,
        on_targets: None,
        risk: None,
        licenses: None,
        notes: Vec::new(),
    };
    assert_eq!(
        verdict(&evaluate(&input), "beta", "2.0.0").status,
        Status::Audited
    );
}

#[test]
fn the_backlog_counts_what_only_an_exemption_or_nothing_admits() {
    let audit = audit_file(
        "[[exemption]]\npackage = \"gitdep@0.3.0\"\nreason = \"internal\"\nexpires = 2026-11-23\n",
    );
    let evidence = [signoff("team", "alpha", "1.1.0", 'a', &["reviewed"])];
    let report = run(&audit, &evidence, Extras::default());
    // alpha 1.1.0 is audited and app is first-party: neither is backlog. beta's size is unknown.
    let lines = |name: &str, version: &semver::Version| match (name, version.to_string().as_str()) {
        ("alpha", "1.0.0") => Some(10),
        ("alpha", "1.1.0") => Some(1_000),
        ("gitdep", _) => Some(100),
        ("app", _) => Some(5_000),
        _ => None,
    };
    let backlog = super::backlog(&report.packages, lines);
    assert_eq!(
        backlog,
        Backlog {
            packages: 3,
            lines: 110,
            exempted: 1,
            exempted_lines: 100,
            none: 2,
            none_lines: 10,
            size_unknown: 1,
        }
    );
}
