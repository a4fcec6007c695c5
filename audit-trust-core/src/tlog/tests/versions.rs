//! Answers scoped to versions and keys: a (version, key) leaf lists exactly the entries filed
//! there, what is not there is proven by adjacent neighbours, delta sign-offs pull the versions
//! they start from into the answer, only the asked keys' entries are listed, and a list with an
//! entry left out, a leaf hidden, a leaf shown without its entries or neighbours that are not
//! adjacent are refused.

use std::collections::BTreeSet;

use super::super::*;
use super::{KEY_A, KEY_B, KEY_C, TestLog};
use crate::signoff::RecordId;

fn id(n: u8) -> RecordId {
    RecordId::parse(&crate::signoff::hex(&[n; 32])).expect("id")
}

fn asked(versions: &[&str]) -> BTreeSet<String> {
    versions.iter().map(|v| (*v).to_owned()).collect()
}

fn keys(keys: &[&str]) -> BTreeSet<String> {
    keys.iter().map(|k| (*k).to_owned()).collect()
}

fn filing(name: &str, version: &str) -> Filing {
    Filing {
        crate_name: name.to_owned(),
        version: version.to_owned(),
        key: KEY_A.to_owned(),
        delta_from: None,
    }
}

/// serde: 1.0.0 (two entries by A, one by B), a delta 1.0.0 → 1.0.1 by A, 1.0.3 by B;
/// tokio: 1.0.0 by A.
fn log() -> TestLog {
    let mut log = TestLog::new();
    log.append_keyed("serde", "1.0.0", KEY_A, 1, None);
    log.append_keyed("tokio", "1.0.0", KEY_A, 2, None);
    log.append_keyed("serde", "1.0.1", KEY_A, 3, Some("1.0.0"));
    log.append_keyed("serde", "1.0.0", KEY_A, 4, None);
    log.append_keyed("serde", "1.0.3", KEY_B, 5, None);
    log.append_keyed("serde", "1.0.0", KEY_B, 6, None);
    log
}

/// The scoped answer for `name` at `versions` (read by `keys`, or every key) as the registry
/// builds it, with its checkpoint and index proof.
fn scoped(
    log: &mut TestLog,
    name: &str,
    versions: &[&str],
    keys: Option<&BTreeSet<String>>,
) -> (Checkpoint, IndexProof, VersionsAnswer) {
    let checkpoint = log.checkpoint();
    let index = log.index.proof(name);
    let versions = asked(versions);
    let answer = log.index.versions_answer(
        name,
        VersionQuery {
            versions: &versions,
            keys,
        },
    );
    (checkpoint, index, answer)
}

fn verify(
    checkpoint: &Checkpoint,
    name: &str,
    index: &IndexProof,
    answer: &VersionsAnswer,
    versions: &[&str],
    keys: Option<&BTreeSet<String>>,
) -> Result<Vec<(u64, RecordId)>, TlogError> {
    let versions = asked(versions);
    verify_versions_answer(
        checkpoint,
        name,
        index,
        answer,
        VersionQuery {
            versions: &versions,
            keys,
        },
    )
    .map(|listed| listed.into_iter().map(|e| (e.leaf, e.id)).collect())
}

#[test]
fn a_version_s_leaves_list_their_entries_and_deltas_bring_their_base() {
    let mut log = log();
    let (checkpoint, index, answer) = scoped(&mut log, "serde", &["1.0.1"], None);
    assert_eq!(
        answer.versions,
        ["1.0.0", "1.0.1"],
        "the delta's base comes with it"
    );
    let listed = verify(&checkpoint, "serde", &index, &answer, &["1.0.1"], None).expect("verifies");
    assert_eq!(listed, vec![(0, id(1)), (3, id(4)), (5, id(6)), (2, id(3))]);

    // A version no entry is filed under: proven absent by its neighbours, at either end too.
    for (version, shown) in [("1.0.2", 2), ("0.9.0", 1), ("2.0.0", 1)] {
        let (checkpoint, index, answer) = scoped(&mut log, "serde", &[version], None);
        assert_eq!(answer.leaves.len(), shown, "{version}");
        assert!(
            answer.leaves.iter().all(|l| l.records.is_none()),
            "{version}"
        );
        assert_eq!(
            verify(&checkpoint, "serde", &index, &answer, &[version], None).expect("verifies"),
            vec![]
        );
    }

    // A crate the log never saw: absent from the index, so every version is empty.
    let (checkpoint, index, answer) = scoped(&mut log, "rand", &["0.8.5"], None);
    assert!(matches!(index, IndexProof::Absent { .. }));
    assert_eq!(
        verify(&checkpoint, "rand", &index, &answer, &["0.8.5"], None).expect("verifies"),
        vec![]
    );
}

#[test]
fn only_the_asked_keys_entries_are_listed_and_the_others_proven_elsewhere() {
    let mut log = log();
    let only_b = keys(&[KEY_B]);
    let (checkpoint, index, answer) = scoped(&mut log, "serde", &["1.0.0"], Some(&only_b));
    let listed = verify(
        &checkpoint,
        "serde",
        &index,
        &answer,
        &["1.0.0"],
        Some(&only_b),
    )
    .expect("ok");
    assert_eq!(listed, vec![(5, id(6))], "B's entry only, not A's two");
    assert!(
        answer
            .leaves
            .iter()
            .filter(|l| l.key == KEY_A)
            .all(|l| l.records.is_none()),
        "A's leaf is a neighbour, shown without its entries"
    );

    // B's delta base is not followed for A's delta: B signed no delta.
    let (_, _, answer) = scoped(&mut log, "serde", &["1.0.1"], Some(&only_b));
    assert_eq!(answer.versions, ["1.0.1"]);

    // A key that signed nothing: every version is proven empty for it.
    let only_c = keys(&[KEY_C]);
    let (checkpoint, index, answer) = scoped(&mut log, "serde", &["1.0.0", "1.0.3"], Some(&only_c));
    assert_eq!(
        verify(
            &checkpoint,
            "serde",
            &index,
            &answer,
            &["1.0.0", "1.0.3"],
            Some(&only_c)
        )
        .expect("verifies"),
        vec![]
    );

    // An answer made for B alone does not answer a client that reads A and B: A's leaf is
    // there, but without its entries.
    let both = keys(&[KEY_A, KEY_B]);
    let (_, _, for_b) = scoped(&mut log, "serde", &["1.0.0"], Some(&only_b));
    let err = verify(
        &checkpoint,
        "serde",
        &index,
        &for_b,
        &["1.0.0"],
        Some(&both),
    )
    .expect_err("A's entries are missing");
    assert_eq!(err.code(), "malformed-proof");
}

#[test]
fn a_withheld_entry_a_hidden_leaf_or_distant_neighbours_are_refused() {
    let mut log = log();
    let (checkpoint, index, answer) = scoped(&mut log, "serde", &["1.0.0"], None);
    fn wanted(a: &mut VersionsAnswer) -> &mut Vec<(u64, String)> {
        a.leaves
            .iter_mut()
            .find(|l| l.version == "1.0.0" && l.key == KEY_A)
            .and_then(|l| l.records.as_mut())
            .expect("A's 1.0.0 leaf with entries")
    }
    let check = |a: &VersionsAnswer| verify(&checkpoint, "serde", &index, a, &["1.0.0"], None);

    // One of the two entries of 1.0.0 by A left out of the list (a withheld flag).
    let mut withheld = answer.clone();
    wanted(&mut withheld).pop();
    assert_eq!(
        check(&withheld).expect_err("refused").code(),
        "withheld-record"
    );

    // The list swapped for another record id, count unchanged: the digest no longer matches.
    let mut swapped = answer.clone();
    wanted(&mut swapped)[1].1 = id(9).to_string();
    assert_eq!(
        check(&swapped).expect_err("refused").code(),
        "withheld-record"
    );

    // The entries of a leaf asked for left out altogether.
    let mut bare = answer.clone();
    bare.leaves[0].records = None;
    assert_eq!(check(&bare).expect_err("refused").code(), "malformed-proof");

    // A leaf shown as another version's.
    let mut relabelled = answer.clone();
    relabelled.leaves[0].version = "1.0.9".into();
    assert_eq!(
        check(&relabelled).expect_err("refused").code(),
        "bad-index-proof"
    );

    // An entry listed beyond the checkpoint's size.
    let mut beyond = answer.clone();
    wanted(&mut beyond)[0].0 = 99;
    assert!(check(&beyond).is_err());

    // B's leaf of 1.0.0 hidden, with a proof that is valid for the leaves that remain: the
    // neighbours shown are no longer adjacent.
    let (_, _, whole) = scoped(&mut log, "serde", &["1.0.0", "1.0.1", "1.0.3"], None);
    assert_eq!(whole.leaves.len(), 4, "every leaf of serde");
    let tree = MemoryTree::from_leaves(whole.leaves.iter().map(|l| l.hash("serde")));
    let mut hidden = whole.clone();
    hidden
        .leaves
        .retain(|l| !(l.version == "1.0.0" && l.key == KEY_B));
    let positions: Vec<u64> = hidden.leaves.iter().map(|l| l.position).collect();
    hidden.proof = tree.multi_proof(&positions, 4).expect("proof");
    let err = verify(
        &checkpoint,
        "serde",
        &index,
        &hidden,
        &["1.0.0", "1.0.1", "1.0.3"],
        None,
    )
    .expect_err("a leaf is hidden");
    assert_eq!(err.code(), "bad-index-proof");
    // A client that reads only A's entries sees the gap too: the leaf after A's 1.0.0 is not
    // shown, so nothing proves it is not A's.
    let only_a = keys(&[KEY_A]);
    let mut for_a = hidden.clone();
    for leaf in &mut for_a.leaves {
        if leaf.key != KEY_A {
            leaf.records = None;
        }
    }
    assert!(
        verify(
            &checkpoint,
            "serde",
            &index,
            &for_a,
            &["1.0.0"],
            Some(&only_a)
        )
        .is_err(),
        "the leaf after A's 1.0.0 is hidden"
    );
}

#[test]
fn a_scoped_answer_must_answer_every_asked_version_and_serve_every_listed_record() {
    let mut log = log();
    let (_, index, answer) = scoped(&mut log, "serde", &["1.0.1"], None);
    let json = serde_json::json!({
        "checkpoint": log.note().to_text(),
        "crates": { "serde": { "index": index, "versions": answer } },
    });
    let answer = LogAnswer::from_json(&json).expect("parses");
    let checkpoint = log.checkpoint();
    let all: BTreeSet<RecordId> = [id(1), id(3), id(4), id(6)].into();
    let versions = asked(&["1.0.1"]);
    let query = VersionQuery {
        versions: &versions,
        keys: None,
    };
    let committed = answer
        .verify_crate(&checkpoint, "serde", &all, Some(query))
        .expect("verifies");
    assert_eq!(committed.keys().copied().collect::<BTreeSet<_>>(), all);
    let listed = committed[&id(3)].as_ref().expect("filed");
    assert_eq!(
        (listed.version.as_str(), listed.key.as_str()),
        ("1.0.1", KEY_A)
    );

    let short: BTreeSet<RecordId> = [id(1), id(3)].into();
    let err = answer
        .verify_crate(&checkpoint, "serde", &short, Some(query))
        .expect_err("a listed record was not served");
    assert_eq!(err.code(), "withheld-record");

    let more = asked(&["1.0.1", "1.0.3"]);
    let err = answer
        .verify_crate(
            &checkpoint,
            "serde",
            &all,
            Some(VersionQuery {
                versions: &more,
                keys: None,
            }),
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
        live.add(
            &filing(name, &format!("1.0.{}", leaf % 3)),
            leaf as u64,
            id(n),
        );
        let mut built = CrateIndex::new();
        for (l, name) in names.iter().take(leaf + 1).enumerate() {
            let m = u8::try_from(l).expect("small");
            built.add(&filing(name, &format!("1.0.{}", l % 3)), l as u64, id(m));
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
    let answer = log.index.versions_answer(
        "long",
        VersionQuery {
            versions: &asked,
            keys: None,
        },
    );
    let versions: BTreeSet<String> = answer.versions.iter().cloned().collect();
    assert!(versions.is_superset(&asked));
    assert_eq!(versions.len(), asked.len() + MAX_CLOSURE_VERSIONS);
}
