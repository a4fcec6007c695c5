//! Reads by crate (`GET /v1/crates/{name}`, `POST /v1/crates`), heads, ETags, and the cache
//! that must never serve an answer older than the database, on SQLite and PostgreSQL.

mod support;

use std::sync::Arc;

use audit_registry::db::Db;
use audit_registry::{AppState, Limits};
use audit_trust_core::time::{Clock, FixedClock};
use axum::http::StatusCode;
use serde_json::json;
use support::*;

fn ids(body: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = body["records"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn etag(headers: &axum::http::HeaderMap) -> String {
    headers
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn one_crate_comes_back_from_every_key_with_an_etag_that_follows_its_records() {
    for (backend, reg) in backends(Limits::default()).await {
        let (alice, bob) = (key(), key());
        reg.register("alice", &alice).await;
        reg.register("bob", &bob).await;
        let a1 = signoff(&alice, "Serde", "1.0.0");
        let a2 = signoff(&alice, "tokio", "1.0.0");
        let b1 = signoff(&bob, "serde", "1.0.1");
        let ha = head(&alice, None, &[&a1, &a2]);
        let hb = head(&bob, None, &[&b1]);
        assert_eq!(reg.publish(&[&a1, &a2], &ha).await.0, StatusCode::OK);
        assert_eq!(reg.publish(&[&b1], &hb).await.0, StatusCode::OK);

        let (status, headers, body) = reg.send_with("GET", "/v1/crates/serde", &[], "").await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        assert_eq!(body["crate"], "serde");
        let mut want = vec![a1.id().to_string(), b1.id().to_string()];
        want.sort();
        assert_eq!(ids(&body), want, "{backend}: both keys, not tokio's record");
        let tag = etag(&headers);
        assert_eq!(tag, format!("\"{}\"", body["etag"].as_str().unwrap_or("")));
        // Each record comes back exactly as signed.
        for r in body["records"].as_array().into_iter().flatten() {
            audit_trust_core::signoff::SignedRecord::from_json_line(&r.to_string())
                .expect("verifies");
        }

        // Names are case-insensitive, as on crates.io.
        let (_, headers_upper, _) = reg.send_with("GET", "/v1/crates/SERDE", &[], "").await;
        assert_eq!(etag(&headers_upper), tag, "{backend}");

        let (status, headers, _) = reg
            .send_with("GET", "/v1/crates/serde", &[("if-none-match", &tag)], "")
            .await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "{backend}");
        assert_eq!(etag(&headers), tag);

        // A new record for the crate changes the answer and its tag at once.
        let b2 = signoff(&bob, "serde", "1.0.2");
        let hb2 = head(&bob, Some(&hb), &[&b1, &b2]);
        assert_eq!(reg.publish(&[&b2], &hb2).await.0, StatusCode::OK);
        let (status, headers, body) = reg
            .send_with("GET", "/v1/crates/serde", &[("if-none-match", &tag)], "")
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert_ne!(etag(&headers), tag, "{backend}");
        assert_eq!(ids(&body).len(), 3, "{backend}");

        // A crate nobody signed off: an empty list, not an error.
        let (status, _, body) = reg
            .send_with("GET", "/v1/crates/nothing-here", &[], "")
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(ids(&body).len(), 0);

        for bad in ["..%2Fetc", "a%20b", "%3Cscript%3E", &"x".repeat(65)] {
            let (status, _, body) = reg
                .send_with("GET", &format!("/v1/crates/{bad}"), &[], "")
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{backend} {bad}: {body}");
            assert_eq!(codes(&body), "bad-name", "{backend} {bad}");
        }
    }
}

#[tokio::test]
async fn a_batch_query_answers_many_crates_and_skips_those_the_client_has() {
    let limits = Limits {
        max_query_crates: 3,
        ..Limits::default()
    };
    for (backend, reg) in backends(limits).await {
        let k = key();
        reg.register("team", &k).await;
        let (a, b) = (signoff(&k, "serde", "1.0.0"), signoff(&k, "tokio", "1.0.0"));
        assert_eq!(
            reg.publish(&[&a, &b], &head(&k, None, &[&a, &b])).await.0,
            StatusCode::OK
        );
        let (_, _, tokio) = reg.send_with("GET", "/v1/crates/tokio", &[], "").await;
        let tokio_tag = tokio["etag"].as_str().unwrap_or_default().to_owned();

        let query = json!({ "crates": { "serde": null, "Tokio": tokio_tag, "absent": "" } });
        let (status, _, body) = reg
            .send_with("POST", "/v1/crates", &[], query.to_string())
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        let crates = &body["crates"];
        assert_eq!(ids(&crates["serde"]), vec![a.id().to_string()], "{backend}");
        assert_eq!(crates["tokio"]["not_modified"], true, "{backend}: {body}");
        assert!(crates["tokio"].get("records").is_none(), "{backend}");
        assert_eq!(ids(&crates["absent"]).len(), 0, "{backend}");

        let too_many = json!({ "crates": { "a": null, "b": null, "c": null, "d": null } });
        let (status, _, body) = reg
            .send_with("POST", "/v1/crates", &[], too_many.to_string())
            .await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{backend}");
        assert_eq!(codes(&body), "batch-too-large");
        for bad in [
            json!({ "crates": { "../x": null } }),
            json!({ "crates": ["serde"] }),
            json!({ "crates": { "serde": 5 } }),
            json!({ "names": {} }),
        ] {
            let (status, _, body) = reg
                .send_with("POST", "/v1/crates", &[], bad.to_string())
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{backend} {bad}: {body}");
        }
    }
}

/// Two instances on one database: a publish through one is seen at once by the other, whose
/// cache of answers must notice the database moved.
#[tokio::test]
async fn an_instance_never_serves_answers_older_than_the_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut urls = vec![format!(
        "sqlite://{}",
        dir.path().join("shared.db").display()
    )];
    if let Ok(base) = std::env::var("AUDIT_REGISTRY_TEST_POSTGRES") {
        urls.push(fresh_schema(&base).await);
    } else {
        eprintln!("PostgreSQL part skipped: AUDIT_REGISTRY_TEST_POSTGRES is not set");
    }
    for url in urls {
        let instance = || async {
            let db = Db::connect(&url).await.expect("connect");
            let clock = Arc::new(FixedClock(now())) as Arc<dyn Clock>;
            Registry::from_state(AppState::new(db, Limits::default(), clock))
        };
        let (reader, writer) = (instance().await, instance().await);
        let k = key();
        writer.register("team", &k).await;
        let a = signoff(&k, "serde", "1.0.0");
        let h1 = head(&k, None, &[&a]);
        assert_eq!(writer.publish(&[&a], &h1).await.0, StatusCode::OK);
        let (_, _, first) = reader.send_with("GET", "/v1/crates/serde", &[], "").await;
        assert_eq!(ids(&first).len(), 1, "{url}");

        let b = signoff(&k, "serde", "1.0.1");
        assert_eq!(
            writer
                .publish(&[&b], &head(&k, Some(&h1), &[&a, &b]))
                .await
                .0,
            StatusCode::OK
        );
        let (_, _, second) = reader.send_with("GET", "/v1/crates/serde", &[], "").await;
        assert_eq!(ids(&second).len(), 2, "{url}: stale answer from the cache");
        let query = json!({ "crates": { "serde": first["etag"] } });
        let (_, _, batch) = reader
            .send_with("POST", "/v1/crates", &[], query.to_string())
            .await;
        assert_eq!(ids(&batch["crates"]["serde"]).len(), 2, "{url}: {batch}");
    }
}

#[tokio::test]
async fn heads_are_listed_with_an_etag() {
    for (backend, reg) in backends(Limits::default()).await {
        let (status, headers, body) = reg.send_with("GET", "/v1/heads", &[], "").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["heads"], json!({}), "{backend}");
        let empty_tag = etag(&headers);

        let k = key();
        reg.register("team", &k).await;
        let a = signoff(&k, "serde", "1.0.0");
        assert_eq!(
            reg.publish(&[&a], &head(&k, None, &[&a])).await.0,
            StatusCode::OK
        );
        let (status, headers, body) = reg
            .send_with("GET", "/v1/heads", &[("if-none-match", &empty_tag)], "")
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        let head_json = &body["heads"][k.public_key().to_string()];
        audit_trust_core::signoff::SignedHead::from_json(&head_json.to_string())
            .expect("a head exactly as signed");
        let tag = etag(&headers);
        let (status, _, _) = reg
            .send_with("GET", "/v1/heads", &[("if-none-match", &tag)], "")
            .await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "{backend}");
    }
}

#[tokio::test]
async fn changing_auditors_over_http_needs_an_admin_token() {
    for (backend, reg) in backends(Limits::default()).await {
        let k = key();
        let body = json!({ "name": "bot", "key": k.public_key().to_string() }).to_string();
        let (status, _, answer) = reg
            .send_with("POST", "/v1/admin/auditors", &[], body.clone())
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend}");
        assert_eq!(codes(&answer), "unauthorized");
        for wrong in [
            "Bearer atr_not-a-token",
            "Basic YWRtaW46YWRtaW4=",
            "Bearer ",
        ] {
            let (status, _, _) = reg
                .send_with(
                    "POST",
                    "/v1/admin/auditors",
                    &[("authorization", wrong)],
                    body.clone(),
                )
                .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend} {wrong}");
        }

        let token = reg
            .state
            .db
            .create_admin_token("ops", NOW)
            .await
            .expect("token");
        assert!(token.secret.starts_with("atr_"));
        let bearer = format!("Bearer {}", token.secret);
        let auth = [("authorization", bearer.as_str())];
        let (status, _, answer) = reg
            .send_with("POST", "/v1/admin/auditors", &auth, body.clone())
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {answer}");
        let (_, _, list) = reg.send_with("GET", "/v1/auditors", &[], "").await;
        assert_eq!(list["auditors"][0]["name"], "bot", "{backend}");
        let (status, _, answer) = reg
            .send_with("POST", "/v1/admin/auditors", &auth, body.clone())
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{backend}: {answer}");
        let bad_name = json!({ "name": "<b>", "key": k.public_key().to_string() }).to_string();
        let (status, _, answer) = reg
            .send_with("POST", "/v1/admin/auditors", &auth, bad_name)
            .await;
        assert_eq!(codes(&answer), "bad-name", "{backend}: {status}");

        let (status, _, _) = reg
            .send_with("DELETE", "/v1/admin/auditors/bot", &[], "")
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend}");
        let (status, _, _) = reg
            .send_with("DELETE", "/v1/admin/auditors/bot", &auth, "")
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        let (status, _, _) = reg
            .send_with("DELETE", "/v1/admin/auditors/bot", &auth, "")
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");

        // A revoked token stops working at once.
        assert!(
            reg.state
                .db
                .revoke_admin_token("ops")
                .await
                .expect("revoke")
        );
        let (status, _, _) = reg
            .send_with("POST", "/v1/admin/auditors", &auth, body.clone())
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend}");
    }
}

/// The same query body twice, with a publish in between: the second answer is not the cached
/// first one.
#[tokio::test]
async fn a_repeated_query_sees_what_was_published_since() {
    for (backend, reg) in backends(Limits::default()).await {
        let k = key();
        reg.register("team", &k).await;
        let a = signoff(&k, "serde", "1.0.0");
        let h1 = head(&k, None, &[&a]);
        assert_eq!(reg.publish(&[&a], &h1).await.0, StatusCode::OK);
        let query = json!({ "crates": { "serde": null, "tokio": null } }).to_string();
        let (_, _, first) = reg
            .send_with("POST", "/v1/crates", &[], query.clone())
            .await;
        let (_, _, again) = reg
            .send_with("POST", "/v1/crates", &[], query.clone())
            .await;
        assert_eq!(first, again, "{backend}");
        assert_eq!(ids(&first["crates"]["tokio"]).len(), 0);

        let b = signoff(&k, "tokio", "1.0.0");
        assert_eq!(
            reg.publish(&[&b], &head(&k, Some(&h1), &[&a, &b])).await.0,
            StatusCode::OK
        );
        let (_, _, after) = reg.send_with("POST", "/v1/crates", &[], query).await;
        assert_eq!(
            ids(&after["crates"]["tokio"]),
            vec![b.id().to_string()],
            "{backend}: a stale whole answer"
        );
    }
}

/// Many identical queries at once (they share one build of the answer), and bad ones among
/// them: every good one gets the whole answer, every bad one its own 400.
#[tokio::test]
async fn concurrent_identical_queries_all_get_the_whole_answer() {
    for (backend, reg) in backends(Limits::default()).await {
        let k = key();
        reg.register("team", &k).await;
        let records: Vec<_> = (0..20)
            .map(|i| signoff(&k, &format!("crate-{i}"), "1.0.0"))
            .collect();
        let refs: Vec<_> = records.iter().collect();
        assert_eq!(
            reg.publish(&refs, &head(&k, None, &refs)).await.0,
            StatusCode::OK
        );
        let names: serde_json::Map<String, serde_json::Value> = (0..20)
            .map(|i| (format!("crate-{i}"), serde_json::Value::Null))
            .collect();
        let good = json!({ "crates": names }).to_string();
        let mut tasks = Vec::new();
        for i in 0..24 {
            let state = reg.state.clone();
            let body = if i % 6 == 5 {
                "{\"crates\": [".to_owned()
            } else {
                good.clone()
            };
            tasks.push(tokio::spawn(async move {
                Registry::from_state(state)
                    .send_with("POST", "/v1/crates", &[], body)
                    .await
            }));
        }
        for (i, task) in tasks.into_iter().enumerate() {
            let (status, _, body) = task.await.expect("task");
            if i % 6 == 5 {
                assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}");
            } else {
                assert_eq!(status, StatusCode::OK, "{backend}");
                let crates = body["crates"].as_object().expect("crates");
                assert_eq!(crates.len(), 20, "{backend}");
                assert!(
                    crates.values().all(|c| ids(c).len() == 1),
                    "{backend}: {body}"
                );
            }
        }
    }
}
