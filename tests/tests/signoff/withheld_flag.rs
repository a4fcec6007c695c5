//! A flag can never be hidden from the gate (issue: "a withheld flag never passes"). Two auditors
//! cover leafy: `team`, read from a registry or its static export, flags it; `local`, a folder
//! next to the consumer's `Cargo.audit`, signed it off. Whatever hides the flag (an older head
//! served after a newer one was seen, the flag line deleted, the head replaced by garbage, with
//! a fresh cache as on every new CI runner) makes the team's log unverifiable, and the gate
//! stops with exit 2 naming the auditor, the key, the source and the reason. Before, the team's
//! records were dropped with a note, the local sign-off carried leafy, and `check` passed.
//!
//! The hostile registry of the fresh-cache cases is a static server answering `POST /v1/sync`
//! with a doctored copy of what the real registry served: only it can serve such bytes.

use std::path::{Path, PathBuf};
use std::process::Command;

use audit_trust_e2e::{RegistryProcess, StaticServer};
use serde_json::{Value, json};

use crate::gate::advisory_db;
use crate::registry::{copy_database, registry_admin, restart_registry, start_registry};
use crate::static_export::{export, serve};
use crate::world::{World, path_arg, world};

/// Where the team's records are read from in the consumer's `Cargo.audit`.
enum TeamSource<'a> {
    Registry(&'a str),
    Url(&'a str),
}

struct Consumer {
    audit: PathBuf,
    team_public: String,
}

/// The team publishes `other` (head #1), then the consumer's local auditor signs leafy off.
/// Returns the registry's database, the running server, the team's key file and the consumer's
/// folder. The team's flag is published by [`flag_leafy`].
fn set_up(w: &World) -> (PathBuf, RegistryProcess, PathBuf, String) {
    let (team_key, team_public) = w.new_key("team.key");
    w.write_audit_file(&format!("{{ key = \"{team_public}\" }}"));
    let db = w.home.path().join("registry.db");
    let server = start_registry(&db, &[]);
    registry_admin(&db, &["auditor", "add", "team", "--key", &team_public]);
    let key = path_arg(&team_key);
    w.ok(&[
        "sign",
        "other",
        "0.1.0",
        "--criteria",
        "reviewed",
        "--key",
        key,
    ]);
    w.ok(&["publish", "--registry", &server.url, "--key", key]);
    (db, server, team_key, team_public)
}

fn flag_leafy(w: &World, server: &RegistryProcess, team_key: &Path) {
    w.flag_leafy(path_arg(team_key), &server.url);
}

/// The consumer's `Cargo.audit`: `team` from `source`, `local` from a folder next to it. The
/// first call makes the local key and signs leafy off with it; later calls only point `team`
/// elsewhere.
fn consumer(w: &World, team_public: &str, source: TeamSource<'_>) -> Consumer {
    let dir = w.home.path().join("consumer");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let audit = dir.join("Cargo.audit");
    let local_key = w.home.path().join("local.key");
    let first = !local_key.exists();
    let local_public = if first {
        let public = w.new_key("local.key").1;
        std::fs::write(dir.join("local.pub"), &public).expect("write");
        public
    } else {
        std::fs::read_to_string(dir.join("local.pub")).expect("local public key")
    };
    let records = match source {
        TeamSource::Registry(url) => format!("{{ registry = \"{url}\" }}"),
        TeamSource::Url(url) => format!("{{ url = \"{url}\" }}"),
    };
    std::fs::write(
        &audit,
        format!(
            "[[auditor]]\nname = \"team\"\ncovers = [\"leafy\", \"other\"]\n\
             records = {records}\nkeys = [{{ key = \"{team_public}\" }}]\n\n\
             [[auditor]]\nname = \"local\"\ncovers = [\"leafy\", \"other\"]\n\
             records = {{ folder = \"sign-offs\" }}\nkeys = [{{ key = \"{local_public}\" }}]\n"
        ),
    )
    .expect("write");
    if first {
        let mut sign = w.cmd();
        sign.args(["sign", "leafy", "1.0.1", "--criteria", "reviewed", "--key"])
            .arg(&local_key)
            .arg("--audit-file")
            .arg(&audit);
        ok(sign);
    }
    Consumer {
        audit,
        team_public: team_public.to_owned(),
    }
}

fn ok(mut cmd: Command) {
    let out = cmd.output().expect("run");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `check --format json` with the consumer's file: exit code, leafy's status, stderr.
fn check(w: &World, c: &Consumer) -> (Option<i32>, String, String) {
    let db_dir = advisory_db(w);
    let out = w
        .cmd()
        .args(["check", "--format", "json", "--advisory-db", &db_dir])
        .arg("--audit-file")
        .arg(&c.audit)
        .output()
        .expect("run check");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let status = serde_json::from_slice::<Value>(&out.stdout)
        .ok()
        .and_then(|report| {
            report["packages"]
                .as_array()?
                .iter()
                .find(|p| p["name"] == "leafy")?["status"]
                .as_str()
                .map(str::to_owned)
        })
        .unwrap_or_default();
    (out.status.code(), status, stderr)
}

/// The gate refuses to decide: exit 2, no report, and the error names what failed.
fn assert_refused(w: &World, c: &Consumer, source: &str, code: &str) {
    let (exit, status, stderr) = check(w, c);
    assert_eq!(
        (exit, status.as_str()),
        (Some(2), ""),
        "a hidden flag must never pass: {stderr}"
    );
    for part in [
        "auditor `team`",
        c.team_public.as_str(),
        source,
        &format!("[{code}]"),
        "a flag may be withheld",
    ] {
        assert!(stderr.contains(part), "`{part}` missing from: {stderr}");
    }
}

/// Forgets every head seen and every mirror: a fresh CI runner.
fn fresh_cache(w: &World) {
    let _ = std::fs::remove_dir_all(w.home.path().join("cache"));
}

#[test]
fn a_registry_cannot_hide_a_flag_by_rollback_deletion_or_a_garbage_head() {
    let w = world();
    let (db, server, team_key, team_public) = set_up(&w);
    let url = server.url.clone();
    drop(server);
    let backup = w.home.path().join("registry-backup.db");
    copy_database(&db, &backup);
    let server = restart_registry(&db, &url);
    flag_leafy(&w, &server, &team_key);
    let c = consumer(&w, &team_public, TeamSource::Registry(&url));
    assert_eq!(check(&w, &c).0, Some(1), "the flag blocks");
    assert_eq!(check(&w, &c).1, "flagged");

    // What the registry serves, taken from the consumer's mirror, to doctor later.
    let mirror = only_mirror(&w);
    let (head, records) = mirrored_log(&mirror);
    assert_eq!(records.len(), 2, "the sign-off of other and the flag");

    // Restored from the backup taken before the flag, mirror kept: a rollback.
    drop(server);
    copy_database(&backup, &db);
    let server = restart_registry(&db, &url);
    assert_refused(&w, &c, &format!("registry:{url}"), "head-rollback");
    drop(server);

    // A fresh runner and a hostile registry: the flag line left out of the sync answer.
    let hostile = StaticServer::start();
    let hostile_url = hostile.base_url();
    let c = consumer(&w, &team_public, TeamSource::Registry(&hostile_url));
    let without_flag: Vec<Value> = records
        .iter()
        .filter(|r| r["kind"] != "flag")
        .cloned()
        .collect();
    hostile.put("/v1/sync", sync_answer(&team_public, &head, &without_flag));
    fresh_cache(&w);
    let source = format!("registry:{hostile_url}");
    assert_refused(&w, &c, &source, "records-do-not-match-head");

    // The head replaced by garbage; and no head at all.
    hostile.put(
        "/v1/sync",
        sync_answer(&team_public, &json!("garbage"), &without_flag),
    );
    fresh_cache(&w);
    assert_refused(&w, &c, &source, "unreadable-head");
    hostile.put(
        "/v1/sync",
        sync_answer(&team_public, &Value::Null, &without_flag),
    );
    fresh_cache(&w);
    assert_refused(&w, &c, &source, "no-head");

    // The honest answer passes the same way it did: the flag blocks, exit 1.
    hostile.put("/v1/sync", sync_answer(&team_public, &head, &records));
    fresh_cache(&w);
    assert_eq!(check(&w, &c).0, Some(1));

    // A record the key signed but the source never served (replayed from elsewhere) lands in
    // the mirror: the mirror only grows, so it would break the key for good. The client starts
    // the mirror over from what the source serves and decides as before.
    w.ok(&[
        "sign",
        "other",
        "0.1.0",
        "--criteria",
        "safe-to-deploy",
        "--key",
        path_arg(&team_key),
    ]);
    let signed = std::fs::read_to_string(w.store().join("crates/other.jsonl")).expect("read");
    let replayed = signed.lines().last().expect("the new record").to_owned();
    let mirrored = only_mirror(&w).join("crates/other.jsonl");
    let text = std::fs::read_to_string(&mirrored).expect("mirrored records");
    std::fs::write(&mirrored, format!("{text}{replayed}\n")).expect("plant");
    let (exit, status, stderr) = check(&w, &c);
    assert_eq!((exit, status.as_str()), (Some(1), "flagged"), "{stderr}");
}

#[test]
fn a_static_export_cannot_hide_a_flag_by_rollback_deletion_or_a_garbage_head() {
    let w = world();
    let (db, server, team_key, team_public) = set_up(&w);
    let url = server.url.clone();
    drop(server);
    let first = export(&w, &db, "export-1");
    let server = restart_registry(&db, &url);
    flag_leafy(&w, &server, &team_key);
    drop(server);
    let second = export(&w, &db, "export-2");

    let statics = StaticServer::start();
    let export_url = format!("{}/export", statics.base_url());
    serve(&statics, &second);
    let c = consumer(&w, &team_public, TeamSource::Url(&export_url));
    assert_eq!(check(&w, &c).1, "flagged");

    // The older export served again (a stale CDN), mirror kept.
    serve(&statics, &first);
    let source = format!("url:{export_url}");
    assert_refused(&w, &c, &source, "head-rollback");

    // A fresh runner: the flag line deleted from the newer export.
    serve(&statics, &second);
    let key_dir = key_folder(&second);
    let records = std::fs::read_to_string(key_dir.join("records.jsonl")).expect("read");
    let kept: String = records
        .lines()
        .filter(|l| !l.contains("compromised release"))
        .map(|l| format!("{l}\n"))
        .collect();
    let served_path = |file: &str| {
        let relative = key_dir.strip_prefix(&second).expect("inside").display();
        format!("/export/{relative}/{file}")
    };
    statics.put(&served_path("records.jsonl"), kept);
    fresh_cache(&w);
    assert_refused(&w, &c, &source, "records-do-not-match-head");

    // Garbage in head.json, records intact.
    serve(&statics, &second);
    statics.put(&served_path("head.json"), "{ garbage");
    fresh_cache(&w);
    assert_refused(&w, &c, &source, "unreadable-head");
    // Every command that decides with the gate refuses the same way.
    let db_dir = advisory_db(&w);
    for args in [
        &["suggest", "--advisory-db", db_dir.as_str()][..],
        &["update", "--dry-run", "--advisory-db", db_dir.as_str()][..],
        &["prune", "--dry-run"][..],
    ] {
        let out = w
            .cmd()
            .args(args)
            .arg("--audit-file")
            .arg(&c.audit)
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("a flag may be withheld"),
            "{args:?}: {stderr}"
        );
    }
    // An auditor that covers nothing in the lockfile cannot hide a flag that matters here: its
    // broken log does not stop the gate.
    let text = std::fs::read_to_string(&c.audit).expect("read");
    let bystander = text
        .replace("name = \"team\"", "name = \"bystander\"")
        .replace(
            "covers = [\"leafy\", \"other\"]\nrecords = { url",
            "covers = [\"unrelated\"]\nrecords = { url",
        );
    std::fs::write(&c.audit, &bystander).expect("write");
    fresh_cache(&w);
    let (exit, status, stderr) = check(&w, &c);
    assert_eq!((exit, status.as_str()), (Some(0), "audited"), "{stderr}");
    std::fs::write(&c.audit, text).expect("restore");

    serve(&statics, &second);
    fresh_cache(&w);
    assert_eq!(check(&w, &c).1, "flagged", "the honest export still blocks");
}

/// The one mirror folder in the consumer's cache.
fn only_mirror(w: &World) -> PathBuf {
    let mirrors = w.home.path().join("cache/registry-mirrors");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&mirrors)
        .expect("mirrors")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.remove(0)
}

/// The head and the records of the one key in a mirror, as JSON values.
fn mirrored_log(mirror: &Path) -> (Value, Vec<Value>) {
    let heads: Vec<PathBuf> = std::fs::read_dir(mirror.join("heads"))
        .expect("heads")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(heads.len(), 1, "{heads:?}");
    let head: Value =
        serde_json::from_str(&std::fs::read_to_string(&heads[0]).expect("read")).expect("JSON");
    let mut records = Vec::new();
    for entry in std::fs::read_dir(mirror.join("crates")).expect("crates") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("read");
        records.extend(
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| serde_json::from_str::<Value>(l).expect("record JSON")),
        );
    }
    (head, records)
}

/// A `POST /v1/sync` answer for one key.
fn sync_answer(public: &str, head: &Value, records: &[Value]) -> Vec<u8> {
    json!({ "logs": { public: { "head": head, "records": records } } })
        .to_string()
        .into_bytes()
}

/// The folder of the one key in an export.
fn key_folder(export: &Path) -> PathBuf {
    std::fs::read_dir(export.join("v1/keys"))
        .expect("list keys")
        .next()
        .expect("one key")
        .expect("entry")
        .path()
}
