//! Tiles and the monitor's replay: bundles and hash tiles round-trip and refuse damage, paths
//! follow C2SP, and a replay catches a rollback and a fork against checkpoints seen before.

use super::super::*;
use super::TestLog;
use crate::signoff::RecordId;

fn entry(name: &str, ordinal: u64, n: u8) -> LogEntry {
    LogEntry {
        crate_name: name.into(),
        ordinal,
        record_id: RecordId::parse(&crate::signoff::hex(&[n; 32])).expect("id"),
    }
}

#[test]
fn tiles_and_bundles_round_trip_and_refuse_damage() {
    assert_eq!(entries_path(1234, 256), "tile/entries/x001/234");
    assert_eq!(records_path(0, 7), "records/000.p/7");
    assert_eq!(tile_count(0), (0, 0));
    assert_eq!(tile_count(256), (1, 256));
    assert_eq!(tile_count(300), (2, 44));

    let entries = vec![
        entry("serde", 0, 1),
        entry("tokio", 0, 2),
        entry("serde", 1, 3),
    ];
    let bundle = entry_bundle(&entries);
    assert_eq!(
        parse_entry_bundle(&bundle, 3, "b").expect("parses"),
        entries
    );
    for (damaged, width) in [
        (bundle[..bundle.len() - 1].to_vec(), 3),
        (bundle.clone(), 2),
        ([bundle.clone(), vec![0, 1, b'x']].concat(), 4),
    ] {
        let err = parse_entry_bundle(&damaged, width, "b").expect_err("refused");
        assert_eq!(err.code(), "tile-mismatch");
    }
    let hashes: Vec<Hash> = entries.iter().map(LogEntry::leaf_hash).collect();
    let tile = hash_tile(&hashes);
    assert_eq!(parse_hash_tile(&tile, 3, "t").expect("parses"), hashes);
    assert_eq!(
        parse_hash_tile(&tile[1..], 3, "t")
            .expect_err("short")
            .code(),
        "tile-mismatch"
    );
}

#[test]
fn a_replay_refuses_a_moved_entry_and_catches_rollback_and_fork() {
    let mut log = TestLog::new();
    for i in 0..5u8 {
        log.append(if i % 2 == 0 { "serde" } else { "tokio" }, i);
    }
    let checkpoint = log.checkpoint();
    let mut replay = Replay::new();
    // Entries whose records do not parse are refused as bad records.
    let served = ServedEntry {
        index: 0,
        crate_name: "serde".into(),
        ordinal: 0,
        record_id: log.entries[0].record_id,
        record: "{}".into(),
    };
    assert_eq!(replay.push(&served).expect_err("bad").code(), "bad-record");
    let moved = ServedEntry { index: 3, ..served };
    assert_eq!(
        replay.push(&moved).expect_err("moved").code(),
        "entry-mismatch"
    );
    assert_eq!(replay.size(), 0);
    // An empty replay is a rollback of any seen checkpoint, and another root is a fork.
    assert_eq!(
        replay
            .check_seen(checkpoint.size, &checkpoint.root)
            .expect_err("rollback")
            .code(),
        "log-rollback"
    );
    assert_eq!(
        replay.check_seen(0, &[7; 32]).expect_err("fork").code(),
        "log-fork"
    );
    replay
        .check_seen(0, &empty_root())
        .expect("the empty tree is a prefix of every tree");
}
