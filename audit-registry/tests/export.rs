//! `audit-registry export`: what a registry holds, on SQLite and PostgreSQL, written as the
//! static layout that clients verify like the registry itself.

mod support;

use std::collections::BTreeSet;

use audit_registry::Limits;
use audit_registry::export::export;
use audit_trust_core::signoff::static_export::{head_path, parse_index, records_path};
use audit_trust_core::signoff::{RecordId, SignedHead, SignedRecord};
use audit_trust_core::time::FixedClock;
use axum::http::StatusCode;
use support::*;

fn read(dir: &std::path::Path, path: &str) -> String {
    std::fs::read_to_string(dir.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[tokio::test]
async fn the_export_holds_every_key_s_log_in_head_order_and_matches_its_head() {
    for (backend, reg) in backends(Limits::default()).await {
        let (alice, bob) = (key(), key());
        reg.register("alice", &alice).await;
        reg.register("bob", &bob).await;
        let a1 = signoff(&alice, "Serde", "1.0.0");
        let a2 = signoff(&alice, "tokio", "1.0.0");
        let a3 = revocation(&alice, &a1);
        let b1 = signoff(&bob, "serde", "1.0.1");
        let h1 = head(&alice, None, &[&a1, &a2]);
        let h2 = head(&alice, Some(&h1), &[&a1, &a2, &a3]);
        let hb = head(&bob, None, &[&b1]);
        assert_eq!(reg.publish(&[&a1, &a2], &h1).await.0, StatusCode::OK);
        assert_eq!(reg.publish(&[&a3], &h2).await.0, StatusCode::OK);
        assert_eq!(reg.publish(&[&b1], &hb).await.0, StatusCode::OK);

        let dir = tempfile::tempdir().expect("temp dir");
        let clock = FixedClock(now());
        let summary = export(&reg.state.db, dir.path(), &clock)
            .await
            .unwrap_or_else(|e| panic!("{backend}: {e}"));
        assert_eq!((summary.keys, summary.records), (2, 4), "{backend}");

        let index = parse_index(read(dir.path(), "v1/index.json").as_bytes()).expect("index");
        let listed = &index.keys[&alice.public_key().to_string()];
        assert_eq!((listed.sequence, listed.count), (2, 3), "{backend}");

        let served =
            SignedHead::from_json(read(dir.path(), &head_path(&alice.public_key())).trim())
                .expect("the head verifies");
        assert_eq!(served.id_hex(), h2.id_hex(), "{backend}");
        let lines: Vec<String> = read(dir.path(), &records_path(&alice.public_key()))
            .lines()
            .map(str::to_owned)
            .collect();
        // Head #1's records first: the file only ever grows at the end.
        let first: BTreeSet<RecordId> = lines[..2]
            .iter()
            .map(|l| SignedRecord::from_json_line(l).expect("verifies").id())
            .collect();
        assert_eq!(first, BTreeSet::from([a1.id(), a2.id()]), "{backend}");
        assert_eq!(lines[2], a3.to_json_line(), "{backend}: exactly as signed");
        let all: BTreeSet<RecordId> = lines
            .iter()
            .map(|l| SignedRecord::from_json_line(l).expect("verifies").id())
            .collect();
        served
            .check_records(&all)
            .expect("the records are the head's");

        // For people: every key's records about serde, the revocation next to what it revokes.
        let serde = read(dir.path(), "v1/crates/se/serde.jsonl");
        assert_eq!(serde.lines().count(), 3, "{backend}: {serde}");

        let again = export(&reg.state.db, dir.path(), &clock)
            .await
            .expect("export again");
        assert_eq!(again.files_written, 1, "{backend}: only the index");
    }
}
