//! Shared by the API tests: a registry on SQLite (a temp file) or PostgreSQL (a fresh schema in
//! `$AUDIT_REGISTRY_TEST_POSTGRES`, which `.ci/run` sets), requests through the in-process
//! router, and records signed with real keys.

#![allow(dead_code)]

pub mod processes;

use std::sync::Arc;

use audit_registry::db::Db;
use audit_registry::{AppState, Limits, router};
use audit_trust_core::signoff::{
    Criterion, Head, Record, RecordId, SignedHead, SignedRecord, SigningKey, Statement, Subject,
};
use audit_trust_core::time::{Clock, FixedClock, Timestamp};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt as _;

pub const NOW: &str = "2025-06-01T12:00:00Z";

/// The `host:port` a freshly started `audit-registry serve` prints as its first line
/// (`listening on http://…`), read from its piped stdout.
pub fn listening_address(child: &mut std::process::Child) -> String {
    use std::io::BufRead as _;
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout piped"))
        .read_line(&mut line)
        .expect("first line");
    line.trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .to_owned()
}

pub fn now() -> Timestamp {
    Timestamp::parse(NOW).expect("valid")
}

pub struct Registry {
    pub state: AppState,
    _dir: Option<tempfile::TempDir>,
}

/// One registry per backend available: SQLite always, PostgreSQL when configured.
pub async fn backends(limits: Limits) -> Vec<(&'static str, Registry)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("registry.db").display());
    let mut out = vec![("sqlite", registry(&url, limits, Some(dir)).await)];
    if let Ok(base) = std::env::var("AUDIT_REGISTRY_TEST_POSTGRES") {
        out.push((
            "postgres",
            registry(&fresh_schema(&base).await, limits, None).await,
        ));
    }
    out
}

async fn registry(url: &str, limits: Limits, dir: Option<tempfile::TempDir>) -> Registry {
    let db = Db::connect(url)
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let clock = Arc::new(FixedClock(now())) as Arc<dyn Clock>;
    Registry {
        state: AppState::new(db, limits, clock),
        _dir: dir,
    }
}

/// A new schema in the test database, and a URL whose connections use it.
pub async fn fresh_schema(base: &str) -> String {
    use sqlx::Executor as _;
    sqlx::any::install_default_drivers();
    // The clock alone is not unique: two tests of one process asked within the clock's
    // granularity got the same name (CI saw `schema … already exists`), so a counter too.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let schema = format!(
        "t_{}_{}{:04}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 10_000
    );
    let pool = sqlx::AnyPool::connect(base)
        .await
        .expect("PostgreSQL reachable");
    drop_schemas_of_finished_runs(&pool).await;
    pool.execute(format!("CREATE SCHEMA {schema}").as_str())
        .await
        .expect("create schema");
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}options=-c%20search_path%3D{schema}")
}

/// Schemas are named `t_<pid>_<nanos>`; those of test processes that have ended are dropped,
/// so the shared test database does not fill up run after run.
async fn drop_schemas_of_finished_runs(pool: &sqlx::AnyPool) {
    use sqlx::{Executor as _, Row as _};
    let Ok(rows) = sqlx::query(
        "SELECT CAST(schema_name AS TEXT) FROM information_schema.schemata WHERE schema_name LIKE 't\\_%'",
    )
    .fetch_all(pool)
    .await
    else {
        return;
    };
    for row in rows {
        let Ok(name) = row.try_get::<String, _>(0) else {
            continue;
        };
        let pid = name.split('_').nth(1).unwrap_or("");
        let valid = !pid.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if valid && !std::path::Path::new("/proc").join(pid).exists() {
            // Another test process may drop the same schema at the same moment: ignore errors.
            let _ = pool
                .execute(format!("DROP SCHEMA IF EXISTS {name} CASCADE").as_str())
                .await;
        }
    }
}

impl Registry {
    pub fn from_state(state: AppState) -> Registry {
        Registry { state, _dir: None }
    }

    pub async fn register(&self, name: &str, key: &SigningKey) {
        self.state
            .db
            .add_auditor(name, &key.public_key(), NOW)
            .await
            .expect("add auditor");
    }

    /// Sends a request through the router; returns the status, headers and body bytes.
    async fn exchange(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Body,
    ) -> (StatusCode, axum::http::HeaderMap, axum::body::Bytes) {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = router(self.state.clone())
            .oneshot(request.body(body).expect("request"))
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        (status, headers, bytes)
    }

    /// Sends a request; returns the status and the JSON body (`Null` when not JSON).
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: impl Into<Body>,
    ) -> (StatusCode, Value) {
        let (status, _, value) = self.send_with(method, path, &[], body).await;
        (status, value)
    }

    /// A GET whose answer is text (the checkpoint note): the status and the body as sent.
    pub async fn get_text(&self, path: &str) -> (StatusCode, String) {
        let (status, _, bytes) = self.exchange("GET", path, &[], Body::empty()).await;
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Like [`Self::send`] with extra request headers; also returns the response headers.
    pub async fn send_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Body>,
    ) -> (StatusCode, axum::http::HeaderMap, Value) {
        let (status, headers, bytes) = self.exchange(method, path, headers, body.into()).await;
        (
            status,
            headers,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    pub async fn publish(
        &self,
        records: &[&SignedRecord],
        head: &SignedHead,
    ) -> (StatusCode, Value) {
        let body = publish_body(records, head);
        self.send("POST", "/v1/publish", body.to_string()).await
    }

    pub async fn sync(&self, key: &SigningKey, after: u64) -> (StatusCode, Value) {
        let body = serde_json::json!({ "keys": { key.public_key().to_string(): after } });
        self.send("POST", "/v1/sync", body.to_string()).await
    }
}

pub fn publish_body(records: &[&SignedRecord], head: &SignedHead) -> Value {
    let records: Vec<Value> = records
        .iter()
        .map(|r| serde_json::from_str(&r.to_json_line()).expect("json"))
        .collect();
    let head: Value = serde_json::from_str(&head.to_json()).expect("json");
    serde_json::json!({ "head": head, "records": records })
}

pub fn key() -> SigningKey {
    SigningKey::generate().expect("OS randomness")
}

pub fn signoff(key: &SigningKey, name: &str, version: &str) -> SignedRecord {
    let record = Record {
        key: key.public_key(),
        created: now(),
        statement: Statement::SignOff {
            subject: Subject::Crate {
                name: name.into(),
                version: version.parse().expect("version"),
                checksum: "ab".repeat(32),
            },
            criteria: vec![Criterion::Reviewed],
            delta_from: None,
            notes: None,
            source: None,
        },
    };
    SignedRecord::sign(record, key).expect("valid")
}

pub fn revocation(key: &SigningKey, target: &SignedRecord) -> SignedRecord {
    let record = Record {
        key: key.public_key(),
        created: now(),
        statement: Statement::Revocation {
            revokes: target.id(),
            reason: "mistake".into(),
        },
    };
    SignedRecord::sign(record, key).expect("valid")
}

/// The head after `previous` over exactly `records`, valid for 30 days.
pub fn head(
    key: &SigningKey,
    previous: Option<&SignedHead>,
    records: &[&SignedRecord],
) -> SignedHead {
    head_lasting(key, previous, records, 30)
}

pub fn head_lasting(
    key: &SigningKey,
    previous: Option<&SignedHead>,
    records: &[&SignedRecord],
    days: i64,
) -> SignedHead {
    let ids: std::collections::BTreeSet<RecordId> = records.iter().map(|r| r.id()).collect();
    let head = Head::next(
        previous.map(SignedHead::head),
        key.public_key(),
        &ids,
        now(),
        days,
    );
    SignedHead::sign(head, key).expect("valid")
}

pub fn codes(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// A lockfile of a workspace member `app` and crates.io packages `(name, version)`, whose
/// checksums are those `support::signoff` signs.
pub fn lockfile(packages: &[(&str, &str)]) -> String {
    let mut text =
        String::from("version = 3\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n");
    if !packages.is_empty() {
        text.push_str("dependencies = [\n");
        for (name, _) in packages {
            text.push_str(&format!(" \"{name}\",\n"));
        }
        text.push_str("]\n");
    }
    for (name, version) in packages {
        text.push_str(&format!(
            "\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\n\
             source = \"registry+https://github.com/rust-lang/crates.io-index\"\n\
             checksum = \"{}\"\n",
            "ab".repeat(32)
        ));
    }
    text
}

pub fn policy(key: &SigningKey) -> String {
    format!(
        "[policy]\ncriteria = [\"reviewed\"]\n\n[[auditor]]\nname = \"team\"\ncovers = [\"*\"]\n\
         records = {{ registry = \"https://registry.example\" }}\n\
         keys = [{{ key = \"{}\" }}]\n",
        key.public_key()
    )
}

/// The registry's log pin, as `GET /v1/log/key` shows it, with no witnesses.
pub async fn pin(reg: &Registry) -> audit_trust_core::tlog::LogPin {
    let (status, body) = reg.send("GET", "/v1/log/key", "").await;
    assert_eq!(status, axum::http::StatusCode::OK, "{body}");
    let origin = body["origin"].as_str().expect("origin").to_owned();
    let key = audit_trust_core::signoff::PublicKey::parse(body["key"].as_str().expect("key"))
        .expect("key");
    audit_trust_core::tlog::LogPin {
        origin: origin.clone(),
        key: audit_trust_core::tlog::NoteKey::new(&origin, key).expect("name"),
        witnesses: Vec::new(),
        min_cosignatures: 0,
        cosigned_after: 0,
        cosigned_before: u64::MAX,
    }
}

/// The ids of the records served in one crate's answer object (each must verify).
pub fn served_ids(answer: &Value) -> std::collections::BTreeSet<RecordId> {
    answer["records"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            SignedRecord::from_json_line(&r.to_string())
                .expect("each served record verifies")
                .id()
        })
        .collect()
}
