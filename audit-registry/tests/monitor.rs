//! `cargo audit-trust log verify`, the monitor, against real registry processes: a clean log
//! verifies; a copy of the database restored from before (a rollback) and a copy that took
//! another history (a fork) are caught against the checkpoints the monitor cached; a tampered
//! copy of the answers (a changed record, a moved entry) is caught as a bad record or entry.

mod support;

use std::path::Path;
use std::process::Command;

use audit_trust_e2e::{StaticServer, binary_path};
use serde_json::Value;
use support::processes::*;
use support::*;

/// `cargo-audit-trust --cache-dir CACHE --format json log verify URL --log-key KEY`: the exit
/// code and the report.
fn monitor(cache: &Path, url: &str, log_key: &str) -> (i32, Value) {
    let out = Command::new(binary_path("cargo-audit-trust"))
        .arg("--cache-dir")
        .arg(cache)
        .args([
            "--format",
            "json",
            "log",
            "verify",
            url,
            "--log-key",
            log_key,
        ])
        .output()
        .expect("run cargo-audit-trust");
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "not a JSON report: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

fn code(report: &Value) -> &str {
    report["code"].as_str().unwrap_or("")
}

#[test]
fn the_monitor_verifies_a_log_and_catches_rollback_fork_and_tampering() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path().join("cache");
    let alice = key();
    let db = dir.path().join("a.db");
    let added = Command::new(BIN)
        .args(["auditor", "add", "alice", "--key"])
        .arg(alice.public_key().to_string())
        .args(["--db", &sqlite(&db)])
        .output()
        .expect("auditor add");
    assert!(added.status.success(), "{added:?}");

    let registry = serve(&db, "127.0.0.1:0", None);
    let url = format!("http://{}", registry.1);
    let (_, _, key_answer) = http(&registry.1, "GET", "/v1/log/key", "");
    let key_answer: Value = serde_json::from_str(&key_answer).expect("json");
    let log_key = key_answer["key"].as_str().expect("key").to_owned();

    let r1 = signoff(&alice, "serde", "1.0.0");
    let h1 = head(&alice, None, &[&r1]);
    publish(&registry.1, &[&r1], &h1);
    let old_copy = dir.path().join("old.db");
    copy_database(&db, &old_copy);
    let fork_copy = dir.path().join("fork.db");
    copy_database(&db, &fork_copy);
    // A second crate, and a revocation filed under the crate of the record it withdraws.
    let r2 = signoff(&alice, "tokio", "1.0.0");
    let withdrawn = revocation(&alice, &r1);
    let h2 = head(&alice, Some(&h1), &[&r1, &r2, &withdrawn]);
    publish(&registry.1, &[&r2, &withdrawn], &h2);

    let (status, report) = monitor(&cache, &url, &log_key);
    assert_eq!(status, 0, "{report}");
    assert_eq!(report["size"], 3, "{report}");
    assert_eq!(report["crates"], 2, "{report}");
    let (status, report) = monitor(&cache, &url, &log_key);
    assert_eq!(
        (status, report["checkpoints_seen_before"].as_u64()),
        (0, Some(1)),
        "{report}"
    );
    // Another key than the log's: refused.
    let (status, report) = monitor(&cache, &url, &alice.public_key().to_string());
    assert_eq!((status, code(&report)), (2, "unknown-log-key"), "{report}");

    // The tampered copies: the real answers, changed, from a plain web server.
    let (_, _, note) = http(&registry.1, "GET", "/v1/log/checkpoint", "");
    let (_, _, entries) = http(&registry.1, "GET", "/v1/log/entries?start=0", "");
    drop(registry);
    let entries: Value = serde_json::from_str(&entries).expect("json");
    let copy = StaticServer::start();
    copy.put("/v1/log/checkpoint", note.clone());
    let tampered_cache = dir.path().join("cache-tampered");
    let mut changed = entries.clone();
    let record = changed["entries"][1]["record"]
        .to_string()
        .replace("1.0.0", "1.0.9");
    changed["entries"][1]["record"] = serde_json::from_str(&record).expect("json");
    copy.put("/v1/log/entries", changed.to_string());
    let (status, report) = monitor(&tampered_cache, &copy.base_url(), &log_key);
    assert_eq!((status, code(&report)), (2, "bad-record"), "{report}");
    let mut moved = entries.clone();
    moved["entries"][2]["ordinal"] = 0.into();
    copy.put("/v1/log/entries", moved.to_string());
    let (status, report) = monitor(&tampered_cache, &copy.base_url(), &log_key);
    assert_eq!((status, code(&report)), (2, "entry-mismatch"), "{report}");
    copy.put("/v1/log/entries", entries.to_string());
    let (status, report) = monitor(&tampered_cache, &copy.base_url(), &log_key);
    assert_eq!(status, 0, "the untouched copy verifies: {report}");

    // The database restored from the copy taken at size 1: a rollback.
    let old = serve(&old_copy, "127.0.0.1:0", None);
    let (status, report) = monitor(&cache, &format!("http://{}", old.1), &log_key);
    assert_eq!((status, code(&report)), (2, "log-rollback"), "{report}");
    drop(old);

    // The copy taken at size 1 takes another history up to size 3: a fork.
    let fork = serve(&fork_copy, "127.0.0.1:0", None);
    let other = signoff(&alice, "rand", "1.0.0");
    let other2 = signoff(&alice, "rand", "1.0.1");
    let h_other = head(&alice, Some(&h1), &[&r1, &other, &other2]);
    publish(&fork.1, &[&other, &other2], &h_other);
    assert_eq!(size_of(&checkpoint(&fork.1)), 3);
    let (status, report) = monitor(&cache, &format!("http://{}", fork.1), &log_key);
    assert_eq!((status, code(&report)), (2, "log-fork"), "{report}");
    // A monitor with no cache sees a consistent log: only a seen checkpoint shows the fork.
    let fresh = dir.path().join("cache-fresh");
    let (status, report) = monitor(&fresh, &format!("http://{}", fork.1), &log_key);
    assert_eq!(status, 0, "{report}");
}

/// Every file under `root` on `server`, at its path relative to `root`.
fn serve_folder(server: &StaticServer, root: &Path, dir: &Path) {
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            serve_folder(server, root, &path);
        } else {
            let relative = path.strip_prefix(root).expect("under root");
            let url_path = format!("/{}", relative.to_str().expect("utf-8"));
            server.put(&url_path, std::fs::read(&path).expect("read"));
        }
    }
}

#[test]
fn the_monitor_reads_the_static_exports_tiles_and_catches_a_bad_tile() {
    let dir = tempfile::tempdir().expect("tempdir");
    let alice = key();
    let db = dir.path().join("a.db");
    let added = Command::new(BIN)
        .args(["auditor", "add", "alice", "--key"])
        .arg(alice.public_key().to_string())
        .args(["--db", &sqlite(&db)])
        .output()
        .expect("auditor add");
    assert!(added.status.success(), "{added:?}");
    let registry = serve(&db, "127.0.0.1:0", None);
    let (_, _, key_answer) = http(&registry.1, "GET", "/v1/log/key", "");
    let key_answer: Value = serde_json::from_str(&key_answer).expect("json");
    let log_key = key_answer["key"].as_str().expect("key").to_owned();
    let records: Vec<_> = (0..300)
        .map(|i| signoff(&alice, &format!("crate{}", i % 7), &format!("1.0.{i}")))
        .collect();
    let refs: Vec<_> = records.iter().collect();
    publish(&registry.1, &refs, &head(&alice, None, &refs));
    drop(registry);

    let export_dir = dir.path().join("export");
    let exported = Command::new(BIN)
        .arg("export")
        .arg(&export_dir)
        .args(["--db", &sqlite(&db), "--now", NOW])
        .output()
        .expect("export");
    assert!(exported.status.success(), "{exported:?}");
    for path in [
        "tlog/checkpoint",
        "tlog/tile/0/000",
        "tlog/tile/0/001.p/44",
        "tlog/tile/1/000.p/1",
        "tlog/tile/entries/000",
        "tlog/records/001.p/44",
    ] {
        assert!(export_dir.join(path).is_file(), "{path}");
    }
    let copy = StaticServer::start();
    serve_folder(&copy, &export_dir, &export_dir);
    let cache = dir.path().join("cache");
    let tiles = |cache: &Path| {
        let out = Command::new(binary_path("cargo-audit-trust"))
            .arg("--cache-dir")
            .arg(cache)
            .args(["--format", "json", "log", "verify", &copy.base_url()])
            .args(["--log-key", &log_key, "--tiles"])
            .output()
            .expect("run");
        let report: Value = serde_json::from_slice(&out.stdout).expect("json report");
        (out.status.code().unwrap_or(-1), report)
    };
    let (status, report) = tiles(&cache);
    assert_eq!(
        (status, report["size"].as_u64()),
        (0, Some(300)),
        "{report}"
    );

    // A hash tile that does not match its entries, and a changed record beside them.
    copy.update("/tlog/tile/0/001.p/44", |bytes| bytes[0] ^= 1);
    let (status, report) = tiles(&cache);
    assert_eq!((status, code(&report)), (2, "tile-mismatch"), "{report}");
    copy.update("/tlog/tile/0/001.p/44", |bytes| bytes[0] ^= 1);
    // A level-1 hash that is not what the level-0 tile below it hashes to.
    copy.update("/tlog/tile/1/000.p/1", |bytes| bytes[31] ^= 1);
    let (status, report) = tiles(&cache);
    assert_eq!((status, code(&report)), (2, "tile-mismatch"), "{report}");
    assert!(
        report["message"]
            .as_str()
            .is_some_and(|m| m.contains("tile/1/000.p/1")),
        "{report}"
    );
    copy.update("/tlog/tile/1/000.p/1", |bytes| bytes[31] ^= 1);
    copy.update("/tlog/records/000", |bytes| {
        let text = String::from_utf8(bytes.clone()).expect("utf-8");
        *bytes = text.replacen("1.0.0", "1.0.9", 1).into_bytes();
    });
    let (status, report) = tiles(&cache);
    assert_eq!((status, code(&report)), (2, "bad-record"), "{report}");

    // A small publish, and the export again: only what is new is written, and a monitor
    // reading the export from scratch verifies the whole log.
    let registry = serve(&db, "127.0.0.1:0", None);
    let more: Vec<_> = (300..340)
        .map(|i| signoff(&alice, "late", &format!("2.0.{i}")))
        .collect();
    let all: Vec<_> = records.iter().chain(&more).collect();
    let first_head = head(&alice, None, &refs);
    publish(
        &registry.1,
        &more.iter().collect::<Vec<_>>(),
        &head(&alice, Some(&first_head), &all),
    );
    drop(registry);
    let exported = Command::new(BIN)
        .arg("export")
        .arg(&export_dir)
        .args(["--db", &sqlite(&db), "--now", NOW])
        .output()
        .expect("export");
    assert!(exported.status.success(), "{exported:?}");
    let said = String::from_utf8_lossy(&exported.stdout);
    assert!(
        // 4 tiles, bundles and records files, and 43 of the crate index's per-crate files
        // (the manifest, runs, and the new entries' crate and leaf files).
        said.contains("log: 340 entries, tiles written from entry 300 (47 files written)"),
        "{said}"
    );
    assert!(export_dir.join("tlog/tile/0/001.p/84").is_file());
    let copy = StaticServer::start();
    serve_folder(&copy, &export_dir, &export_dir);
    let fresh = dir.path().join("fresh-cache");
    let out = Command::new(binary_path("cargo-audit-trust"))
        .arg("--cache-dir")
        .arg(&fresh)
        .args(["--format", "json", "log", "verify", &copy.base_url()])
        .args(["--log-key", &log_key, "--tiles"])
        .output()
        .expect("run");
    let report: Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(
        (out.status.code(), report["size"].as_u64()),
        (Some(0), Some(340)),
        "{report}"
    );
}
