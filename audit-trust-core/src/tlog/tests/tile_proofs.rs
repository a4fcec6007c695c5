//! Tiles at every level and proofs built from them: for every tree size up to a few hundred
//! (and with smaller tiles, so that small trees reach several levels), the proofs from tiles
//! are the tree's own and verify; an export's incremental writes add up to the whole set; a
//! damaged tile is `tile-mismatch`.

use std::collections::HashMap;

use super::super::tile_proofs::{TileProver, verify_upper_tiles_h};
use super::super::*;

fn tree_of(size: u64) -> MemoryTree {
    MemoryTree::from_leaves((0..size).map(|i| leaf_hash(&i.to_be_bytes())))
}

/// Every tile of `tree` at C2SP's height.
fn all_tiles(tree: &MemoryTree) -> MemoryTiles {
    MemoryTiles {
        tiles: tiles_between(tree, 0, tree.size())
            .expect("tiles")
            .into_iter()
            .collect(),
        reads: 0,
    }
}

/// Every tile of `tree` at `height`, built hash by hash (independent of `tiles_between`).
fn tiles_at_height(tree: &MemoryTree, height: u32) -> MemoryTiles {
    let full = 1u64 << height;
    let mut tiles = HashMap::new();
    let mut level = 0;
    loop {
        let h = (height * level) as usize;
        let stored = tree.size() >> (height * level);
        if stored == 0 {
            break;
        }
        for index in 0..stored.div_ceil(full) {
            let width = (stored - index * full).min(full);
            let bytes: Vec<u8> = (0..width)
                .flat_map(|i| tree.stored(h, index * full + i).expect("stored"))
                .collect();
            let path = if width == full {
                tile_path(level as u8, index, TILE_WIDTH)
            } else {
                tile_path(level as u8, index, width)
            };
            tiles.insert(path, bytes);
        }
        level += 1;
    }
    MemoryTiles { tiles, reads: 0 }
}

/// Every inclusion and consistency proof of the tree of `tree.size()` from `tiles`.
fn check_every_proof(tree: &MemoryTree, tiles: &mut MemoryTiles, height: u32) {
    let size = tree.size();
    let root = tree.root();
    let mut prover = TileProver::with_height(tiles, size, height);
    assert_eq!(prover.root_at(size).expect("root"), root, "size {size}");
    for index in 0..size {
        let leaf = tree.leaf(index).expect("leaf");
        let proof = inclusion_from_tiles(&mut prover, &root, index, &leaf).expect("inclusion");
        assert_eq!(
            proof,
            tree.inclusion_proof(index, size).expect("proof"),
            "{index}/{size}"
        );
        verify_inclusion(index, size, &leaf, &proof, &root).expect("verifies");
    }
    for old in 0..=size {
        let old_root = tree.root_at(old).expect("old root");
        let proof = consistency_from_tiles(&mut prover, old, &old_root, &root).expect("proof");
        assert_eq!(proof, tree.consistency_proof(old, size).expect("proof"));
        verify_consistency(old, size, &old_root, &root, &proof).expect("verifies");
    }
}

#[test]
fn proofs_from_tiles_are_the_trees_own_for_every_size_up_to_300() {
    for size in 1..=300 {
        let tree = tree_of(size);
        let mut tiles = all_tiles(&tree);
        check_every_proof(&tree, &mut tiles, TILE_HEIGHT);
    }
    // The levels C2SP writes for a tree of 300: two level-0 tiles and one level-1 hash.
    let tiles = all_tiles(&tree_of(300));
    let mut paths: Vec<&String> = tiles.tiles.keys().collect();
    paths.sort();
    assert_eq!(paths, ["tile/0/000", "tile/0/001.p/44", "tile/1/000.p/1"]);
}

#[test]
fn smaller_tiles_reach_several_levels_and_still_give_every_proof() {
    for height in 1..=3 {
        for size in 1..=150 {
            let tree = tree_of(size);
            let mut tiles = tiles_at_height(&tree, height);
            check_every_proof(&tree, &mut tiles, height);
            let leaves: Vec<Hash> = (0..size).map(|i| tree.leaf(i).expect("leaf")).collect();
            verify_upper_tiles_h(height, &mut tiles, size, &tree.root(), &leaves)
                .expect("upper tiles");
        }
    }
}

#[test]
fn incremental_tiles_add_up_to_every_tile_and_only_grow() {
    let tree = tree_of(70_000);
    let every: HashMap<String, Vec<u8>> = tiles_between(&tree, 0, 70_000)
        .expect("tiles")
        .into_iter()
        .collect();
    // Level 2 holds one hash: the first 65,536 leaves.
    assert_eq!(
        every.get("tile/2/000.p/1").map(Vec::len),
        Some(32),
        "{:?}",
        every
            .keys()
            .filter(|p| !p.starts_with("tile/0/"))
            .collect::<Vec<_>>()
    );
    assert!(every.contains_key("tile/1/001.p/17"));
    assert!(every.contains_key("tile/0/273.p/112"));
    let mut written: HashMap<String, Vec<u8>> = HashMap::new();
    let mut old = 0;
    for new in [
        1, 255, 256, 257, 600, 65_535, 65_536, 65_537, 66_000, 70_000,
    ] {
        let step = tiles_between(&tree, old, new).expect("step");
        for (path, bytes) in step {
            // A full tile is written once; a path written before is never rewritten.
            assert!(!written.contains_key(&path), "{path} rewritten at {new}");
            written.insert(path, bytes);
        }
        old = new;
    }
    for (path, bytes) in &every {
        assert_eq!(written.get(path), Some(bytes), "{path}");
    }
    // From one size to the same, nothing; past the tree, a refusal.
    assert!(
        tiles_between(&tree, 70_000, 70_000)
            .expect("none")
            .is_empty()
    );
    assert!(tiles_between(&tree, 0, 70_001).is_err());
}

#[test]
fn a_proof_reads_a_few_tiles_of_a_large_tree() {
    let tree = tree_of(70_000);
    let root = tree.root();
    let mut tiles = all_tiles(&tree);
    for index in [0, 300, 65_535, 65_536, 69_999] {
        let mut prover = TileProver::new(&mut tiles, 70_000);
        let leaf = tree.leaf(index).expect("leaf");
        let proof = inclusion_from_tiles(&mut prover, &root, index, &leaf).expect("proof");
        verify_inclusion(index, 70_000, &leaf, &proof, &root).expect("verifies");
        // At most two tiles per level (the leaf's, and the right edge's), three levels.
        assert!(prover.tiles_read() <= 6, "{:?}", prover.paths_read());
    }
    let mut prover = TileProver::new(&mut tiles, 70_000);
    let old_root = tree.root_at(1234).expect("old");
    let proof = consistency_from_tiles(&mut prover, 1234, &old_root, &root).expect("proof");
    verify_consistency(1234, 70_000, &old_root, &root, &proof).expect("verifies");
    assert!(prover.tiles_read() <= 8, "{:?}", prover.paths_read());
}

#[test]
fn a_tile_that_does_not_hash_to_the_tree_is_a_tile_mismatch() {
    let tree = tree_of(600);
    let root = tree.root();
    let leaf = tree.leaf(5).expect("leaf");
    let leaves: Vec<Hash> = (0..600).map(|i| tree.leaf(i).expect("leaf")).collect();

    let mut damaged = all_tiles(&tree);
    damaged.tiles.get_mut("tile/0/000").expect("tile")[40] ^= 1;
    let mut prover = TileProver::new(&mut damaged, 600);
    let err = inclusion_from_tiles(&mut prover, &root, 5, &leaf).expect_err("damaged");
    assert_eq!(err.code(), "tile-mismatch", "{err}");

    // A level-1 hash that is not what its level-0 tile hashes to.
    let mut damaged = all_tiles(&tree);
    damaged.tiles.get_mut("tile/1/000.p/2").expect("tile")[0] ^= 1;
    let err = verify_upper_tiles(&mut damaged, 600, &root, &leaves).expect_err("damaged");
    assert_eq!(err.code(), "tile-mismatch", "{err}");
    assert!(err.to_string().contains("tile/1/000.p/2"), "{err}");
    let mut prover = TileProver::new(&mut damaged, 600);
    let err = consistency_from_tiles(&mut prover, 5, &tree.root_at(5).expect("old"), &root)
        .expect_err("damaged");
    assert_eq!(err.code(), "tile-mismatch", "{err}");

    // A short tile, a missing tile, another leaf, another old root.
    let mut damaged = all_tiles(&tree);
    damaged
        .tiles
        .get_mut("tile/0/002.p/88")
        .expect("tile")
        .pop();
    let mut prover = TileProver::new(&mut damaged, 600);
    let err = prover.inclusion_proof(599).expect_err("short");
    assert_eq!(err.code(), "tile-mismatch", "{err}");
    let mut missing = all_tiles(&tree);
    missing.tiles.remove("tile/0/001");
    let mut prover = TileProver::new(&mut missing, 600);
    let err = prover.inclusion_proof(300).expect_err("missing");
    assert_eq!(err.code(), "tile-unavailable", "{err}");
    let mut tiles = all_tiles(&tree);
    let mut prover = TileProver::new(&mut tiles, 600);
    let err = inclusion_from_tiles(&mut prover, &root, 6, &leaf).expect_err("other leaf");
    assert_eq!(err.code(), "bad-inclusion-proof", "{err}");
    let err = consistency_from_tiles(&mut prover, 5, &tree.root_at(6).expect("r"), &root)
        .expect_err("fork");
    assert_eq!(err.code(), "bad-consistency-proof", "{err}");
    let good = verify_upper_tiles(&mut tiles, 600, &root, &leaves).expect("clean");
    assert_eq!(good, 1);
}
