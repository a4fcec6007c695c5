//! The cargo-vet export: what each kind of record becomes, read back as TOML.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::export_cargo_vet;
use crate::audit_file::CustomCriterion;
use crate::signoff::{
    AcceptedRecord, Criterion, DeltaBase, Location, Record, SignedRecord, SigningKey, Statement,
    Subject,
};
use crate::time::Timestamp;

const SUM_A: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const SUM_B: &str = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

fn key() -> SigningKey {
    use base64::Engine as _;
    let text = format!(
        "ed25519-secret:{}",
        base64::engine::general_purpose::STANDARD.encode([7u8; 32])
    );
    SigningKey::parse(&text).expect("fixed seed")
}

fn accepted(auditor: &str, statement: Statement) -> AcceptedRecord {
    let k = key();
    let record = Record {
        key: k.public_key(),
        created: Timestamp::parse("2026-01-02T03:04:05Z").expect("time"),
        statement,
    };
    AcceptedRecord {
        auditor: auditor.into(),
        record: SignedRecord::sign(record, &k).expect("valid record"),
        location: Location {
            path: PathBuf::from("records.jsonl"),
            line: Some(1),
        },
    }
}

fn crate_subject(name: &str, version: &str, checksum: &str) -> Subject {
    Subject::Crate {
        name: name.into(),
        version: version.parse().expect("version"),
        checksum: checksum.into(),
    }
}

fn custom() -> BTreeMap<String, CustomCriterion> {
    BTreeMap::from([(
        "safe-to-deploy".to_owned(),
        CustomCriterion {
            description: Some("Read in full".into()),
            implies: vec![Criterion::Reviewed],
            imports_allowed: None,
        },
    )])
}

#[test]
fn full_delta_flag_and_git_records_map_onto_cargo_vet_audits() {
    let full = accepted(
        "security-team",
        Statement::SignOff {
            subject: crate_subject("itoa", "1.0.2", SUM_A),
            criteria: vec![Criterion::Custom("safe-to-deploy".into())],
            delta_from: None,
            notes: Some("read \"all\" of it\nline two".into()),
            source: None,
        },
    );
    let delta = accepted(
        "security-team",
        Statement::SignOff {
            subject: crate_subject("itoa", "1.0.3", SUM_B),
            criteria: vec![Criterion::Reviewed],
            delta_from: Some(DeltaBase {
                version: "1.0.2".parse().expect("version"),
                checksum: SUM_A.into(),
            }),
            notes: None,
            source: None,
        },
    );
    let flag = accepted(
        "security-team",
        Statement::Flag {
            subject: crate_subject("evil", "0.1.0", SUM_A),
            reason: "runs a downloaded binary".into(),
            notes: None,
        },
    );
    let git = accepted(
        "security-team",
        Statement::SignOff {
            subject: Subject::Git {
                name: "internal".into(),
                version: "0.1.0".parse().expect("version"),
                repository: "https://example.com/internal.git".into(),
                commit: "0123456789abcdef0123456789abcdef01234567".into(),
            },
            criteria: vec![Criterion::Reviewed],
            delta_from: None,
            notes: None,
            source: None,
        },
    );
    let records = [&full, &delta, &flag, &git];
    let out = export_cargo_vet(&records, &custom()).expect("export");
    assert_eq!((out.audits, out.skipped_git), (3, 1));

    let doc: toml::Table = toml::from_str(&out.text).expect("the export is TOML");
    let criteria = doc["criteria"].as_table().expect("criteria");
    // cargo-vet defines safe-to-deploy itself: it is used, never redefined.
    assert!(!criteria.contains_key("safe-to-deploy"));
    assert!(criteria["reviewed"]["description"].as_str().is_some());
    assert!(criteria["source-matches"]["description"].as_str().is_some());

    let itoa = doc["audits"]["itoa"].as_array().expect("itoa audits");
    assert_eq!(itoa.len(), 2);
    assert_eq!(itoa[0]["who"].as_str(), Some("security-team"));
    assert_eq!(itoa[0]["version"].as_str(), Some("1.0.2"));
    // The criteria are written with what they imply.
    let written: Vec<&str> = itoa[0]["criteria"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c.as_str())
        .collect();
    assert_eq!(written, ["reviewed", "safe-to-deploy"]);
    let notes = itoa[0]["notes"].as_str().expect("notes");
    assert!(notes.starts_with("read \"all\" of it\nline two"), "{notes}");
    assert!(
        notes.contains(&format!("crate file sha256 {SUM_A}")),
        "{notes}"
    );
    assert!(notes.contains(&full.record.id().to_string()), "{notes}");
    assert_eq!(itoa[1]["delta"].as_str(), Some("1.0.2 -> 1.0.3"));
    assert!(itoa[1].get("version").is_none());

    let evil = &doc["audits"]["evil"][0];
    assert_eq!(evil["violation"].as_str(), Some("=0.1.0"));
    let violated: Vec<&str> = evil["criteria"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c.as_str())
        .collect();
    assert_eq!(violated, ["reviewed", "safe-to-deploy", "source-matches"]);
    assert!(
        evil["notes"]
            .as_str()
            .is_some_and(|n| n.starts_with("flagged: runs a downloaded binary"))
    );
    assert!(doc["audits"].get("internal").is_none());

    // Re-imported through the cargo-vet format, the export says the same: full, delta, violation.
    let set = crate::imports::vet::parse(&out.text).expect("the export reads as a cargo-vet set");
    assert!(set.notes.is_empty(), "{:?}", set.notes);
    let kinds: Vec<String> = set.audits["itoa"]
        .iter()
        .chain(&set.audits["evil"])
        .map(|a| format!("{:?}", a.kind))
        .collect();
    assert_eq!(kinds.len(), 3);
    assert!(kinds[0].starts_with("Full") && kinds[1].starts_with("Delta"));
    assert!(kinds[2].starts_with("Violation"), "{kinds:?}");
}

#[test]
fn nothing_to_export_is_still_a_valid_file() {
    let out = export_cargo_vet(&[], &BTreeMap::new()).expect("export");
    assert_eq!(out.audits, 0);
    let doc: toml::Table = toml::from_str(&out.text).expect("TOML");
    assert!(
        doc["criteria"]
            .as_table()
            .is_some_and(|c| c.contains_key("reviewed"))
    );
}
