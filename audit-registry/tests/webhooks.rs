//! Webhooks end to end on loopback, on SQLite and (when configured) PostgreSQL: subscribers are
//! added over the admin API, a publish queues events in its transaction, the delivery pass sends
//! them through the guarded client to a real HTTP receiver in this test (configured as a mirror,
//! as loopback is otherwise refused), which fails the first attempts; retries, signatures and the
//! delivery log are checked. Nothing is faked: the receiver stands in for a subscriber's server.

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use audit_registry::db::Db;
use audit_registry::notify::{self, DeliveryConfig, Event, EventKind, NowMs};
use audit_registry::{AppState, Limits, router};
use audit_trust_core::egress::EgressPolicy;
use audit_trust_core::http::HttpClient;
use audit_trust_core::time::{Clock, FixedClock};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use support::*;
use tower::ServiceExt as _;

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
struct Received {
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

/// A small HTTP/1.1 server on loopback that answers 500 to its first `fail_first` requests and
/// 200 afterwards, keeping every request.
struct Receiver {
    port: u16,
    seen: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    fn start(fail_first: usize) -> Receiver {
        Receiver::answering(fail_first, "500 Internal Server Error".into())
    }

    /// Answers `failure` (a status and any header lines) to the first `fail_first` requests.
    fn answering(fail_first: usize, failure: String) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let seen: Arc<Mutex<Vec<Received>>> = Arc::default();
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let Some(request) = read_request(&mut stream) else {
                    continue;
                };
                let n = {
                    let mut log = log.lock().expect("lock");
                    log.push(request);
                    log.len()
                };
                let status = if n <= fail_first {
                    failure.as_str()
                } else {
                    "200 OK"
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                );
            }
        });
        Receiver { port, seen }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    fn mirror(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> Vec<Received> {
        self.seen.lock().expect("lock").clone()
    }
}

fn read_request(stream: &mut std::net::TcpStream) -> Option<Received> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut headers = BTreeMap::new();
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        let (name, value) = trimmed.split_once(':')?;
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
    }
    let length: usize = headers.get("content-length")?.parse().ok()?;
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Received { headers, body })
}

async fn state_for(url: &str, mirrors: &[String]) -> AppState {
    let db = Db::connect(url)
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let clock = Arc::new(FixedClock(now())) as Arc<dyn Clock>;
    AppState::new(db, Limits::default(), clock)
        .with_egress(EgressPolicy::public_only().with_mirrors(mirrors))
}

/// A database URL per backend: a SQLite file always, a fresh PostgreSQL schema when configured.
async fn database_urls(dir: &tempfile::TempDir) -> Vec<(&'static str, String)> {
    let mut out = vec![(
        "sqlite",
        format!("sqlite://{}", dir.path().join("registry.db").display()),
    )];
    if let Ok(base) = std::env::var("AUDIT_REGISTRY_TEST_POSTGRES") {
        out.push(("postgres", fresh_schema(&base).await));
    }
    out
}

async fn send(
    state: &AppState,
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
    let body = if body.is_null() {
        Body::empty()
    } else {
        Body::from(body.to_string())
    };
    let response = router(state.clone())
        .oneshot(request.body(body).expect("request"))
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

fn fast() -> DeliveryConfig {
    DeliveryConfig {
        retry_base: Duration::from_millis(20),
        retry_max: Duration::from_millis(200),
        max_attempts: 4,
        timeout: Duration::from_secs(10),
        ..DeliveryConfig::default()
    }
}

/// Runs delivery passes until `done` holds (or fails the test after a generous while: this
/// bounds a hang, it asserts no timing).
async fn deliver_until(
    db: &Db,
    client: &HttpClient,
    config: &DeliveryConfig,
    mut done: impl FnMut() -> bool,
) {
    let now: NowMs = notify::system_now_ms();
    for _ in 0..3000 {
        notify::deliver_due(db, client, config, &now)
            .await
            .expect("delivery pass");
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("deliveries did not finish");
}

const SECRET: &str = "receiver-secret-0123456789";

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

/// Two instances on one database claim each delivery once: every event reaches the receiver
/// exactly one time however the passes interleave.
#[tokio::test]
async fn two_instances_never_send_a_delivery_twice() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (backend, url) in database_urls(&dir).await {
        let receiver = Receiver::start(0);
        let mirrors = [receiver.mirror()];
        let first = state_for(&url, &mirrors).await;
        let second = state_for(&url, &mirrors).await;
        first
            .db
            .add_subscriber(&receiver.url(), SECRET, &["flag".to_owned()], NOW)
            .await
            .expect("subscriber");
        const EVENTS: usize = 30;
        for i in 0..EVENTS {
            notify::emit(
                &first.db,
                Event {
                    kind: EventKind::Flag,
                    crate_name: Some(format!("crate{i}")),
                    record_id: None,
                    data: json!({}),
                },
            )
            .await
            .expect("emit");
        }
        let client = HttpClient::guarded(Duration::from_secs(10), first.egress.clone());
        let config = DeliveryConfig { batch: 4, ..fast() };
        let seen = || receiver.seen().len() >= EVENTS;
        tokio::join!(
            deliver_until(&first.db, &client, &config, seen),
            deliver_until(&second.db, &client, &config, seen),
        );
        let mut ids: Vec<String> = receiver
            .seen()
            .iter()
            .map(|r| r.headers["x-audit-registry-delivery"].clone())
            .collect();
        ids.sort();
        let before = ids.len();
        ids.dedup();
        assert_eq!((before, ids.len()), (EVENTS, EVENTS), "{backend}");
    }
}

/// The binary as operators run it: `serve --mirror` lets the delivery task reach the loopback
/// receiver, an admin token from the command line adds the subscriber over HTTP, and a publish
/// over HTTP is delivered (after one refusal) with a signature the secret verifies.
#[test]
fn serve_delivers_webhooks_to_a_mirror() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}", dir.path().join("registry.db").display());
    let binary = env!("CARGO_BIN_EXE_audit-registry");
    let made = Command::new(binary)
        .args(["admin-token", "new", "ops", "--db", &db])
        .output()
        .expect("admin-token new");
    assert!(made.status.success(), "{made:?}");
    let token = String::from_utf8_lossy(&made.stdout).trim().to_owned();
    let k = key();
    let added = Command::new(binary)
        .args(["auditor", "add", "team", "--key"])
        .arg(k.public_key().to_string())
        .args(["--db", &db])
        .output()
        .expect("auditor add");
    assert!(added.status.success(), "{added:?}");

    let receiver = Receiver::start(1);
    let mut child = Command::new(binary)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--db",
            &db,
            "--now",
            NOW,
        ])
        .args([
            "--mirror",
            &receiver.mirror(),
            "--mirror",
            "mirror.invalid:1",
        ])
        .args(["--webhook-retry-base-ms", "20", "--webhook-poll-ms", "20"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let stdout = child.stdout.take().expect("stdout");
    let child = Kill(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("line");
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .expect("address")
        .to_owned();

    let client = HttpClient::new(Duration::from_secs(30));
    let auth = [("authorization", format!("Bearer {token}"))];
    let subscriber = json!({ "url": receiver.url(), "secret": SECRET, "events": ["signoff"] });
    let (status, answer) = client
        .post_without_redirects(
            &format!("{base}/v1/admin/subscribers"),
            &[auth[0].clone(), ("content-type", "application/json".into())],
            subscriber.to_string().into_bytes(),
            1 << 20,
        )
        .expect("add subscriber");
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&answer));
    // Another loopback port is not a mirror: refused.
    let (status, answer) = client
        .post_without_redirects(
            &format!("{base}/v1/admin/subscribers"),
            &[auth[0].clone(), ("content-type", "application/json".into())],
            json!({ "url": "http://127.0.0.1:1/hook", "secret": SECRET })
                .to_string()
                .into_bytes(),
            1 << 20,
        )
        .expect("refused subscriber");
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&answer));

    let record = signoff(&k, "serde", "1.0.0");
    let body = publish_body(&[&record], &head(&k, None, &[&record]));
    let (status, answer) = client
        .post_json(
            &format!("{base}/v1/publish"),
            body.to_string().into_bytes(),
            1 << 20,
        )
        .expect("publish");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));

    // Bounds a hang only.
    for _ in 0..3000 {
        if receiver.seen().len() >= 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let seen = receiver.seen();
    assert_eq!(seen.len(), 2, "one refusal, then the delivery");
    let last = &seen[1];
    let timestamp: i64 = last.headers["x-audit-registry-timestamp"]
        .parse()
        .expect("timestamp");
    assert_eq!(
        last.headers["x-audit-registry-signature"],
        notify::signature(
            SECRET,
            &last.headers["x-audit-registry-delivery"],
            timestamp,
            &last.body
        )
    );
    let payload: Value = serde_json::from_slice(&last.body).expect("JSON");
    assert_eq!(payload["record_id"], record.id().to_string());
    drop(child);
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

/// Finished events go with their deliveries and logs once past the retention; an event with a
/// delivery still pending stays whatever its age.
#[tokio::test]
async fn finished_events_are_pruned_and_pending_ones_kept() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (backend, url) in database_urls(&dir).await {
        let state = state_for(&url, &[]).await;
        let db = &state.db;
        let event = |kind| Event {
            kind,
            crate_name: Some("serde".into()),
            record_id: None,
            data: json!({}),
        };
        // Made before anyone subscribed: nothing to deliver, so finished at once.
        notify::emit(db, event(EventKind::Flag))
            .await
            .expect("emit");
        db.add_subscriber(
            "https://hooks.example.com/audit",
            SECRET,
            &["signoff".to_owned()],
            NOW,
        )
        .await
        .expect("subscriber");
        notify::emit(db, event(EventKind::SignOff))
            .await
            .expect("emit");

        let after_both = now().0 + 1;
        assert_eq!(
            db.prune_outbox(now().0).await.expect("prune"),
            0,
            "{backend}: too young"
        );
        assert_eq!(
            db.prune_outbox(after_both).await.expect("prune"),
            1,
            "{backend}"
        );
        let claimed = db
            .claim_due_deliveries(i64::MAX / 2, 1000, 10)
            .await
            .expect("claim");
        assert_eq!(claimed.len(), 1, "{backend}: the pending delivery stayed");

        // Once delivered, it is finished too, and goes with its log.
        let outcome = audit_registry::db::AttemptOutcome {
            at: NOW.into(),
            status: Some(200),
            error: None,
            state: audit_registry::db::DeliveryState::Delivered,
            next_due_ms: 0,
            next_retry: None,
        };
        db.finish_attempt(&claimed[0], &outcome)
            .await
            .expect("finish");
        let subscriber = &claimed[0].subscriber_id;
        assert_eq!(db.delivery_log(subscriber, 10).await.expect("log").len(), 1);
        assert_eq!(
            db.prune_outbox(after_both).await.expect("prune"),
            1,
            "{backend}"
        );
        assert!(
            db.delivery_log(subscriber, 10)
                .await
                .expect("log")
                .is_empty()
        );
    }
}
