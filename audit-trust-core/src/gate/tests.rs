//! Every status and reason code, from hand-made inputs.

use std::collections::HashSet;
use std::path::Path;

use super::*;
use crate::fetch::IndexVersion;
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
struct Extras<'a> {
    index: Option<&'a IndexReport>,
    on_targets: Option<&'a HashSet<PackageId>>,
    rejected: &'a [RejectedEvidence],
}

fn run(audit: &AuditFile, evidence: &[Evidence], extras: Extras<'_>) -> GateReport {
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
        notes: Vec::new(),
    };
    evaluate(&input)
}

fn verdict<'a>(report: &'a GateReport, name: &str, version: &str) -> &'a Verdict {
    report
        .packages
        .iter()
        .find(|v| v.name == name && v.version.to_string() == version)
        .unwrap_or_else(|| panic!("{name}@{version} missing"))
}

fn codes(v: &Verdict) -> Vec<&'static str> {
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
            .as_deref()
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
        notes: Vec::new(),
    };
    assert_eq!(
        verdict(&evaluate(&input), "beta", "2.0.0").status,
        Status::Audited
    );
}

#[test]
fn index_checksum_and_yanked() {
    let audit = audit_file("");
    let mut index = IndexReport::default();
    let listed = |version: &str, checksum: char, yanked: bool| IndexVersion {
        version: semver::Version::parse(version).expect("version"),
        checksum: sum(checksum),
        yanked,
    };
    index.insert(CRATES_IO_SOURCE_ID, "alpha", listed("1.1.0", 'f', false));
    index.insert(CRATES_IO_SOURCE_ID, "beta", listed("2.0.0", 'c', true));
    let evidence = [
        signoff("team", "alpha", "1.1.0", 'a', &["reviewed"]),
        signoff("team", "beta", "2.0.0", 'c', &["reviewed"]),
    ];
    let report = run(
        &audit,
        &evidence,
        Extras {
            index: Some(&index),
            ..Extras::default()
        },
    );
    let alpha = verdict(&report, "alpha", "1.1.0");
    assert_eq!(
        (alpha.status, codes(alpha)),
        (
            Status::ChecksumMismatch,
            vec!["checksum-mismatch", "audited"]
        )
    );
    let beta = verdict(&report, "beta", "2.0.0");
    assert_eq!(
        (beta.status, codes(beta)),
        (Status::Yanked, vec!["yanked", "audited"])
    );
    assert!(
        beta.next_step
            .as_deref()
            .is_some_and(|s| s.contains("cargo update -p beta@2.0.0"))
    );
    // alpha 1.0.0's crate is in the index (alpha's entry) but that version is not.
    let old = verdict(&report, "alpha", "1.0.0");
    assert!(codes(old).contains(&"not-in-index"), "{:?}", old.reasons);

    let lenient = audit_file("[policy]\nyanked = \"warn\"\n");
    let report = run(
        &lenient,
        &evidence,
        Extras {
            index: Some(&index),
            ..Extras::default()
        },
    );
    let beta = verdict(&report, "beta", "2.0.0");
    assert_eq!((beta.status, beta.blocked), (Status::Audited, false));
    assert_eq!(beta.reasons[0].severity, Severity::Warn);
}

#[test]
fn sources_and_platforms() {
    let audit = audit_file("[allowed-sources]\ngit = [\"https://github.com/my-org/\"]\n");
    let report = run(&audit, &[], Extras::default());
    let git = verdict(&report, "gitdep", "0.3.0");
    assert_eq!(git.status, Status::SourceNotAllowed);
    assert!(codes(git).contains(&"source-not-allowed"));

    let on: HashSet<PackageId> = HashSet::from([0, 1]);
    let report = run(
        &audit_file(""),
        &[],
        Extras {
            on_targets: Some(&on),
            ..Extras::default()
        },
    );
    let beta = verdict(&report, "beta", "2.0.0");
    assert_eq!((beta.status, beta.blocked), (Status::OtherPlatform, false));
}

#[test]
fn git_packages_are_audited_by_commit() {
    let audit = audit_file("");
    let git = |commit: &str| Evidence {
        subject: EvidenceSubject::Git {
            repository: "https://example.com/gitdep.git".into(),
            commit: commit.into(),
        },
        ..signoff("team", "gitdep", "0.3.0", 'x', &["reviewed"])
    };
    let report = run(
        &audit,
        &[git("0123456789abcdef0123456789abcdef01234567")],
        Extras::default(),
    );
    assert_eq!(verdict(&report, "gitdep", "0.3.0").status, Status::Audited);
    let report = run(
        &audit,
        &[git("ffffffffffffffffffffffffffffffffffffffff")],
        Extras::default(),
    );
    assert_eq!(
        verdict(&report, "gitdep", "0.3.0").status,
        Status::Unaudited
    );
}

#[test]
fn rejected_records_become_notes() {
    let audit = audit_file("");
    let rejected = [RejectedEvidence {
        auditor: "team".into(),
        name: Some("alpha".into()),
        version: Some("1.1.0".into()),
        reason: "bad signature".into(),
    }];
    let report = run(
        &audit,
        &[],
        Extras {
            rejected: &rejected,
            ..Extras::default()
        },
    );
    assert_eq!(
        report.notes,
        ["ignored a record of auditor `team` for alpha@1.1.0: bad signature"]
    );
}

/// A two-advisory database written by the test (never the live one).
fn advisory_db(dir: &Path) -> crate::advisories::AdvisoryDatabase {
    let write = |name: &str, id: &str, extra: &str, patched: &str| {
        let folder = dir.join("crates").join(name);
        std::fs::create_dir_all(&folder).expect("mkdir");
        let text = format!(
            "```toml\n[advisory]\nid = \"{id}\"\npackage = \"{name}\"\ndate = \"2026-10-01\"\n{extra}\n\
             [versions]\npatched = [{patched}]\n```\n\n# {id} title\n\nText.\n"
        );
        std::fs::write(folder.join(format!("{id}.md")), text).expect("write");
    };
    write("alpha", "RUSTSEC-2026-0001", "", "\">= 1.2.0\"");
    write(
        "beta",
        "RUSTSEC-2026-0002",
        "informational = \"unmaintained\"",
        "",
    );
    crate::advisories::AdvisoryDatabase::open(dir).expect("db")
}

#[test]
fn advisories_ignores_and_informational() {
    let db_dir = tempfile::tempdir().expect("dir");
    let db = advisory_db(db_dir.path());
    let lock_dir = tempfile::tempdir().expect("dir");
    let inv = inventory(lock_dir.path());
    let evidence = [
        signoff("team", "alpha", "1.1.0", 'a', &["reviewed"]),
        signoff("team", "beta", "2.0.0", 'c', &["reviewed"]),
    ];
    let decide = |audit: &AuditFile| {
        evaluate(&GateInput {
            inventory: &inv,
            audit_file: audit,
            today: today(),
            evidence: &evidence,
            rejected: &[],
            advisories: Some(&db),
            index: None,
            on_targets: None,
            notes: Vec::new(),
        })
    };

    let report = decide(&audit_file(""));
    let alpha = verdict(&report, "alpha", "1.1.0");
    assert_eq!(
        (alpha.status, codes(alpha)),
        (Status::Advisory, vec!["advisory", "audited"])
    );
    assert!(
        alpha.reasons[0]
            .message
            .contains("RUSTSEC-2026-0001 (vulnerability)")
    );
    assert!(alpha.reasons[0].message.contains("fixed in >=1.2.0"));
    assert_eq!(alpha.reasons[0].details["id"], "RUSTSEC-2026-0001");
    assert!(
        alpha
            .next_step
            .as_deref()
            .is_some_and(|s| s.contains("fixed in >=1.2.0"))
    );
    let beta = verdict(&report, "beta", "2.0.0");
    assert_eq!(
        (beta.status, beta.blocked),
        (Status::Audited, false),
        "informational warns by default"
    );
    assert_eq!(codes(beta), ["advisory-informational", "audited"]);
    let summary = report.advisory_db.as_ref().expect("db summary");
    assert_eq!(
        (summary.age_days, summary.stale, summary.advisories),
        (Some(53), false, 2)
    );

    let ignoring = audit_file(
        "[[ignore-advisory]]\nid = \"RUSTSEC-2026-0001\"\nreason = \"unreachable\"\nexpires = 2026-12-01\n",
    );
    let alpha = verdict(&decide(&ignoring), "alpha", "1.1.0").clone();
    assert_eq!(
        (alpha.status, codes(&alpha)),
        (Status::Audited, vec!["advisory-ignored", "audited"])
    );

    let expired = audit_file(
        "[[ignore-advisory]]\nid = \"RUSTSEC-2026-0001\"\nreason = \"unreachable\"\nexpires = 2026-11-01\n",
    );
    let alpha = verdict(&decide(&expired), "alpha", "1.1.0").clone();
    assert_eq!(alpha.status, Status::Advisory);
    assert_eq!(codes(&alpha), ["ignore-expired", "advisory", "audited"]);

    let strict = audit_file("[policy]\ninformational-advisories = \"deny\"\n");
    let beta = verdict(&decide(&strict), "beta", "2.0.0").clone();
    assert_eq!((beta.status, beta.blocked), (Status::Advisory, true));

    // Exemptions never waive an advisory.
    let exempt = audit_file(
        "[[exemption]]\npackage = \"alpha@1.1.0\"\nreason = \"r\"\nexpires = 2027-01-01\n",
    );
    let alpha = verdict(&decide(&exempt), "alpha", "1.1.0").clone();
    assert_eq!((alpha.status, alpha.blocked), (Status::Advisory, true));
}
