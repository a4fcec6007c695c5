//! The transparency log on SQLite and PostgreSQL: every stored record is in a signed checkpoint,
//! crate answers carry proofs a client verifies on its own, a withheld record or a rolled-back
//! or forked checkpoint is caught, malformed proof requests get 4xx, and two registry instances
//! appending to one database keep one log.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use audit_registry::db::Db;
use audit_registry::{AppState, Limits};
use audit_trust_core::signoff::{RecordId, SignedRecord};
use audit_trust_core::time::{Clock, FixedClock};
use audit_trust_core::tlog::{Checkpoint, LogAnswer};
use axum::http::StatusCode;
use serde_json::{Value, json};
use support::*;

async fn publish_ok(
    reg: &Registry,
    records: &[&SignedRecord],
    head: &audit_trust_core::signoff::SignedHead,
) {
    let (status, body) = reg.publish(records, head).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn answers_carry_proofs_that_verify_and_catch_a_withheld_record() {
    for (backend, reg) in backends(Limits::default()).await {
        let (alice, bob) = (key(), key());
        reg.register("alice", &alice).await;
        reg.register("bob", &bob).await;
        let a1 = signoff(&alice, "serde", "1.0.0");
        let a2 = signoff(&alice, "tokio", "1.0.0");
        let ha = head(&alice, None, &[&a1, &a2]);
        publish_ok(&reg, &[&a1, &a2], &ha).await;
        let pin = pin(&reg).await;

        let (status, body) = reg.send("GET", "/v1/crates/serde", "").await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        let answer = LogAnswer::from_json(&body["log"]).expect("well formed");
        let served = BTreeMap::from([("serde".to_owned(), served_ids(&body))]);
        let first = answer
            .verify(&pin, None, &served)
            .expect("verifies")
            .checkpoint;
        assert_eq!(first.size, 2, "{backend}");

        // A flag arrives; a client that cached the first checkpoint sends its size.
        let flag = signoff(&bob, "serde", "1.0.0");
        let hb = head(&bob, None, &[&flag]);
        publish_ok(&reg, &[&flag], &hb).await;
        let query = json!({ "crates": { "serde": null, "rand": null }, "log_size": first.size });
        let (status, body) = reg.send("POST", "/v1/crates", query.to_string()).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        let answer = LogAnswer::from_json(&body["log"]).expect("well formed");
        let mut served: BTreeMap<String, BTreeSet<RecordId>> = BTreeMap::new();
        for name in ["serde", "rand"] {
            served.insert(name.into(), served_ids(&body["crates"][name]));
        }
        let second = answer
            .verify(&pin, Some(&first), &served)
            .expect("verifies")
            .checkpoint;
        assert_eq!(second.size, 3);

        // The registry leaves the flag out of the records: caught.
        let mut withheld = served.clone();
        withheld.insert("serde".into(), BTreeSet::from([a1.id()]));
        assert_eq!(
            answer
                .verify(&pin, Some(&first), &withheld)
                .map_err(|e| e.code()),
            Err("withheld-record"),
            "{backend}"
        );
        // Or out of the proofs too.
        let mut cut = body["log"].clone();
        let entries = cut["crates"]["serde"]["entries"]
            .as_array_mut()
            .expect("entries");
        entries.retain(|e| e["record_id"] != flag.id().to_string());
        let cut = LogAnswer::from_json(&cut).expect("well formed");
        assert_eq!(
            cut.verify(&pin, Some(&first), &withheld)
                .map_err(|e| e.code()),
            Err("withheld-record"),
            "{backend}"
        );
        // A client that saw the newer checkpoint is not taken back to the older one.
        let rolled_back = LogAnswer {
            checkpoint: first_note(&reg, &first).await,
            crates: BTreeMap::new(),
            consistency: None,
            index_proven: None,
        };
        assert_eq!(
            rolled_back
                .verify(&pin, Some(&second), &BTreeMap::new())
                .map_err(|e| e.code()),
            Err("log-rollback"),
            "{backend}"
        );
    }
}

/// The note of `checkpoint` as the registry signed it (from the stored checkpoints).
async fn first_note(reg: &Registry, checkpoint: &Checkpoint) -> String {
    reg.state
        .db
        .checkpoint_note(checkpoint.size)
        .await
        .expect("read")
        .expect("stored")
}

#[tokio::test]
async fn checkpoint_and_consistency_endpoints_answer_and_refuse_malformed_requests() {
    for (backend, reg) in backends(Limits::default()).await {
        let alice = key();
        reg.register("alice", &alice).await;
        let pin = pin(&reg).await;
        let mut previous = None;
        let mut all = Vec::new();
        let mut notes = Vec::new();
        for i in 0..5 {
            let r = signoff(&alice, &format!("crate{i}"), "1.0.0");
            all.push(r);
            let refs: Vec<&SignedRecord> = all.iter().collect();
            let h = head(&alice, previous.as_ref(), &refs);
            publish_ok(&reg, &[all.last().expect("one")], &h).await;
            previous = Some(h);
            let (status, headers, _) = reg.send_with("GET", "/v1/log/checkpoint", &[], "").await;
            assert_eq!(status, StatusCode::OK);
            assert!(
                headers["content-type"]
                    .to_str()
                    .unwrap_or("")
                    .starts_with("text/plain")
            );
            notes.push(
                reg.state
                    .db
                    .checkpoint_note(i + 1)
                    .await
                    .expect("read")
                    .expect("stored"),
            );
        }
        let checkpoints: Vec<Checkpoint> = notes
            .iter()
            .map(|n| {
                audit_trust_core::tlog::verify_checkpoint(&pin, n)
                    .expect("verifies")
                    .checkpoint
            })
            .collect();
        for from in 0..=5u64 {
            let (status, body) = reg
                .send("GET", &format!("/v1/log/consistency?from={from}"), "")
                .await;
            assert_eq!(status, StatusCode::OK, "{backend}: {body}");
            let answer = LogAnswer {
                checkpoint: notes[4].clone(),
                crates: BTreeMap::new(),
                consistency: Some((from, proof_of(&body))),
                index_proven: None,
            };
            let seen = from.checked_sub(1).map(|i| &checkpoints[i as usize]);
            answer
                .verify(&pin, seen, &BTreeMap::new())
                .expect("consistent");
        }
        for bad in [
            "/v1/log/consistency",
            "/v1/log/consistency?from=abc",
            "/v1/log/consistency?from=-1",
            "/v1/log/consistency?from=6",
            "/v1/log/consistency?from=99999999999999999999",
            "/v1/log/consistency?from=3&to=x",
            "/v1/crates/crate1?log_size=7",
            "/v1/crates/crate1?log_size=a",
        ] {
            let (status, body) = reg.send("GET", bad, "").await;
            assert!(status.is_client_error(), "{backend} {bad}: {status} {body}");
        }
        let (status, _) = reg
            .send(
                "POST",
                "/v1/crates",
                json!({"crates": {"crate1": null}, "log_size": 9}).to_string(),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}");
        // Still up and answering.
        let (status, _) = reg.send("GET", "/v1/log/checkpoint", "").await;
        assert_eq!(status, StatusCode::OK);
        // The checkpoint is read from the database, not from the in-memory log that appends
        // (and a starting process's catch-up) hold for as long as they run: with the log held
        // here, a read that waited for it would never finish (the bound only turns that hang
        // into a failure).
        let held = reg.state.db.log_state().await.expect("log");
        let read = tokio::time::timeout(
            std::time::Duration::from_secs(60),
            reg.get_text("/v1/log/checkpoint"),
        )
        .await;
        drop(held);
        let (status, note) = read.expect("the checkpoint read waited for the log");
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert_eq!(note, notes[4], "{backend}");
    }
}

fn proof_of(body: &Value) -> Vec<audit_trust_core::tlog::Hash> {
    let log = json!({ "checkpoint": "", "crates": {}, "consistency": { "from": 0, "proof": body["proof"] } });
    LogAnswer::from_json(&log)
        .expect("hashes")
        .consistency
        .map(|(_, p)| p)
        .unwrap_or_default()
}

/// Two instances on one database (each with its own copy of the tree) append concurrently:
/// one log, no entry lost or repeated, every crate's answer verifies from either instance.
#[tokio::test(flavor = "multi_thread")]
async fn two_instances_append_to_one_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut urls = vec![format!("sqlite://{}", dir.path().join("r.db").display())];
    if let Ok(base) = std::env::var("AUDIT_REGISTRY_TEST_POSTGRES") {
        urls.push(fresh_schema(&base).await);
    }
    for url in urls {
        let clock = Arc::new(FixedClock(now())) as Arc<dyn Clock>;
        let one = Registry::from_state(AppState::new(
            Db::connect(&url).await.expect("connect"),
            Limits::default(),
            clock.clone(),
        ));
        let two = Registry::from_state(AppState::new(
            Db::connect(&url).await.expect("connect"),
            Limits::default(),
            clock,
        ));
        // Four keys per instance: publishes of different keys overlap in one process too
        // (each key's publishes go one at a time; the log's sequencer orders the appends).
        let keys: Vec<_> = (0..8).map(|_| key()).collect();
        for (i, k) in keys.iter().enumerate() {
            one.register(&format!("a{i}"), k).await;
        }
        let one = Arc::new(one);
        let two = Arc::new(two);
        let mut tasks = Vec::new();
        for (i, k) in keys.into_iter().enumerate() {
            let reg = if i % 2 == 0 {
                Arc::clone(&one)
            } else {
                Arc::clone(&two)
            };
            tasks.push(tokio::spawn(async move {
                let mut all: Vec<SignedRecord> = Vec::new();
                let mut previous = None;
                for n in 0..6 {
                    all.push(signoff(
                        &k,
                        &format!("shared{}", n % 3),
                        &format!("1.{i}.{n}"),
                    ));
                    let refs: Vec<&SignedRecord> = all.iter().collect();
                    let h = head(&k, previous.as_ref(), &refs);
                    let (status, body) = reg.publish(&[all.last().expect("one")], &h).await;
                    assert_eq!(status, StatusCode::OK, "{body}");
                    previous = Some(h);
                }
            }));
        }
        for t in tasks {
            t.await.expect("publisher");
        }
        for reg in [&one, &two] {
            let pin = pin(reg).await;
            let query = json!({ "crates": { "shared0": null, "shared1": null, "shared2": null } });
            let (status, body) = reg.send("POST", "/v1/crates", query.to_string()).await;
            assert_eq!(status, StatusCode::OK, "{url}: {body}");
            let answer = LogAnswer::from_json(&body["log"]).expect("well formed");
            let mut served = BTreeMap::new();
            for name in ["shared0", "shared1", "shared2"] {
                let ids = served_ids(&body["crates"][name]);
                assert_eq!(ids.len(), 16, "{url}");
                served.insert(name.to_owned(), ids);
            }
            let verified = answer.verify(&pin, None, &served).expect("verifies");
            assert_eq!(verified.checkpoint.size, 48, "{url}");
        }
    }
}

/// A registry reopened (a restart, or a crash after acknowledging) shows the same log, and a
/// checkpoint it signed before is consistent with every later one.
#[tokio::test]
async fn the_log_survives_a_restart_and_only_grows() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("r.db").display());
    let clock = Arc::new(FixedClock(now())) as Arc<dyn Clock>;
    let alice = key();
    let r1 = signoff(&alice, "serde", "1.0.0");
    let h1 = head(&alice, None, &[&r1]);
    let (pin_before, note_before) = {
        let reg = Registry::from_state(AppState::new(
            Db::connect(&url).await.expect("connect"),
            Limits::default(),
            clock.clone(),
        ));
        reg.register("alice", &alice).await;
        publish_ok(&reg, &[&r1], &h1).await;
        let (_, body) = reg.send("GET", "/v1/crates/serde", "").await;
        (
            pin(&reg).await,
            body["log"]["checkpoint"].as_str().unwrap_or("").to_owned(),
        )
    };
    let reg = Registry::from_state(AppState::new(
        Db::connect(&url).await.expect("reconnect"),
        Limits::default(),
        clock,
    ));
    // A process on a stored log is not ready until it has loaded the log (`serve` starts
    // that at once; here the first answer with proofs does it), though it is alive.
    let (status, body) = reg.send("GET", "/ready", "").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["status"], "loading");
    assert_eq!(reg.send("GET", "/health", "").await.0, StatusCode::OK);
    assert_eq!(
        reg.send("GET", "/v1/crates/serde", "").await.0,
        StatusCode::OK
    );
    let (status, body) = reg.send("GET", "/ready", "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "ok");
    assert_eq!(pin(&reg).await.key, pin_before.key, "the log key is kept");
    let before = audit_trust_core::tlog::verify_checkpoint(&pin_before, &note_before)
        .expect("verifies")
        .checkpoint;
    let r2 = signoff(&alice, "serde", "1.0.1");
    let h2 = head(&alice, Some(&h1), &[&r1, &r2]);
    publish_ok(&reg, &[&r2], &h2).await;
    let (_, body) = reg
        .send(
            "GET",
            &format!("/v1/crates/serde?log_size={}", before.size),
            "",
        )
        .await;
    let answer = LogAnswer::from_json(&body["log"]).expect("well formed");
    let served = BTreeMap::from([("serde".to_owned(), served_ids(&body))]);
    let after = answer
        .verify(&pin_before, Some(&before), &served)
        .expect("consistent");
    assert_eq!(after.checkpoint.size, 2);
}
