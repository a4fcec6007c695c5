//! A registry's static export read by consumers with the registry stopped: a real
//! `audit-registry serve` on SQLite takes publishes from the real CLI, `audit-registry export`
//! writes the files, and a plain static HTTP server on loopback serves them (as nginx or a
//! bucket would). `query` and `check` read only that URL, verify it like the registry, and
//! catch a tampered record, a withheld record and an older export served after a newer one with
//! the same rejection codes as the registry source.

use std::path::{Path, PathBuf};

use audit_trust_e2e::{StaticServer, status_of};
use serde_json::Value;

use crate::gate::advisory_db;
use crate::registry::{
    codes, consumer_query, consumer_query_refused, registry_admin, restart_registry, start_registry,
};
use crate::world::{World, path_arg, world};

/// Runs `audit-registry export` of the registry `db` into a new folder `name`.
pub(crate) fn export(w: &World, db: &Path, name: &str) -> PathBuf {
    let dir = w.home.path().join(name);
    let out = registry_admin(db, &["export", path_arg(&dir)]);
    assert!(out.starts_with("exported "), "{out}");
    dir
}

/// Serves every file of the export `dir` under `/export/`, replacing what was served before.
pub(crate) fn serve(server: &StaticServer, dir: &Path) {
    fn walk(server: &StaticServer, root: &Path, dir: &Path) {
        for entry in std::fs::read_dir(dir).expect("list") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(server, root, &path);
            } else {
                let relative = path.strip_prefix(root).expect("inside");
                let url_path = format!("/export/{}", relative.display());
                server.put(&url_path, std::fs::read(&path).expect("read"));
            }
        }
    }
    walk(server, dir, dir);
}

/// The team flags leafy 1.0.1 through the registry on `db` (restarted at `url`), and the
/// registry is exported again into `export-2`, which `statics` then serves.
pub(crate) fn flag_and_re_export(
    w: &World,
    db: &Path,
    url: &str,
    key: &str,
    statics: &StaticServer,
) -> PathBuf {
    let server = restart_registry(db, url);
    w.flag_leafy(key, &server.url);
    drop(server);
    let second = export(w, db, "export-2");
    serve(statics, &second);
    second
}

/// A consumer's `Cargo.audit` that reads auditor `team` from the static export at `url` only.
fn consumer_audit_file(w: &World, public: &str, url: &str) -> PathBuf {
    crate::registry::consumer_audit_file(w, public, &format!("url = \"{url}\""))
}

/// `check` with the consumer's `Cargo.audit`: exit code and leafy's status.
fn consumer_check(w: &World, audit: &Path) -> (Option<i32>, String, Value) {
    let db_dir = advisory_db(w);
    let (code, report) = w.check_json(&["--advisory-db", &db_dir, "--audit-file", path_arg(audit)]);
    (code, status_of(&report, "leafy"), report)
}

/// `check` when the auditor's log does not verify: no report, exit 2, and why on stderr.
fn consumer_check_refused(w: &World, audit: &Path) -> String {
    let db_dir = advisory_db(w);
    let out = w
        .cmd()
        .args(["check", "--advisory-db", &db_dir, "--audit-file"])
        .arg(audit)
        .output()
        .expect("run check");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "fails closed: {stderr}");
    assert!(stderr.contains("auditor `team`"), "{stderr}");
    stderr
}

fn kinds(q: &Value) -> Vec<String> {
    q["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter_map(|r| r["kind"].as_str().map(str::to_owned))
        .collect()
}

/// The consumer's mirror is dropped, so what is checked is what the static server serves now,
/// against the cache of heads (which stays).
fn drop_mirror(w: &World) {
    let _ = std::fs::remove_dir_all(w.home.path().join("cache/registry-mirrors"));
}

/// Replaces the served records file of the one key with `edit` applied to it.
fn edit_records(server: &StaticServer, dir: &Path, edit: impl Fn(&str) -> String) {
    let keys = dir.join("v1/keys");
    let key_dir = std::fs::read_dir(&keys)
        .expect("list keys")
        .next()
        .expect("one key")
        .expect("entry")
        .path();
    let relative = key_dir
        .strip_prefix(dir)
        .expect("inside")
        .display()
        .to_string();
    let text = std::fs::read_to_string(key_dir.join("records.jsonl")).expect("read");
    server.put(&format!("/export/{relative}/records.jsonl"), edit(&text));
}

#[test]
fn a_static_export_is_read_verified_without_the_registry() {
    let w = world();
    let (key, public) = w.new_key("team.key");
    w.write_audit_file(&format!("{{ key = \"{public}\" }}"));
    let key = path_arg(&key);
    let db = w.home.path().join("registry.db");
    let server = start_registry(&db, &[]);
    registry_admin(&db, &["auditor", "add", "team", "--key", &public]);
    for (name, version) in [("leafy", "1.0.1"), ("other", "0.1.0")] {
        w.ok(&[
            "sign",
            name,
            version,
            "--criteria",
            "reviewed",
            "--key",
            key,
        ]);
    }
    w.ok(&["publish", "--registry", &server.url, "--key", key]);
    let registry_url = server.url.clone();
    drop(server);

    // The registry is stopped: consumers read only the static copy.
    let first = export(&w, &db, "export-1");
    let statics = StaticServer::start();
    serve(&statics, &first);
    let url = format!("{}/export", statics.base_url());
    let consumer = consumer_audit_file(&w, &public, &url);
    let q = consumer_query(&w, &consumer);
    assert_eq!(kinds(&q), ["sign-off"], "{q}");
    assert!(codes(&q).is_empty(), "{q}");
    let (code, status, report) = consumer_check(&w, &consumer);
    assert_eq!((code, status.as_str()), (Some(0), "audited"), "{report}");
    // `query --url` reads the project's own auditors from the export instead.
    let q = w.query(&["leafy", "--url", &url]);
    assert_eq!(kinds(&q), ["sign-off"], "{q}");

    // Unchanged: the next run costs one conditional request, answered 304.
    statics.reset_requests();
    consumer_query(&w, &consumer);
    let seen: Vec<(String, u16)> = statics
        .requests()
        .into_iter()
        .map(|r| (r.path, r.status))
        .collect();
    assert_eq!(seen, [("/export/v1/index.json".to_owned(), 304)]);

    // A flag published later reaches consumers through the next export.
    let second = flag_and_re_export(&w, &db, &registry_url, key, &statics);
    statics.reset_requests();
    let q = consumer_query(&w, &consumer);
    assert_eq!(kinds(&q), ["sign-off", "flag"], "{q}");
    // The consumer had the key's records: it fetched only the bytes after them (a range).
    let records: Vec<(u16, usize)> = statics
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/records.jsonl"))
        .map(|r| (r.status, r.body_bytes))
        .collect();
    let whole = statics
        .get(
            &statics
                .requests()
                .into_iter()
                .find(|r| r.path.ends_with("/records.jsonl"))
                .map(|r| r.path)
                .unwrap_or_default(),
        )
        .map_or(0, |b| b.len());
    assert!(
        matches!(records[..], [(206, sent)] if sent < whole),
        "{records:?} of {whole} bytes"
    );
    let (code, status, report) = consumer_check(&w, &consumer);
    assert_eq!((code, status.as_str()), (Some(1), "flagged"), "{report}");

    // A record altered on the way: nothing of the key counts, and the gate says why.
    drop_mirror(&w);
    edit_records(&statics, &second, |t| {
        t.replace("compromised release", "compromised releasE")
    });
    let q = consumer_query_refused(&w, &consumer);
    assert!(kinds(&q).is_empty(), "{q}");
    assert!(
        codes(&q).contains(&"records-do-not-match-head".to_owned()),
        "{q}"
    );
    let stderr = consumer_check_refused(&w, &consumer);
    assert!(stderr.contains("records-do-not-match-head"), "{stderr}");

    // A record withheld (the flag left out of the file): caught the same way.
    drop_mirror(&w);
    edit_records(&statics, &second, |t| {
        t.lines()
            .filter(|l| !l.contains("compromised release"))
            .map(|l| format!("{l}\n"))
            .collect()
    });
    let q = consumer_query_refused(&w, &consumer);
    assert!(kinds(&q).is_empty(), "{q}");
    assert!(
        codes(&q).contains(&"records-do-not-match-head".to_owned()),
        "{q}"
    );

    // The older export served again after the newer one was seen (a stale CDN, a restored
    // bucket): consistent and correctly signed, but the cache of heads notices the rollback.
    drop_mirror(&w);
    serve(&statics, &first);
    let q = consumer_query_refused(&w, &consumer);
    assert!(kinds(&q).is_empty(), "{q}");
    assert!(codes(&q).contains(&"head-rollback".to_owned()), "{q}");
    let stderr = consumer_check_refused(&w, &consumer);
    assert!(stderr.contains("head-rollback"), "{stderr}");

    // Unreachable: a young mirror is used, and said so; never a silent pass.
    serve(&statics, &second);
    drop_mirror(&w);
    let q = consumer_query(&w, &consumer);
    assert_eq!(kinds(&q), ["sign-off", "flag"], "{q}");
    drop(statics);
    let q = consumer_query(&w, &consumer);
    assert!(
        q["notes"]
            .to_string()
            .contains("using its records as mirrored 0 hours ago"),
        "{q}"
    );
    // Only because the policy opted in: by default a source that cannot be synced fails
    // closed, since it may be hiding a flag published since the last sync.
    let text = std::fs::read_to_string(&consumer).expect("read");
    std::fs::write(&consumer, text.replace("cache-max-age-hours = 24", "")).expect("write");
    let out = w
        .cmd()
        .args(["query", "leafy", "--format", "json", "--audit-file"])
        .arg(&consumer)
        .output()
        .expect("run query");
    assert_eq!(out.status.code(), Some(2), "no opt-in, no stale copy");
    std::fs::write(&consumer, text).expect("restore");
    drop_mirror(&w);
    let out = w
        .cmd()
        .args(["query", "leafy", "--format", "json", "--audit-file"])
        .arg(&consumer)
        .output()
        .expect("run query");
    assert_eq!(out.status.code(), Some(2), "no mirror, no source: an error");
    let db_dir = advisory_db(&w);
    let out = w
        .cmd()
        .args(["check", "--advisory-db", &db_dir, "--audit-file"])
        .arg(&consumer)
        .output()
        .expect("run check");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "the gate fails closed: {stderr}"
    );
    assert!(stderr.contains(&format!("static export {url}")), "{stderr}");
}

/// `serve --export-dir` keeps the export up to date by itself: a publish shows up in it within
/// a few intervals (the wait is bounded; it asserts what is written, not how fast).
#[test]
fn serve_re_exports_after_publishes() {
    let w = world();
    let (key, public) = w.new_key("team.key");
    w.write_audit_file(&format!("{{ key = \"{public}\" }}"));
    let key = path_arg(&key);
    let db = w.home.path().join("registry.db");
    let dir = w.home.path().join("export");
    let server = start_registry(
        &db,
        &["--export-dir", path_arg(&dir), "--export-interval", "1"],
    );
    registry_admin(&db, &["auditor", "add", "team", "--key", &public]);
    w.ok(&[
        "sign",
        "leafy",
        "1.0.1",
        "--criteria",
        "reviewed",
        "--key",
        key,
    ]);
    w.ok(&["publish", "--registry", &server.url, "--key", key]);

    let index = dir.join("v1/index.json");
    let exported = |sequence: u64| {
        let text = std::fs::read_to_string(&index).unwrap_or_default();
        let index: Value = serde_json::from_str(&text).unwrap_or_default();
        index["keys"][&public]["sequence"].as_u64() == Some(sequence)
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !exported(1) {
        assert!(
            std::time::Instant::now() < deadline,
            "the publish was never exported"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    drop(server);

    // What the schedule wrote is what consumers read.
    let statics = StaticServer::start();
    serve(&statics, &dir);
    let consumer = consumer_audit_file(&w, &public, &format!("{}/export", statics.base_url()));
    let q = consumer_query(&w, &consumer);
    assert_eq!(kinds(&q), ["sign-off"], "{q}");
}
