//! Several instances, and the binary as operators run it.

use std::io::{BufRead as _, BufReader};
use std::time::Duration;

use audit_registry::notify::{self, DeliveryConfig, Event, EventKind};
use audit_trust_core::http::HttpClient;
use serde_json::{Value, json};

use crate::receiver::*;
use crate::support::*;

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
