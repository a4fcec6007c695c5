//! The HTTP API in-process, on SQLite and (when configured) PostgreSQL: publish, sync, the
//! checks that keep the log append-only, and the auditor list.

mod support;

use audit_registry::Limits;
use axum::http::StatusCode;
use support::*;

#[tokio::test]
async fn publish_then_sync_brings_a_client_up_to_date() {
    for (backend, reg) in backends(Limits::default()).await {
        let k = key();
        reg.register("team", &k).await;
        let (a, b, c) = (
            signoff(&k, "serde", "1.0.0"),
            signoff(&k, "tokio", "1.0.0"),
            signoff(&k, "serde", "1.0.1"),
        );
        let h1 = head(&k, None, &[&a, &b]);
        let (status, body) = reg.publish(&[&a, &b], &h1).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        assert_eq!(body["stored"], 2, "{backend}");

        // The same publish again (a retry) is not a duplicate.
        let (status, body) = reg.publish(&[&a, &b], &h1).await;
        assert_eq!(
            (status, body["stored"].as_u64()),
            (StatusCode::OK, Some(0)),
            "{backend}: {body}"
        );

        let (status, body) = reg.sync(&k, 0).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        let log = &body["logs"][k.public_key().to_string()];
        assert_eq!(log["head"]["sequence"], 1, "{backend}: {body}");
        assert_eq!(
            log["records"].as_array().map(Vec::len),
            Some(2),
            "{backend}"
        );

        let h2 = head(&k, Some(&h1), &[&a, &b, &c]);
        let (status, body) = reg.publish(&[&c], &h2).await;
        assert_eq!(
            (status, body["stored"].as_u64()),
            (StatusCode::OK, Some(1)),
            "{backend}: {body}"
        );
        // A client that has head 1 gets only what came after it.
        let (_, body) = reg.sync(&k, 1).await;
        let log = &body["logs"][k.public_key().to_string()];
        assert_eq!(log["head"]["sequence"], 2, "{backend}");
        let records = log["records"].as_array().expect("records");
        assert_eq!(records.len(), 1, "{backend}");
        assert_eq!(records[0]["id"], c.id().to_string(), "{backend}");
        // Records come back exactly as signed.
        let back = audit_trust_core::signoff::SignedRecord::from_json_line(&records[0].to_string())
            .expect("verifies");
        assert_eq!(back, c, "{backend}");

        // A key nobody published for: no head, no records.
        let (_, body) = reg.sync(&key(), 0).await;
        let only = body["logs"]
            .as_object()
            .expect("logs")
            .values()
            .next()
            .cloned()
            .unwrap_or_default();
        assert!(
            only["head"].is_null() && only["records"].as_array().is_some_and(Vec::is_empty),
            "{backend}"
        );

        let (status, body) = reg.send("GET", "/v1/auditors", "").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["auditors"][0]["name"], "team", "{backend}");
        assert_eq!(
            body["auditors"][0]["key"],
            k.public_key().to_string(),
            "{backend}"
        );
        let (status, body) = reg.send("GET", "/health", "").await;
        assert_eq!(
            (status, body["status"].as_str()),
            (StatusCode::OK, Some("ok")),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn the_log_only_moves_forward_and_only_with_registered_keys() {
    for (backend, reg) in backends(Limits::default()).await {
        let k = key();
        reg.register("team", &k).await;
        let (a, b) = (signoff(&k, "serde", "1.0.0"), signoff(&k, "serde", "1.0.1"));
        let h1 = head(&k, None, &[&a]);
        assert_eq!(reg.publish(&[&a], &h1).await.0, StatusCode::OK, "{backend}");

        // A head that does not cover exactly the stored and new records.
        let wrong = head(&k, Some(&h1), &[&b]);
        let (status, body) = reg.publish(&[&b], &wrong).await;
        assert_eq!(
            (status, codes(&body)),
            (StatusCode::CONFLICT, "conflict"),
            "{backend}: {body}"
        );
        // An older or equal sequence with other content.
        let h2 = head(&k, Some(&h1), &[&a, &b]);
        assert_eq!(reg.publish(&[&b], &h2).await.0, StatusCode::OK, "{backend}");
        let (status, body) = reg.publish(&[&a], &h1).await;
        assert_eq!(status, StatusCode::CONFLICT, "{backend}: {body}");
        // The same head again is a retry; another head #2 over the same records is a fork.
        assert_eq!(reg.publish(&[], &h2).await.0, StatusCode::OK, "{backend}");
        let fork = head_lasting(&k, Some(&h1), &[&a, &b], 31);
        let (status, body) = reg.publish(&[], &fork).await;
        assert_eq!(status, StatusCode::CONFLICT, "{backend}: {body}");

        // Unregistered keys are refused, whatever they sign.
        let stranger = key();
        let s = signoff(&stranger, "serde", "1.0.0");
        let (status, body) = reg.publish(&[&s], &head(&stranger, None, &[&s])).await;
        assert_eq!(
            (status, codes(&body)),
            (StatusCode::FORBIDDEN, "unknown-key"),
            "{backend}"
        );
        // A record of another key in a registered key's batch.
        let (status, body) = reg
            .publish(&[&s], &head(&k, Some(&h2), &[&a, &b, &s]))
            .await;
        assert_eq!(
            (status, codes(&body)),
            (StatusCode::BAD_REQUEST, "invalid-record"),
            "{backend}"
        );

        // A revocation is filed with the record it withdraws; one of an unknown record is refused.
        let r = revocation(&k, &a);
        let h3 = head(&k, Some(&h2), &[&a, &b, &r]);
        let (status, body) = reg.publish(&[&r], &h3).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        let ghost = revocation(&k, &s);
        let (status, body) = reg
            .publish(&[&ghost], &head(&k, Some(&h3), &[&a, &b, &r, &ghost]))
            .await;
        assert_eq!(
            (status, codes(&body)),
            (StatusCode::BAD_REQUEST, "unknown-revoked-record"),
            "{backend}"
        );

        // Removing an auditor stops new publishes; its records stay.
        assert!(reg.state.db.remove_auditor("team").await.expect("remove"));
        let c = signoff(&k, "serde", "1.0.2");
        let (status, _) = reg
            .publish(&[&c], &head(&k, Some(&h3), &[&a, &b, &r, &c]))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend}");
        let (_, body) = reg.sync(&k, 0).await;
        assert_eq!(
            body["logs"][k.public_key().to_string()]["records"]
                .as_array()
                .map(Vec::len),
            Some(3),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn racing_publishes_for_one_key_cannot_both_win() {
    for (backend, reg) in backends(Limits::default()).await {
        let k = key();
        reg.register("team", &k).await;
        let a = signoff(&k, "serde", "1.0.0");
        let h1 = head(&k, None, &[&a]);
        assert_eq!(reg.publish(&[&a], &h1).await.0, StatusCode::OK);
        // Eight different heads #2, each with its own record, at once.
        let branches: Vec<_> = (0..8)
            .map(|i| {
                let r = signoff(&k, "tokio", &format!("1.0.{i}"));
                let h = head(&k, Some(&h1), &[&a, &r]);
                (r, h)
            })
            .collect();
        let results = futures_join(&reg, &branches).await;
        let won = results.iter().filter(|s| **s == StatusCode::OK).count();
        assert_eq!(won, 1, "{backend}: {results:?}");
        assert!(
            results
                .iter()
                .all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT),
            "{backend}: {results:?}"
        );
        let (_, body) = reg.sync(&k, 0).await;
        let log = &body["logs"][k.public_key().to_string()];
        assert_eq!(
            log["records"].as_array().map(Vec::len),
            Some(2),
            "{backend}: nothing partial"
        );
    }
}

async fn futures_join(
    reg: &Registry,
    branches: &[(
        audit_trust_core::signoff::SignedRecord,
        audit_trust_core::signoff::SignedHead,
    )],
) -> Vec<StatusCode> {
    let mut tasks = Vec::new();
    for (record, head) in branches {
        let body = publish_body(&[record], head).to_string();
        let state = reg.state.clone();
        tasks.push(tokio::spawn(async move {
            let reg = Registry::from_state(state);
            reg.send("POST", "/v1/publish", body).await.0
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}
