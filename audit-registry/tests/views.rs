//! The crate, auditor and trends pages in-process, on SQLite and (when configured) PostgreSQL:
//! the JSON of each and the page showing the same data. Verifications and the facts of real
//! `.crate` files are stored as the automatic auditor stores them (the worker itself, with its
//! downloads and git, is tested in `tests/tests/service_worker`).

mod support;

use std::collections::BTreeMap;

use audit_registry::db::Verification;
use audit_registry::db::views::VersionFacts;
use audit_trust_core::signoff::{Record, SignedRecord, SigningKey, Statement, Subject};
use audit_trust_core::tarball::{Limits, read_crate};
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

async fn put(reg: &Registry, token: &str, path: &str, body: Value) {
    let bearer = format!("Bearer {token}");
    let (status, _, answer) = reg
        .send_with(
            "PUT",
            path,
            &[("authorization", bearer.as_str())],
            body.to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{path}: {answer}");
}

async fn html(reg: &Registry, path: &str) -> (StatusCode, String) {
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
        .map(|v| v.to_str().expect("ASCII").to_owned())
        .unwrap_or_default();
    assert!(csp.starts_with("default-src 'none'"), "{path}: {csp}");
    assert!(!csp.contains("script-src"), "{csp}");
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, String::from_utf8(bytes.to_vec()).expect("UTF-8"))
}

/// A real `.crate` of `name@version`; with a build script when `build` is given.
fn facts(name: &str, version: &str, build: Option<&str>) -> VersionFacts {
    let root = format!("{name}-{version}");
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut manifest = format!(
        "[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\n\
         repository = \"https://github.com/example/{name}\"\n"
    );
    if build.is_some() {
        manifest.push_str("build = \"build.rs\"\n");
    }
    files.insert(format!("{root}/Cargo.toml"), manifest.into_bytes());
    files.insert(
        format!("{root}/src/lib.rs"),
        b"pub fn a() -> u32 {\n    1\n}\n\npub fn b() -> u32 {\n    2\n}\n".to_vec(),
    );
    if let Some(script) = build {
        files.insert(format!("{root}/build.rs"), script.as_bytes().to_vec());
    }
    let bytes = audit_trust_e2e::build_crate(&files);
    let archive = read_crate(&bytes, name, version, &Limits::default()).expect("readable .crate");
    VersionFacts::read(name, version, &archive, bytes.len())
}

fn flag(key: &SigningKey, name: &str, version: &str) -> SignedRecord {
    let record = Record {
        key: key.public_key(),
        created: now(),
        statement: Statement::Flag {
            subject: Subject::Crate {
                name: name.into(),
                version: version.parse().expect("version"),
                checksum: "cd".repeat(32),
            },
            reason: "its build script runs a shell".into(),
            notes: None,
        },
    };
    SignedRecord::sign(record, key).expect("valid")
}

fn verification(name: &str, version: &str, verdict: &str, report: Value) -> Verification {
    Verification {
        crate_name: name.into(),
        version: version.into(),
        checksum: "cd".repeat(32),
        verdict: verdict.into(),
        signed: verdict == "matches",
        reason: format!("{verdict} <b>as reported</b>"),
        report,
        checked: now().0,
        worker_id: "w1".into(),
    }
}

#[tokio::test]
async fn crate_auditor_and_trend_pages_show_one_data_set_on_every_backend() {
    for (backend, reg) in backends(audit_registry::Limits::default()).await {
        let k = key();
        reg.register("team", &k).await;
        let token = admin(&reg).await;
        put(
            &reg,
            &token,
            "/v1/admin/policy",
            json!({ "policy": policy(&k) }),
        )
        .await;
        let serde = signoff(&k, "serde", "1.0.0");
        let first = head(&k, None, &[&serde]);
        let (status, body) = reg.publish(&[&serde], &first).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        put(
            &reg,
            &token,
            "/v1/admin/projects/alpha",
            json!({ "lockfile": lockfile(&[("serde", "1.0.0"), ("zap", "1.1.0")]) }),
        )
        .await;
        put(
            &reg,
            &token,
            "/v1/admin/projects/beta",
            json!({ "lockfile": lockfile(&[("zap", "1.0.0")]) }),
        )
        .await;

        // The automatic auditor read two versions of zap: the newer one adds a build script
        // that runs a process, and its repository is a hostile URL.
        let db = &reg.state.db;
        db.record_verification(&verification(
            "zap",
            "1.0.0",
            "matches",
            json!({ "repository": "https://github.com/example/zap", "commit": "a".repeat(40) }),
        ))
        .await
        .expect("store");
        db.record_verification(&verification(
            "zap",
            "1.1.0",
            "differs",
            json!({ "repository": "javascript:alert(1)//github.com/x/y", "commit": "b".repeat(40) }),
        ))
        .await
        .expect("store");
        db.record_version_facts("zap", "1.0.0", &facts("zap", "1.0.0", None))
            .await
            .expect("store");
        db.record_version_facts(
            "zap",
            "1.1.0",
            &facts(
                "zap",
                "1.1.0",
                Some("fn main() { std::process::Command::new(\"sh\").status().unwrap(); }\n"),
            ),
        )
        .await
        .expect("store");

        let (status, zap) = reg.send("GET", "/v1/crates/zap/summary", "").await;
        assert_eq!(status, StatusCode::OK, "{backend}: {zap}");
        assert_eq!(zap["versions"][0]["version"], "1.1.0", "{backend}: {zap}");
        assert_eq!(
            zap["versions"][0]["projects"],
            json!([["alpha", "unaudited"]]),
            "{backend}"
        );
        assert_eq!(zap["versions"][0]["code_lines"], 6, "{backend}: {zap}");
        assert_eq!(
            zap["versions"][1]["projects"],
            json!([["beta", "unaudited"]])
        );
        let provenance = zap["provenance"].as_array().expect("list");
        let matched = provenance
            .iter()
            .find(|p| p["version"] == "1.0.0")
            .expect("1.0.0");
        assert_eq!(
            matched["link"],
            format!("https://github.com/example/zap/commit/{}", "a".repeat(40)),
            "{backend}"
        );
        let differs = provenance
            .iter()
            .find(|p| p["version"] == "1.1.0")
            .expect("1.1.0");
        assert_eq!(
            differs["link"],
            Value::Null,
            "{backend}: a hostile URL became a link"
        );
        let risk = &zap["risk"][0];
        assert_eq!(risk["version"], "1.1.0", "{backend}: {zap}");
        assert_eq!(risk["base"], "1.0.0", "{backend}");
        let codes: Vec<&str> = risk["signals"]
            .as_array()
            .expect("signals")
            .iter()
            .filter_map(|s| s["code"].as_str())
            .collect();
        assert!(
            codes.contains(&"build-script-added"),
            "{backend}: {codes:?}"
        );
        assert!(
            codes.contains(&"build-script-spawns"),
            "{backend}: {codes:?}"
        );
        assert_eq!(zap["risk"][1]["base"], Value::Null, "{backend}");

        let (status, page) = html(&reg, "/crates/zap").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        for id in ["versions", "provenance", "risk", "history"] {
            assert!(
                page.contains(&format!("<section id=\"{id}\">")),
                "{backend}: {id}"
            );
        }
        assert!(
            page.contains("<a href=\"/projects/alpha\">alpha</a> (unaudited)"),
            "{page}"
        );
        assert!(page.contains("build-script-spawns"), "{backend}");
        assert!(
            page.contains("href=\"https://github.com/example/zap/commit/"),
            "{backend}"
        );
        assert!(!page.contains("href=\"javascript"), "{backend}: {page}");
        assert!(page.contains("&lt;b&gt;as reported&lt;/b&gt;"), "{backend}");

        // The overview and the project page count the backlog in lines where known.
        let (_, overview) = reg.send("GET", "/v1/projects", "").await;
        let alpha = overview["projects"]
            .as_array()
            .and_then(|a| a.iter().find(|p| p["name"] == "alpha"))
            .expect("alpha");
        assert_eq!(alpha["backlog_lines"], 6, "{backend}: {alpha}");
        assert_eq!(alpha["backlog_lines_unknown"], 0, "{backend}");
        let (_, page) = html(&reg, "/projects").await;
        assert!(page.contains("1 (6 lines of code)"), "{backend}: {page}");

        // The auditor: its key (registered and pinned), counts, crates; unknown ones are 404.
        let flag_record = flag(&k, "zap", "1.1.0");
        let second = head(&k, Some(&first), &[&serde, &flag_record]);
        let (status, body) = reg.publish(&[&flag_record], &second).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        let (status, team) = reg.send("GET", "/v1/auditors/team", "").await;
        assert_eq!(status, StatusCode::OK, "{backend}: {team}");
        assert_eq!(team["records"], 2, "{backend}: {team}");
        assert_eq!(
            team["by_kind"],
            json!({ "flag": 1, "sign-off": 1 }),
            "{backend}"
        );
        assert_eq!(team["keys"][0]["registered"], true, "{backend}");
        assert_eq!(team["keys"][0]["pinned"], true, "{backend}");
        assert_eq!(team["covers"], json!(["*"]), "{backend}");
        assert_eq!(team["flags"][0]["filed_under"], "zap", "{backend}");
        assert_eq!(
            team["crates"],
            json!([["serde", 1], ["zap", 1]]),
            "{backend}"
        );
        let (status, _) = reg.send("GET", "/v1/auditors/nobody", "").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
        let (status, page) = html(&reg, "/auditors/team").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            page.contains("2 records (1 flag, 1 sign-off) on 2 crates"),
            "{page}"
        );
        assert!(
            page.contains("<span class=\"flag\">flag</span>"),
            "{backend}"
        );
        let (status, _) = html(&reg, "/auditors/%3Cx%3E").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
        let (status, _) = html(&reg, "/auditors/team?page=0").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}");

        // Trends: today's coverage sample, this week's sign-off and verification failure.
        let (status, trends) = reg.send("GET", "/v1/trends", "").await;
        assert_eq!(status, StatusCode::OK, "{backend}: {trends}");
        let today = &trends["coverage"][0];
        assert_eq!(today["day"], "2025-06-01", "{backend}: {trends}");
        assert_eq!(today["projects"], 2, "{backend}");
        assert_eq!(today["packages"], 3, "{backend}: {today}");
        assert_eq!(today["covered"], 1, "{backend}");
        let weeks = trends["weeks"].as_array().expect("weeks");
        assert_eq!(weeks.len(), 52, "{backend}");
        let this_week = weeks.last().expect("a week");
        // 2025-06-01 is a Sunday: its week began on Monday 2025-05-26.
        assert_eq!(this_week["week"], "2025-05-26", "{backend}");
        assert_eq!(this_week["signoffs"], 1, "{backend}: {this_week}");
        assert_eq!(this_week["verified"], 2, "{backend}");
        assert_eq!(this_week["failed"], 1, "{backend}");
        let (status, page) = html(&reg, "/trends").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        for id in ["coverage-chart", "signoffs-chart", "failures-chart"] {
            assert!(
                page.contains(&format!("<svg id=\"{id}\"")),
                "{backend}: {id}"
            );
        }
        assert!(
            page.contains("<title>2025-06-01: 33.3%</title>"),
            "{backend}: {page}"
        );
    }
}

#[tokio::test]
async fn project_pages_are_paginated() {
    let reg = backends(audit_registry::Limits::default())
        .await
        .into_iter()
        .next()
        .expect("sqlite")
        .1;
    let k = key();
    reg.register("team", &k).await;
    let token = admin(&reg).await;
    put(
        &reg,
        &token,
        "/v1/admin/policy",
        json!({ "policy": policy(&k) }),
    )
    .await;
    let names: Vec<String> = (0..250).map(|i| format!("pkg{i:03}")).collect();
    let packages: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "1.0.0")).collect();
    put(
        &reg,
        &token,
        "/v1/admin/projects/big",
        json!({ "lockfile": lockfile(&packages) }),
    )
    .await;
    let (_, first) = reg.send("GET", "/v1/projects/big", "").await;
    let listed = |v: &Value| -> usize {
        v["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .map(|g| g["packages"].as_array().map_or(0, Vec::len))
            .sum()
    };
    assert_eq!(listed(&first), 200, "{first}");
    assert_eq!(first["more"], true);
    assert_eq!(first["packages_listed"], 251);
    let (_, second) = reg.send("GET", "/v1/projects/big?page=2", "").await;
    assert_eq!(listed(&second), 51);
    assert_eq!(second["more"], false);
    let (status, page) = html(&reg, "/projects/big?page=2").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Packages 201 to 251 of 251."), "{page}");
    assert!(page.contains("href=\"/projects/big?page=1\""), "{page}");
    let (status, _) = reg.send("GET", "/v1/projects/big?page=x", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
