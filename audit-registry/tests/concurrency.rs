//! Every 5xx is a bug. Real `audit-registry serve` processes take concurrent publishes while
//! admin changes and dashboard reads hit the same database; every answer must be 2xx or 4xx.
//! On SQLite this caught publish answering 500 "database is locked": its deferred transaction
//! read first, and when another write landed before its first insert SQLite refused the
//! upgrade at once instead of waiting. On PostgreSQL two instances share one database.
//! Loops are bounded; nothing here asserts timing.

mod support;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use audit_trust_core::signoff::{SignedHead, SignedRecord, SigningKey};
use support::*;

const PUBLISHERS: usize = 4;
const PUBLISHES_EACH: usize = 20;
const ADMIN_ROUNDS: usize = 30;

fn registry_binary() -> &'static str {
    env!("CARGO_BIN_EXE_audit-registry")
}

/// A `serve` process whose logs go to a file, stopped when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(db: &str, log: &Path) -> Server {
    let log = std::fs::File::create(log).expect("log file");
    let mut child = Command::new(registry_binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--db", db, "--now", NOW])
        .args(["--rate-per-minute", "1000000", "--log-format", "json"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("start audit-registry serve");
    let addr = support::listening_address(&mut child);
    Server { child, addr }
}

fn cli(args: &[&str]) -> String {
    let out = Command::new(registry_binary())
        .args(args)
        .output()
        .expect("run audit-registry");
    assert!(out.status.success(), "{args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// One HTTP/1.1 exchange on a fresh connection: the status and the body.
fn http(addr: &str, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, body.to_owned())
}

/// Every answer seen: (what, status, body).
type Answers = Arc<Mutex<Vec<(String, u16, String)>>>;

fn record(answers: &Answers, what: &str, status: u16, body: &str) {
    answers
        .lock()
        .expect("lock")
        .push((what.to_owned(), status, body.to_owned()));
}

/// `PUBLISHES_EACH` publishes of one new sign-off each, every head covering all so far.
fn publisher(addrs: Vec<String>, key: SigningKey, n: usize, answers: Answers) {
    let mut records: Vec<SignedRecord> = Vec::new();
    let mut previous: Option<SignedHead> = None;
    for i in 0..PUBLISHES_EACH {
        records.push(signoff(&key, &format!("crate-{n}-{i}"), "1.0.0"));
        let all: Vec<&SignedRecord> = records.iter().collect();
        let head = head(&key, previous.as_ref(), &all);
        let body = publish_body(&all[all.len() - 1..], &head).to_string();
        let addr = &addrs[i % addrs.len()];
        let (status, answer) = http(addr, "POST", "/v1/publish", None, &body);
        record(&answers, "publish", status, &answer);
        previous = Some(head);
    }
}

/// The same batches of one key sent to every instance at once (a client retrying against
/// another instance): each is stored once; the others are a retry (200) or lost the race (409).
fn racer(addr: String, bodies: Arc<Vec<String>>, answers: Answers) {
    for body in bodies.iter() {
        let (status, answer) = http(&addr, "POST", "/v1/publish", None, body);
        record(&answers, "race publish", status, &answer);
    }
}

fn race_bodies(key: &SigningKey) -> Vec<String> {
    let mut records: Vec<SignedRecord> = Vec::new();
    let mut previous: Option<SignedHead> = None;
    let mut bodies = Vec::new();
    for i in 0..PUBLISHES_EACH {
        records.push(signoff(key, &format!("raced-{i}"), "1.0.0"));
        let all: Vec<&SignedRecord> = records.iter().collect();
        let head = head(key, previous.as_ref(), &all);
        bodies.push(publish_body(&all[all.len() - 1..], &head).to_string());
        previous = Some(head);
    }
    bodies
}

/// Admin writes between the publishes' reads and writes: an auditor added, then removed.
fn admin(addrs: Vec<String>, token: String, n: usize, answers: Answers) {
    for i in 0..ADMIN_ROUNDS {
        let addr = &addrs[i % addrs.len()];
        let name = format!("extra-{n}-{i}");
        let body = format!("{{\"name\":\"{name}\",\"key\":\"{}\"}}", key().public_key());
        let (status, answer) = http(addr, "POST", "/v1/admin/auditors", Some(&token), &body);
        record(&answers, "add auditor", status, &answer);
        let path = format!("/v1/admin/auditors/{name}");
        let (status, answer) = http(addr, "DELETE", &path, Some(&token), "");
        record(&answers, "remove auditor", status, &answer);
    }
}

fn reader(addrs: Vec<String>, answers: Answers) {
    for i in 0..ADMIN_ROUNDS {
        let addr = &addrs[i % addrs.len()];
        for path in ["/", "/crates/crate-0-0", "/v1/heads"] {
            let (status, answer) = http(addr, "GET", path, None, "");
            record(&answers, path, status, &answer);
        }
    }
}

/// Runs the load against `instances` servers on `db` and checks every answer.
fn load(db: &str, instances: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let token = cli(&["admin-token", "new", "ops", "--db", db]);
    let keys: Vec<SigningKey> = (0..=PUBLISHERS).map(|_| key()).collect();
    for (n, k) in keys.iter().enumerate() {
        cli(&[
            "auditor",
            "add",
            &format!("team-{n}"),
            "--key",
            &k.public_key().to_string(),
            "--db",
            db,
        ]);
    }
    let servers: Vec<Server> = (0..instances)
        .map(|i| serve(db, &dir.path().join(format!("server-{i}.log"))))
        .collect();
    let addrs: Vec<String> = servers.iter().map(|s| s.addr.clone()).collect();

    let answers: Answers = Arc::default();
    let mut threads = Vec::new();
    let mut keys = keys;
    let raced = Arc::new(race_bodies(&keys.pop().expect("one key to race")));
    for _ in 0..2 {
        for addr in &addrs {
            let (a, b, answers) = (addr.clone(), Arc::clone(&raced), Arc::clone(&answers));
            threads.push(std::thread::spawn(move || racer(a, b, answers)));
        }
    }
    for (n, k) in keys.into_iter().enumerate() {
        let (a, answers) = (addrs.clone(), Arc::clone(&answers));
        threads.push(std::thread::spawn(move || publisher(a, k, n, answers)));
    }
    for n in 0..2 {
        let (a, t, answers) = (addrs.clone(), token.clone(), Arc::clone(&answers));
        threads.push(std::thread::spawn(move || admin(a, t, n, answers)));
    }
    let (a, answers2) = (addrs.clone(), Arc::clone(&answers));
    threads.push(std::thread::spawn(move || reader(a, answers2)));
    for t in threads {
        t.join().expect("load thread");
    }
    drop(servers);

    let answers = answers.lock().expect("lock");
    let logs: String = (0..instances)
        .map(|i| {
            std::fs::read_to_string(dir.path().join(format!("server-{i}.log"))).unwrap_or_default()
        })
        .collect();
    let failed: Vec<_> = answers
        .iter()
        .filter(|(_, s, _)| !(200..500).contains(s))
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} answers were not 2xx/4xx: {failed:?}\nserver logs:\n{logs}",
        failed.len(),
        answers.len()
    );
    // Each key publishes in order, so every publish is stored.
    let publishes: Vec<_> = answers.iter().filter(|(w, _, _)| w == "publish").collect();
    assert_eq!(publishes.len(), PUBLISHERS * PUBLISHES_EACH);
    assert!(publishes.iter().all(|(_, s, _)| *s == 200), "{publishes:?}");
    let raced: Vec<_> = answers
        .iter()
        .filter(|(w, _, _)| w == "race publish")
        .collect();
    assert!(
        raced.iter().all(|(_, s, _)| *s == 200 || *s == 409),
        "{raced:?}"
    );
    assert!(raced.iter().any(|(_, s, _)| *s == 200), "{raced:?}");
}

#[test]
fn concurrent_publishes_on_sqlite_never_answer_5xx() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}", dir.path().join("registry.db").display());
    load(&db, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_publishes_on_two_postgresql_instances_never_answer_5xx() {
    let Ok(base) = std::env::var("AUDIT_REGISTRY_TEST_POSTGRES") else {
        return;
    };
    let db = fresh_schema(&base).await;
    tokio::task::spawn_blocking(move || load(&db, 2))
        .await
        .expect("load");
}
