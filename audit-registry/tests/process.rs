//! The `audit-registry` binary as operators use it: admin tokens made on the command line and
//! used over HTTP, and JSON logs with one object per request.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Command, Stdio};

mod support;

fn registry(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_audit-registry"))
        .args(args)
        .output()
        .expect("run audit-registry")
}

/// A minimal HTTP/1.1 exchange over a fresh connection; returns the status and the body.
fn http(addr: &str, method: &str, path: &str, headers: &[&str], body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for h in headers {
        request.push_str(h);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

#[test]
fn an_admin_token_from_the_command_line_works_over_http_and_requests_are_logged_as_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("registry.db");
    let db = format!("sqlite://{}", db_path.display());

    let made = registry(&["admin-token", "new", "ops", "--db", &db]);
    assert!(made.status.success(), "{made:?}");
    let secret = String::from_utf8_lossy(&made.stdout).trim().to_owned();
    assert!(secret.starts_with("atr_") && secret.len() > 40, "{secret}");
    let again = registry(&["admin-token", "new", "ops", "--db", &db]);
    assert_eq!(
        again.status.code(),
        Some(2),
        "a second token of the same name"
    );
    let bad = registry(&["admin-token", "new", "../x", "--db", &db]);
    assert_eq!(bad.status.code(), Some(2));

    let list = registry(&["admin-token", "list", "--db", &db]);
    let listed = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(listed.starts_with("ops\t"), "{listed}");
    assert!(!listed.contains(&secret), "the list never shows a secret");

    let mut child = Command::new(env!("CARGO_BIN_EXE_audit-registry"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--db",
            &db,
            "--log-format",
            "json",
        ])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start audit-registry");
    let addr = support::listening_address(&mut child);

    let key = audit_trust_core::signoff::SigningKey::generate()
        .expect("OS randomness")
        .public_key()
        .to_string();
    let body = format!("{{\"name\":\"bot\",\"key\":\"{key}\"}}");
    let (status, _) = http(&addr, "POST", "/v1/admin/auditors", &[], &body);
    assert_eq!(status, 401);
    let bearer = format!("Authorization: Bearer {secret}");
    let (status, answer) = http(&addr, "POST", "/v1/admin/auditors", &[&bearer], &body);
    assert_eq!(status, 201, "{answer}");
    let (status, answer) = http(&addr, "GET", "/v1/auditors", &[], "");
    assert_eq!(status, 200);
    assert!(answer.contains("\"bot\""), "{answer}");

    let revoked = registry(&["admin-token", "revoke", "ops", "--db", &db]);
    assert!(revoked.status.success());
    let (status, _) = http(&addr, "DELETE", "/v1/admin/auditors/bot", &[&bearer], "");
    assert_eq!(status, 401, "a revoked token stops working");

    let logs = stop_and_read_logs(&mut child);
    let requests: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("every log line is JSON"))
        .filter(|v| v["message"] == "request")
        .collect();
    assert_eq!(requests.len(), 4, "{logs}");
    assert_eq!(requests[1]["path"], "/v1/admin/auditors");
    assert_eq!(requests[1]["method"], "POST");
    assert_eq!(requests[1]["status"], 201);
    assert!(requests[1]["micros"].is_u64());
    assert!(
        logs.contains("auditor added"),
        "admin changes are logged: {logs}"
    );
    assert!(!logs.contains(&secret), "the token never reaches the logs");

    // Only a hash is kept: the secret is nowhere in the database file.
    let mut stored = Vec::new();
    for entry in std::fs::read_dir(dir.path()).expect("dir").flatten() {
        stored.extend(std::fs::read(entry.path()).unwrap_or_default());
    }
    assert!(
        !stored.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "the secret is stored in the clear"
    );
}

/// An internal failure (here the table of heads dropped under the running server) answers 500
/// with the request's id, and the log line of that id names the route and the whole cause.
#[tokio::test(flavor = "multi_thread")]
async fn a_500_names_its_request_and_the_log_names_its_cause() {
    use sqlx::Executor as _;
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}", dir.path().join("registry.db").display());
    let k = support::key();
    let added = registry(&[
        "auditor",
        "add",
        "team",
        "--key",
        &k.public_key().to_string(),
        "--db",
        &db,
    ]);
    assert!(added.status.success(), "{added:?}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_audit-registry"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db", &db])
        .args(["--now", support::NOW, "--log-format", "json"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start audit-registry");
    let addr = support::listening_address(&mut child);

    let pool = sqlx::SqlitePool::connect(&db)
        .await
        .expect("open the database");
    pool.execute("DROP TABLE heads").await.expect("drop heads");
    let record = support::signoff(&k, "serde", "1.0.0");
    let body = support::publish_body(&[&record], &support::head(&k, None, &[&record]));
    let (status, answer) = tokio::task::spawn_blocking(move || {
        http(&addr, "POST", "/v1/publish", &[], &body.to_string())
    })
    .await
    .expect("join");
    assert_eq!(status, 500, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer).expect("JSON error");
    let message = answer["error"]["message"].as_str().expect("message");
    let id: u64 = message
        .strip_prefix("internal error (logged on the server as request ")
        .and_then(|rest| rest.strip_suffix(')'))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no request id in {message}"));

    let logs = stop_and_read_logs(&mut child);
    let errors: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["level"] == "ERROR")
        .collect();
    assert_eq!(errors.len(), 1, "{logs}");
    let error = &errors[0];
    assert_eq!(error["span"]["id"], id, "{error}");
    assert_eq!(error["span"]["route"], "/v1/publish", "{error}");
    assert_eq!(error["span"]["method"], "POST", "{error}");
    assert!(
        error["error"]
            .as_str()
            .is_some_and(|e| e.contains("no such table: heads")),
        "{error}"
    );
}

/// systemd and container runtimes stop a service with SIGTERM: the server stops gracefully and
/// exits 0, instead of dying of the signal with requests in flight.
#[test]
fn sigterm_stops_the_server_gracefully() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}", dir.path().join("registry.db").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_audit-registry"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db", &db])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start audit-registry");
    let addr = support::listening_address(&mut child);
    assert_eq!(http(&addr, "GET", "/health", &[], "").0, 200);
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(sent.success());
    // Bounded wait; the graceful stop itself is capped at 30 s.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server did not stop after SIGTERM");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0), "{status:?}");
}

/// Kills a server started with piped stderr and returns everything it logged.
fn stop_and_read_logs(child: &mut std::process::Child) -> String {
    let _ = child.kill();
    let mut logs = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut logs)
        .expect("logs");
    let _ = child.wait();
    logs
}
