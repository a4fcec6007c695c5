//! The watch list over HTTP, in process, on SQLite and PostgreSQL (when configured): admin only
//! for changes, validated before anything is stored, patterns only among known names.

mod support;

use audit_registry::{Limits, router};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use support::{Registry, backends};
use tower::ServiceExt as _;

async fn send(
    reg: &Registry,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request
        .body(Body::from(if body.is_null() {
            String::new()
        } else {
            body.to_string()
        }))
        .expect("request");
    let response = router(reg.state.clone())
        .oneshot(request)
        .await
        .expect("infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn names(list: &Value) -> Vec<String> {
    list["crates"]
        .as_array()
        .expect("crates")
        .iter()
        .map(|c| c["name"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn the_watch_list_is_changed_by_admins_and_read_by_anyone() {
    let limits = Limits {
        max_query_crates: 5,
        ..Limits::default()
    };
    for (backend, reg) in backends(limits).await {
        let token = reg
            .state
            .db
            .create_admin_token("ops", "2025-06-01T12:00:00Z")
            .await
            .expect("token")
            .secret;
        let t = Some(token.as_str());
        let body = json!({ "crates": [{ "name": "Tokio-Util", "repository": "https://github.com/tokio-rs/tokio" }, "tokio-stream", "serde"] });
        let (status, _) = send(&reg, "POST", "/v1/admin/watch", None, body.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend}");

        for (bad, code) in [
            (json!({ "crates": ["ok", "../etc"] }), "bad-name"),
            (
                json!({ "crates": [{ "name": "ok", "repository": "http://example.com/r" }] }),
                "bad-repository",
            ),
            (
                json!({ "crates": [{ "name": "ok", "repository": "/srv/git/r" }] }),
                "bad-repository",
            ),
            (json!({ "crates": ["ok"], "extra": 1 }), "bad-json"),
        ] {
            let (status, answer) = send(&reg, "POST", "/v1/admin/watch", t, bad).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}: {answer}");
            assert_eq!(answer["error"]["code"], code, "{backend}: {answer}");
        }
        let (status, answer) = send(
            &reg,
            "POST",
            "/v1/admin/watch",
            t,
            json!({ "crates": ["a", "b", "c", "d", "e", "f"] }),
        )
        .await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{backend}: {answer}");
        let (_, list) = send(&reg, "GET", "/v1/watch", None, Value::Null).await;
        assert!(
            names(&list).is_empty(),
            "{backend}: nothing stored from bad requests"
        );

        let (status, answer) = send(&reg, "POST", "/v1/admin/watch", t, body).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {answer}");
        assert_eq!(answer["added"], 3, "{backend}");
        // A bare name keeps the pin; a new pin replaces it.
        let (_, answer) = send(
            &reg,
            "POST",
            "/v1/admin/watch",
            t,
            json!({ "crates": ["tokio-util"] }),
        )
        .await;
        assert_eq!(answer["already_watched"], 1, "{backend}");
        let (_, list) = send(&reg, "GET", "/v1/watch", None, Value::Null).await;
        assert_eq!(
            names(&list),
            ["serde", "tokio-stream", "tokio-util"],
            "{backend}"
        );
        let util = &list["crates"][2];
        assert_eq!(
            util["repository"], "https://github.com/tokio-rs/tokio",
            "{backend}"
        );
        assert_eq!(util["added_by"], "ops", "{backend}");

        let (_, some) = send(&reg, "GET", "/v1/watch?match=tokio-*", None, Value::Null).await;
        assert_eq!(names(&some), ["tokio-stream", "tokio-util"], "{backend}");
        let (status, _) = send(&reg, "DELETE", "/v1/admin/watch/tokio-*", None, Value::Null).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend}");
        let (status, answer) =
            send(&reg, "DELETE", "/v1/admin/watch/tokio-*", t, Value::Null).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {answer}");
        assert_eq!(
            answer["removed"],
            json!(["tokio-stream", "tokio-util"]),
            "{backend}"
        );
        let (status, _) = send(&reg, "DELETE", "/v1/admin/watch/rand*", t, Value::Null).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{backend}: patterns never invent names"
        );
        let (_, list) = send(&reg, "GET", "/v1/watch", None, Value::Null).await;
        assert_eq!(names(&list), ["serde"], "{backend}");

        let (status, _) = send(&reg, "GET", "/v1/admin/jobs", None, Value::Null).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend}");
        let (status, jobs) = send(&reg, "GET", "/v1/admin/jobs?crate=serde", t, Value::Null).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert_eq!(jobs["jobs"], json!([]), "{backend}");
        let (status, _) = send(&reg, "GET", "/v1/verifications/..%2Fx", None, Value::Null).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}");
        let (status, none) = send(&reg, "GET", "/v1/verifications/serde", None, Value::Null).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert_eq!(none["verifications"], json!([]), "{backend}");
    }
}
