//! The organization's projects in-process, on SQLite and (when configured) PostgreSQL: lockfiles
//! registered by an admin, evaluated against the default policy with the registry's records,
//! recomputed when records arrive; the JSON of every page, the pages themselves, and hostile
//! input refused.

mod support;

use axum::http::StatusCode;
use serde_json::{Value, json};
use support::*;

async fn admin(reg: &Registry) -> String {
    reg.state
        .db
        .create_admin_token("ci", NOW)
        .await
        .expect("token")
        .secret
}

async fn put(reg: &Registry, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let bearer = format!("Bearer {token}");
    let (status, _, answer) = reg
        .send_with(
            "PUT",
            path,
            &[("authorization", bearer.as_str())],
            body.to_string(),
        )
        .await;
    (status, answer)
}

async fn page(reg: &Registry, path: &str) -> (StatusCode, String) {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt as _;
    let response = audit_registry::router(reg.state.clone())
        .oneshot(Request::get(path).body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let status = response.status();
    let csp = response
        .headers()
        .get("content-security-policy")
        .map(|v| v.to_str().expect("ASCII").to_owned());
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let html = String::from_utf8(bytes.to_vec()).expect("UTF-8");
    let csp = csp.unwrap_or_else(|| panic!("{path}: {status} without a CSP: {html}"));
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    (status, html)
}

fn project<'a>(overview: &'a Value, name: &str) -> &'a Value {
    overview["projects"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["name"] == name))
        .unwrap_or_else(|| panic!("no project {name}: {overview}"))
}

#[tokio::test]
async fn projects_are_evaluated_and_follow_new_records_on_every_backend() {
    for (backend, reg) in backends(audit_registry::Limits::default()).await {
        let k = key();
        reg.register("team", &k).await;
        let token = admin(&reg).await;

        // Without a policy nothing is decided, and the page says how to set one.
        let alpha = lockfile(&[("serde", "1.0.0")]);
        let (status, body) = put(
            &reg,
            &token,
            "/v1/admin/projects/alpha",
            json!({ "lockfile": alpha }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        assert_eq!(body["lockfile"], 1, "{backend}: {body}");
        assert_eq!(body["packages"], 2, "{backend}: {body}");
        let (_, overview) = reg.send("GET", "/v1/projects", "").await;
        assert_eq!(
            project(&overview, "alpha")["status"],
            "no-policy",
            "{backend}"
        );
        let (_, html) = page(&reg, "/projects").await;
        assert!(
            html.contains("audit-registry policy set FILE"),
            "{backend}: {html}"
        );

        let (status, body) = put(
            &reg,
            &token,
            "/v1/admin/policy",
            json!({ "policy": policy(&k) }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        assert_eq!(body["auditors"], json!(["team"]), "{backend}");

        let serde = signoff(&k, "serde", "1.0.0");
        let first = head(&k, None, &[&serde]);
        let (status, body) = reg.publish(&[&serde], &first).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        let beta = lockfile(&[("serde", "1.0.0"), ("tokio", "1.0.0")]);
        let (status, _) = put(
            &reg,
            &token,
            "/v1/admin/projects/beta",
            json!({ "lockfile": beta }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend}");

        let (status, overview) = reg.send("GET", "/v1/projects", "").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        let a = project(&overview, "alpha");
        assert_eq!(a["status"], "passes", "{backend}: {overview}");
        assert_eq!(a["mix"]["signed"], 1, "{backend}: {a}");
        // A person's `reviewed` sign-off: the signed part is all review.
        assert_eq!(
            (
                &a["mix"]["reviewed"],
                &a["mix"]["imported"],
                &a["mix"]["source_matches"]
            ),
            (&json!(1), &json!(0), &json!(0)),
            "{backend}: {a}"
        );
        assert_eq!(a["mix"]["first_party"], 1, "{backend}: {a}");
        let b = project(&overview, "beta");
        assert_eq!(b["status"], "blocked", "{backend}: {overview}");
        assert_eq!(b["blocked"], 1, "{backend}: {b}");
        assert_eq!(b["backlog"], 1, "{backend}: {b}");
        assert!(
            overview["not_consulted"]
                .as_str()
                .unwrap_or("")
                .contains("advisories"),
            "{backend}"
        );

        let (status, detail) = reg.send("GET", "/v1/projects/beta", "").await;
        assert_eq!(status, StatusCode::OK, "{backend}: {detail}");
        assert_eq!(
            detail["groups"][0]["status"], "unaudited",
            "{backend}: {detail}"
        );
        assert_eq!(
            detail["groups"][0]["packages"][0]["name"], "tokio",
            "{backend}"
        );
        assert_eq!(detail["changes"]["since"], Value::Null, "{backend}");
        let (_, html) = page(&reg, "/projects").await;
        assert!(
            html.contains("<span class=\"blocked\">blocked</span>"),
            "{backend}: {html}"
        );
        assert!(
            html.contains("<a href=\"/projects/beta\">beta</a>"),
            "{backend}"
        );
        assert!(html.contains("<svg class=\"mix\""), "{backend}");

        // A sign-off for tokio arrives: beta passes on the next read.
        let tokio_signoff = signoff(&k, "tokio", "1.0.0");
        let second = head(&k, Some(&first), &[&serde, &tokio_signoff]);
        let (status, body) = reg.publish(&[&tokio_signoff], &second).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        let (_, overview) = reg.send("GET", "/v1/projects", "").await;
        assert_eq!(
            project(&overview, "beta")["status"],
            "passes",
            "{backend}: {overview}"
        );

        // A new lockfile: what changed since the previous one.
        let beta2 = lockfile(&[("serde", "1.0.1"), ("log", "0.4.0")]);
        let (status, body) = put(
            &reg,
            &token,
            "/v1/admin/projects/beta",
            json!({ "lockfile": beta2 }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert_eq!(body["lockfile"], 2, "{backend}: {body}");
        let (_, again) = put(
            &reg,
            &token,
            "/v1/admin/projects/beta",
            json!({ "lockfile": beta2 }),
        )
        .await;
        assert_eq!(again["changed"], false, "{backend}: {again}");
        let (_, detail) = reg.send("GET", "/v1/projects/beta", "").await;
        let changes = &detail["changes"];
        assert_eq!(changes["since"], 1, "{backend}: {changes}");
        assert_eq!(
            changes["added"],
            json!([{ "name": "log", "versions": ["0.4.0"] }]),
            "{backend}"
        );
        assert_eq!(
            changes["removed"],
            json!([{ "name": "tokio", "versions": ["1.0.0"] }]),
            "{backend}"
        );
        assert_eq!(
            changes["updated"],
            json!([{ "name": "serde", "from": ["1.0.0"], "to": ["1.0.1"] }]),
            "{backend}"
        );
        let (status, html) = page(&reg, "/projects/beta").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            html.contains("<section id=\"changes\">"),
            "{backend}: {html}"
        );
        assert!(
            html.contains("<section id=\"status-unaudited\">"),
            "{backend}: {html}"
        );
        assert!(html.contains("Since lockfile #1"), "{backend}");
        let (status, _) = page(&reg, "/projects/nope").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");

        // Search: crates by prefix with the projects using them, auditors, a record by id.
        let (status, found) = reg.send("GET", "/v1/search?q=SER", "").await;
        assert_eq!(status, StatusCode::OK, "{backend}: {found}");
        assert_eq!(found["crates"][0]["name"], "serde", "{backend}: {found}");
        assert_eq!(
            found["crates"][0]["projects"],
            json!(["alpha", "beta"]),
            "{backend}"
        );
        let (_, found) = reg.send("GET", "/v1/search?q=tea", "").await;
        assert_eq!(found["auditors"][0]["name"], "team", "{backend}: {found}");
        let (_, found) = reg
            .send("GET", &format!("/v1/search?q={}", serde.id()), "")
            .await;
        assert_eq!(found["record"]["crate"], "serde", "{backend}: {found}");
        assert_eq!(found["record"]["kind"], "sign-off", "{backend}: {found}");
        let (status, html) = page(&reg, "/search?q=ser").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            html.contains("<a href=\"/crates/serde\">serde</a>"),
            "{backend}: {html}"
        );
        let (status, html) = page(&reg, "/search?q=%3Cscript%3E").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}");
        assert!(!html.contains("<script"), "{backend}: {html}");
    }
}

#[tokio::test]
async fn hostile_projects_lockfiles_policies_and_searches_are_refused() {
    let (_, reg) = backends(audit_registry::Limits::default())
        .await
        .into_iter()
        .next()
        .expect("sqlite");
    let token = admin(&reg).await;
    let ok = json!({ "lockfile": lockfile(&[("serde", "1.0.0")]) });
    // No token, a wrong token.
    let (status, _) = reg
        .send("PUT", "/v1/admin/projects/alpha", ok.to_string())
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = put(&reg, "atr_wrong", "/v1/admin/projects/alpha", ok.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Names.
    for name in ["..", ".hidden", "a%3Cb%3E", &"x".repeat(65)] {
        let (status, body) = put(
            &reg,
            &token,
            &format!("/v1/admin/projects/{name}"),
            ok.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {body}");
        assert_eq!(codes(&body), "bad-name", "{name}");
    }
    // Lockfiles: markup in a name, not TOML, a bad checksum, an unknown field in the upload.
    let hostile =
        lockfile(&[("serde", "1.0.0")]).replace("name = \"serde\"", "name = \"<script>\"");
    for (lock, code) in [
        (json!({ "lockfile": hostile }), "bad-lockfile"),
        (json!({ "lockfile": "[[package]\nname =" }), "bad-lockfile"),
        (
            json!({ "lockfile": lockfile(&[("serde", "1.0.0")]).replace(&"ab".repeat(32), "zz") }),
            "bad-lockfile",
        ),
        (json!({ "lockfile": "", "extra": 1 }), "bad-json"),
        (json!("just text"), "bad-json"),
    ] {
        let (status, body) = put(&reg, &token, "/v1/admin/projects/alpha", lock.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{lock}: {body}");
        assert_eq!(codes(&body), code, "{body}");
    }
    let (_, body) = put(
        &reg,
        &token,
        "/v1/admin/projects/alpha",
        json!({ "lockfile": hostile }),
    )
    .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("Cargo.lock:10: crate name"),
        "{body}"
    );
    let huge = json!({ "lockfile": "#".repeat(4 * 1024 * 1024 + 1) });
    let (status, body) = put(&reg, &token, "/v1/admin/projects/alpha", huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    // Nothing was stored by any of those.
    let (_, overview) = reg.send("GET", "/v1/projects", "").await;
    assert_eq!(overview["projects"], json!([]), "{overview}");
    // Policies are checked as Cargo.audit files.
    let (status, body) = put(
        &reg,
        &token,
        "/v1/admin/policy",
        json!({ "policy": "[policy]\nbogus = 1\n" }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(codes(&body), "bad-policy");
    // Searches are bounded.
    for q in [
        "q=%3Cb%3E",
        "q=ser&page=0",
        "q=ser&page=x",
        &format!("q={}", "a".repeat(65)),
        "q=",
    ] {
        let (status, body) = reg.send("GET", &format!("/v1/search?{q}"), "").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{q}: {body}");
    }
}

#[tokio::test]
async fn search_results_are_paginated() {
    let (_, reg) = backends(audit_registry::Limits::default())
        .await
        .into_iter()
        .next()
        .expect("sqlite");
    let token = admin(&reg).await;
    let names: Vec<String> = (0..120).map(|i| format!("crate-{i:03}")).collect();
    let packages: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "1.0.0")).collect();
    let (status, _) = put(
        &reg,
        &token,
        "/v1/admin/projects/big",
        json!({ "lockfile": lockfile(&packages) }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, first) = reg.send("GET", "/v1/search?q=crate-", "").await;
    assert_eq!(first["total_crates"], 120, "{first}");
    assert_eq!(first["crates"].as_array().map(Vec::len), Some(50));
    assert_eq!(first["more"], true);
    let (_, last) = reg.send("GET", "/v1/search?q=crate-&page=3", "").await;
    assert_eq!(last["crates"].as_array().map(Vec::len), Some(20));
    assert_eq!(last["crates"][0]["name"], "crate-100");
    assert_eq!(last["more"], false);
    let (_, html) = page(&reg, "/search?q=crate-&page=2").await;
    assert!(
        html.contains("href=\"/search?q=crate-&amp;page=3\">next page"),
        "{html}"
    );
    assert!(
        html.contains("href=\"/search?q=crate-&amp;page=1\">previous page"),
        "{html}"
    );
}
