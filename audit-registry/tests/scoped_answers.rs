//! `POST /v1/crates` scoped to versions (what `check` asks), on SQLite and PostgreSQL: a crate's
//! answer serves only the records filed under the versions asked and those their delta
//! sign-offs start from, a revocation is filed where its record is, the version proofs verify
//! against the signed checkpoint, a client naming its auditors' keys gets only their records,
//! a monitor replaying the log agrees with the index the
//! registry signed, and malformed version lists get 400.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use audit_registry::db::Db;
use audit_registry::{AppState, Limits};
use audit_trust_core::signoff::{
    Criterion, DeltaBase, Record, RecordId, SignedRecord, SigningKey, Statement, Subject,
};
use audit_trust_core::time::{Clock, FixedClock};
use audit_trust_core::tlog::{LogAnswer, Replay, ServedEntry, VersionQuery, key_bucket};
use axum::http::StatusCode;
use serde_json::json;
use support::*;

fn delta(key: &SigningKey, name: &str, from: &str, to: &str) -> SignedRecord {
    let record = Record {
        key: key.public_key(),
        created: now(),
        statement: Statement::SignOff {
            subject: Subject::Crate {
                name: name.into(),
                version: to.parse().expect("version"),
                checksum: "cd".repeat(32),
            },
            criteria: vec![Criterion::Reviewed],
            delta_from: Some(DeltaBase {
                version: from.parse().expect("version"),
                checksum: "ab".repeat(32),
            }),
            notes: None,
            source: None,
        },
    };
    SignedRecord::sign(record, key).expect("valid")
}

#[tokio::test]
async fn a_scoped_answer_serves_the_asked_versions_and_their_delta_bases_with_proofs() {
    for (backend, reg) in backends(Limits::default()).await {
        let (alice, bob) = (key(), key());
        reg.register("alice", &alice).await;
        reg.register("bob", &bob).await;
        let full = signoff(&alice, "serde", "1.0.0");
        let step = delta(&alice, "serde", "1.0.0", "1.0.1");
        let later = signoff(&alice, "serde", "1.0.2");
        let other = signoff(&alice, "tokio", "1.0.0");
        let ha = head(&alice, None, &[&full, &step, &later, &other]);
        let (status, body) = reg.publish(&[&full, &step, &later, &other], &ha).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        let bobs = signoff(&bob, "serde", "1.0.1");
        let withdrawn = revocation(&alice, &full);
        let hb = head(&bob, None, &[&bobs]);
        assert_eq!(reg.publish(&[&bobs], &hb).await.0, StatusCode::OK);
        let ha2 = head(
            &alice,
            Some(&ha),
            &[&full, &step, &later, &other, &withdrawn],
        );
        assert_eq!(reg.publish(&[&withdrawn], &ha2).await.0, StatusCode::OK);

        let query = json!({
            "crates": { "serde": null, "tokio": null },
            "versions": { "serde": ["1.0.1"], "tokio": ["2.0.0"] },
        });
        let (status, body) = reg.send("POST", "/v1/crates", query.to_string()).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        let serde_ids = served_ids(&body["crates"]["serde"]);
        let expected: BTreeSet<RecordId> = [full.id(), step.id(), bobs.id(), withdrawn.id()].into();
        assert_eq!(
            serde_ids, expected,
            "{backend}: 1.0.1, its base 1.0.0, not 1.0.2"
        );
        assert!(
            served_ids(&body["crates"]["tokio"]).is_empty(),
            "{backend}: 2.0.0 has none"
        );

        // The same answer gzipped for a client that accepts it (what `check` sends), plain
        // JSON for one that does not (above).
        let (status, headers, _) = reg
            .send_with(
                "POST",
                "/v1/crates",
                &[("accept-encoding", "gzip")],
                query.to_string(),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            headers.get("content-encoding").map(|v| v.as_bytes()),
            Some(&b"gzip"[..]),
            "{backend}"
        );

        let answer = LogAnswer::from_json(&body["log"]).expect("well formed");
        let checkpoint = answer
            .verify(&pin(&reg).await, None, &BTreeMap::new())
            .expect("checkpoint verifies")
            .checkpoint;
        let (v101, v200) = (versions(&["1.0.1"]), versions(&["2.0.0"]));
        let every_key = |versions| VersionQuery {
            versions,
            keys: None,
        };
        let committed = answer
            .verify_crate(&checkpoint, "serde", &serde_ids, Some(every_key(&v101)))
            .expect("serde verifies");
        assert_eq!(ids(&committed), expected, "{backend}");
        let committed = answer
            .verify_crate(
                &checkpoint,
                "tokio",
                &BTreeSet::new(),
                Some(every_key(&v200)),
            )
            .expect("tokio 2.0.0 proven empty");
        assert!(committed.is_empty());
        // Without bob's record the answer is a withheld record.
        let mut short = serde_ids.clone();
        short.remove(&bobs.id());
        let err = answer
            .verify_crate(&checkpoint, "serde", &short, Some(every_key(&v101)))
            .expect_err("withheld");
        assert_eq!(err.code(), "withheld-record", "{backend}");

        // Asked for bob's key only: bob's record, and proofs that alice's are elsewhere.
        let bob_only = BTreeSet::from([key_bucket(&bob.public_key())]);
        let query = json!({
            "crates": { "serde": null },
            "versions": { "serde": ["1.0.1"] },
            "keys": bob_only,
        });
        let (status, body) = reg.send("POST", "/v1/crates", query.to_string()).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        let bob_ids = served_ids(&body["crates"]["serde"]);
        assert_eq!(bob_ids, BTreeSet::from([bobs.id()]), "{backend}");
        let answer = LogAnswer::from_json(&body["log"]).expect("well formed");
        let committed = answer
            .verify_crate(
                &checkpoint,
                "serde",
                &bob_ids,
                Some(VersionQuery {
                    versions: &v101,
                    keys: Some(&bob_only),
                }),
            )
            .expect("bob's part verifies");
        assert_eq!(ids(&committed), bob_ids, "{backend}");
        // The same answer does not do for a client that reads alice too.
        let both = BTreeSet::from([
            key_bucket(&bob.public_key()),
            key_bucket(&alice.public_key()),
        ]);
        assert!(
            answer
                .verify_crate(
                    &checkpoint,
                    "serde",
                    &bob_ids,
                    Some(VersionQuery {
                        versions: &v101,
                        keys: Some(&both),
                    }),
                )
                .is_err(),
            "{backend}"
        );

        // A monitor replaying the log files every entry where the registry did.
        let (status, entries) = reg.send("GET", "/v1/log/entries?start=0", "").await;
        assert_eq!(status, StatusCode::OK, "{entries}");
        let mut replay = Replay::new();
        for e in entries["entries"].as_array().expect("entries") {
            replay
                .push(&ServedEntry {
                    index: e["index"].as_u64().expect("index"),
                    crate_name: e["crate"].as_str().expect("crate").to_owned(),
                    ordinal: e["ordinal"].as_u64().expect("ordinal"),
                    record_id: RecordId::parse(e["record_id"].as_str().expect("id")).expect("id"),
                    record: e["record"].to_string(),
                })
                .expect("entry replays");
        }
        replay
            .check_checkpoint(&checkpoint)
            .expect("the replayed index is the signed one");

        for (bad, code) in [
            (
                json!({ "crates": { "serde": null }, "versions": { "serde": ["one"] } }),
                "bad-version",
            ),
            (
                json!({ "crates": { "serde": null }, "versions": { "tokio": ["1.0.0"] } }),
                "bad-json",
            ),
            (
                json!({ "crates": { "serde": null }, "versions": { "serde": "1.0.0" } }),
                "bad-json",
            ),
            (
                json!({ "crates": { "serde": null }, "versions": { "serde": ["1.0.0"] },
                        "keys": ["not a bucket"] }),
                "bad-json",
            ),
        ] {
            let (status, body) = reg.send("POST", "/v1/crates", bad.to_string()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}: {bad}: {body}");
            assert_eq!(codes(&body), code, "{backend}: {bad}");
        }
        let many: Vec<String> = (0..65).map(|i| format!("1.0.{i}")).collect();
        let (status, _) = reg
            .send(
                "POST",
                "/v1/crates",
                json!({ "crates": { "serde": null }, "versions": { "serde": many } }).to_string(),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}: 65 versions");
    }
}

/// A registry whose log was made before entries were filed under versions (no `log_filings`
/// rows) files them when it starts, and its next checkpoint proves scoped answers; on SQLite
/// and PostgreSQL (the filing is SQL over the stored JSON, so both dialects are checked).
#[tokio::test]
async fn a_log_from_before_version_trees_is_filed_on_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut urls = vec![format!("sqlite://{}", dir.path().join("r.db").display())];
    if let Ok(base) = std::env::var("AUDIT_REGISTRY_TEST_POSTGRES") {
        urls.push(fresh_schema(&base).await);
    }
    for url in urls {
        refiled_on_start(&url).await;
    }
}

async fn refiled_on_start(url: &str) {
    let clock = Arc::new(FixedClock(now())) as Arc<dyn Clock>;
    let alice = key();
    let full = signoff(&alice, "serde", "1.0.0");
    let step = delta(&alice, "serde", "1.0.0", "1.0.1");
    let withdrawn = revocation(&alice, &step);
    let h1 = head(&alice, None, &[&full, &step, &withdrawn]);
    let filed_before = {
        let reg = Registry::from_state(AppState::new(
            Db::connect(url).await.expect("connect"),
            Limits::default(),
            clock.clone(),
        ));
        reg.register("alice", &alice).await;
        let (status, body) = reg.publish(&[&full, &step, &withdrawn], &h1).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        filings(url).await
    };
    // What an older registry left: entries, no filings.
    let pool = sqlx::AnyPool::connect(url).await.expect("open");
    sqlx::query("DELETE FROM log_filings")
        .execute(&pool)
        .await
        .expect("delete");
    // ... and a checkpoint with the index line of before version trees.
    sqlx::query(
        "UPDATE log_checkpoints SET note = \
         REPLACE(note, 'audit-trust-crate-index-v3 ', 'audit-trust-crate-index-v2 ')",
    )
    .execute(&pool)
    .await
    .expect("old note");
    pool.close().await;

    let reg = Registry::from_state(AppState::new(
        Db::connect(url).await.expect("reconnect"),
        Limits::default(),
        clock,
    ));
    assert_eq!(
        filings(url).await,
        filed_before,
        "{url}: filed from the stored JSON as when published"
    );
    // Signed again at the same size, before any append, with this version's index line.
    let note = checkpoint_text(&reg).await;
    let resigned = audit_trust_core::tlog::verify_checkpoint(&pin(&reg).await, &note)
        .expect("the re-signed checkpoint verifies")
        .checkpoint;
    assert_eq!(resigned.size, 3, "{url}: the same tree");
    assert!(resigned.crate_index().is_ok(), "{url}: {note}");

    let later = signoff(&alice, "tokio", "1.0.0");
    let h2 = head(&alice, Some(&h1), &[&full, &step, &withdrawn, &later]);
    assert_eq!(reg.publish(&[&later], &h2).await.0, StatusCode::OK);
    let query = json!({ "crates": { "serde": null }, "versions": { "serde": ["1.0.1"] } });
    let (status, body) = reg.send("POST", "/v1/crates", query.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let served = served_ids(&body["crates"]["serde"]);
    let expected: BTreeSet<RecordId> = [full.id(), step.id(), withdrawn.id()].into();
    assert_eq!(
        served, expected,
        "the revocation is filed where its record is"
    );
    let answer = LogAnswer::from_json(&body["log"]).expect("well formed");
    let checkpoint = answer
        .verify(&pin(&reg).await, None, &BTreeMap::new())
        .expect("verifies")
        .checkpoint;
    let v101 = versions(&["1.0.1"]);
    let committed = answer
        .verify_crate(
            &checkpoint,
            "serde",
            &served,
            Some(VersionQuery {
                versions: &v101,
                keys: None,
            }),
        )
        .expect("the refiled log proves the scoped answer");
    assert_eq!(ids(&committed), expected);
}

fn versions(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|v| (*v).to_owned()).collect()
}

fn ids<V>(committed: &BTreeMap<RecordId, V>) -> BTreeSet<RecordId> {
    committed.keys().copied().collect()
}

/// Every filing row: (entry, version, delta base).
async fn filings(url: &str) -> Vec<(i64, String, Option<String>)> {
    use sqlx::Row as _;
    let pool = sqlx::AnyPool::connect(url).await.expect("open");
    let rows = sqlx::query("SELECT idx, version, delta_from FROM log_filings ORDER BY idx")
        .fetch_all(&pool)
        .await
        .expect("read");
    pool.close().await;
    rows.iter()
        .map(|r| {
            (
                r.try_get(0).expect("idx"),
                r.try_get(1).expect("version"),
                r.try_get(2).expect("delta"),
            )
        })
        .collect()
}

/// `GET /v1/log/checkpoint` as text.
async fn checkpoint_text(reg: &Registry) -> String {
    use tower::ServiceExt as _;
    let request = axum::http::Request::get("/v1/log/checkpoint")
        .body(axum::body::Body::empty())
        .expect("request");
    let response = audit_registry::router(reg.state.clone())
        .oneshot(request)
        .await
        .expect("infallible");
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    String::from_utf8(bytes.to_vec()).expect("text")
}
