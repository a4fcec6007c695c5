//! On SQLite and PostgreSQL: stored witness cosignatures are served appended to the checkpoint
//! in crate answers, the registry knows each witness's last cosigned size, and
//! `GET /v1/log/entries` serves every entry with its record (and 400 for a malformed range).

mod support;

use audit_trust_core::signoff::PublicKey;
use audit_trust_core::tlog::{LogPin, NoteKey, SignedNote, verify_checkpoint};
use axum::http::StatusCode;
use support::*;

#[tokio::test]
async fn cosignatures_are_served_with_the_checkpoint_and_entries_with_their_records() {
    for (backend, reg) in backends(audit_registry::Limits::default()).await {
        let alice = key();
        reg.register("alice", &alice).await;
        let r1 = signoff(&alice, "serde", "1.0.0");
        let (status, body) = reg.publish(&[&r1], &head(&alice, None, &[&r1])).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");

        let (_, key_body) = reg.send("GET", "/v1/log/key", "").await;
        let origin = key_body["origin"].as_str().expect("origin").to_owned();
        let log_key = PublicKey::parse(key_body["key"].as_str().expect("key")).expect("key");
        let witness_secret = key();
        let witness = NoteKey::new("w.example/w1", witness_secret.public_key()).expect("name");
        let pin = LogPin {
            origin: origin.clone(),
            key: NoteKey::new(&origin, log_key).expect("name"),
            witnesses: vec![witness.clone()],
            min_cosignatures: 1,
            cosigned_after: 0,
            cosigned_before: u64::MAX,
        };

        let (_, answer) = reg.send("GET", "/v1/crates/serde", "").await;
        let note = answer["log"]["checkpoint"]
            .as_str()
            .expect("note")
            .to_owned();
        assert_eq!(
            verify_checkpoint(&pin, &note)
                .expect_err("no cosignature yet")
                .code(),
            "missing-cosignatures",
            "{backend}"
        );
        let db = &reg.state.db;
        assert_eq!(db.witness_size("w.example/w1").await.expect("size"), 0);
        let body = SignedNote::parse(&note).expect("note").body;
        let line = witness
            .cosign(&witness_secret, &body, 1_750_000_000)
            .to_line();
        db.store_cosignature(1, "w.example/w1", &line)
            .await
            .expect("store");
        db.store_cosignature(1, "w.example/w1", &line)
            .await
            .expect("stored once");
        assert_eq!(db.witness_size("w.example/w1").await.expect("size"), 1);
        assert!(db.has_cosignature(1, "w.example/w1").await.expect("has"));

        let (_, answer) = reg.send("GET", "/v1/crates/serde", "").await;
        let note = answer["log"]["checkpoint"].as_str().expect("note");
        verify_checkpoint(&pin, note).expect("cosigned");
        assert_eq!(note.matches('\u{2014}').count(), 2, "{backend}: {note}");

        let (status, entries) = reg.send("GET", "/v1/log/entries?start=0", "").await;
        assert_eq!(status, StatusCode::OK, "{backend}: {entries}");
        let list = entries["entries"].as_array().expect("entries");
        assert_eq!(list.len(), 1, "{backend}");
        assert_eq!(list[0]["crate"], "serde");
        assert_eq!(list[0]["record_id"], r1.id().to_string());
        let (status, body) = reg.send("GET", "/v1/log/entries?start=x", "").await;
        assert_eq!(
            (status, codes(&body)),
            (StatusCode::BAD_REQUEST, "bad-log-size")
        );
        let (_, empty) = reg.send("GET", "/v1/log/entries?start=5", "").await;
        assert_eq!(empty["entries"].as_array().map(Vec::len), Some(0));
    }
}
