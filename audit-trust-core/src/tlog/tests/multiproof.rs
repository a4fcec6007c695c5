//! Multi-leaf proofs: every subset of leaves of every tree up to 40 leaves, and random subsets
//! of larger trees, prove against the root; a wrong hash, a missing or extra proof hash, a
//! moved leaf or a leaf out of order is refused.

use super::super::*;

fn leaves(n: u64) -> Vec<Hash> {
    (0..n)
        .map(|i| leaf_hash(format!("leaf {i}").as_bytes()))
        .collect()
}

fn check(tree: &MemoryTree, all: &[Hash], positions: &[u64]) {
    let size = all.len() as u64;
    let root = tree.root();
    let proof = tree.multi_proof(positions, size).expect("proof");
    let known: Vec<(u64, Hash)> = positions.iter().map(|p| (*p, all[*p as usize])).collect();
    verify_multi_inclusion(size, &known, &proof, &root).expect("verifies");
    // Never longer than the separate proofs together.
    let separate: usize = positions
        .iter()
        .map(|p| tree.inclusion_proof(*p, size).expect("proof").len())
        .sum();
    assert!(proof.len() <= separate.max(1), "{positions:?} of {size}");
    if let Some(first) = proof.first() {
        let mut bad = proof.clone();
        bad[0] = node_hash(first, first);
        assert!(verify_multi_inclusion(size, &known, &bad, &root).is_err());
        assert!(verify_multi_inclusion(size, &known, &proof[1..], &root).is_err());
    }
    let mut extra = proof.clone();
    extra.push(root);
    assert!(verify_multi_inclusion(size, &known, &extra, &root).is_err());
    let mut wrong_leaf = known.clone();
    wrong_leaf[0].1 = leaf_hash(b"another");
    assert!(verify_multi_inclusion(size, &wrong_leaf, &proof, &root).is_err());
    if size > 1 {
        // The same hashes claimed for another position.
        let mut moved = known.clone();
        let last = moved.len() - 1;
        let target = (moved[last].0 + 1) % size;
        if !positions.contains(&target) {
            moved[last].0 = target;
            moved.sort_by_key(|(p, _)| *p);
            assert!(verify_multi_inclusion(size, &moved, &proof, &root).is_err());
        }
    }
    if known.len() > 1 {
        let mut swapped = known.clone();
        swapped.swap(0, 1);
        assert!(verify_multi_inclusion(size, &swapped, &proof, &root).is_err());
    }
}

#[test]
fn every_subset_of_small_trees_proves() {
    for size in 1..=12u64 {
        let all = leaves(size);
        let tree = MemoryTree::from_leaves(all.iter().copied());
        for mask in 1u32..(1 << size) {
            let positions: Vec<u64> = (0..size).filter(|i| mask & (1 << i) != 0).collect();
            check(&tree, &all, &positions);
        }
    }
}

#[test]
fn random_subsets_of_larger_trees_prove() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for size in (13..=40u64).chain([255, 256, 257, 1000, 4097]) {
        let all = leaves(size);
        let tree = MemoryTree::from_leaves(all.iter().copied());
        for _ in 0..20 {
            let want = 1 + next() % size.min(64);
            let mut positions: Vec<u64> = (0..want).map(|_| next() % size).collect();
            positions.sort_unstable();
            positions.dedup();
            check(&tree, &all, &positions);
        }
        let everything: Vec<u64> = (0..size).collect();
        check(&tree, &all, &everything);
        assert!(
            tree.multi_proof(&everything, size)
                .expect("proof")
                .is_empty()
        );
    }
}

#[test]
fn one_leaf_needs_the_hashes_of_its_inclusion_proof() {
    let all = leaves(300);
    let tree = MemoryTree::from_leaves(all.iter().copied());
    for p in [0, 1, 127, 255, 256, 299] {
        // The same hashes, in walk order instead of bottom-up.
        let mut multi = tree.multi_proof(&[p], 300).expect("multi");
        let mut single = tree.inclusion_proof(p, 300).expect("single");
        multi.sort_unstable();
        single.sort_unstable();
        assert_eq!(multi, single);
    }
}

#[test]
fn bad_requests_are_refused() {
    let all = leaves(10);
    let tree = MemoryTree::from_leaves(all.iter().copied());
    assert!(tree.multi_proof(&[], 10).is_err());
    assert!(tree.multi_proof(&[3, 3], 10).is_err());
    assert!(tree.multi_proof(&[5, 2], 10).is_err());
    assert!(tree.multi_proof(&[10], 10).is_err());
    assert!(tree.multi_proof(&[1], 11).is_err());
    let root = tree.root();
    assert!(verify_multi_inclusion(10, &[], &[], &root).is_err());
    assert!(verify_multi_inclusion(10, &[(10, all[0])], &[], &root).is_err());
}
