//! Signed, retried, logged; redirects are answers, not places to go; any 2xx is success.

use std::time::Duration;

use audit_registry::notify::{self, DeliveryConfig, Event, EventKind};
use audit_trust_core::http::HttpClient;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::receiver::*;
use crate::support::*;

#[tokio::test]
async fn webhooks_are_signed_retried_and_logged() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (backend, url) in database_urls(&dir).await {
        let flaky = Receiver::start(2);
        let down = Receiver::start(usize::MAX);
        let flags_only = Receiver::start(0);
        let state = state_for(&url, &[flaky.mirror(), down.mirror(), flags_only.mirror()]).await;
        let token = state
            .db
            .create_admin_token("ops", NOW)
            .await
            .expect("token")
            .secret;

        // Changing subscribers needs the admin token; reading them too (they hold URLs).
        let new = json!({ "url": flaky.url(), "secret": SECRET });
        let (status, body) = send(&state, "POST", "/v1/admin/subscribers", None, new.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend}: {body}");
        let (status, body) = send(&state, "POST", "/v1/admin/subscribers", Some(&token), new).await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {body}");
        assert!(
            !body.to_string().contains(SECRET),
            "{backend}: secret shown"
        );
        let flaky_id = body["id"].as_str().expect("id").to_owned();
        assert_eq!(
            body["events"],
            json!(["signoff", "flag", "revocation", "verification-failed"]),
            "{backend}"
        );
        let (status, body) = send(
            &state,
            "POST",
            "/v1/admin/subscribers",
            Some(&token),
            json!({ "url": down.url(), "secret": "another-secret-9876543210", "events": ["signoff"] }),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {body}");
        let down_id = body["id"].as_str().expect("id").to_owned();
        let (status, body) = send(
            &state,
            "POST",
            "/v1/admin/subscribers",
            Some(&token),
            json!({ "url": flags_only.url(), "secret": "flags-secret-000000000000", "events": ["flag"] }),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {body}");
        let flags_id = body["id"].as_str().expect("id").to_owned();
        let (_, list) = send(
            &state,
            "GET",
            "/v1/admin/subscribers",
            Some(&token),
            Value::Null,
        )
        .await;
        assert_eq!(
            list["subscribers"].as_array().map(Vec::len),
            Some(3),
            "{backend}"
        );
        assert!(!list.to_string().contains("secret-"), "{backend}: {list}");

        // A publish queues one event per new record.
        let reg = Registry::from_state(state.clone());
        let k = key();
        reg.register("team", &k).await;
        let record = signoff(&k, "serde", "1.0.0");
        let (status, body) = reg.publish(&[&record], &head(&k, None, &[&record])).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");

        let client = HttpClient::guarded(Duration::from_secs(10), state.egress.clone());
        let config = fast();
        deliver_until(&state.db, &client, &config, || {
            flaky.seen().len() >= 3 && down.seen().len() >= config.max_attempts as usize
        })
        .await;

        // Two refusals, then accepted; the same delivery, signed afresh each time.
        let seen = flaky.seen();
        assert_eq!(seen.len(), 3, "{backend}: no delivery after success");
        let last = &seen[2];
        let delivery = last.headers["x-audit-registry-delivery"].clone();
        assert!(
            seen.iter()
                .all(|r| r.headers["x-audit-registry-delivery"] == delivery && r.body == last.body),
            "{backend}"
        );
        assert_eq!(
            last.headers["x-audit-registry-event"], "signoff",
            "{backend}"
        );
        assert_eq!(
            last.headers["content-type"], "application/json",
            "{backend}"
        );
        let timestamp: i64 = last.headers["x-audit-registry-timestamp"]
            .parse()
            .expect("timestamp");
        let signature = &last.headers["x-audit-registry-signature"];
        assert_eq!(
            *signature,
            notify::signature(SECRET, &delivery, timestamp, &last.body),
            "{backend}: the subscriber's secret verifies"
        );
        assert_ne!(
            *signature,
            notify::signature(
                "another-secret-9876543210",
                &delivery,
                timestamp,
                &last.body
            ),
            "{backend}: another secret does not"
        );
        let payload: Value = serde_json::from_slice(&last.body).expect("JSON body");
        assert_eq!(payload["kind"], "signoff", "{backend}");
        assert_eq!(payload["crate"], "serde", "{backend}");
        assert_eq!(payload["record_id"], record.id().to_string(), "{backend}");
        assert_eq!(payload["data"]["auditor"], "team", "{backend}");
        // The record travels whole: the receiver can verify it against the auditor's key.
        let back = audit_trust_core::signoff::SignedRecord::from_json_line(
            &payload["data"]["record"].to_string(),
        )
        .expect("the record verifies");
        assert_eq!(back, record, "{backend}");

        // The delivery log shows every attempt, newest first.
        let path = format!("/v1/admin/subscribers/{flaky_id}/deliveries");
        let (status, log) = send(&state, "GET", &path, Some(&token), Value::Null).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {log}");
        let attempts = log["attempts"].as_array().expect("attempts");
        let summary: Vec<(u64, Option<u64>, bool)> = attempts
            .iter()
            .map(|a| {
                (
                    a["attempt"].as_u64().unwrap_or(0),
                    a["status"].as_u64(),
                    a["next_retry"].is_string(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (3, Some(200), false),
                (2, Some(500), true),
                (1, Some(500), true)
            ],
            "{backend}: {log}"
        );
        assert!(
            attempts.iter().all(|a| a["state"] == "delivered"
                && a["delivery"] == delivery.as_str()
                && a["kind"] == "signoff"
                && a["event"] == payload["id"]),
            "{backend}: {log}"
        );

        // A receiver that never accepts is given up after the last attempt.
        let path = format!("/v1/admin/subscribers/{down_id}/deliveries");
        let (_, log) = send(&state, "GET", &path, Some(&token), Value::Null).await;
        let attempts = log["attempts"].as_array().expect("attempts");
        assert_eq!(
            attempts.len(),
            config.max_attempts as usize,
            "{backend}: {log}"
        );
        assert!(
            attempts.iter().all(|a| a["state"] == "failed"),
            "{backend}: {log}"
        );
        assert!(attempts[0]["next_retry"].is_null(), "{backend}: {log}");
        assert_eq!(down.seen().len(), config.max_attempts as usize, "{backend}");

        // Kinds a subscriber did not ask for are not sent to it.
        assert!(flags_only.seen().is_empty(), "{backend}");
        let path = format!("/v1/admin/subscribers/{flags_id}/deliveries");
        let (_, log) = send(&state, "GET", &path, Some(&token), Value::Null).await;
        assert_eq!(log["attempts"], json!([]), "{backend}");

        // The automatic auditor's entry point: a failed verification reaches who wants it.
        notify::emit(
            &state.db,
            Event {
                kind: EventKind::VerificationFailed,
                crate_name: Some("serde".into()),
                record_id: None,
                data: json!({ "version": "1.0.1", "report": "src/lib.rs differs" }),
            },
        )
        .await
        .expect("emit");
        deliver_until(&state.db, &client, &config, || flaky.seen().len() >= 4).await;
        let failure = &flaky.seen()[3];
        assert_eq!(
            failure.headers["x-audit-registry-event"], "verification-failed",
            "{backend}"
        );
        let payload: Value = serde_json::from_slice(&failure.body).expect("JSON");
        assert_eq!(payload["data"]["report"], "src/lib.rs differs", "{backend}");

        // Removing a subscriber takes its log with it.
        let path = format!("/v1/admin/subscribers/{down_id}");
        let (status, _) = send(&state, "DELETE", &path, Some(&token), Value::Null).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        let (status, _) = send(&state, "DELETE", &path, Some(&token), Value::Null).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
        let (status, _) = send(
            &state,
            "GET",
            &format!("{path}/deliveries"),
            Some(&token),
            Value::Null,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
    }
}

/// A receiver's redirect is its answer, not a place to go: the POST is not repeated elsewhere
/// (where the egress policy might not have been asked about the body's destination).
#[tokio::test]
async fn redirects_are_not_followed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("registry.db").display());
    let target = Receiver::start(0);
    let redirecting = Receiver::answering(
        usize::MAX,
        format!("307 Temporary Redirect\r\nlocation: {}", target.url()),
    );
    let state = state_for(&url, &[redirecting.mirror(), target.mirror()]).await;
    let subscriber = state
        .db
        .add_subscriber(&redirecting.url(), SECRET, &["flag".to_owned()], NOW)
        .await
        .expect("subscriber");
    notify::emit(
        &state.db,
        Event {
            kind: EventKind::Flag,
            crate_name: None,
            record_id: None,
            data: json!({}),
        },
    )
    .await
    .expect("emit");
    let client = HttpClient::guarded(Duration::from_secs(10), state.egress.clone());
    let config = DeliveryConfig {
        max_attempts: 1,
        ..fast()
    };
    deliver_until(&state.db, &client, &config, || {
        !redirecting.seen().is_empty()
    })
    .await;
    let log = state
        .db
        .delivery_log(&subscriber.id, 10)
        .await
        .expect("log");
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(
        (log[0].status, log[0].state.as_str()),
        (Some(307), "failed")
    );
    assert!(target.seen().is_empty(), "the redirect was followed");
}

/// Any 2xx is success, whatever the size of the answer: only its first 64 KiB are read. A long
/// answer was counted as a failure and the event sent again.
#[tokio::test]
async fn a_2xx_with_a_large_body_is_delivered_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("registry.db").display());
    let chatty = Receiver::large_answer(1 << 20);
    let state = state_for(&url, &[chatty.mirror()]).await;
    let subscriber = state
        .db
        .add_subscriber(&chatty.url(), SECRET, &["flag".to_owned()], NOW)
        .await
        .expect("subscriber");
    notify::emit(
        &state.db,
        Event {
            kind: EventKind::Flag,
            crate_name: None,
            record_id: None,
            data: json!({}),
        },
    )
    .await
    .expect("emit");
    let client = HttpClient::guarded(Duration::from_secs(10), state.egress.clone());
    let config = fast();
    assert_eq!(config.max_response_bytes, 64 * 1024);
    deliver_until(&state.db, &client, &config, || !chatty.seen().is_empty()).await;
    let log = state
        .db
        .delivery_log(&subscriber.id, 10)
        .await
        .expect("log");
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(
        (
            log[0].status,
            log[0].state.as_str(),
            log[0].error.as_deref()
        ),
        (Some(200), "delivered", None),
        "{log:?}"
    );
    // Nothing is left to send: another pass sends nothing.
    let sent = notify::deliver_due(&state.db, &client, &config, &notify::system_now_ms())
        .await
        .expect("pass");
    assert_eq!(sent, 0);
    assert_eq!(chatty.seen().len(), 1);
}
