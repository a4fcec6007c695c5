//! Heads: signatures, records that must match, and the client cache against rollback, fork,
//! truncation and expiry.

use std::collections::BTreeSet;

use super::*;

fn ids(records: &[&SignedRecord]) -> BTreeSet<RecordId> {
    records.iter().map(|r| r.id()).collect()
}

fn head_over(
    k: &SigningKey,
    previous: Option<&Head>,
    ids: &BTreeSet<RecordId>,
    now: &str,
) -> SignedHead {
    let head = Head::next(previous, k.public_key(), ids, at(now), 30);
    SignedHead::sign(head, k).expect("valid head")
}

#[test]
fn heads_round_trip_and_refuse_any_change() {
    let k = key(1);
    let r = reviewed(&k, "a", "1.0.0");
    let head = head_over(&k, None, &ids(&[&r]), "2025-03-01T00:00:00Z");
    assert_eq!(head.head().sequence, 1);
    assert_eq!(head.head().expires, at("2025-03-31T00:00:00Z"));
    let text = head.to_json();
    assert_eq!(SignedHead::from_json(&text), Ok(head.clone()));
    for (field, value) in [
        ("sequence", serde_json::json!(2)),
        ("count", serde_json::json!(2)),
        ("expires", serde_json::json!("2099-01-01T00:00:00Z")),
        ("records-hash", serde_json::json!(OTHER_CHECKSUM)),
    ] {
        let mut json: serde_json::Value = serde_json::from_str(&text).expect("json");
        json[field] = value;
        assert!(
            matches!(
                SignedHead::from_json(&json.to_string()),
                Err(Rejection::BadSignature { .. })
            ),
            "{field}"
        );
    }
    let mut json: serde_json::Value = serde_json::from_str(&text).expect("json");
    json["extra"] = 1.into();
    assert!(matches!(
        SignedHead::from_json(&json.to_string()),
        Err(Rejection::Malformed(_))
    ));
    // A record's signature can never pass for a head's: the signed bytes have other tags.
    let head_bytes = super::super::encoding::head_bytes(head.head());
    assert!(head_bytes.starts_with(b"cargo-audit-trust signed head\n"));
}

#[test]
fn served_records_must_be_exactly_the_covered_ones() {
    let k = key(1);
    let (a, b, c) = (
        reviewed(&k, "a", "1.0.0"),
        reviewed(&k, "b", "1.0.0"),
        reviewed(&k, "c", "1.0.0"),
    );
    let head = head_over(&k, None, &ids(&[&a, &b]), "2025-03-01T00:00:00Z");
    assert_eq!(head.check_records(&ids(&[&b, &a])), Ok(()));
    for served in [ids(&[&a]), ids(&[&a, &b, &c]), ids(&[&a, &c])] {
        assert!(matches!(
            head.check_records(&served),
            Err(Rejection::RecordsDoNotMatchHead { head_count: 2, .. })
        ));
    }
    assert_eq!(head.check_not_expired(at("2025-03-30T23:59:59Z")), Ok(()));
    assert!(matches!(
        head.check_not_expired(at("2025-03-31T00:00:00Z")),
        Err(Rejection::HeadExpired { .. })
    ));
}

#[test]
fn the_cache_catches_rollback_fork_and_truncation() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = HeadCache::new(dir.path());
    let source = "folder:/project/sign-offs";
    let k = key(1);
    let (a, b, flag) = (
        reviewed(&k, "a", "1.0.0"),
        reviewed(&k, "b", "1.0.0"),
        reviewed(&k, "c", "1.0.0"),
    );
    let set1 = ids(&[&a, &b]);
    let h1 = head_over(&k, None, &set1, "2025-03-01T00:00:00Z");
    let set2 = ids(&[&a, &b, &flag]);
    let h2 = head_over(&k, Some(h1.head()), &set2, "2025-03-02T00:00:00Z");
    let check = |head: &SignedHead, set: &BTreeSet<RecordId>| {
        cache
            .check_and_remember(source, head, set)
            .expect("cache usable")
    };

    assert_eq!(check(&h1, &set1), Ok(()));
    assert_eq!(check(&h1, &set1), Ok(()), "the same head again is fine");
    assert_eq!(check(&h2, &set2), Ok(()));
    // A stale mirror serves head 1 again, hiding the new record.
    assert_eq!(
        check(&h1, &set1),
        Err(Rejection::HeadRollback {
            key: k.public_key(),
            seen: 2,
            served: 1
        })
    );
    // Another head #2 (say, with the flag swapped for something else) is a fork.
    let other = reviewed(&k, "d", "1.0.0");
    let set2b = ids(&[&a, &b, &other]);
    let h2b = head_over(&k, Some(h1.head()), &set2b, "2025-03-02T00:00:00Z");
    assert_eq!(
        check(&h2b, &set2b),
        Err(Rejection::HeadFork {
            key: k.public_key(),
            sequence: 2
        })
    );
    // A newer head that drops the flag seen under head 2 is a truncation.
    let set3 = ids(&[&a, &b, &other]);
    let h3 = head_over(&k, Some(h2.head()), &set3, "2025-03-03T00:00:00Z");
    assert_eq!(
        check(&h3, &set3),
        Err(Rejection::HeadTruncation {
            key: k.public_key(),
            seen: 2,
            served: 3,
            missing: 1
        })
    );
    // Heads are remembered per source: another project's store starts its own numbering.
    assert!(matches!(
        cache.check_and_remember("folder:/other/sign-offs", &h1, &set1),
        Ok(Ok(()))
    ));
    // A damaged cache entry fails closed.
    for entry in std::fs::read_dir(dir.path().join("heads-v1")).expect("list") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            std::fs::write(&path, "{").expect("damage");
        }
    }
    assert!(cache.check_and_remember(source, &h2, &set2).is_err());
}

#[test]
fn sequence_numbers_stop_at_i64_max() {
    use sha2::Digest as _;
    let k = key(1);
    let set = ids(&[&reviewed(&k, "a", "1.0.0")]);
    let mut top = Head::next(None, k.public_key(), &set, at("2025-03-01T00:00:00Z"), 30);
    top.sequence = super::super::head::MAX_SEQUENCE;
    assert_eq!(super::super::head::MAX_SEQUENCE, i64::MAX as u64);
    let signed = SignedHead::sign(top.clone(), &k).expect("the highest number is valid");
    assert_eq!(SignedHead::from_json(&signed.to_json()), Ok(signed.clone()));
    // The signer never makes a head past it...
    let next = Head::next(
        Some(&top),
        k.public_key(),
        &set,
        at("2025-03-02T00:00:00Z"),
        30,
    );
    let err = SignedHead::sign(next, &k).expect_err("past the highest number");
    assert!(err.contains("at most 9223372036854775807"), "{err}");
    // ...and a reader refuses one, correctly signed or not: a registry stores the number as a
    // signed 64-bit integer and must not clamp it.
    for sequence in [1u64 << 63, u64::MAX, 0] {
        let mut head = top.clone();
        head.sequence = sequence;
        let bytes = super::super::encoding::head_bytes(&head);
        let mut json: serde_json::Value = serde_json::from_str(&signed.to_json()).expect("json");
        json["sequence"] = sequence.into();
        json["signature"] = k.sign(&bytes).to_string().into();
        json["id"] = super::super::hex(&sha2::Sha256::digest(&bytes)).into();
        match SignedHead::from_json(&json.to_string()) {
            Err(Rejection::Malformed(m)) => assert!(m.contains("`sequence` must be"), "{m}"),
            other => panic!("{sequence}: {other:?}"),
        }
    }
}
