//! The gate against its other inputs: the registry index (checksums, yanked versions), sources
//! and platforms, git dependencies, rejected records and the advisory database. Shared set-up
//! lives in `tests.rs`.

use std::collections::HashSet;
use std::path::Path;

use super::tests::{Extras, audit_file, codes, inventory, run, signoff, sum, today, verdict};
use super::*;
use crate::fetch::IndexVersion;

#[test]
fn index_checksum_and_yanked() {
    let audit = audit_file("");
    let mut index = IndexReport::default();
    let listed = |version: &str, checksum: char, yanked: bool| IndexVersion {
        version: semver::Version::parse(version).expect("version"),
        checksum: sum(checksum),
        yanked,
        pubtime: None,
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
    // Never the lure: no `cargo update -p` to whatever is not yanked.
    let step = beta
        .next_step
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default();
    assert!(step.contains("yanked = \"warn\""), "{step}");
    assert!(!step.contains("cargo update -p"), "{step}");
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
            risk: None,
            licenses: None,
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
            risk: None,
            licenses: None,
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
            .as_ref()
            .map(|s| s.text.as_str())
            .is_some_and(|s| s.contains(">=1.2.0"))
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

#[test]
fn an_allow_yanked_exemption_waives_a_yank_until_it_expires() {
    let mut index = IndexReport::default();
    index.insert(
        CRATES_IO_SOURCE_ID,
        "beta",
        IndexVersion {
            version: semver::Version::parse("2.0.0").expect("version"),
            checksum: sum('c'),
            yanked: true,
            pubtime: None,
        },
    );
    let evidence = [signoff("team", "beta", "2.0.0", 'c', &["reviewed"])];
    let judge = |expires: &str| {
        let audit = audit_file(&format!(
            "[[exemption]]\npackage = \"beta@2.0.0\"\nreason = \"yanked at adoption\"\n\
             expires = {expires}\nallow-yanked = true\n"
        ));
        let report = run(
            &audit,
            &evidence,
            Extras {
                index: Some(&index),
                ..Extras::default()
            },
        );
        verdict(&report, "beta", "2.0.0").clone()
    };
    let live = judge("2026-12-01");
    assert!(!live.blocked, "{:?}", live.reasons);
    assert_eq!(live.reasons[0].severity, Severity::Warn);
    assert!(live.reasons[0].message.contains("allowed until 2026-12-01"));
    let due = judge("2026-11-01");
    assert_eq!((due.status, due.blocked), (Status::Yanked, true));
    assert!(due.reasons[0].message.contains("expired on 2026-11-01"));
}
