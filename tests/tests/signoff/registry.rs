//! The registry as a real process on a loopback port, driven by the real CLI: `publish` from a
//! team's local store, and a consumer whose `Cargo.audit` reads the team from the registry with
//! `query` and `check`. A registry restored from an old backup (a rollback that hides a flag) is
//! caught by the consumer's cache of heads.

use std::path::{Path, PathBuf};

use audit_trust_e2e::{RegistryProcess, sqlite_url, status_of};
use serde_json::Value;

use crate::world::{NOW, World, path_arg, world};

/// `audit-registry serve` on the SQLite file `db` at the tests' clock, with more `options`
/// (such as `--export-dir`).
pub(crate) fn start_registry(db: &Path, options: &[&str]) -> RegistryProcess {
    RegistryProcess::serve(&sqlite_url(db), &[&["--now", NOW], options].concat())
}

/// Starts again where a stopped server listened, so clients find it at the same URL.
pub(crate) fn restart_registry(db: &Path, url: &str) -> RegistryProcess {
    RegistryProcess::serve_at(url, &sqlite_url(db), &["--now", NOW])
}

/// Copies a SQLite database with its write-ahead log (committed data may still be there).
pub(crate) fn copy_database(from: &Path, to: &Path) {
    std::fs::copy(from, to).expect("copy database");
    for suffix in ["-wal", "-shm"] {
        let (src, dst) = (
            format!("{}{suffix}", from.display()),
            format!("{}{suffix}", to.display()),
        );
        let _ = std::fs::remove_file(&dst);
        if Path::new(&src).exists() {
            std::fs::copy(&src, &dst).expect("copy log");
        }
    }
}

/// An `audit-registry` admin command on the SQLite file `db`.
pub(crate) fn registry_admin(db: &Path, args: &[&str]) -> String {
    audit_trust_e2e::registry_admin(&sqlite_url(db), args)
}

/// A consumer's `Cargo.audit` that reads auditor `team` from `records` (`registry = "URL"`
/// for a registry, `url = "URL"` for a static export), keeping a young mirror for 24 hours.
pub(crate) fn consumer_audit_file(w: &World, public: &str, records: &str) -> PathBuf {
    let path = w.home.path().join("consumer/Cargo.audit");
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(
        &path,
        format!(
            "[[auditor]]\nname = \"team\"\ncovers = [\"leafy\", \"other\"]\n\
             records = {{ {records} }}\nkeys = [{{ key = \"{public}\" }}]\n\n\
             [policy]\ncache-max-age-hours = 24\n"
        ),
    )
    .expect("write");
    path
}

/// `query leafy --format json` with the consumer's `Cargo.audit`.
fn run_consumer_query(w: &World, audit: &Path) -> std::process::Output {
    w.cmd()
        .args(["query", "leafy", "--format", "json", "--audit-file"])
        .arg(audit)
        .output()
        .expect("run query")
}

pub(crate) fn consumer_query(w: &World, audit: &Path) -> Value {
    let out = run_consumer_query(w, audit);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// `query` when a covering auditor's log does not verify: what was served is printed, but the
/// query fails (exit 2), since a flag may be missing from it.
pub(crate) fn consumer_query_refused(w: &World, audit: &Path) -> Value {
    let out = run_consumer_query(w, audit);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("a flag may be withheld"), "{stderr}");
    serde_json::from_slice(&out.stdout).expect("JSON")
}

pub(crate) fn codes(q: &Value) -> Vec<String> {
    q["rejected"]
        .as_array()
        .expect("rejected")
        .iter()
        .filter_map(|r| r["code"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn publish_to_a_registry_and_read_it_back_verified() {
    let w = world();
    let (key, public) = w.new_key("team.key");
    w.write_audit_file(&format!("{{ key = \"{public}\" }}"));
    let key = path_arg(&key);
    let db = w.home.path().join("registry.db");
    let server = start_registry(&db, &[]);
    registry_admin(&db, &["auditor", "add", "team", "--key", &public]);
    assert!(registry_admin(&db, &["auditor", "list"]).contains(&public));

    w.ok(&[
        "sign",
        "leafy",
        "1.0.1",
        "--criteria",
        "reviewed",
        "--key",
        key,
    ]);
    let out = w.ok(&["publish", "--registry", &server.url, "--key", key]);
    assert!(
        out.starts_with("Published 1 record of auditor `team`"),
        "{out}"
    );
    let out = w.ok(&["publish", "--registry", &server.url, "--key", key]);
    assert!(
        out.starts_with("Published 0 records") && out.contains("1 already there"),
        "{out}"
    );
    assert!(
        out.contains("its head there is #1"),
        "nothing new, no renewal due: {out}"
    );
    // Two weeks before the registry's head expires, with nothing new, publish renews it.
    let later = w
        .cmd_at("2026-05-15T12:00:00Z")
        .args(["publish", "--registry", &server.url, "--key", key])
        .output()
        .expect("run publish");
    let later = String::from_utf8_lossy(&later.stdout);
    assert!(later.contains("its head there is #2"), "{later}");

    let registry = format!("registry = \"{}\"", server.url);
    let consumer = consumer_audit_file(&w, &public, &registry);
    let q = consumer_query(&w, &consumer);
    assert_eq!(q["records"].as_array().map(Vec::len), Some(1), "{q}");
    assert_eq!(q["records"][0]["criteria"], serde_json::json!(["reviewed"]));
    // `query --registry` reads the project's own auditors from the registry instead.
    let q = w.query(&["leafy", "--registry", &server.url]);
    assert_eq!(q["records"].as_array().map(Vec::len), Some(1), "{q}");

    // Back up the registry, then flag: the consumer sees the flag.
    let url = server.url.clone();
    drop(server);
    let backup = w.home.path().join("registry-backup.db");
    copy_database(&db, &backup);
    let server = restart_registry(&db, &url);
    w.flag_leafy(key, &server.url);
    let q = consumer_query(&w, &consumer);
    let kinds: Vec<&str> = q["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter_map(|r| r["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["sign-off", "flag"], "{q}");
    // The gate reads the registry the same way: the flag blocks.
    let db_dir = crate::gate::advisory_db(&w);
    let (code, report) = w.check_json(&[
        "--advisory-db",
        &db_dir,
        "--audit-file",
        path_arg(&consumer),
    ]);
    assert_eq!(
        (code, status_of(&report, "leafy").as_str()),
        (Some(1), "flagged"),
        "{report}"
    );

    // The registry is restored from the old backup: its records and head are consistent and
    // correctly signed, but older than what the consumer has seen. The consumer's mirror is
    // dropped too, so only the cache of heads can notice.
    drop(server);
    copy_database(&backup, &db);
    std::fs::remove_dir_all(w.home.path().join("cache/registry-mirrors")).expect("drop mirror");
    let server = restart_registry(&db, &url);
    let q = consumer_query_refused(&w, &consumer);
    assert_eq!(q["records"].as_array().map(Vec::len), Some(0), "{q}");
    assert!(codes(&q).contains(&"head-rollback".to_owned()), "{q}");

    // Unreachable registry: a young mirror is used, and said so; it holds the rolled-back
    // log, so the query still fails.
    drop(server);
    let q = consumer_query_refused(&w, &consumer);
    let notes = q["notes"].to_string();
    assert!(
        notes.contains("using its records as mirrored 0 hours ago"),
        "{notes}"
    );
}
