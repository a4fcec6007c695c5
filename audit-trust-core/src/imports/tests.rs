//! Parsing of cargo-vet sets and their semantics as gate evidence: full audits, delta chains,
//! violations, criteria maps, implies, include/exclude, covers, and the lock's pin checks.

use std::path::Path;

use super::grant::{LoadedSet, Publishers, imported_evidence};
use super::lock::{ImportLock, LockedImport, LockedPublisher, sha256_hex};
use super::vet::{self, VetKind};
use crate::audit_file::AuditFile;
use crate::gate::{Evidence, GateInput, Status, evaluate};
use crate::inventory::{CRATES_IO_SOURCE_ID, Inventory, InventoryMode, Package, SourceKind};
use crate::signoff::Criterion;
use crate::time::Date;

const SET: &str = r#"
[criteria.fuzzed]
description = "fuzzed"
implies = "safe-to-run"

[criteria.crypto-reviewed]
description-url = "https://example.com"
implies = ["fuzzed"]

[[wildcard-audits.wild]]
who = "W <w@example.com>"
criteria = "safe-to-deploy"
user-id = 42
start = "2024-01-01"
end = "2025-12-31"
renew = false
notes = "ours"

[[audits.alpha]]
who = "Alice <a@example.com>"
criteria = "safe-to-deploy"
version = "1.0.0"
notes = "fine"
aggregated-from = "https://example.com/a.toml"

[[audits.alpha]]
who = ["Bob", "Carol"]
criteria = "safe-to-deploy"
delta = "1.0.0 -> 1.1.0"

[[audits.alpha]]
criteria = "safe-to-run"
delta = "1.1.0 -> 1.2.0"

[[audits.beta]]
criteria = "crypto-reviewed"
version = "0.3.0"

[[audits.gamma]]
criteria = "safe-to-deploy"
delta = "2.0.0 -> 2.1.0"

[[audits.evil]]
criteria = "safe-to-deploy"
version = "1.0.0"

[[audits.evil]]
criteria = "safe-to-deploy"
violation = ">=1.0.1, <2"
notes = "steals \u001b[2J tokens"

[[audits.odd]]
criteria = "safe-to-deploy"
version = "1.0.0@git:0123456789abcdef0123456789abcdef01234567"

[[audits.odd]]
criteria = "safe-to-deploy"
version = "1.0.0"
colour = "blue"

[[trusted.tr]]
criteria = "safe-to-deploy"
trusted-publisher = "github:org/tr"
start = "2024-01-01"
end = "2025-12-31"

[unknown-table]
x = 1
"#;

fn set() -> vet::AuditSet {
    vet::parse(SET).expect("the fixture parses")
}

#[test]
fn parses_cargo_vets_format() {
    let s = set();
    assert_eq!(s.criteria["crypto-reviewed"], ["fuzzed"]);
    assert_eq!(s.criteria["fuzzed"], ["safe-to-run"]);
    let alpha = &s.audits["alpha"];
    assert_eq!(alpha.len(), 3);
    assert_eq!(alpha[1].who, ["Bob", "Carol"]);
    assert!(matches!(&alpha[1].kind, VetKind::Delta { from, to }
        if from.to_string() == "1.0.0" && to.to_string() == "1.1.0"));
    assert!(matches!(&s.audits["evil"][1].kind, VetKind::Violation(_)));
    // A git-revision audit is not importable; an entry with an unknown key is skipped with a note.
    assert!(!s.audits.contains_key("odd"));
    assert!(
        s.notes
            .iter()
            .any(|n| n.contains("`odd`") && n.contains("colour")),
        "{:?}",
        s.notes
    );
    assert_eq!(s.wildcard["wild"][0].publisher, vet::Publisher::UserId(42));
    assert_eq!(
        s.trusted["tr"][0].publisher,
        vet::Publisher::TrustedPublisher("github:org/tr".into())
    );
    let closed = vet::closure(&s, &["crypto-reviewed".into()]);
    assert!(closed.contains("fuzzed") && closed.contains("safe-to-run"));
}

#[test]
fn malformed_sets_are_errors_with_line_and_column() {
    let err = vet::parse("[[audits.a]]\ncriteria = \"x\"\nversion = \n").expect_err("bad toml");
    assert!(err.starts_with("3:"), "{err}");
    let err = vet::parse("audits = 3\n").expect_err("wrong shape");
    assert!(err.starts_with("1:"), "{err}");
    // A violation that cannot be read is never skipped: it could block.
    let err = vet::parse(
        "[[audits.a]]\ncriteria = \"x\"\nversion = \"1.0.0\"\n\n[[audits.a]]\ncriteria = \"x\"\nviolation = \"not a range\"\n",
    )
    .expect_err("bad violation");
    assert!(err.starts_with("5:1: [[audits.a]]: violation"), "{err}");
    let err = vet::parse("[criteria.x]\nimplies = 3\n").expect_err("bad criterion");
    assert!(err.starts_with("1:1:"), "{err}");
}

fn audit_file(extra: &str) -> AuditFile {
    let text = format!(
        "[criteria.deployable]\ndescription = \"d\"\nimplies = [\"reviewed\"]\n\n\
         [criteria.signed-only]\ndescription = \"s\"\nimports-allowed = false\n\n\
         [[import]]\nname = \"vet\"\nurl = \"https://example.com/audits.toml\"\nformat = \"cargo-vet\"\n\
         criteria-map = {{ safe-to-deploy = \"deployable\", fuzzed = [\"source-matches\"] }}\n\
         covers = [\"*\"]\n{extra}"
    );
    AuditFile::parse(&text, Path::new("Cargo.audit")).expect("valid audit file")
}

fn package(name: &str, version: &str) -> Package {
    Package {
        name: name.into(),
        version: semver::Version::parse(version).expect("version"),
        source: SourceKind::Registry {
            id: CRATES_IO_SOURCE_ID.into(),
            crates_io: true,
        },
        source_id: Some(CRATES_IO_SOURCE_ID.into()),
        checksum: Some("ab".repeat(32)),
        dependencies: Vec::new(),
        direct: true,
        dev_only: None,
        workspace_member: false,
        lock_line: 1,
    }
}

fn evidence(file: &AuditFile, packages: &[Package], publishers: &Publishers) -> Vec<Evidence> {
    let sets = [LoadedSet {
        import: &file.imports[0],
        set: set(),
    }];
    imported_evidence(file, &sets, packages, publishers).0
}

fn granted(file: &AuditFile, name: &str, version: &str) -> Vec<String> {
    let mut out: Vec<String> = evidence(file, &[package(name, version)], &Publishers::new())
        .iter()
        .filter(|e| e.flag.is_none())
        .flat_map(|e| e.criteria.iter().map(|c| c.as_str().to_owned()))
        .collect();
    out.sort();
    out
}

#[test]
fn full_audits_and_delta_chains_grant_mapped_criteria() {
    let file = audit_file("");
    // safe-to-deploy -> deployable; it implies safe-to-run, which is not mapped.
    assert_eq!(granted(&file, "alpha", "1.0.0"), ["deployable"]);
    assert_eq!(granted(&file, "alpha", "1.1.0"), ["deployable"]);
    // The last delta is only safe-to-run, which maps to nothing.
    assert!(granted(&file, "alpha", "1.2.0").is_empty());
    assert!(granted(&file, "alpha", "9.9.9").is_empty());
    // implies: crypto-reviewed -> fuzzed -> source-matches.
    assert_eq!(granted(&file, "beta", "0.3.0"), ["source-matches"]);
    // A delta that does not chain grants nothing, with a note.
    let sets = [LoadedSet {
        import: &file.imports[0],
        set: set(),
    }];
    let (e, notes) = imported_evidence(
        &file,
        &sets,
        &[package("gamma", "2.1.0")],
        &Publishers::new(),
    );
    assert!(e.is_empty());
    assert!(
        notes
            .iter()
            .any(|n| n.contains("2.0.0 -> 2.1.0") && n.contains("does not chain")),
        "{notes:?}"
    );
    let labelled = evidence(&file, &[package("alpha", "1.0.0")], &Publishers::new());
    assert_eq!(labelled[0].imported.as_deref(), Some("vet"));
    assert_eq!(labelled[0].auditor, "vet");
}

#[test]
fn include_exclude_and_covers_limit_what_a_set_says() {
    assert!(granted(&audit_file("exclude = [\"alpha\"]\n"), "alpha", "1.0.0").is_empty());
    assert!(granted(&audit_file("include = [\"beta\"]\n"), "alpha", "1.0.0").is_empty());
    assert_eq!(
        granted(&audit_file("include = [\"alpha\"]\n"), "alpha", "1.0.0"),
        ["deployable"]
    );
    let narrow = audit_file("").clone();
    let mut narrow = narrow;
    narrow.imports[0].covers = vec![crate::audit_file::CratePattern::parse("beta").expect("p")];
    assert!(granted(&narrow, "alpha", "1.0.0").is_empty());
    // A violation counts even outside `covers`, but not for an excluded crate.
    let flags = |file: &AuditFile| {
        evidence(file, &[package("evil", "1.5.0")], &Publishers::new())
            .into_iter()
            .filter(|e| e.flag.is_some())
            .count()
    };
    assert_eq!(flags(&narrow), 1);
    assert_eq!(flags(&audit_file("exclude = [\"evil\"]\n")), 0);
}

fn inventory(packages: Vec<Package>) -> Inventory {
    Inventory {
        mode: InventoryMode::Lockfile,
        lockfile: "Cargo.lock".into(),
        root: ".".into(),
        packages,
        on_targets: None,
        declarations: Vec::new(),
    }
}

fn gate(file: &AuditFile, packages: Vec<Package>) -> Vec<(String, Status, String)> {
    let inv = inventory(packages);
    let ev = evidence(file, &inv.packages, &Publishers::new());
    let report = evaluate(&GateInput {
        inventory: &inv,
        audit_file: file,
        today: Date::parse("2025-06-01").expect("date"),
        evidence: &ev,
        rejected: &[],
        advisories: None,
        index: None,
        on_targets: None,
        risk: None,
        licenses: None,
        notes: Vec::new(),
    });
    report
        .packages
        .iter()
        .map(|v| {
            (
                v.spec_for_tests(),
                v.status,
                v.reasons
                    .first()
                    .map(|r| r.message.clone())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

trait Spec {
    fn spec_for_tests(&self) -> String;
}

impl Spec for crate::gate::Verdict {
    fn spec_for_tests(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

#[test]
fn the_gate_labels_imported_evidence_and_blocks_violations() {
    let file = audit_file("[policy]\ncriteria = [\"deployable\"]\n");
    let out = gate(
        &file,
        vec![
            package("alpha", "1.1.0"),
            package("evil", "1.0.0"),
            package("evil", "1.5.0"),
        ],
    );
    assert_eq!(out[0].1, Status::Audited, "{out:?}");
    assert!(out[0].2.contains("evidence: imported"), "{out:?}");
    assert_eq!(out[1].1, Status::Audited);
    assert_eq!(out[2].1, Status::Flagged, "{out:?}");
    assert!(out[2].2.contains("imported set `vet`"), "{out:?}");
}

#[test]
fn policy_can_require_signed_evidence() {
    // A criterion that imports may not grant.
    let file = audit_file("[policy]\ncriteria = [\"signed-only\"]\n");
    let mut f = file.clone();
    f.imports[0].criteria_map.insert(
        "safe-to-deploy".into(),
        vec![Criterion::Custom("signed-only".into())],
    );
    assert_eq!(
        gate(&f, vec![package("alpha", "1.0.0")])[0].1,
        Status::Unaudited
    );
    // Nor through a criterion that implies it.
    let mut f = file.clone();
    f.criteria.insert(
        "wide".into(),
        crate::audit_file::CustomCriterion {
            description: None,
            implies: vec![Criterion::Custom("signed-only".into())],
            imports_allowed: None,
        },
    );
    f.imports[0].criteria_map.insert(
        "safe-to-deploy".into(),
        vec![Criterion::Custom("wide".into())],
    );
    assert_eq!(
        gate(&f, vec![package("alpha", "1.0.0")])[0].1,
        Status::Unaudited
    );
    // Signed evidence of the same criterion still follows `implies`.
    let closed = crate::gate::evidence::closure(&[Criterion::Custom("wide".into())], &f.criteria);
    assert!(closed.contains(&Criterion::Custom("signed-only".into())));
    // A package pattern that imports may not vouch for: with no auditor, nothing covers it.
    let file =
        audit_file("[policy]\ncriteria = [\"deployable\"]\nimports-not-allowed = [\"al*\"]\n");
    assert_eq!(
        gate(&file, vec![package("alpha", "1.0.0")])[0].1,
        Status::Unassigned
    );
}

#[test]
fn publisher_entries_vouch_within_their_dates() {
    let file = audit_file("");
    let publisher =
        |version: &str, when: &str, id: Option<u64>, tp: Option<&str>| LockedPublisher {
            name: if tp.is_some() { "tr" } else { "wild" }.into(),
            version: version.into(),
            when: when.into(),
            user_id: id,
            user_login: None,
            trusted_publisher: tp.map(str::to_owned),
        };
    let known = super::grant::publishers_of(&[
        publisher("1.0.0", "2024-06-01", Some(42), None),
        publisher("2.0.0", "2026-06-01", Some(42), None),
        publisher("3.0.0", "2024-06-01", Some(7), None),
        publisher("1.0.0", "2025-01-01", None, Some("github:org/tr")),
    ]);
    let grants = |name: &str, v: &str| !evidence(&file, &[package(name, v)], &known).is_empty();
    assert!(grants("wild", "1.0.0"));
    assert!(!grants("wild", "2.0.0"), "published after `end`");
    assert!(!grants("wild", "3.0.0"), "another publisher");
    assert!(grants("tr", "1.0.0"));
    let sets = [LoadedSet {
        import: &file.imports[0],
        set: set(),
    }];
    let (e, notes) = imported_evidence(&file, &sets, &[package("wild", "4.0.0")], &known);
    assert!(e.is_empty());
    assert!(
        notes
            .iter()
            .any(|n| n.contains("who published wild@4.0.0 is unknown")),
        "{notes:?}"
    );

    // Many unknown publishers make one note for the set, naming a few and counting the rest.
    let many: Vec<Package> = (4..12)
        .map(|minor| package("wild", &format!("4.{minor}.0")))
        .collect();
    let (_, notes) = imported_evidence(&file, &sets, &many, &known);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains("wild@4.4.0, wild@4.5.0") && notes[0].contains("and 3 more"),
        "{notes:?}"
    );
}

#[test]
fn the_lock_pins_bytes_and_url() {
    let file = audit_file("");
    let import = &file.imports[0];
    let entry = LockedImport {
        origin: None,
        name: "vet".into(),
        url: import.url.clone(),
        sha256: sha256_hex(SET.as_bytes()),
        fetched: "2025-06-01T00:00:00Z".into(),
        content: SET.into(),
    };
    let mut lock = ImportLock::default();
    lock.put(entry.clone());
    let text = lock.render().expect("renders");
    let back = ImportLock::parse(&text, Path::new("Cargo.audit.lock")).expect("parses");
    assert_eq!(
        ImportLock::pinned(Some(&back), import).expect("pinned"),
        SET
    );

    let missing = ImportLock::pinned(None, import)
        .expect_err("no lock")
        .to_string();
    assert!(
        missing.contains("import `vet`") && missing.contains("import refresh vet"),
        "{missing}"
    );
    let mut tampered = back.clone();
    tampered.imports[0].content.push('x');
    let err = ImportLock::pinned(Some(&tampered), import)
        .expect_err("tampered")
        .to_string();
    assert!(err.contains("hash to"), "{err}");
    let mut moved = back;
    moved.imports[0].url = "https://example.com/other.toml".into();
    let err = ImportLock::pinned(Some(&moved), import)
        .expect_err("url")
        .to_string();
    assert!(err.contains("now says"), "{err}");
    let err = ImportLock::parse("version = 1\nsurprise = 2\n", Path::new("Cargo.audit.lock"))
        .expect_err("unknown key")
        .to_string();
    assert!(err.starts_with("Cargo.audit.lock:2:1:"), "{err}");
}

#[test]
fn refresh_changes_name_added_removed_and_new_violations() {
    let old = set();
    let new = vet::parse(
        &SET.replace("version = \"0.3.0\"", "version = \"0.4.0\"")
            .replace("violation = \">=1.0.1, <2\"", "violation = \">=1.0.1\""),
    )
    .expect("parses");
    let c = super::changes("vet", Some(&old), &new);
    assert_eq!(c.added, ["beta 0.4.0 (crypto-reviewed)"]);
    assert_eq!(c.removed, ["beta 0.3.0 (crypto-reviewed)"]);
    assert_eq!(
        c.new_violations,
        ["evil violation >=1.0.1 (safe-to-deploy)"]
    );
    assert!(!c.unchanged && !c.new);
    assert!(super::changes("vet", Some(&old), &old).unchanged);
    assert!(super::changes("vet", None, &old).new);
}

/// Two imports of the same criteria-map: `base` holds the full audit, `step` only a delta.
fn two_sets(extra: &str) -> AuditFile {
    let text = format!(
        "[criteria.deployable]\ndescription = \"d\"\n\n\
         [[import]]\nname = \"base\"\nurl = \"https://example.com/a.toml\"\nformat = \"cargo-vet\"\n\
         criteria-map = {{ safe-to-deploy = \"deployable\" }}\ncovers = [\"*\"]\n\n\
         [[import]]\nname = \"step\"\nurl = \"https://example.com/b.toml\"\nformat = \"cargo-vet\"\n\
         criteria-map = {{ safe-to-deploy = \"deployable\" }}\ncovers = [\"*\"]\n{extra}"
    );
    AuditFile::parse(&text, Path::new("Cargo.audit")).expect("valid audit file")
}

#[test]
fn delta_chains_cross_sets_as_cargo_vet_merges_them() {
    let base = vet::parse(
        "[[audits.chain]]\ncriteria = \"safe-to-deploy\"\nversion = \"1.0.0\"\n\n\
         [[trusted.pubd]]\ncriteria = \"safe-to-deploy\"\nuser-id = 42\nstart = \"2024-01-01\"\nend = \"2025-12-31\"\n",
    )
    .expect("set");
    let step = vet::parse(
        "[[audits.chain]]\ncriteria = \"safe-to-deploy\"\ndelta = \"1.0.0 -> 1.1.0\"\n\n\
         [[audits.pubd]]\ncriteria = \"safe-to-deploy\"\ndelta = \"1.0.0 -> 1.1.0\"\n\n\
         [[audits.loose]]\ncriteria = \"safe-to-deploy\"\ndelta = \"0.9.0 -> 1.0.0\"\n",
    )
    .expect("set");
    let file = two_sets("");
    let sets = [
        LoadedSet {
            import: &file.imports[0],
            set: base,
        },
        LoadedSet {
            import: &file.imports[1],
            set: step,
        },
    ];
    // pubd 1.0.0 was published by the trusted user; its 1.1.0 by someone else.
    let known = super::grant::publishers_of(&[LockedPublisher {
        name: "pubd".into(),
        version: "1.0.0".into(),
        when: "2024-06-01".into(),
        user_id: Some(42),
        user_login: None,
        trusted_publisher: None,
    }]);
    let packages = [
        package("chain", "1.1.0"),
        package("pubd", "1.1.0"),
        package("loose", "1.0.0"),
    ];
    let (e, notes) = imported_evidence(&file, &sets, &packages, &known);
    let by = |name: &str| -> Vec<(String, Vec<String>)> {
        e.iter()
            .filter(|x| x.name == name)
            .map(|x| {
                (
                    x.auditor.clone(),
                    x.criteria.iter().map(|c| c.as_str().to_owned()).collect(),
                )
            })
            .collect()
    };
    // Neither set alone vouches for chain 1.1.0; the merged graph does, named after both.
    assert_eq!(
        by("chain"),
        [("base+step".to_owned(), vec!["deployable".to_owned()])]
    );
    // A trusted publisher's 1.0.0 is a root for a delta in the other set.
    assert_eq!(
        by("pubd"),
        [("base+step".to_owned(), vec!["deployable".to_owned()])]
    );
    assert!(by("loose").is_empty());
    let notes = notes.join("\n");
    assert!(
        notes.contains("0.9.0 -> 1.0.0") && notes.contains("any imported set"),
        "{notes}"
    );
    assert!(!notes.contains("1.0.0 -> 1.1.0"), "{notes}");

    // The gate counts the chain like a set...
    let policy = |required: u32| {
        let mut f = two_sets("");
        f.policy = AuditFile::parse(
            &format!("[policy]\ncriteria = [\"deployable\"]\nsign-offs-required = {required}\n\n[criteria.deployable]\ndescription = \"d\"\n"),
            Path::new("Cargo.audit"),
        )
        .expect("policy")
        .policy;
        f
    };
    let judge = |file: &AuditFile, evidence: &[Evidence]| {
        let inv = inventory(vec![package("chain", "1.1.0")]);
        evaluate(&GateInput {
            inventory: &inv,
            audit_file: file,
            today: Date::parse("2025-06-01").expect("date"),
            evidence,
            rejected: &[],
            advisories: None,
            index: None,
            on_targets: None,
            risk: None,
            licenses: None,
            notes: Vec::new(),
        })
        .packages[0]
            .status
    };
    let chain: Vec<Evidence> = e.iter().filter(|x| x.name == "chain").cloned().collect();
    assert_eq!(judge(&policy(1), &chain), Status::Audited);
    // ...but never beside one of its own sets: `base` alone and `base+step` are one voice.
    let mut alone = chain[0].clone();
    alone.auditor = "base".into();
    alone.imported = Some("base".into());
    let both = [chain[0].clone(), alone];
    assert_eq!(judge(&policy(1), &both), Status::Audited);
    assert_ne!(judge(&policy(2), &both), Status::Audited);
}
