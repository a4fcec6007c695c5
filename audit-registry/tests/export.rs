//! `audit-registry export`: what a registry holds, on SQLite and PostgreSQL, written as the
//! static layout that clients verify like the registry itself.

mod support;

use std::collections::BTreeSet;

use audit_registry::Limits;
use audit_registry::export::export;
use audit_trust_core::signoff::static_export::{head_path, parse_index, records_path};
use audit_trust_core::signoff::{RecordId, SignedHead, SignedRecord};
use audit_trust_core::time::FixedClock;
use axum::http::StatusCode;
use support::*;

fn read(dir: &std::path::Path, path: &str) -> String {
    std::fs::read_to_string(dir.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[tokio::test]
async fn the_export_holds_every_key_s_log_in_head_order_and_matches_its_head() {
    for (backend, reg) in backends(Limits::default()).await {
        let (alice, bob) = (key(), key());
        reg.register("alice", &alice).await;
        reg.register("bob", &bob).await;
        let a1 = signoff(&alice, "Serde", "1.0.0");
        let a2 = signoff(&alice, "tokio", "1.0.0");
        let a3 = revocation(&alice, &a1);
        let b1 = signoff(&bob, "serde", "1.0.1");
        let h1 = head(&alice, None, &[&a1, &a2]);
        let h2 = head(&alice, Some(&h1), &[&a1, &a2, &a3]);
        let hb = head(&bob, None, &[&b1]);
        assert_eq!(reg.publish(&[&a1, &a2], &h1).await.0, StatusCode::OK);
        assert_eq!(reg.publish(&[&a3], &h2).await.0, StatusCode::OK);
        assert_eq!(reg.publish(&[&b1], &hb).await.0, StatusCode::OK);

        let dir = tempfile::tempdir().expect("temp dir");
        let clock = FixedClock(now());
        let summary = export(&reg.state.db, dir.path(), &clock)
            .await
            .unwrap_or_else(|e| panic!("{backend}: {e}"));
        assert_eq!((summary.keys, summary.records), (2, 4), "{backend}");

        let index = parse_index(read(dir.path(), "v1/index.json").as_bytes()).expect("index");
        let listed = &index.keys[&alice.public_key().to_string()];
        assert_eq!((listed.sequence, listed.count), (2, 3), "{backend}");

        let served =
            SignedHead::from_json(read(dir.path(), &head_path(&alice.public_key())).trim())
                .expect("the head verifies");
        assert_eq!(served.id_hex(), h2.id_hex(), "{backend}");
        let lines: Vec<String> = read(dir.path(), &records_path(&alice.public_key()))
            .lines()
            .map(str::to_owned)
            .collect();
        // Head #1's records first: the file only ever grows at the end.
        let first: BTreeSet<RecordId> = lines[..2]
            .iter()
            .map(|l| SignedRecord::from_json_line(l).expect("verifies").id())
            .collect();
        assert_eq!(first, BTreeSet::from([a1.id(), a2.id()]), "{backend}");
        assert_eq!(lines[2], a3.to_json_line(), "{backend}: exactly as signed");
        let all: BTreeSet<RecordId> = lines
            .iter()
            .map(|l| SignedRecord::from_json_line(l).expect("verifies").id())
            .collect();
        served
            .check_records(&all)
            .expect("the records are the head's");

        // For people: every key's records about serde, the revocation next to what it revokes.
        let serde = read(dir.path(), "v1/crates/se/serde.jsonl");
        assert_eq!(serde.lines().count(), 3, "{backend}: {serde}");

        let again = export(&reg.state.db, dir.path(), &clock)
            .await
            .expect("export again");
        assert_eq!(again.files_written, 0, "{backend}: nothing changed");
    }
}

/// A later export writes only what the new head changed: the key's records file keeps its
/// lines and gets the new ones after them, the new record's crate file, the head and the index
/// (and the log's new tiles); the other key's files and the other crates are left alone. A
/// records file shorter than its head says is written whole again.
#[tokio::test]
async fn a_later_export_writes_only_what_the_new_head_changed() {
    for (backend, reg) in backends(Limits::default()).await {
        let (alice, bob) = (key(), key());
        reg.register("alice", &alice).await;
        reg.register("bob", &bob).await;
        let a1 = signoff(&alice, "serde", "1.0.0");
        let b1 = signoff(&bob, "tokio", "1.0.0");
        let h1 = head(&alice, None, &[&a1]);
        let hb = head(&bob, None, &[&b1]);
        assert_eq!(reg.publish(&[&a1], &h1).await.0, StatusCode::OK);
        assert_eq!(reg.publish(&[&b1], &hb).await.0, StatusCode::OK);
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = FixedClock(now());
        export(&reg.state.db, dir.path(), &clock)
            .await
            .unwrap_or_else(|e| panic!("{backend}: {e}"));
        let alice_records = dir.path().join(records_path(&alice.public_key()));
        let bob_records = dir.path().join(records_path(&bob.public_key()));
        let modified = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        let (bob_before, tokio_before) = (
            modified(&bob_records),
            modified(&dir.path().join("v1/crates/to/tokio.jsonl")),
        );

        let a2 = signoff(&alice, "rand", "1.0.0");
        let h2 = head(&alice, Some(&h1), &[&a1, &a2]);
        assert_eq!(reg.publish(&[&a2], &h2).await.0, StatusCode::OK);
        let later = export(&reg.state.db, dir.path(), &clock)
            .await
            .unwrap_or_else(|e| panic!("{backend}: {e}"));
        assert_eq!(
            later.files_written - later.log_files_written,
            4,
            "{backend}: alice's records and head, rand's file, the index: {later:?}"
        );
        assert_eq!(later.crates, 1, "{backend}: only rand's file: {later:?}");
        let lines = std::fs::read_to_string(&alice_records).expect("records");
        assert_eq!(
            lines,
            format!("{}\n{}\n", a1.to_json_line(), a2.to_json_line()),
            "{backend}"
        );
        assert_eq!(modified(&bob_records), bob_before, "{backend}: bob's file");
        assert_eq!(
            modified(&dir.path().join("v1/crates/to/tokio.jsonl")),
            tokio_before,
            "{backend}: tokio's file"
        );

        // A file cut short (its head says 2 lines, it has 1): written whole with the next head.
        std::fs::write(&alice_records, format!("{}\n", a1.to_json_line())).expect("cut");
        let a3 = signoff(&alice, "rand", "1.0.1");
        let h3 = head(&alice, Some(&h2), &[&a1, &a2, &a3]);
        assert_eq!(reg.publish(&[&a3], &h3).await.0, StatusCode::OK);
        export(&reg.state.db, dir.path(), &clock)
            .await
            .unwrap_or_else(|e| panic!("{backend}: {e}"));
        let lines = std::fs::read_to_string(&alice_records).expect("records");
        assert_eq!(
            lines,
            format!(
                "{}\n{}\n{}\n",
                a1.to_json_line(),
                a2.to_json_line(),
                a3.to_json_line()
            ),
            "{backend}"
        );
        let rand = read(dir.path(), "v1/crates/ra/rand.jsonl");
        assert_eq!(rand.lines().count(), 2, "{backend}: {rand}");
    }
}

/// Someone who can write to the web root (a sync job, the web server's user) plants a symlink
/// in `DIR`: the exporter must neither write through it nor believe what it points at.
#[cfg(unix)]
#[tokio::test]
async fn a_symlinked_folder_planted_in_the_export_is_refused_and_nothing_lands_outside() {
    for (backend, reg) in backends(Limits::default()).await {
        let alice = key();
        reg.register("alice", &alice).await;
        let a1 = signoff(&alice, "serde", "1.0.0");
        let h1 = head(&alice, None, &[&a1]);
        assert_eq!(reg.publish(&[&a1], &h1).await.0, StatusCode::OK);

        let dir = tempfile::tempdir().expect("temp dir");
        let outside = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("v1")).expect("v1");
        std::os::unix::fs::symlink(outside.path(), dir.path().join("v1/keys")).expect("symlink");

        let result = export(&reg.state.db, dir.path(), &FixedClock(now())).await;
        assert!(
            result.is_err(),
            "{backend}: wrote through a symlinked folder"
        );
        let leaked: Vec<_> = std::fs::read_dir(outside.path())
            .expect("outside")
            .collect();
        assert!(
            leaked.is_empty(),
            "{backend}: files outside DIR: {leaked:?}"
        );
    }
}

#[cfg(unix)]
#[tokio::test]
async fn a_head_planted_as_a_symlink_is_not_trusted_and_gets_replaced() {
    for (backend, reg) in backends(Limits::default()).await {
        let alice = key();
        reg.register("alice", &alice).await;
        let a1 = signoff(&alice, "serde", "1.0.0");
        let a2 = signoff(&alice, "serde", "1.0.1");
        let h1 = head(&alice, None, &[&a1]);
        // A newer head that this registry never stored, kept outside the export.
        let h2 = head(&alice, Some(&h1), &[&a1, &a2]);
        assert_eq!(reg.publish(&[&a1], &h1).await.0, StatusCode::OK);

        let dir = tempfile::tempdir().expect("temp dir");
        let outside = tempfile::tempdir().expect("temp dir");
        let planted = outside.path().join("head.json");
        std::fs::write(&planted, h2.to_json()).expect("write");
        let head_file = dir.path().join(head_path(&alice.public_key()));
        std::fs::create_dir_all(head_file.parent().expect("parent")).expect("key dir");
        std::os::unix::fs::symlink(&planted, &head_file).expect("symlink");

        export(&reg.state.db, dir.path(), &FixedClock(now()))
            .await
            .unwrap_or_else(|e| panic!("{backend}: {e}"));
        let meta = std::fs::symlink_metadata(&head_file).expect("head");
        assert!(meta.is_file(), "{backend}: the head is still a symlink");
        let served =
            SignedHead::from_json(read(dir.path(), &head_path(&alice.public_key())).trim())
                .expect("verifies");
        assert_eq!(served.id_hex(), h1.id_hex(), "{backend}: the stored head");
        assert_eq!(
            std::fs::read_to_string(&planted).expect("planted"),
            h2.to_json(),
            "{backend}: the file outside is untouched"
        );
    }
}

/// A FIFO (or a device) where a file should be would block or flood a reader.
#[cfg(unix)]
#[tokio::test]
async fn a_fifo_planted_as_a_file_neither_hangs_nor_stops_the_export() {
    let Some((backend, reg)) = backends(Limits::default()).await.into_iter().next() else {
        panic!("no backend");
    };
    let alice = key();
    reg.register("alice", &alice).await;
    let a1 = signoff(&alice, "serde", "1.0.0");
    let h1 = head(&alice, None, &[&a1]);
    assert_eq!(reg.publish(&[&a1], &h1).await.0, StatusCode::OK);
    let dir = tempfile::tempdir().expect("temp dir");
    let head_file = dir.path().join(head_path(&alice.public_key()));
    std::fs::create_dir_all(head_file.parent().expect("parent")).expect("key dir");
    let made = std::process::Command::new("mkfifo")
        .arg(&head_file)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    export(&reg.state.db, dir.path(), &FixedClock(now()))
        .await
        .unwrap_or_else(|e| panic!("{backend}: {e}"));
    assert!(
        std::fs::symlink_metadata(&head_file)
            .expect("head")
            .is_file()
    );
}

#[cfg(unix)]
#[tokio::test]
async fn a_lock_file_planted_as_a_symlink_creates_nothing_outside() {
    let Some((backend, reg)) = backends(Limits::default()).await.into_iter().next() else {
        panic!("no backend");
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let outside = tempfile::tempdir().expect("temp dir");
    let target = outside.path().join("created-by-the-exporter");
    std::os::unix::fs::symlink(&target, dir.path().join(".lock")).expect("symlink");
    let result = export(&reg.state.db, dir.path(), &FixedClock(now())).await;
    assert!(result.is_err(), "{backend}: locked through a symlink");
    assert!(!target.exists(), "{backend}: a file was made outside DIR");
}

/// The log's tiles: every level on the first run; then only what the log added since the
/// checkpoint on disk (a tile below it that went missing stays missing), unless that checkpoint
/// is not this log's (a damaged one, or an export from before upper levels were written).
#[tokio::test]
async fn the_log_export_writes_every_level_then_only_what_is_new() {
    use audit_trust_core::tlog::{leaf_hash, parse_hash_tile, root_of};
    for (backend, reg) in backends(Limits::default()).await {
        let alice = key();
        reg.register("alice", &alice).await;
        let mut records: Vec<_> = (0..300)
            .map(|i| signoff(&alice, &format!("crate{}", i % 5), &format!("1.0.{i}")))
            .collect();
        let refs: Vec<_> = records.iter().collect();
        let h1 = head(&alice, None, &refs);
        assert_eq!(reg.publish(&refs, &h1).await.0, StatusCode::OK);

        let dir = tempfile::tempdir().expect("temp dir");
        let clock = FixedClock(now());
        let first = export(&reg.state.db, dir.path(), &clock)
            .await
            .expect("export");
        assert_eq!((first.log_size, first.log_from), (300, 0), "{backend}");
        let first_checkpoint = read(dir.path(), "tlog/checkpoint");
        let tile = |path: &str, width: u64| {
            let bytes = std::fs::read(dir.path().join("tlog").join(path))
                .unwrap_or_else(|e| panic!("{backend}: {path}: {e}"));
            parse_hash_tile(&bytes, width, path).expect("a hash tile")
        };
        // Level 1 holds the hash of the first 256 leaves, which level 0 holds.
        assert_eq!(
            tile("tile/1/000.p/1", 1),
            vec![root_of(&tile("tile/0/000", 256))],
            "{backend}"
        );
        assert_eq!(tile("tile/0/001.p/44", 44).len(), 44);
        let first_bundle = std::fs::read(dir.path().join("tlog/tile/entries/000")).expect("read");
        assert_eq!(tile("tile/0/000", 256)[0], {
            let len = usize::from(u16::from_be_bytes([first_bundle[0], first_bundle[1]]));
            leaf_hash(&first_bundle[2..2 + len])
        });

        // A small publish: the second run starts at 300. A full tile below it that went missing
        // is not written again, which shows nothing below 300 was rebuilt.
        records.extend((300..320).map(|i| signoff(&alice, "late", &format!("2.0.{i}"))));
        let refs: Vec<_> = records.iter().collect();
        let h2 = head(&alice, Some(&h1), &refs);
        assert_eq!(
            reg.publish(&refs[300..], &h2).await.0,
            StatusCode::OK,
            "{backend}"
        );
        std::fs::remove_file(dir.path().join("tlog/tile/0/000")).expect("remove");
        let second = export(&reg.state.db, dir.path(), &clock)
            .await
            .expect("export again");
        assert_eq!((second.log_size, second.log_from), (320, 300), "{backend}");
        assert_eq!(tile("tile/0/001.p/64", 64).len(), 64);
        assert!(dir.path().join("tlog/records/001.p/64").is_file());
        assert!(!dir.path().join("tlog/tile/0/000").exists(), "{backend}");
        let checkpoint = read(dir.path(), "tlog/checkpoint");
        assert_eq!(checkpoint.lines().nth(1), Some("320"), "{backend}");

        // Nothing new in the log: nothing under `tlog/` is written (the tree is not even
        // needed), until a cosignature arrives for the same checkpoint.
        let unchanged = export(&reg.state.db, dir.path(), &clock)
            .await
            .expect("export with nothing new");
        assert_eq!(
            (
                unchanged.log_size,
                unchanged.log_from,
                unchanged.log_files_written
            ),
            (320, 320, 0),
            "{backend}"
        );
        // Its signature is not checked here (the registry checks it when it collects one).
        let line = "\u{2014} witness.example BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBw==\n";
        reg.state
            .db
            .store_cosignature(320, "witness.example", line)
            .await
            .expect("store");
        let cosigned = export(&reg.state.db, dir.path(), &clock)
            .await
            .expect("export with a cosignature");
        assert_eq!(cosigned.log_files_written, 1, "{backend}");
        assert_eq!(
            read(dir.path(), "tlog/checkpoint"),
            format!("{checkpoint}{line}"),
            "{backend}"
        );
        let checkpoint = read(dir.path(), "tlog/checkpoint");

        // A checkpoint on disk that the log key did not sign: everything is written again.
        let damaged = checkpoint.replacen("\n320\n", "\n319\n", 1);
        std::fs::write(dir.path().join("tlog/checkpoint"), damaged).expect("write");
        let third = export(&reg.state.db, dir.path(), &clock)
            .await
            .expect("export again");
        assert_eq!((third.log_size, third.log_from), (320, 0), "{backend}");
        assert_eq!(tile("tile/0/000", 256).len(), 256);
        assert_eq!(read(dir.path(), "tlog/checkpoint"), checkpoint, "{backend}");
        proofs_from_the_exported_tiles(dir.path(), &checkpoint, &first_checkpoint);

        // An export without the upper levels (as written before they existed): all again.
        std::fs::remove_file(dir.path().join("tlog/tile/1/000.p/1")).expect("remove");
        let fourth = export(&reg.state.db, dir.path(), &clock)
            .await
            .expect("export again");
        assert_eq!(fourth.log_from, 0, "{backend}");
        assert_eq!(tile("tile/1/000.p/1", 1).len(), 1);
        let fifth = export(&reg.state.db, dir.path(), &clock)
            .await
            .expect("export again");
        assert_eq!(fifth.log_from, 320, "{backend}");
    }
}

/// Reads an export's tiles from its folder, as a client of the static files would over HTTP.
struct FolderTiles<'d>(&'d std::path::Path);

impl audit_trust_core::tlog::TileReader for FolderTiles<'_> {
    fn read_tile(&mut self, path: &str) -> Result<Vec<u8>, String> {
        std::fs::read(self.0.join("tlog").join(path)).map_err(|e| e.to_string())
    }
}

/// Every leaf's inclusion proof, and the consistency proof from `old` (an earlier checkpoint
/// note), built from the tiles the export wrote and checked against `new`'s root.
fn proofs_from_the_exported_tiles(dir: &std::path::Path, new: &str, old: &str) {
    use audit_trust_core::tlog::{
        Checkpoint, SignedNote, TileProver, consistency_from_tiles, inclusion_from_tiles,
    };
    let parse = |text: &str| {
        Checkpoint::parse_body(&SignedNote::parse(text).expect("note").body).expect("checkpoint")
    };
    let (new, old) = (parse(new), parse(old));
    let mut tiles = FolderTiles(dir);
    let mut prover = TileProver::new(&mut tiles, new.size);
    for index in 0..new.size {
        let leaf = prover.leaf(index).expect("leaf");
        inclusion_from_tiles(&mut prover, &new.root, index, &leaf).expect("inclusion");
    }
    consistency_from_tiles(&mut prover, old.size, &old.root, &new.root).expect("consistency");
}
