//! A corpus of malformed and hostile requests: every one is answered with a 4xx and a JSON
//! error, never a 5xx, never a panic, and none changes what is stored.

mod support;

use audit_registry::Limits;
use axum::http::StatusCode;
use serde_json::{Value, json};
use support::*;

#[tokio::test]
async fn every_malformed_request_gets_a_json_4xx() {
    let limits = Limits {
        max_body_bytes: 64 * 1024,
        max_batch: 3,
        ..Limits::default()
    };
    for (backend, reg) in backends(limits).await {
        let k = key();
        reg.register("team", &k).await;
        let a = signoff(&k, "serde", "1.0.0");
        let h1 = head(&k, None, &[&a]);
        let good = publish_body(&[&a], &h1);
        let with = |f: &dyn Fn(&mut Value)| {
            let mut v = good.clone();
            f(&mut v);
            v.to_string()
        };
        let mut altered_record = good.clone();
        altered_record["records"][0]["notes"] = "added later".into();
        let mut path_name = good.clone();
        path_name["records"][0]["crate"]["name"] = "../../etc/passwd".into();
        let mut sql_name = good.clone();
        sql_name["records"][0]["crate"]["name"] = "x'); DROP TABLE records; --".into();
        let many: Vec<_> = (0..4)
            .map(|i| signoff(&k, "many", &format!("1.0.{i}")))
            .collect();
        let many_refs: Vec<_> = many.iter().collect();
        let too_many = publish_body(&many_refs, &head(&k, None, &many_refs));

        let cases: Vec<(&str, &str, String, StatusCode)> = vec![
            ("POST", "/v1/publish", "{".into(), StatusCode::BAD_REQUEST),
            ("POST", "/v1/publish", "[]".into(), StatusCode::BAD_REQUEST),
            (
                "POST",
                "/v1/publish",
                "null".into(),
                StatusCode::BAD_REQUEST,
            ),
            (
                "POST",
                "/v1/publish",
                "\u{0}\u{1}binary".into(),
                StatusCode::BAD_REQUEST,
            ),
            (
                "POST",
                "/v1/publish",
                json!({"head": 1, "records": []}).to_string(),
                StatusCode::BAD_REQUEST,
            ),
            (
                "POST",
                "/v1/publish",
                json!({"head": {}, "records": "x"}).to_string(),
                StatusCode::BAD_REQUEST,
            ),
            (
                "POST",
                "/v1/publish",
                with(&|v| v["extra"] = 1.into()),
                StatusCode::BAD_REQUEST,
            ),
            (
                "POST",
                "/v1/publish",
                with(&|v| v["head"]["sequence"] = 9.into()),
                StatusCode::BAD_REQUEST,
            ),
            (
                "POST",
                "/v1/publish",
                with(&|v| v["head"]["sequence"] = (-1).into()),
                StatusCode::BAD_REQUEST,
            ),
            (
                "POST",
                "/v1/publish",
                with(&|v| v["head"]["count"] = "1".into()),
                StatusCode::BAD_REQUEST,
            ),
            (
                "POST",
                "/v1/publish",
                with(&|v| v["records"][0]["format"] = 2.into()),
                StatusCode::BAD_REQUEST,
            ),
            (
                "POST",
                "/v1/publish",
                altered_record.to_string(),
                StatusCode::BAD_REQUEST,
            ),
            (
                "POST",
                "/v1/publish",
                path_name.to_string(),
                StatusCode::BAD_REQUEST,
            ),
            (
                "POST",
                "/v1/publish",
                sql_name.to_string(),
                StatusCode::BAD_REQUEST,
            ),
            (
                "POST",
                "/v1/publish",
                too_many.to_string(),
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
            (
                "POST",
                "/v1/publish",
                "x".repeat(128 * 1024),
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
            ("POST", "/v1/sync", "{".into(), StatusCode::BAD_REQUEST),
            (
                "POST",
                "/v1/sync",
                json!({"keys": {"ed25519:nope": 0}}).to_string(),
                StatusCode::BAD_REQUEST,
            ),
            (
                "POST",
                "/v1/sync",
                json!({"keys": {"../x": 0}}).to_string(),
                StatusCode::BAD_REQUEST,
            ),
            (
                "POST",
                "/v1/sync",
                json!({"keys": {k.public_key().to_string(): -5}}).to_string(),
                StatusCode::BAD_REQUEST,
            ),
            (
                "POST",
                "/v1/sync",
                json!({"keys": [], "more": 1}).to_string(),
                StatusCode::BAD_REQUEST,
            ),
            (
                "GET",
                "/v1/publish",
                String::new(),
                StatusCode::METHOD_NOT_ALLOWED,
            ),
            (
                "DELETE",
                "/v1/auditors",
                String::new(),
                StatusCode::METHOD_NOT_ALLOWED,
            ),
            (
                "GET",
                "/v1/../../etc/passwd",
                String::new(),
                StatusCode::NOT_FOUND,
            ),
            ("GET", "/nope", String::new(), StatusCode::NOT_FOUND),
        ];
        for (method, path, body, expected) in cases {
            let shown: String = body.chars().take(80).collect();
            let (status, json) = reg.send(method, path, body).await;
            assert_eq!(
                status, expected,
                "{backend} {method} {path} {shown}: {json}"
            );
            assert!(
                json["error"]["code"]
                    .as_str()
                    .is_some_and(|c| !c.is_empty()),
                "{backend} {method} {path} {shown}: no JSON error: {json}"
            );
        }
        // Nothing of it was stored; the real publish still works afterwards.
        let (_, body) = reg.sync(&k, 0).await;
        assert!(
            body["logs"][k.public_key().to_string()]["head"].is_null(),
            "{backend}"
        );
        assert_eq!(reg.publish(&[&a], &h1).await.0, StatusCode::OK, "{backend}");
        let (_, metrics) = reg.send("GET", "/metrics", "").await;
        assert!(metrics.is_null(), "metrics are text");
    }
}

#[tokio::test]
async fn the_rate_limit_answers_429_per_client() {
    let limits = Limits {
        rate_per_minute: 5,
        ..Limits::default()
    };
    for (backend, reg) in backends(limits).await {
        let mut statuses = Vec::new();
        for _ in 0..7 {
            statuses.push(reg.send("GET", "/health", "").await.0);
        }
        assert_eq!(statuses[..5], [StatusCode::OK; 5], "{backend}");
        assert_eq!(
            statuses[5..],
            [StatusCode::TOO_MANY_REQUESTS; 2],
            "{backend}"
        );
    }
}
