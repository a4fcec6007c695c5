//! Answers scoped to versions: a version's leaf lists exactly the entries filed there, an
//! absent version is proven by adjacent neighbours, delta sign-offs pull the versions they
//! start from into the answer, and a list with an entry left out, a leaf of another version or
//! neighbours that are not adjacent are refused.

use std::collections::{BTreeMap, BTreeSet};

use super::super::*;
use super::TestLog;
use crate::signoff::RecordId;

fn id(n: u8) -> RecordId {
    RecordId::parse(&crate::signoff::hex(&[n; 32])).expect("id")
}

fn asked(versions: &[&str]) -> BTreeSet<String> {
    versions.iter().map(|v| (*v).to_owned()).collect()
}

/// serde: 1.0.0 (two entries), a delta 1.0.0 → 1.0.1, 1.0.3; tokio: 1.0.0.
fn log() -> TestLog {
    let mut log = TestLog::new();
    log.append_version("serde", "1.0.0", 1, None);
    log.append_version("tokio", "1.0.0", 2, None);
    log.append_version("serde", "1.0.1", 3, Some("1.0.0"));
    log.append_version("serde", "1.0.0", 4, None);
    log.append_version("serde", "1.0.3", 5, None);
    log
}

/// The scoped answer for `name` at `versions` as the registry builds it, and its checkpoint.
fn scoped(
    log: &mut TestLog,
    name: &str,
    versions: &[&str],
) -> (Checkpoint, IndexProof, BTreeMap<String, VersionProof>) {
    let checkpoint = log.checkpoint();
    let index = log.index.proof(name);
    let proofs = log
        .index
        .closure(name, &asked(versions))
        .into_iter()
        .map(|v| {
            let proof = log.index.version_proof(name, &v);
            (v, proof)
        })
        .collect();
    (checkpoint, index, proofs)
}

#[test]
fn a_version_s_leaf_lists_its_entries_and_deltas_bring_their_base() {
    let mut log = log();
    let (checkpoint, index, proofs) = scoped(&mut log, "serde", &["1.0.1"]);
    assert_eq!(
        proofs.keys().map(String::as_str).collect::<Vec<_>>(),
        ["1.0.0", "1.0.1"],
        "the delta's base comes with it"
    );
    let listed = verify_versions_answer(&checkpoint, "serde", &index, &proofs).expect("verifies");
    assert_eq!(listed, vec![(0, id(1)), (3, id(4)), (2, id(3))]);

    // A version no entry is filed under: proven absent by its neighbours, at either end too.
    for (version, neighbours) in [
        ("1.0.2", (true, true)),
        ("0.9.0", (false, true)),
        ("2.0.0", (true, false)),
    ] {
        let (checkpoint, index, proofs) = scoped(&mut log, "serde", &[version]);
        let proof = &proofs[version];
        let VersionProof::Absent { before, after } = proof else {
            panic!("{version} is absent: {proof:?}");
        };
        assert_eq!((before.is_some(), after.is_some()), neighbours, "{version}");
        assert_eq!(
            verify_versions_answer(&checkpoint, "serde", &index, &proofs).expect("verifies"),
            vec![]
        );
    }

    // A crate the log never saw: absent from the index, so every version is empty.
    let (checkpoint, index, proofs) = scoped(&mut log, "rand", &["0.8.5"]);
    assert!(matches!(index, IndexProof::Absent { .. }));
    assert_eq!(
        verify_versions_answer(&checkpoint, "rand", &index, &proofs).expect("verifies"),
        vec![]
    );
}

#[test]
fn a_withheld_entry_another_version_s_leaf_or_distant_neighbours_are_refused() {
    let mut log = log();
    let (checkpoint, index, proofs) = scoped(&mut log, "serde", &["1.0.0"]);

    // One of the two entries of 1.0.0 left out of the list (a withheld flag).
    let mut withheld = proofs.clone();
    if let Some(VersionProof::Present { records, .. }) = withheld.get_mut("1.0.0") {
        records.pop();
    }
    let err = verify_versions_answer(&checkpoint, "serde", &index, &withheld).expect_err("refused");
    assert_eq!(err.code(), "withheld-record");

    // The list swapped for another record id, count unchanged: the digest no longer matches.
    let mut swapped = proofs.clone();
    if let Some(VersionProof::Present { records, .. }) = swapped.get_mut("1.0.0") {
        records[1].1 = id(9).to_string();
    }
    let err = verify_versions_answer(&checkpoint, "serde", &index, &swapped).expect_err("refused");
    assert_eq!(err.code(), "withheld-record");

    // 1.0.3's leaf served as the answer for 1.0.0.
    let mut other = proofs.clone();
    let (_, _, later) = scoped(&mut log, "serde", &["1.0.3"]);
    other.insert("1.0.0".into(), later["1.0.3"].clone());
    let err = verify_versions_answer(&checkpoint, "serde", &index, &other).expect_err("refused");
    assert_eq!(err.code(), "bad-index-proof");

    // 1.0.2 "absent" with 1.0.0 and 1.0.3 as neighbours: they are not adjacent (1.0.1 is
    // between), so the registry is hiding 1.0.1's leaf under a false absence.
    let (_, _, all) = scoped(&mut log, "serde", &["1.0.0", "1.0.3"]);
    let leaf = |v: &str| match &all[v] {
        VersionProof::Present { entry, .. } => entry.clone(),
        VersionProof::Absent { .. } => panic!("{v} is present"),
    };
    let false_absence: BTreeMap<String, VersionProof> = [(
        "1.0.1".to_owned(),
        VersionProof::Absent {
            before: Some(leaf("1.0.0")),
            after: Some(leaf("1.0.3")),
        },
    )]
    .into();
    let err =
        verify_versions_answer(&checkpoint, "serde", &index, &false_absence).expect_err("refused");
    assert_eq!(err.code(), "bad-index-proof");

    // An entry listed beyond the checkpoint's size.
    let mut beyond = proofs;
    if let Some(VersionProof::Present { records, .. }) = beyond.get_mut("1.0.0") {
        records[0].0 = 99;
    }
    assert!(verify_versions_answer(&checkpoint, "serde", &index, &beyond).is_err());
}

#[test]
fn a_scoped_answer_must_answer_every_asked_version_and_serve_every_listed_record() {
    let mut log = log();
    let (_, index, proofs) = scoped(&mut log, "serde", &["1.0.1"]);
    let answer = serde_json::json!({
        "checkpoint": log.note().to_text(),
        "crates": { "serde": { "index": index, "versions": proofs } },
    });
    let answer = LogAnswer::from_json(&answer).expect("parses");
    let checkpoint = log.checkpoint();
    let all: BTreeSet<RecordId> = [id(1), id(3), id(4)].into();
    let committed = answer
        .verify_crate(&checkpoint, "serde", &all, Some(&asked(&["1.0.1"])))
        .expect("verifies");
    assert_eq!(committed, all);

    let short: BTreeSet<RecordId> = [id(1), id(3)].into();
    let err = answer
        .verify_crate(&checkpoint, "serde", &short, Some(&asked(&["1.0.1"])))
        .expect_err("a listed record was not served");
    assert_eq!(err.code(), "withheld-record");

    let err = answer
        .verify_crate(
            &checkpoint,
            "serde",
            &all,
            Some(&asked(&["1.0.1", "1.0.3"])),
        )
        .expect_err("1.0.3 has no proof");
    assert_eq!(err.code(), "malformed-proof");

    let err = answer
        .verify_crate(&checkpoint, "serde", &all, None)
        .expect_err("asked whole, answered scoped");
    assert_eq!(err.code(), "malformed-proof");
}

#[test]
fn a_leaf_replaced_in_place_gives_the_tree_built_anew() {
    for size in 1..70u64 {
        let leaves: Vec<Hash> = (0..size).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut tree = MemoryTree::from_leaves(leaves.clone());
        let mut changed = leaves;
        for i in (0..size).step_by(3) {
            let new = leaf_hash(format!("new {i}").as_bytes());
            changed[i as usize] = new;
            tree.set_leaf(i, new);
            let fresh = MemoryTree::from_leaves(changed.clone());
            assert_eq!(tree.root(), fresh.root(), "size {size}, leaf {i}");
            let last = size - 1;
            assert_eq!(
                tree.inclusion_proof(last, size).expect("proof"),
                fresh.inclusion_proof(last, size).expect("proof")
            );
        }
        tree.set_leaf(size, leaf_hash(b"past the end"));
        assert_eq!(tree.size(), size);
    }
}

#[test]
fn an_index_updated_between_checkpoints_equals_one_built_at_once() {
    // Entries arrive in publishes, with a checkpoint (a root) after each: names already there
    // are updated in place, new names rebuild; the roots must be what one build gives.
    let names = [
        "serde", "tokio", "anyhow", "serde", "rand", "tokio", "zstd", "serde",
    ];
    let mut live = CrateIndex::new();
    for (leaf, name) in names.iter().enumerate() {
        let n = u8::try_from(leaf).expect("small");
        live.add(name, &format!("1.0.{}", leaf % 3), leaf as u64, id(n), None);
        let mut built = CrateIndex::new();
        for (l, name) in names.iter().take(leaf + 1).enumerate() {
            let m = u8::try_from(l).expect("small");
            built.add(name, &format!("1.0.{}", l % 3), l as u64, id(m), None);
        }
        assert_eq!(live.root(), built.root(), "after entry {leaf}");
        assert_eq!(
            live.proof("serde"),
            built.proof("serde"),
            "after entry {leaf}"
        );
    }
}

#[test]
fn a_long_delta_chain_is_cut_but_every_asked_version_is_answered() {
    let mut log = TestLog::new();
    // 1.0.0 ← 1.0.1 ← … ← 1.0.299, each a delta from the one before.
    for i in 1..300u32 {
        let n = u8::try_from(i % 250).expect("small");
        log.append_version(
            "long",
            &format!("1.0.{i}"),
            n,
            Some(&format!("1.0.{}", i - 1)),
        );
    }
    let asked = asked(&["1.0.299", "9.9.9"]);
    let versions = log.index.closure("long", &asked);
    assert!(versions.is_superset(&asked));
    assert_eq!(versions.len(), asked.len() + MAX_CLOSURE_VERSIONS);
}
