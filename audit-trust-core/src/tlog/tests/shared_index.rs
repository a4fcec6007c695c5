//! An answer for many crates proves the index leaves it shows with one multi-leaf proof
//! (`"index_proof"`): it verifies for present and absent crates alike, and a tampered hash, a
//! leaf that still carries its own proof, two different leaves at one position or a proof made
//! for another checkpoint are refused.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::super::*;
use super::TestLog;
use crate::signoff::RecordId;

fn log() -> TestLog {
    let mut log = TestLog::new();
    for (n, name) in ["anyhow", "libc", "rand", "serde", "tokio", "zstd"]
        .iter()
        .enumerate()
    {
        log.append(name, u8::try_from(n).expect("small") + 1);
    }
    log
}

/// The answer the registry builds for `names` (whole crates), with the index proofs shared.
fn answer(log: &mut TestLog, names: &[&str]) -> Value {
    let mut positions = BTreeSet::new();
    let mut crates = serde_json::Map::new();
    for name in names {
        let mut index = log.index.proof(name);
        let shown: Vec<&mut IndexedCrate> = index.leaves_mut();
        for leaf in shown {
            leaf.proof.clear();
            positions.insert(leaf.position);
        }
        let entries: Vec<Value> = log
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.crate_name == *name)
            .map(|(i, e)| {
                let proof: Vec<String> = log
                    .tree
                    .inclusion_proof(i as u64, log.tree.size())
                    .expect("proof")
                    .iter()
                    .map(base64_of)
                    .collect();
                json!({ "leaf_index": i, "ordinal": e.ordinal,
                        "record_id": e.record_id.to_string(), "proof": proof })
            })
            .collect();
        crates.insert(
            (*name).to_owned(),
            json!({ "index": index, "entries": entries }),
        );
    }
    let positions: Vec<u64> = positions.into_iter().collect();
    let proof: Vec<String> = log
        .index
        .multi_proof(&positions)
        .expect("proof")
        .iter()
        .map(base64_of)
        .collect();
    json!({ "checkpoint": log.note().to_text(), "crates": crates, "index_proof": proof })
}

fn base64_of(hash: &Hash) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(hash)
}

fn check(log: &mut TestLog, json: &Value, name: &str) -> Result<(), TlogError> {
    let answer = LogAnswer::from_json(json)?;
    let ids: BTreeSet<RecordId> = answer
        .crates
        .get(name)
        .map(|c| c.entries.iter().map(|e| e.entry.record_id).collect())
        .unwrap_or_default();
    answer
        .verify_crate(&log.checkpoint(), name, &ids, None)
        .map(|_| ())
}

#[test]
fn one_proof_shows_every_crate_present_or_absent() {
    let mut log = log();
    let names = ["serde", "tokio", "aaa", "mmm", "zzz", "libc"];
    let json = answer(&mut log, &names);
    for name in names {
        check(&mut log, &json, name).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn a_tampered_shared_index_proof_is_refused() {
    let mut log = log();
    let json = answer(&mut log, &["serde", "mmm"]);

    let mut bad_hash = json.clone();
    bad_hash["index_proof"][0] = json!(base64_of(&[7u8; 32]));
    assert_eq!(
        LogAnswer::from_json(&bad_hash)
            .map(|_| ())
            .expect_err("refused")
            .code(),
        "bad-index-proof"
    );

    // serde's count raised: its leaf no longer hashes into the index.
    let mut more = json.clone();
    more["crates"]["serde"]["index"]["entry"]["count"] = json!(5);
    assert!(LogAnswer::from_json(&more).is_err());

    // One leaf also carrying its own proof: one proof or the other, not both.
    let mut own = json.clone();
    own["crates"]["serde"]["index"]["entry"]["proof"] = json!([base64_of(&[1u8; 32])]);
    assert_eq!(
        LogAnswer::from_json(&own)
            .map(|_| ())
            .expect_err("refused")
            .code(),
        "bad-index-proof"
    );

    // mmm's neighbour (serde) shown twice, differently.
    let mut twice = json.clone();
    let serde_position = json["crates"]["serde"]["index"]["entry"]["position"].clone();
    let neighbour = if twice["crates"]["mmm"]["index"]["after"]["position"] == serde_position {
        "after"
    } else {
        "before"
    };
    twice["crates"]["mmm"]["index"][neighbour]["count"] = json!(9);
    assert_eq!(
        LogAnswer::from_json(&twice)
            .map(|_| ())
            .expect_err("refused")
            .code(),
        "bad-index-proof"
    );

    // The proof was made for this checkpoint; the log then grew, and the client checks the
    // answer against the newer checkpoint.
    let answer = LogAnswer::from_json(&json).expect("well formed");
    log.append("serde", 40);
    let ids: BTreeSet<RecordId> = BTreeSet::new();
    let err = answer
        .verify_crate(&log.checkpoint(), "serde", &ids, None)
        .expect_err("another checkpoint");
    assert_eq!(err.code(), "bad-index-proof");
}
