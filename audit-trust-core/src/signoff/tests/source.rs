//! Verifying a local store as a source: heads, pins, revocations, and a store rolled back to an
//! earlier state.

use super::*;
use crate::audit_file::Auditor;
use crate::time::Timestamp;

const LIFETIME_DAYS: i64 = 30;

fn now() -> Timestamp {
    at("2025-03-01T12:00:00Z")
}

struct World {
    dir: tempfile::TempDir,
    cache_dir: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        World {
            dir: tempfile::tempdir().expect("temp dir"),
            cache_dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn store(&self) -> LocalStore {
        LocalStore::new(self.dir.path())
    }

    fn append(&self, records: &[SignedRecord], k: &SigningKey) {
        self.store()
            .append(records, k, now(), LIFETIME_DAYS)
            .expect("append");
    }

    fn verify(&self, auditors: &[&Auditor], at: Timestamp) -> VerifiedSource {
        let contents = self.store().read().expect("read");
        let cache = HeadCache::new(self.cache_dir.path());
        verify_source(
            contents,
            self.dir.path(),
            auditors,
            "folder:test",
            &cache,
            at,
        )
        .unwrap_or_else(|e| panic!("cache unusable: {e}"))
    }

    /// Every file of the store, to put back later (a rollback).
    fn snapshot(&self) -> Vec<(std::path::PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        for sub in ["crates", "heads"] {
            for entry in std::fs::read_dir(self.dir.path().join(sub)).expect("list") {
                let path = entry.expect("entry").path();
                let bytes = std::fs::read(&path).expect("read");
                out.push((path, bytes));
            }
        }
        out
    }

    fn restore(&self, snapshot: &[(std::path::PathBuf, Vec<u8>)]) {
        for sub in ["crates", "heads"] {
            std::fs::remove_dir_all(self.dir.path().join(sub)).expect("clear");
            std::fs::create_dir_all(self.dir.path().join(sub)).expect("create");
        }
        for (path, bytes) in snapshot {
            std::fs::write(path, bytes).expect("write");
        }
    }
}

fn codes(v: &VerifiedSource) -> Vec<&'static str> {
    v.rejected.iter().map(|r| r.rejection.code()).collect()
}

fn accepted_ids(v: &VerifiedSource) -> Vec<RecordId> {
    v.accepted.iter().map(|a| a.record.id()).collect()
}

#[test]
fn a_consistent_store_is_accepted_for_the_auditor_that_pins_its_key() {
    let w = World::new();
    let (k, stranger) = (key(1), key(9));
    let r = reviewed(&k, "serde", "1.0.0");
    w.append(std::slice::from_ref(&r), &k);
    w.append(&[reviewed(&stranger, "serde", "1.0.1")], &stranger);
    let team = auditor(vec![pin(&k)]);
    let v = w.verify(&[&team], now());
    assert_eq!(accepted_ids(&v), [r.id()]);
    assert_eq!(v.accepted[0].auditor, "team");
    assert_eq!(codes(&v), ["key-not-pinned"]);
}

#[test]
fn withheld_added_or_unheaded_records_reject_the_key_s_records() {
    let w = World::new();
    let k = key(1);
    let team = auditor(vec![pin(&k)]);
    w.append(
        &[reviewed(&k, "a", "1.0.0"), reviewed(&k, "b", "1.0.0")],
        &k,
    );
    // Withhold b: a no longer counts either.
    let b_file = w.dir.path().join("crates/b.jsonl");
    let b_line = std::fs::read(&b_file).expect("read");
    std::fs::remove_file(&b_file).expect("remove");
    let v = w.verify(&[&team], now());
    assert!(v.accepted.is_empty());
    assert_eq!(codes(&v), ["records-do-not-match-head"]);
    std::fs::write(&b_file, b_line).expect("restore");
    assert_eq!(w.verify(&[&team], now()).accepted.len(), 2);
    // A record the head does not cover (a crash between the two writes, or an injection).
    let extra = reviewed(&k, "c", "1.0.0").to_json_line();
    std::fs::write(w.dir.path().join("crates/c.jsonl"), format!("{extra}\n")).expect("write");
    let v = w.verify(&[&team], now());
    assert_eq!(codes(&v), ["records-do-not-match-head"; 3]);
    // The next append signs a head over everything present: repaired.
    w.append(&[reviewed(&k, "d", "1.0.0")], &k);
    assert_eq!(w.verify(&[&team], now()).accepted.len(), 4);
    // No head at all.
    std::fs::remove_dir_all(w.dir.path().join("heads")).expect("remove");
    assert_eq!(codes(&w.verify(&[&team], now())), ["no-head"; 4]);
}

#[test]
fn an_expired_head_rejects_everything_of_its_key() {
    let w = World::new();
    let k = key(1);
    let team = auditor(vec![pin(&k)]);
    w.append(&[reviewed(&k, "a", "1.0.0")], &k);
    assert_eq!(w.verify(&[&team], now().plus_days(29)).accepted.len(), 1);
    assert_eq!(
        codes(&w.verify(&[&team], now().plus_days(30))),
        ["head-expired"]
    );
}

#[test]
fn a_store_rolled_back_to_hide_a_flag_is_caught_by_the_cache() {
    let w = World::new();
    let k = key(1);
    let team = auditor(vec![pin(&k)]);
    w.append(&[reviewed(&k, "a", "1.0.0")], &k);
    let before_flag = w.snapshot();
    assert_eq!(w.verify(&[&team], now()).accepted.len(), 1);
    let flag = SignedRecord::sign(
        Record {
            key: k.public_key(),
            created: now(),
            statement: Statement::Flag {
                subject: crate_subject("a", "1.0.0"),
                reason: "malware".into(),
                notes: None,
            },
        },
        &k,
    )
    .expect("valid");
    w.append(&[flag], &k);
    assert_eq!(
        w.verify(&[&team], now()).accepted.len(),
        2,
        "the cache saw head #2"
    );
    w.restore(&before_flag);
    let v = w.verify(&[&team], now());
    assert!(v.accepted.is_empty());
    assert_eq!(codes(&v), ["head-rollback"]);
    // Dropping the key's records and head altogether is a rollback too.
    std::fs::remove_dir_all(w.dir.path().join("crates")).expect("remove");
    std::fs::remove_dir_all(w.dir.path().join("heads")).expect("remove");
    let v = w.verify(&[&team], now());
    assert_eq!(codes(&v), ["head-rollback"]);
}

#[test]
fn revocations_withdraw_records_of_the_same_key_and_pins_are_enforced() {
    let w = World::new();
    let (k, bot) = (key(1), key(2));
    let target = reviewed(&k, "a", "1.0.0");
    let revoke_with = |signer: &SigningKey| {
        SignedRecord::sign(
            Record {
                key: signer.public_key(),
                created: now(),
                statement: Statement::Revocation {
                    revokes: target.id(),
                    reason: "mistake".into(),
                },
            },
            signer,
        )
        .expect("valid")
    };
    let revocation = revoke_with(&bot);
    w.append(std::slice::from_ref(&target), &k);
    // `append` refuses to store it; whoever holds the bot key can still write the line and sign
    // a head over it.
    plant(&w.store(), &revocation, &bot);
    // Same auditor, another key: a stolen second key (a CI or bot key) must not withdraw what
    // the first signed, a flag above all. The record stays.
    let team = auditor(vec![pin(&k), pin(&bot)]);
    let v = w.verify(&[&team], now());
    let mut ids = accepted_ids(&v);
    ids.sort();
    let mut expected = vec![target.id(), revocation.id()];
    expected.sort();
    assert_eq!(ids, expected);
    assert!(v.revoked.is_empty());
    // The key that signed it can.
    let own = revoke_with(&k);
    w.append(std::slice::from_ref(&own), &k);
    let v = w.verify(&[&team], now());
    assert!(
        v.rejected.is_empty(),
        "a revocation is history, not a failure"
    );
    assert_eq!(v.revoked.len(), 1);
    assert_eq!(
        (v.revoked[0].record.id(), v.revoked[0].by),
        (target.id(), own.id())
    );
    // The bot key belongs to another auditor: it cannot revoke the team's record.
    let mut team_only = auditor(vec![pin(&k)]);
    team_only.name = "team".into();
    let mut bots = auditor(vec![pin(&bot)]);
    bots.name = "bots".into();
    let fresh = World::new();
    fresh.append(std::slice::from_ref(&target), &k);
    plant(&fresh.store(), &revocation, &bot);
    let v = fresh.verify(&[&team_only, &bots], now());
    assert_eq!(v.accepted.len(), 2);
    assert!(v.rejected.is_empty());
    // A key limited to source-matches cannot carry a `reviewed` sign-off.
    let mut limited = pin(&k);
    limited.criteria = Some(vec![Criterion::SourceMatches]);
    let v = w.verify(&[&auditor(vec![limited, pin(&bot)])], now());
    assert!(
        codes(&v).contains(&"criterion-not-allowed"),
        "{:?}",
        codes(&v)
    );
}

#[test]
fn two_branches_that_both_signed_are_reconciled_by_a_fresh_head() {
    // The documented merge workflow: each branch appended a record and a head #2; after the git
    // merge the folder holds both records and one of the heads. That head does not cover the
    // other branch's record, so nothing counts until `refresh-head` signs #3 over the union.
    let w = World::new();
    let k = key(1);
    let team = auditor(vec![pin(&k)]);
    w.append(&[reviewed(&k, "base", "1.0.0")], &k);
    let base = w.snapshot();
    let (a, b) = (reviewed(&k, "a", "1.0.0"), reviewed(&k, "b", "1.0.0"));
    w.append(std::slice::from_ref(&a), &k);
    let branch_a = w.snapshot();
    w.restore(&base);
    w.append(std::slice::from_ref(&b), &k);
    // CI on branch b saw its head #2.
    assert_eq!(w.verify(&[&team], now()).accepted.len(), 2);
    // The merge keeps branch a's head file and gains a's crate file.
    for (path, bytes) in &branch_a {
        if path.ends_with("a.jsonl") || path.parent().is_some_and(|p| p.ends_with("heads")) {
            std::fs::write(path, bytes).expect("write");
        }
    }
    let codes_after_merge = codes(&w.verify(&[&team], now()));
    assert!(
        codes_after_merge
            .iter()
            .all(|c| *c == "records-do-not-match-head"),
        "{codes_after_merge:?}"
    );
    w.append(&[], &k);
    let v = w.verify(&[&team], now());
    assert_eq!(v.accepted.len(), 3, "{:?}", codes(&v));
    assert!(v.rejected.is_empty());
}

fn unverified_codes(v: &VerifiedSource) -> Vec<(&str, &'static str)> {
    v.unverified
        .iter()
        .map(|u| (u.auditor.as_str(), u.rejection.code()))
        .collect()
}

#[test]
fn a_log_that_fails_as_a_whole_is_reported_as_unverified_not_only_rejected() {
    let w = World::new();
    let k = key(1);
    let team = auditor(vec![pin(&k)]);
    w.append(&[reviewed(&k, "a", "1.0.0")], &k);
    let v = w.verify(&[&team], now());
    assert!(v.unverified.is_empty(), "{:?}", unverified_codes(&v));
    // One record withheld: the whole log is unverified, naming the key and the source.
    let file = w.dir.path().join("crates/a.jsonl");
    let line = std::fs::read(&file).expect("read");
    std::fs::write(&file, "").expect("empty");
    let v = w.verify(&[&team], now());
    assert_eq!(
        unverified_codes(&v),
        [("team", "records-do-not-match-head")]
    );
    assert_eq!(v.unverified[0].key, k.public_key());
    assert_eq!(v.unverified[0].source, "folder:test");
    std::fs::write(&file, line).expect("restore");
    // An expired head is unverified too: nothing says what was added since.
    let v = w.verify(&[&team], now().plus_days(LIFETIME_DAYS));
    assert_eq!(unverified_codes(&v), [("team", "head-expired")]);
}

#[test]
fn a_garbage_head_is_never_nothing_served_even_with_a_fresh_cache() {
    let w = World::new();
    let k = key(1);
    let team = auditor(vec![pin(&k)]);
    w.append(&[reviewed(&k, "a", "1.0.0")], &k);
    let head_file = w
        .dir
        .path()
        .join("heads")
        .join(format!("{}.json", k.public_key().hex()));
    std::fs::write(&head_file, "{not a head").expect("garble");
    // With the records still there.
    let v = World {
        dir: tempfile::tempdir().expect("temp dir"),
        cache_dir: tempfile::tempdir().expect("temp dir"),
    };
    copy_store(w.dir.path(), v.dir.path());
    let verified = v.verify(&[&team], now());
    assert!(verified.accepted.is_empty());
    assert_eq!(unverified_codes(&verified), [("team", "unreadable-head")]);
    // With every record deleted as well: still not a key that never signed anything.
    std::fs::remove_dir_all(v.dir.path().join("crates")).expect("remove");
    let verified = v.verify(&[&team], now());
    assert_eq!(unverified_codes(&verified), [("team", "unreadable-head")]);
}

#[test]
fn an_older_head_is_a_rollback_even_when_the_records_do_not_match_it() {
    // A mirror keeps every record it was ever sent; a source that then serves an older head
    // leaves records that head does not cover. The cause is the rollback, and it is named so.
    let w = World::new();
    let k = key(1);
    let team = auditor(vec![pin(&k)]);
    w.append(&[reviewed(&k, "a", "1.0.0")], &k);
    let first_head = w.snapshot();
    w.append(&[reviewed(&k, "b", "1.0.0")], &k);
    assert_eq!(w.verify(&[&team], now()).accepted.len(), 2);
    for (path, bytes) in &first_head {
        if path.parent().is_some_and(|p| p.ends_with("heads")) {
            std::fs::write(path, bytes).expect("write");
        }
    }
    let v = w.verify(&[&team], now());
    assert_eq!(unverified_codes(&v), [("team", "head-rollback")]);
}

#[test]
fn only_logs_of_relevant_auditors_fail_a_project() {
    let w = World::new();
    let k = key(1);
    let team = auditor(vec![pin(&k)]);
    w.append(&[reviewed(&k, "a", "1.0.0")], &k);
    std::fs::remove_dir_all(w.dir.path().join("heads")).expect("remove");
    let v = w.verify(&[&team], now());
    let records = ProjectRecords {
        unverified: v.unverified,
        ..ProjectRecords::default()
    };
    assert!(records.require_verified_logs(|_| false).is_ok());
    let err = records
        .require_verified_logs(|name| name == "team")
        .expect_err("the team covers something")
        .to_string();
    assert!(
        err.contains("auditor `team`")
            && err.contains(&k.public_key().to_string())
            && err.contains("folder:test")
            && err.contains("[no-head]"),
        "{err}"
    );
}

fn copy_store(from: &std::path::Path, to: &std::path::Path) {
    for sub in ["crates", "heads"] {
        std::fs::create_dir_all(to.join(sub)).expect("mkdir");
        for entry in std::fs::read_dir(from.join(sub)).expect("list") {
            let path = entry.expect("entry").path();
            let name = path.file_name().expect("name");
            std::fs::copy(&path, to.join(sub).join(name)).expect("copy");
        }
    }
}

/// Writes `record` and a head of its key over it, as someone holding `key` can by hand.
fn plant(store: &LocalStore, record: &SignedRecord, key: &SigningKey) {
    let ids = std::collections::BTreeSet::from([record.id()]);
    let head = Head::next(None, key.public_key(), &ids, now(), LIFETIME_DAYS);
    let head = SignedHead::sign(head, key).expect("sign head");
    store
        .import(std::slice::from_ref(record), Some(&head))
        .expect("import");
}
