//! The static export: its layout on disk, and reading it back over HTTP (a real loopback
//! server) into a mirror that is verified like any source.

use std::collections::BTreeMap;

use super::*;
use crate::http::HttpClient;
use crate::signoff::static_export::{
    ExportRecord, KeyExport, covered_lines, crate_path, parse_index, write_export,
};
use audit_trust_e2e::StaticServer;

const LIFETIME_DAYS: i64 = 30;

fn now() -> crate::time::Timestamp {
    at("2025-03-01T12:00:00Z")
}

/// A key's log as a registry holds it: batches appended one after the other, each under a new
/// head, records in the order the heads first covered them.
fn key_log(k: &SigningKey, batches: &[Vec<SignedRecord>]) -> KeyExport {
    let store_dir = tempfile::tempdir().expect("temp dir");
    let store = LocalStore::new(store_dir.path());
    let mut export = KeyExport::default();
    for batch in batches {
        let head = store
            .append(batch, k, now(), LIFETIME_DAYS)
            .expect("append");
        export.head_json = head.to_json();
        export.sequence = head.head().sequence;
        export.count = head.head().count;
        for record in batch {
            let subject = record.record().statement.subject().expect("a subject");
            export.records.push(ExportRecord {
                crate_name: subject.name().to_ascii_lowercase(),
                line: record.to_json_line(),
            });
        }
    }
    export
}

fn read(dir: &std::path::Path, path: &str) -> String {
    std::fs::read_to_string(dir.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn every_key_and_crate_gets_its_files_and_an_unchanged_export_writes_nothing() {
    let (a, b) = (key(1), key(2));
    let logs = BTreeMap::from([
        (
            a.public_key(),
            key_log(
                &a,
                &[
                    vec![reviewed(&a, "serde", "1.0.0")],
                    vec![reviewed(&a, "serde", "1.0.1"), reviewed(&a, "x", "0.1.0")],
                ],
            ),
        ),
        (
            b.public_key(),
            key_log(&b, &[vec![reviewed(&b, "serde", "1.0.0")]]),
        ),
    ]);
    let dir = tempfile::tempdir().expect("temp dir");
    let summary = write_export(dir.path(), &logs, now()).expect("export");
    assert_eq!((summary.keys, summary.records, summary.crates), (2, 4, 2));

    let index = parse_index(read(dir.path(), "v1/index.json").as_bytes()).expect("index");
    let listed = &index.keys[&a.public_key().to_string()];
    assert_eq!((listed.sequence, listed.count), (2, 3));
    assert_eq!(
        listed.head,
        format!("keys/{}/head.json", a.public_key().hex())
    );

    let key_dir = format!("v1/keys/{}", a.public_key().hex());
    let head = SignedHead::from_json(read(dir.path(), &format!("{key_dir}/head.json")).trim())
        .expect("the head verifies");
    let records = read(dir.path(), &format!("{key_dir}/records.jsonl"));
    let ids: std::collections::BTreeSet<RecordId> = records
        .lines()
        .map(|l| SignedRecord::from_json_line(l).expect("verifies").id())
        .collect();
    head.check_records(&ids)
        .expect("the records are the head's");
    // Records of every key about a crate, one file per lowercase name under its first letters.
    assert_eq!(
        read(dir.path(), "v1/crates/se/serde.jsonl").lines().count(),
        3
    );
    assert_eq!(read(dir.path(), "v1/crates/x/x.jsonl").lines().count(), 1);

    // Nothing changed, so nothing is written: the index too keeps its bytes (and its ETag).
    let again = write_export(dir.path(), &logs, now()).expect("export again");
    assert_eq!(again.files_written, 0, "nothing: {again:?}");
}

#[test]
fn crate_names_are_validated_before_they_become_paths() {
    assert_eq!(
        crate_path("Tokio-Util").expect("valid"),
        "v1/crates/to/tokio-util.jsonl"
    );
    for bad in ["../etc", "a/b", "", ".hidden", "a\\b"] {
        assert!(crate_path(bad).is_err(), "{bad:?} accepted");
    }
    // A record filed under a name that is not a crate name never reaches the disk.
    let k = key(3);
    let mut log = key_log(&k, &[vec![reviewed(&k, "serde", "1.0.0")]]);
    log.records[0].crate_name = "../../escape".into();
    let dir = tempfile::tempdir().expect("temp dir");
    let summary =
        write_export(dir.path(), &BTreeMap::from([(k.public_key(), log)]), now()).expect("export");
    assert_eq!(summary.crates, 0);
    assert!(!dir.path().join("escape.jsonl").exists());
    assert!(!dir.path().join("v1/escape.jsonl").exists());
}

#[test]
fn a_reader_takes_only_what_its_head_covers() {
    let text = "one\n\ntwo\nthree\n";
    assert_eq!(covered_lines(text, 2), ["one", "two"]);
    assert_eq!(covered_lines(text, 9), ["one", "two", "three"]);
}

#[test]
fn an_unknown_export_format_is_refused() {
    let err = parse_index(br#"{"format":2,"generated":"x","keys":{}}"#).expect_err("format 2");
    assert!(err.contains("format 2"), "{err}");
}

/// The export served by a real loopback HTTP server (it answers `If-None-Match` with 304, as
/// web servers and CDNs do), read into a mirror and verified.
#[test]
fn an_export_served_over_http_fills_a_mirror_that_verifies() {
    let k = key(4);
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = tempfile::tempdir().expect("temp dir");
    let log = key_log(
        &k,
        &[
            vec![reviewed(&k, "serde", "1.0.0")],
            vec![reviewed(&k, "serde", "1.0.1")],
        ],
    );
    write_export(dir.path(), &BTreeMap::from([(k.public_key(), log)]), now()).expect("export");
    let server = StaticServer::start();
    let serve = |path: &str| server.put(&format!("/export/{path}"), read(dir.path(), path));
    serve("v1/index.json");
    serve(&format!("v1/keys/{}/head.json", k.public_key().hex()));
    serve(&format!("v1/keys/{}/records.jsonl", k.public_key().hex()));
    let url = format!("{}/export", server.base_url());

    let http = HttpClient::default();
    let mirror_dir = static_mirror_path(cache.path(), &url);
    let client = StaticClient::new(&url, &http, Some(mirror_dir.clone()));
    let mirror = LocalStore::new(&mirror_dir);
    sync_mirror(&client, &mirror, &[k.public_key()]).expect("sync");

    let team = auditor(vec![pin(&k)]);
    let heads = HeadCache::new(cache.path());
    let verified = verify_source(
        mirror.read().expect("read"),
        &mirror_dir,
        &[&team],
        "url:test",
        &heads,
        now(),
    )
    .expect("cache usable");
    assert_eq!((verified.accepted.len(), verified.rejected.len()), (2, 0));

    // Nothing changed: the index is answered 304 and no key file is fetched again.
    server.reset_requests();
    sync_mirror(&client, &mirror, &[k.public_key()]).expect("sync again");
    let statuses: Vec<(String, u16)> = server
        .requests()
        .into_iter()
        .map(|r| (r.path, r.status))
        .collect();
    assert_eq!(statuses, [("/export/v1/index.json".to_owned(), 304)]);
}

/// A client that synced a key before reads only what was added since: the key's records file
/// from the byte where its last read ended, counted on a real loopback server that serves
/// ranges as web servers do. The mirror still verifies every record against the new head.
#[test]
fn a_warm_client_reads_only_the_records_added_since() {
    let k = key(6);
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = tempfile::tempdir().expect("temp dir");
    let batches: Vec<Vec<SignedRecord>> = (0..3)
        .map(|b| {
            (0..20)
                .map(|i| reviewed(&k, "serde", &format!("1.{b}.{i}")))
                .collect()
        })
        .collect();
    let hex = k.public_key().hex();
    let (head, records) = (
        format!("v1/keys/{hex}/head.json"),
        format!("v1/keys/{hex}/records.jsonl"),
    );
    let server = StaticServer::start();
    let url = format!("{}/export", server.base_url());
    let export = |batches: &[Vec<SignedRecord>]| {
        let log = key_log(&k, batches);
        write_export(dir.path(), &BTreeMap::from([(k.public_key(), log)]), now()).expect("export");
        for path in ["v1/index.json", &head, &records] {
            server.put(&format!("/export/{path}"), read(dir.path(), path));
        }
    };
    let http = HttpClient::default();
    let mirror_dir = static_mirror_path(cache.path(), &url);
    let client = StaticClient::new(&url, &http, Some(mirror_dir.clone()));
    let mirror = LocalStore::new(&mirror_dir);
    let records_read = || -> Vec<(u16, usize)> {
        server
            .requests()
            .into_iter()
            .filter(|r| r.path == format!("/export/{records}"))
            .map(|r| (r.status, r.body_bytes))
            .collect()
    };

    // Fresh: the whole file.
    export(&batches[..2]);
    sync_mirror(&client, &mirror, &[k.public_key()]).expect("sync");
    let old_len = read(dir.path(), &records).len();
    assert_eq!(records_read(), [(200, old_len)]);

    // Warm, after 20 more records: from the last byte it had (the end of a line) on.
    export(&batches);
    server.reset_requests();
    sync_mirror(&client, &mirror, &[k.public_key()]).expect("sync again");
    let new_len = read(dir.path(), &records).len();
    assert_eq!(records_read(), [(206, new_len - old_len + 1)]);
    assert!(new_len - old_len + 1 < new_len / 2);

    let team = auditor(vec![pin(&k)]);
    let heads = HeadCache::new(cache.path());
    let verified = verify_source(
        mirror.read().expect("read"),
        &mirror_dir,
        &[&team],
        "url:test",
        &heads,
        now(),
    )
    .expect("cache usable");
    assert_eq!((verified.accepted.len(), verified.rejected.len()), (60, 0));

    // An export written anew whose lines no longer line up where the client stopped (here: a
    // shorter first record): the client notices and reads the whole file.
    let more: Vec<SignedRecord> = (0..5)
        .map(|i| reviewed(&k, "serde", &format!("2.0.{i}")))
        .collect();
    let mut all = batches.clone();
    all.push(more);
    export(&all);
    server.update(&format!("/export/{records}"), |bytes| {
        bytes.insert(0, b'\n');
    });
    server.reset_requests();
    sync_mirror(&client, &mirror, &[k.public_key()]).expect("sync a third time");
    let statuses: Vec<u16> = records_read().into_iter().map(|(s, _)| s).collect();
    assert_eq!(statuses, [206, 200]);
    let verified = verify_source(
        mirror.read().expect("read"),
        &mirror_dir,
        &[&team],
        "url:test",
        &heads,
        now(),
    )
    .expect("cache usable");
    assert_eq!((verified.accepted.len(), verified.rejected.len()), (65, 0));
}

/// Two exporters of one folder: the one that read the database earlier and writes later must
/// not put an older head back (the export never goes backwards, whatever the order).
#[test]
fn an_older_export_written_late_keeps_the_newer_head_on_disk() {
    let k = key(5);
    let first = vec![reviewed(&k, "serde", "1.0.0")];
    let older = key_log(&k, std::slice::from_ref(&first));
    let newer = key_log(&k, &[first.clone(), vec![reviewed(&k, "serde", "1.0.1")]]);
    let dir = tempfile::tempdir().expect("temp dir");
    write_export(
        dir.path(),
        &BTreeMap::from([(k.public_key(), newer)]),
        now(),
    )
    .expect("newer");
    let late = write_export(
        dir.path(),
        &BTreeMap::from([(k.public_key(), older)]),
        now(),
    )
    .expect("older");
    assert_eq!(late.keys, 0, "{late:?}");
    let index = parse_index(read(dir.path(), "v1/index.json").as_bytes()).expect("index");
    assert_eq!(index.keys[&k.public_key().to_string()].sequence, 2);
    let records = read(
        dir.path(),
        &crate::signoff::static_export::records_path(&k.public_key()),
    );
    assert_eq!(records.lines().count(), 2);
    let serde = read(dir.path(), "v1/crates/se/serde.jsonl");
    assert_eq!(
        serde.lines().count(),
        2,
        "the crate file is not rolled back either"
    );
}

#[test]
fn key_hex_round_trips_and_nothing_else_is_a_key_folder() {
    let k = key(6).public_key();
    assert_eq!(PublicKey::from_hex(&k.hex()), Some(k));
    for bad in ["", "..", &k.hex().to_uppercase(), &format!("{}0", k.hex())] {
        assert_eq!(PublicKey::from_hex(bad), None, "{bad:?}");
    }
}

/// A reader that fetched head #1 just before a newer export replaced the records file still
/// verifies: it takes the records head #1 covers, which the newer file begins with.
#[test]
fn a_records_file_already_rewritten_for_a_newer_head_still_verifies() {
    let k = key(7);
    let first = vec![reviewed(&k, "serde", "1.0.0")];
    let (older_dir, newer_dir) = (
        tempfile::tempdir().expect("temp dir"),
        tempfile::tempdir().expect("temp dir"),
    );
    let older = key_log(&k, std::slice::from_ref(&first));
    let newer = key_log(&k, &[first.clone(), vec![reviewed(&k, "serde", "1.0.1")]]);
    write_export(
        older_dir.path(),
        &BTreeMap::from([(k.public_key(), older)]),
        now(),
    )
    .expect("older");
    write_export(
        newer_dir.path(),
        &BTreeMap::from([(k.public_key(), newer)]),
        now(),
    )
    .expect("newer");
    let server = StaticServer::start();
    let head = crate::signoff::static_export::head_path(&k.public_key());
    let records = crate::signoff::static_export::records_path(&k.public_key());
    server.put("/v1/index.json", read(older_dir.path(), "v1/index.json"));
    server.put(&format!("/{head}"), read(older_dir.path(), &head));
    server.put(&format!("/{records}"), read(newer_dir.path(), &records));

    let cache = tempfile::tempdir().expect("temp dir");
    let http = HttpClient::default();
    let url = server.base_url();
    let mirror_dir = static_mirror_path(cache.path(), &url);
    let client = StaticClient::new(&url, &http, None);
    let mirror = LocalStore::new(&mirror_dir);
    sync_mirror(&client, &mirror, &[k.public_key()]).expect("sync");
    let team = auditor(vec![pin(&k)]);
    let verified = verify_source(
        mirror.read().expect("read"),
        &mirror_dir,
        &[&team],
        "url:test",
        &HeadCache::new(cache.path()),
        now(),
    )
    .expect("cache usable");
    assert_eq!((verified.accepted.len(), verified.rejected.len()), (1, 0));
}
