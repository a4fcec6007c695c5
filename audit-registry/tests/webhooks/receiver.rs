//! The receiver standing in for a subscriber's server, and the set-up every webhook test shares.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use audit_registry::db::Db;
use audit_registry::notify::{self, DeliveryConfig, NowMs};
use audit_registry::{AppState, Limits, router};
use audit_trust_core::egress::EgressPolicy;
use audit_trust_core::http::HttpClient;
use audit_trust_core::time::{Clock, FixedClock};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt as _;

use crate::support::*;

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

/// A small HTTP/1.1 server on loopback that answers 500 to its first `fail_first` requests and
/// 200 afterwards, keeping every request.
pub struct Receiver {
    pub port: u16,
    pub seen: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub fn start(fail_first: usize) -> Receiver {
        Receiver::answering(fail_first, "500 Internal Server Error".into())
    }

    /// Answers `failure` (a status and any header lines) to the first `fail_first` requests.
    pub fn answering(fail_first: usize, failure: String) -> Receiver {
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

    /// Answers every request 200 with a body of `len` bytes (a chatty receiver).
    pub fn large_answer(len: usize) -> Receiver {
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
                log.lock().expect("lock").push(request);
                // The client stops reading early and closes: a failed write is expected.
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-length: {len}\r\nconnection: close\r\n\r\n"
                );
                let _ = stream.write_all(&vec![b'x'; len]);
            }
        });
        Receiver { port, seen }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    pub fn mirror(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn seen(&self) -> Vec<Received> {
        self.seen.lock().expect("lock").clone()
    }
}

pub fn read_request(stream: &mut std::net::TcpStream) -> Option<Received> {
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

pub async fn state_for(url: &str, mirrors: &[String]) -> AppState {
    let db = Db::connect(url)
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let clock = Arc::new(FixedClock(now())) as Arc<dyn Clock>;
    AppState::new(db, Limits::default(), clock)
        .with_egress(EgressPolicy::public_only().with_mirrors(mirrors))
}

/// A database URL per backend: a SQLite file always, a fresh PostgreSQL schema when configured.
pub async fn database_urls(dir: &tempfile::TempDir) -> Vec<(&'static str, String)> {
    let mut out = vec![(
        "sqlite",
        format!("sqlite://{}", dir.path().join("registry.db").display()),
    )];
    if let Ok(base) = std::env::var("AUDIT_REGISTRY_TEST_POSTGRES") {
        out.push(("postgres", fresh_schema(&base).await));
    }
    out
}

pub async fn send(
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

pub fn fast() -> DeliveryConfig {
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
pub async fn deliver_until(
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

pub const SECRET: &str = "receiver-secret-0123456789";
