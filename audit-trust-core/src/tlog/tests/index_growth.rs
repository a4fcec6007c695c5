//! The crate index as a registry grows it: checkpoints between publishes, each publish adding
//! entries to known crates and new names anywhere in the order. Whatever the index updates in
//! place (changed leaves, the tree cut before the first new name and pushed again) must give
//! the root and proofs one build over the same entries gives.

use super::super::*;
use std::collections::BTreeSet;

use crate::signoff::RecordId;

fn id(n: u64) -> RecordId {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&n.to_be_bytes());
    RecordId::parse(&crate::signoff::hex(&bytes)).expect("id")
}

fn filing(name: &str, version: &str) -> Filing {
    Filing {
        crate_name: name.to_owned(),
        version: version.to_owned(),
        key: "k0".to_owned(),
        delta_from: None,
    }
}

/// A deterministic spread of names over a few hundred crates, new ones arriving all along.
fn name_of(i: u64) -> String {
    let n = i.wrapping_mul(2_654_435_761) % 257;
    format!("c{n:03}")
}

#[test]
fn an_index_grown_publish_by_publish_equals_one_built_at_once() {
    let mut live = CrateIndex::new();
    let mut entries: Vec<(String, String)> = Vec::new();
    let mut leaf = 0u64;
    // Publishes of 1, 2, 3, … 12 entries, then 40 at a time.
    let mut batch = 1u64;
    while leaf < 1_500 {
        for _ in 0..batch {
            let name = name_of(leaf);
            let version = format!("1.0.{}", leaf % 4);
            live.add(&filing(&name, &version), leaf, id(leaf));
            entries.push((name, version));
            leaf += 1;
        }
        batch = if batch < 12 { batch + 1 } else { 40 };
        let mut built = CrateIndex::new();
        for (l, (name, version)) in entries.iter().enumerate() {
            built.add(&filing(name, version), l as u64, id(l as u64));
        }
        assert_eq!(live.len(), built.len(), "after {leaf} entries");
        assert_eq!(live.root(), built.root(), "after {leaf} entries");
        for probe in ["c000", "c128", "c256", "c300", entries[0].0.as_str()] {
            assert_eq!(
                live.proof(probe),
                built.proof(probe),
                "{probe} after {leaf} entries"
            );
        }
    }
    assert_eq!(live.len(), 257);
}

#[test]
fn a_tree_cut_and_pushed_again_equals_the_tree_built_anew() {
    for size in 1..70u64 {
        let leaves: Vec<Hash> = (0..size).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        for cut in 0..=size + 1 {
            let mut tree = MemoryTree::from_leaves(leaves.clone());
            tree.truncate(cut);
            assert_eq!(tree.size(), cut.min(size), "size {size}, cut {cut}");
            let kept = MemoryTree::from_leaves(leaves[..cut.min(size) as usize].to_vec());
            assert_eq!(tree.root(), kept.root(), "size {size}, cut {cut}");
            for l in leaves.iter().skip(cut as usize) {
                tree.push(*l);
            }
            let fresh = MemoryTree::from_leaves(leaves.clone());
            assert_eq!(tree.root(), fresh.root(), "size {size}, cut {cut}");
            assert_eq!(
                tree.inclusion_proof(0, size).expect("proof"),
                fresh.inclusion_proof(0, size).expect("proof")
            );
        }
    }
}

/// A few crates with many (version, key) leaves each, new leaves landing before, between and
/// after the ones the tree already holds, entries added to leaves already hashed, and the
/// index read (root, proofs, scoped answers) after every publish: each crate's version tree,
/// brought up to date in place, must equal one built from the same entries at once.
#[test]
fn version_trees_grown_in_place_equal_ones_built_at_once() {
    let filing_at = |i: u64| Filing {
        crate_name: format!("v{}", i % 3),
        version: format!("1.{}.0", (i.wrapping_mul(7_919) >> 3) % 23),
        key: format!("key{:02}", (i.wrapping_mul(104_729) >> 5) % 11),
        delta_from: None,
    };
    let mut live = CrateIndex::new();
    let mut leaf = 0u64;
    for batch in [1u64, 2, 5, 9, 30, 1, 64, 3, 200, 7, 400] {
        for _ in 0..batch {
            live.add(&filing_at(leaf), leaf, id(leaf));
            leaf += 1;
        }
        let mut built = CrateIndex::new();
        for l in 0..leaf {
            built.add(&filing_at(l), l, id(l));
        }
        assert_eq!(live.root(), built.root(), "after {leaf} entries");
        let versions: BTreeSet<String> = ["1.0.0", "1.7.0", "1.22.0", "1.30.0"]
            .map(str::to_owned)
            .into();
        let keys: BTreeSet<String> = ["key00", "key05", "key10"].map(str::to_owned).into();
        for name in ["v0", "v1", "v2"] {
            assert_eq!(live.proof(name), built.proof(name), "{name} after {leaf}");
            for keys in [None, Some(&keys)] {
                let query = VersionQuery {
                    versions: &versions,
                    keys,
                };
                assert_eq!(
                    live.versions_answer(name, query),
                    built.versions_answer(name, query),
                    "{name} after {leaf} entries"
                );
            }
        }
    }
    // The spread really made wide version trees, not a leaf or two per crate.
    let leaves = live.leaves();
    assert_eq!(leaves.len(), 3);
    assert!(leaves.iter().all(|l| l.2 > 100), "{leaves:?}");
}
