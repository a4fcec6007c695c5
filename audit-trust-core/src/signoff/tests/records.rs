//! Records: round trips, and every way a record is refused.

use serde_json::Value;

use super::*;
use crate::signoff::verify::{authorize, check_crate_subject};

fn reparse(line: &str) -> Result<SignedRecord, Rejection> {
    SignedRecord::from_json_line(line)
}

/// `line` with one JSON field replaced (a dotted path reaches nested objects).
fn edited(line: &str, path: &str, value: Value) -> String {
    let mut json: Value = serde_json::from_str(line).expect("json");
    let mut target = &mut json;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            target[part] = value;
            break;
        }
        target = &mut target[part];
    }
    serde_json::to_string(&json).expect("json")
}

#[test]
fn every_kind_round_trips_byte_for_byte() {
    let k = key(1);
    let signoff = full_signoff(&k);
    let flag = SignedRecord::sign(
        Record {
            key: k.public_key(),
            created: at("2025-03-02T00:00:00Z"),
            statement: Statement::Flag {
                subject: Subject::Git {
                    name: "evil".into(),
                    version: "1.0.0".parse().expect("version"),
                    repository: "https://example.com/evil.git".into(),
                    commit: COMMIT.into(),
                },
                reason: "exfiltrates environment variables in build.rs".into(),
                notes: None,
            },
        },
        &k,
    )
    .expect("valid flag");
    let revocation = SignedRecord::sign(
        Record {
            key: k.public_key(),
            created: at("2025-03-03T00:00:00Z"),
            statement: Statement::Revocation {
                revokes: signoff.id(),
                reason: "signed the wrong version".into(),
            },
        },
        &k,
    )
    .expect("valid revocation");
    for record in [signoff, flag, revocation] {
        let line = record.to_json_line();
        assert!(!line.contains('\n'), "{line}");
        let back = reparse(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(back, record);
        assert_eq!(back.to_json_line(), line);
    }
}

#[test]
fn signing_is_deterministic_and_the_id_is_the_hash_of_the_signed_bytes() {
    let k = key(1);
    let a = full_signoff(&k);
    let b = full_signoff(&k);
    assert_eq!(a.to_json_line(), b.to_json_line());
    let bytes = super::super::encoding::record_bytes(a.record());
    assert!(bytes.starts_with(b"cargo-audit-trust signed record\n\0\0\0\x01"));
    use sha2::Digest as _;
    assert_eq!(a.id().as_bytes()[..], sha2::Sha256::digest(&bytes)[..]);
    // Another creation time is another record.
    let mut later = a.record().clone();
    later.created = at("2025-03-01T10:00:01Z");
    assert_ne!(SignedRecord::sign(later, &k).expect("valid").id(), a.id());
}

#[test]
fn any_altered_field_breaks_the_signature() {
    let line = full_signoff(&key(1)).to_json_line();
    let changes: [(&str, Value); 14] = [
        ("crate.name", "tokio_util".into()),
        ("crate.version", "0.7.12".into()),
        ("crate.checksum", OTHER_CHECKSUM.into()),
        ("created", "2025-03-01T10:00:01Z".into()),
        (
            "criteria",
            serde_json::json!(["reviewed", "source-matches"]),
        ),
        ("criteria", serde_json::json!(["reviewed"])),
        ("notes", "diff reviewed!".into()),
        ("delta-from.version", "0.7.9".into()),
        ("delta-from.checksum", CHECKSUM.into()),
        ("source.repository", "https://github.com/evil/tokio".into()),
        (
            "source.commit",
            "1123456789abcdef0123456789abcdef01234567".into(),
        ),
        ("source.ref", "refs/tags/other".into()),
        ("source.repository-trust", "signed-off".into()),
        ("key", key(2).public_key().to_string().into()),
    ];
    for (field, value) in changes {
        let altered = edited(&line, field, value.clone());
        match reparse(&altered) {
            Err(Rejection::BadSignature { .. }) => {}
            // Changing criteria to a set without source-matches makes `source` misplaced.
            Err(Rejection::Malformed(m)) if field == "criteria" => {
                assert!(m.contains("source"), "{m}");
            }
            other => panic!("{field} = {value}: {other:?}"),
        }
    }
    // Removing the notes is a change too.
    let mut json: Value = serde_json::from_str(&line).expect("json");
    json.as_object_mut().expect("object").remove("notes");
    assert!(matches!(
        reparse(&json.to_string()),
        Err(Rejection::BadSignature { .. })
    ));
    // A valid signature of another record does not fit this one.
    let other_sig = reviewed(&key(1), "a", "1.0.0").to_json_line();
    let other: Value = serde_json::from_str(&other_sig).expect("json");
    let swapped = edited(&line, "signature", other["signature"].clone());
    assert!(matches!(
        reparse(&swapped),
        Err(Rejection::BadSignature { .. })
    ));
    // The id must be the hash of what was signed.
    let wrong_id = edited(&line, "id", other["id"].clone());
    assert_eq!(reparse(&wrong_id), Err(Rejection::IdMismatch));
}

#[test]
fn malformed_and_unknown_records_are_refused() {
    let line = full_signoff(&key(1)).to_json_line();
    assert_eq!(
        reparse(&edited(&line, "format", 2.into())),
        Err(Rejection::UnknownFormat(2))
    );
    // A future format is reported as such even when its fields are new.
    assert_eq!(
        reparse(r#"{"format":7,"hologram":true}"#),
        Err(Rejection::UnknownFormat(7))
    );
    let cases: Vec<(String, &str)> = vec![
        ("".into(), "not a record"),
        ("{".into(), "not a record"),
        ("[]".into(), "not a record"),
        (edited(&line, "extra", true.into()), "unknown field `extra`"),
        (
            edited(&line, "crate.extra", 1.into()),
            "unknown field `extra`",
        ),
        (edited(&line, "format", "1".into()), "not a record"),
        (
            edited(&line, "crate.name", "../../etc/passwd".into()),
            "crate name",
        ),
        (edited(&line, "crate.version", "1.0".into()), "semver"),
        (edited(&line, "crate.version", "01.0.0".into()), "semver"),
        (edited(&line, "crate.checksum", "ABC".into()), "checksum"),
        (
            edited(&line, "criteria", serde_json::json!([])),
            "at least one criterion",
        ),
        (
            edited(&line, "criteria", serde_json::json!(["Reviewed"])),
            "criterion name",
        ),
        (edited(&line, "kind", "blessing".into()), "unknown kind"),
        (edited(&line, "kind", "flag".into()), "reason"),
        (
            edited(&line, "reason", "why".into()),
            "`reason` does not belong",
        ),
        (
            edited(&line, "revokes", CHECKSUM.into()),
            "`revokes` does not belong",
        ),
        (edited(&line, "created", "yesterday".into()), "created"),
        (edited(&line, "key", "ed25519:short".into()), "public key"),
        (edited(&line, "signature", "AAAA".into()), "signature"),
        (edited(&line, "source.verdict", "differs".into()), "verdict"),
        (edited(&line, "source.commit", "abc".into()), "commit"),
        (
            edited(&line, "delta-from.version", "0.7.11".into()),
            "another version",
        ),
        (
            edited(&line, "notes", "x".repeat(MAX_NOTES_BYTES + 1).into()),
            "longer than",
        ),
        (
            format!("{line}{}", " ".repeat(MAX_RECORD_LINE_BYTES)),
            "longer than",
        ),
        (
            line.replacen("\"format\":1", "\"format\":1,\"format\":1", 1),
            "duplicate field",
        ),
    ];
    for (text, expected) in cases {
        match reparse(&text) {
            Err(Rejection::Malformed(m)) => {
                assert!(m.contains(expected), "{m}\nexpected {expected}")
            }
            other => panic!("{}: {other:?}", &text[..text.len().min(200)]),
        }
    }
    // Evidence is required for, and only for, source-matches.
    let k = key(1);
    let mut record = full_signoff(&k).record().clone();
    if let Statement::SignOff { source, .. } = &mut record.statement {
        *source = None;
    }
    assert!(SignedRecord::sign(record, &k).is_err());
    assert!(SignedRecord::sign(reviewed(&k, "a", "1.0.0").record().clone(), &key(2)).is_err());
}

#[test]
fn authorization_follows_the_pins() {
    let (k, other) = (key(1), key(2));
    let record = full_signoff(&k);
    let now = at("2026-06-01T00:00:00Z");
    assert_eq!(authorize(&record, &auditor(vec![pin(&k)]), now), Ok(()));
    assert!(matches!(
        authorize(&record, &auditor(vec![pin(&other)]), now),
        Err(Rejection::KeyNotPinned { .. })
    ));
    let mut expiring = pin(&k);
    expiring.not_after = crate::time::Date::parse("2026-05-31");
    assert!(matches!(
        authorize(&record, &auditor(vec![expiring.clone()]), now),
        Err(Rejection::KeyExpired { .. })
    ));
    assert_eq!(
        authorize(
            &record,
            &auditor(vec![expiring]),
            at("2026-05-31T23:59:59Z")
        ),
        Ok(())
    );
    let mut bot = pin(&k);
    bot.criteria = Some(vec![Criterion::SourceMatches]);
    assert_eq!(
        authorize(&record, &auditor(vec![bot.clone()]), now),
        Err(Rejection::CriterionNotAllowed {
            key: k.public_key(),
            criterion: Criterion::Reviewed
        })
    );
    // Flags and revocations assert no criterion: a limited key may still flag.
    let flag = SignedRecord::sign(
        Record {
            key: k.public_key(),
            created: now,
            statement: Statement::Flag {
                subject: crate_subject("x", "1.0.0"),
                reason: "bad".into(),
                notes: None,
            },
        },
        &k,
    )
    .expect("valid");
    assert_eq!(authorize(&flag, &auditor(vec![bot]), now), Ok(()));
}

#[test]
fn a_record_binds_one_exact_crate_file() {
    let record = reviewed(&key(1), "serde", "1.0.0");
    let v = |s: &str| semver::Version::parse(s).expect("version");
    assert_eq!(
        check_crate_subject(&record, "serde", &v("1.0.0"), CHECKSUM),
        Ok(())
    );
    assert_eq!(
        check_crate_subject(&record, "serde", &v("1.0.0"), OTHER_CHECKSUM),
        Err(Rejection::ChecksumMismatch {
            signed: CHECKSUM.into(),
            actual: OTHER_CHECKSUM.into()
        })
    );
    assert!(matches!(
        check_crate_subject(&record, "serde", &v("1.0.1"), CHECKSUM),
        Err(Rejection::OtherPackage { .. })
    ));
    assert!(matches!(
        check_crate_subject(&record, "serde_json", &v("1.0.0"), CHECKSUM),
        Err(Rejection::OtherPackage { .. })
    ));
}

#[test]
fn records_parsed_on_several_threads_come_back_in_order_per_crate() {
    // Enough records for more than one thread, uneven crates, a bad line in the middle.
    let k = key(7);
    let mut crates: Vec<Vec<String>> = Vec::new();
    for (c, count) in [(0u32, 1usize), (1, 130), (2, 0), (3, 57)] {
        let lines = (0..count)
            .map(|i| {
                if c == 1 && i == 64 {
                    "{\"format\":1}".to_owned()
                } else {
                    reviewed(&k, &format!("crate{c}"), &format!("1.0.{i}")).to_json_line()
                }
            })
            .collect();
        crates.push(lines);
    }
    let parsed = super::super::log_reader::parse_records(
        crates.clone(),
        &super::super::verified_ids::VerifiedIds::none(),
    );
    assert_eq!(parsed.len(), crates.len());
    for (c, (results, lines)) in parsed.iter().zip(&crates).enumerate() {
        assert_eq!(results.len(), lines.len(), "crate {c}");
        for (i, result) in results.iter().enumerate() {
            match result {
                Ok(record) => {
                    let subject = record.record().statement.subject().expect("subject");
                    assert_eq!(subject.name(), format!("crate{c}"));
                    assert_eq!(subject.version().to_string(), format!("1.0.{i}"));
                }
                Err(_) => assert_eq!((c, i), (1, 64), "only the bad line is refused"),
            }
        }
    }
}

/// A record whose id this machine verified before is not verified again; any other (a changed
/// statement has another id) still is.
#[test]
fn a_known_id_skips_only_its_own_signature_check() {
    let k = key(3);
    let record = reviewed(&k, "serde", "1.0.0");
    let other = reviewed(&k, "serde", "1.0.1");
    let line = record.to_json_line();
    // The same bytes with another record's signature: not what the key signed for them.
    let other_signature =
        serde_json::from_str::<Value>(&other.to_json_line()).expect("json")["signature"].clone();
    let mut wrong: Value = serde_json::from_str(&line).expect("json");
    wrong["signature"] = other_signature;
    let wrong = wrong.to_string();
    assert!(matches!(
        SignedRecord::from_json_line(&wrong),
        Err(Rejection::BadSignature { .. })
    ));
    let known = |id: &RecordId| *id == record.id();
    // Its bytes were seen signed by that key: the record is the one verified before.
    assert_eq!(
        SignedRecord::from_json_line_known(&wrong, &known).map(|r| r.id()),
        Ok(record.id())
    );
    // A changed statement under the known id: another hash, so the signature is checked.
    let tampered = line.replace("1.0.0", "1.0.9");
    assert!(SignedRecord::from_json_line_known(&tampered, &known).is_err());
    let never = |_: &RecordId| false;
    assert!(SignedRecord::from_json_line_known(&line, &never).is_ok());
}
