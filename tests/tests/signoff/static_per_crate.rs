//! The gate reads a static export per crate when `Cargo.audit` pins the log of a
//! `records = { url = … }` source: a real `audit-registry` on SQLite takes publishes from the
//! real CLI, `audit-registry export` writes the files, and a plain static HTTP server on
//! loopback serves them (as a CDN would). `check` reads the checkpoint, the index runs, version
//! leaves and leaf files of the lockfile's crates only, and catches a withheld flag, a doctored
//! index run and an older export served after a newer one, with the log's reason codes.

use std::path::Path;

use audit_trust_e2e::StaticServer;

use crate::per_crate::{assert_refused, check, fresh_cache, log_pin};
use crate::registry::{consumer_audit_file, registry_admin, start_registry};
use crate::static_export::{export, flag_and_re_export, serve};
use crate::world::{path_arg, world};

/// The paths under `/export/` of the served files whose path contains `part`.
fn served_paths(server: &StaticServer, dir: &Path, part: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(at) = todo.pop() {
        for entry in std::fs::read_dir(&at).expect("list") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                todo.push(path);
                continue;
            }
            let relative = path
                .strip_prefix(dir)
                .expect("inside")
                .display()
                .to_string();
            let url_path = format!("/export/{relative}");
            if relative.contains(part) && server.get(&url_path).is_some() {
                out.push(url_path);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_static_export_is_read_per_crate_through_the_log() {
    let w = world();
    let (key, public) = w.new_key("team.key");
    w.write_audit_file(&format!("{{ key = \"{public}\" }}"));
    let key = path_arg(&key);
    let db = w.home.path().join("registry.db");
    let server = start_registry(&db, &[]);
    registry_admin(&db, &["auditor", "add", "team", "--key", &public]);
    // leafy 1.0.1 is audited as a delta from 1.0.0: the gate must also read 1.0.0's leaf,
    // which the lockfile does not hold, to count it.
    w.ok(&[
        "sign",
        "leafy",
        "1.0.1",
        "--criteria",
        "reviewed",
        "--delta-from",
        "1.0.0",
        "--key",
        key,
    ]);
    for (name, version) in [("leafy", "1.0.0"), ("other", "0.1.0")] {
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
    let pin = log_pin(&registry_url);
    drop(server);

    let first = export(&w, &db, "export-1");
    let statics = StaticServer::start();
    serve(&statics, &first);
    let url = format!("{}/export", statics.base_url());
    let audit = consumer_audit_file(
        &w,
        &public,
        &format!(
            "url = \"{url}\", log-origin = \"{}\", log-key = \"{}\"",
            pin.0, pin.1
        ),
    );
    fresh_cache(&w);
    statics.reset_requests();
    let (code, status, stderr) = check(&w, &audit);
    assert_eq!((code, status.as_str()), (Some(0), "audited"), "{stderr}");
    // Per crate through the log: no key's whole records file, only the log's files.
    let paths: Vec<String> = statics.requests().into_iter().map(|r| r.path).collect();
    assert!(
        paths.iter().all(|p| p.starts_with("/export/tlog/")),
        "{paths:?}"
    );
    for wanted in [
        "/export/tlog/checkpoint",
        "/export/tlog/index/",
        "/export/tlog/crates/leafy/",
    ] {
        assert!(
            paths.iter().any(|p| p.starts_with(wanted)),
            "{wanted} in {paths:?}"
        );
    }

    // Warm, with nothing new: every file but the checkpoint is named by its hash, so the
    // copies kept from the last read serve.
    statics.reset_requests();
    let (code, status, stderr) = check(&w, &audit);
    assert_eq!((code, status.as_str()), (Some(0), "audited"), "{stderr}");
    let paths: Vec<String> = statics.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/export/tlog/checkpoint"]);
    // A kept copy damaged on disk: the read is made again from the export, not refused.
    let kept = w.cache_dir().join("static-files-v1");
    let mut damaged = 0;
    let mut todo = vec![kept];
    while let Some(at) = todo.pop() {
        for entry in std::fs::read_dir(&at).expect("list") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                todo.push(path);
            } else if path.to_string_lossy().contains("/tlog/crates/leafy/") {
                std::fs::write(&path, b"[]\n").expect("damage");
                damaged += 1;
            }
        }
    }
    assert!(damaged >= 2, "leafy's crate file and leaf files were kept");
    let (code, status, stderr) = check(&w, &audit);
    assert_eq!((code, status.as_str()), (Some(0), "audited"), "{stderr}");

    // A flag published later reaches the gate through the next export; the client that saw
    // the first checkpoint checks the second extends it, from the log's tiles.
    let second = flag_and_re_export(&w, &db, &registry_url, key, &statics);
    statics.reset_requests();
    let (code, status, stderr) = check(&w, &audit);
    assert_eq!((code, status.as_str()), (Some(1), "flagged"), "{stderr}");
    assert!(
        statics
            .requests()
            .iter()
            .any(|r| r.path.starts_with("/export/tlog/tile/")),
        "a consistency proof from tiles"
    );

    // The flag's record left out of its leaf file: the signed entry list still names it.
    let leaf_files = served_paths(&statics, &second, "tlog/crates/leafy/leaf/");
    let flagged: Vec<&String> = leaf_files
        .iter()
        .filter(|p| {
            String::from_utf8_lossy(&statics.get(p).expect("served")).contains("compromised")
        })
        .collect();
    assert_eq!(flagged.len(), 1, "{leaf_files:?}");
    let original = statics.get(flagged[0]).expect("served");
    let text = String::from_utf8_lossy(&original).into_owned();
    let kept: String = text
        .lines()
        .filter(|l| !l.contains("compromised"))
        .map(|l| format!("{l}\n"))
        .collect();
    statics.put(flagged[0], kept);
    fresh_cache(&w);
    assert_refused(&w, &audit, &url, "withheld-record", Some("leafy"));
    // And its entry left out of the list too: the list no longer hashes to the signed leaf.
    let first_line = text.lines().next().expect("entry list");
    let list: Vec<(u64, String)> = serde_json::from_str(first_line).expect("list");
    let rest: String = text
        .lines()
        .skip(1)
        .filter(|l| !l.contains("compromised"))
        .map(|l| format!("{l}\n"))
        .collect();
    for skip in 0..list.len() {
        let shorter: Vec<&(u64, String)> = list
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .map(|(_, e)| e)
            .collect();
        statics.put(
            flagged[0],
            format!("{}\n{rest}", serde_json::to_string(&shorter).expect("json")),
        );
        assert_refused(&w, &audit, &url, "withheld-record", Some("leafy"));
    }
    // The leaf file removed: the gate cannot read what the log lists, and fails closed.
    statics.remove(flagged[0]);
    let (code, _, stderr) = check(&w, &audit);
    assert_eq!(code, Some(2), "{stderr}");
    statics.put(flagged[0], original);
    let (code, status, stderr) = check(&w, &audit);
    assert_eq!((code, status.as_str()), (Some(1), "flagged"), "{stderr}");

    // An index run with leafy's count changed no longer hashes to the manifest's root.
    let mut doctored = 0;
    for run in served_paths(&statics, &second, "tlog/index/chunk/") {
        let original = statics.get(&run).expect("served");
        let text = String::from_utf8_lossy(&original).replace("[\"leafy\",3,", "[\"leafy\",2,");
        if text.as_bytes() != original.as_slice() {
            statics.put(&run, text);
            fresh_cache(&w);
            assert_refused(&w, &audit, &url, "tile-mismatch", None);
            statics.put(&run, original);
            doctored += 1;
        }
    }
    assert_eq!(doctored, 1, "leafy's leaf is in one run");

    // The first export served again to the client that saw the second: a rollback.
    let (code, _, stderr) = check(&w, &audit);
    assert_eq!(code, Some(1), "{stderr}");
    serve(&statics, &first);
    statics.put(
        "/export/tlog/checkpoint",
        std::fs::read(first.join("tlog/checkpoint")).expect("first checkpoint"),
    );
    assert_refused(&w, &audit, &url, "log-rollback", None);
}
