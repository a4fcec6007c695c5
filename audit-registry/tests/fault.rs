//! A real `audit-registry` process killed with SIGKILL in the middle of a publish burst from
//! several clients: after a restart, every acknowledged record is there, and each key's stored
//! records match its stored head exactly (nothing half-written), and every acknowledged record is
//! proven in a checkpoint consistent with the one served before the kill. On SQLite, and on
//! PostgreSQL when `$AUDIT_REGISTRY_TEST_POSTGRES` is set.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use audit_trust_core::http::HttpClient;
use audit_trust_core::signoff::{
    PublicKey, RecordId, RegistryClient, SignedHead, SignedRecord, SigningKey,
};
use audit_trust_core::tlog::{LogAnswer, LogPin, NoteKey, verify_checkpoint};
use serde_json::Value;
use support::{NOW, head, key, signoff};

const CLIENTS: usize = 4;

fn serve(db_url: &str, listen: &str) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_audit-registry"))
        .args([
            "serve",
            "--listen",
            listen,
            "--now",
            NOW,
            "--rate-per-minute",
            "0",
            "--db",
            db_url,
        ])
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start audit-registry");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("first line");
    let url = line.trim().trim_start_matches("listening on ").to_owned();
    (child, url)
}

fn add_auditor(db_url: &str, name: &str, key: &SigningKey) {
    let status = Command::new(env!("CARGO_BIN_EXE_audit-registry"))
        .args([
            "auditor",
            "add",
            name,
            "--key",
            &key.public_key().to_string(),
            "--db",
            db_url,
        ])
        .stdout(Stdio::null())
        .status()
        .expect("run auditor add");
    assert!(status.success());
}

/// Publishes one record at a time, each with the head over all so far, until the server stops
/// answering; returns the acknowledged records.
fn burst(url: &str, k: &SigningKey, crate_name: &str) -> Vec<SignedRecord> {
    let http = HttpClient::new(Duration::from_secs(5));
    let client = RegistryClient::new(url, &http);
    let mut all: Vec<SignedRecord> = Vec::new();
    let mut previous: Option<SignedHead> = None;
    let mut acked = Vec::new();
    for i in 0..10_000 {
        let record = signoff(k, crate_name, &format!("1.0.{i}"));
        all.push(record.clone());
        let refs: Vec<&SignedRecord> = all.iter().collect();
        let h = head(k, previous.as_ref(), &refs);
        if client.publish(&[&record], &h).is_err() {
            break;
        }
        acked.push(record);
        previous = Some(h);
    }
    acked
}

async fn run(db_url: &str) {
    let keys: Vec<SigningKey> = (0..CLIENTS).map(|_| key()).collect();
    for (i, k) in keys.iter().enumerate() {
        add_auditor(db_url, &format!("client-{i}"), k);
    }
    let (mut child, url) = serve(db_url, "127.0.0.1:0");
    let acked: Mutex<Vec<Vec<SignedRecord>>> = Mutex::new(vec![Vec::new(); CLIENTS]);
    let before_kill = Mutex::new(String::new());
    std::thread::scope(|scope| {
        for (i, k) in keys.iter().enumerate() {
            let (url, acked) = (&url, &acked);
            scope.spawn(move || {
                let done = burst(url, k, &format!("crate-{i}"));
                acked.lock().expect("lock")[i] = done;
            });
        }
        std::thread::sleep(Duration::from_millis(500));
        *before_kill.lock().expect("lock") = log_checkpoint(&url);
        std::thread::sleep(Duration::from_millis(200));
        // SIGKILL: no shutdown, no flushing beyond what was committed.
        child.kill().expect("kill");
        let _ = child.wait();
    });
    let acked = acked.into_inner().expect("lock");
    assert!(
        acked.iter().all(|a| !a.is_empty()),
        "every client published before the kill"
    );
    let total: usize = acked.iter().map(Vec::len).sum();
    eprintln!("{db_url}: {total} publishes acknowledged before SIGKILL");

    let (mut child, url) = serve(db_url, url.trim_start_matches("http://"));
    // The restarted process loads the log by itself and then says it is ready (the bound only
    // keeps a process that never does from hanging the test).
    let addr = url.trim_start_matches("http://");
    let ready = (0..600).any(|_| {
        let (status, _, _) = support::processes::http(addr, "GET", "/ready", "");
        status == 200 || {
            std::thread::sleep(Duration::from_millis(50));
            false
        }
    });
    assert!(ready, "{db_url}: the restarted registry never became ready");
    let http = HttpClient::new(Duration::from_secs(10));
    let client = RegistryClient::new(&url, &http);
    for (k, acked) in keys.iter().zip(&acked) {
        let logs = client
            .sync(&[(k.public_key(), 0)].into_iter().collect())
            .expect("sync after restart");
        let log = logs.get(&k.public_key()).expect("a log for the key");
        let stored: BTreeSet<RecordId> = log
            .records
            .iter()
            .map(|l| {
                SignedRecord::from_json_line(l)
                    .expect("stored records verify")
                    .id()
            })
            .collect();
        for r in acked {
            assert!(stored.contains(&r.id()), "an acknowledged record was lost");
        }
        let head = SignedHead::from_json(log.head.as_deref().expect("a head")).expect("verifies");
        assert_eq!(
            head.check_records(&stored),
            Ok(()),
            "records and head disagree"
        );
        assert!(
            stored.len() <= acked.len() + 1,
            "at most the one in flight was committed"
        );
    }
    check_log(&url, &acked, &before_kill.into_inner().expect("lock"));
    let _ = child.kill();
    let _ = child.wait();
}

fn log_checkpoint(url: &str) -> String {
    let http = HttpClient::new(Duration::from_secs(10));
    let bytes = http
        .get_ok(&format!("{url}/v1/log/checkpoint"), 1 << 16)
        .expect("checkpoint");
    String::from_utf8(bytes).expect("text")
}

/// Every acknowledged record is proven in the log, whose checkpoint extends the one served
/// before the kill.
fn check_log(url: &str, acked: &[Vec<SignedRecord>], before_kill: &str) {
    let http = HttpClient::new(Duration::from_secs(10));
    let key: Value = serde_json::from_slice(
        &http
            .get_ok(&format!("{url}/v1/log/key"), 1 << 16)
            .expect("log key"),
    )
    .expect("json");
    let origin = key["origin"].as_str().expect("origin");
    let pin = LogPin {
        origin: origin.to_owned(),
        key: NoteKey::new(
            origin,
            PublicKey::parse(key["key"].as_str().expect("key")).expect("key"),
        )
        .expect("name"),
        witnesses: Vec::new(),
        min_cosignatures: 0,
        cosigned_after: 0,
        cosigned_before: u64::MAX,
    };
    let seen = verify_checkpoint(&pin, before_kill)
        .expect("the checkpoint before the kill verifies")
        .checkpoint;
    for (i, acked) in acked.iter().enumerate() {
        let body: Value = serde_json::from_slice(
            &http
                .get_ok(
                    &format!("{url}/v1/crates/crate-{i}?log_size={}", seen.size),
                    1 << 26,
                )
                .expect("crate answer"),
        )
        .expect("json");
        let answer = LogAnswer::from_json(&body["log"]).expect("well formed");
        let served: BTreeSet<RecordId> = body["records"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                SignedRecord::from_json_line(&r.to_string())
                    .expect("verifies")
                    .id()
            })
            .collect();
        let name = format!("crate-{i}");
        answer
            .verify(&pin, Some(&seen), &BTreeMap::from([(name.clone(), served)]))
            .expect("the log after the restart extends the one before and proves every record");
        let proven: BTreeSet<RecordId> = answer.crates[&name]
            .entries
            .iter()
            .map(|e| e.entry.record_id)
            .collect();
        for r in acked {
            assert!(
                proven.contains(&r.id()),
                "an acknowledged record is not in the log"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn acknowledged_records_survive_sigkill() {
    let dir = tempfile::tempdir().expect("temp dir");
    run(&format!(
        "sqlite://{}",
        dir.path().join("registry.db").display()
    ))
    .await;
    if let Ok(base) = std::env::var("AUDIT_REGISTRY_TEST_POSTGRES") {
        run(&support::fresh_schema(&base).await).await;
    }
}
