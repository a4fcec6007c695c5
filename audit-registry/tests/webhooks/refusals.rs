//! Subscriber URLs that reach internal addresses are refused.

use std::time::Duration;

use audit_registry::notify::{self, DeliveryConfig, Event, EventKind};
use audit_trust_core::egress::EgressPolicy;
use audit_trust_core::http::HttpClient;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::receiver::*;
use crate::support::*;

#[tokio::test]
async fn subscriber_urls_to_internal_addresses_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("registry.db").display());
    let state = state_for(&url, &[]).await;
    let token = state
        .db
        .create_admin_token("ops", NOW)
        .await
        .expect("token")
        .secret;
    for (target, code) in [
        ("https://127.0.0.1/hook", "forbidden-address"),
        ("https://127.0.0.1:8443/hook", "forbidden-address"),
        ("https://10.1.2.3/hook", "forbidden-address"),
        (
            "https://169.254.169.254/latest/meta-data",
            "forbidden-address",
        ),
        ("https://[::1]/hook", "forbidden-address"),
        ("https://localhost/hook", "forbidden-address"),
        ("http://localhost:9999/hook", "not-https"),
        ("http://203.0.113.9/hook", "not-https"),
        ("ftp://example.com/hook", "bad-url"),
        ("https://", "bad-url"),
    ] {
        let (status, body) = send(
            &state,
            "POST",
            "/v1/admin/subscribers",
            Some(&token),
            json!({ "url": target, "secret": SECRET }),
        )
        .await;
        assert_eq!(
            (status, codes(&body)),
            (StatusCode::BAD_REQUEST, code),
            "{target}: {body}"
        );
    }
    for (body, code) in [
        (
            json!({ "url": "https://example.com/", "secret": "short" }),
            "bad-secret",
        ),
        (
            json!({ "url": "https://example.com/", "secret": SECRET, "events": ["all"] }),
            "bad-event",
        ),
        (
            json!({ "url": "https://example.com/", "secret": SECRET, "events": [] }),
            "bad-event",
        ),
    ] {
        let (status, answer) =
            send(&state, "POST", "/v1/admin/subscribers", Some(&token), body).await;
        assert_eq!(
            (status, codes(&answer)),
            (StatusCode::BAD_REQUEST, code),
            "{answer}"
        );
    }
    let (_, list) = send(
        &state,
        "GET",
        "/v1/admin/subscribers",
        Some(&token),
        Value::Null,
    )
    .await;
    assert_eq!(list["subscribers"], json!([]));

    // The check is repeated at every connection: a subscriber added while its host was a
    // mirror is refused once the mirror is gone, and the refusal is logged.
    let receiver = Receiver::start(0);
    let mirrored = state
        .clone()
        .with_egress(EgressPolicy::public_only().with_mirrors([receiver.mirror()]));
    let (status, body) = send(
        &mirrored,
        "POST",
        "/v1/admin/subscribers",
        Some(&token),
        json!({ "url": receiver.url(), "secret": SECRET }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().expect("id").to_owned();
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
    let unmirrored = HttpClient::guarded(Duration::from_secs(10), EgressPolicy::public_only());
    let config = DeliveryConfig {
        max_attempts: 1,
        ..fast()
    };
    let path = format!("/v1/admin/subscribers/{id}/deliveries");
    let mut log = Value::Null;
    for _ in 0..100 {
        notify::deliver_due(&state.db, &unmirrored, &config, &notify::system_now_ms())
            .await
            .expect("pass");
        log = send(&state, "GET", &path, Some(&token), Value::Null)
            .await
            .1;
        if log["attempts"].as_array().is_some_and(|a| !a.is_empty()) {
            break;
        }
    }
    let attempt = &log["attempts"][0];
    assert_eq!(attempt["state"], "failed", "{log}");
    assert!(attempt["status"].is_null(), "{log}");
    assert!(
        attempt["error"]
            .as_str()
            .is_some_and(|e| e.contains("https")),
        "{log}"
    );
    assert!(receiver.seen().is_empty());
}
