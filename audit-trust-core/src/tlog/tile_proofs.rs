//! C2SP `tlog-tiles` at every level, and proofs built from them.
//!
//! A level-`L` tile holds the hashes of complete subtrees of `256^L` leaves, 256 of them in a
//! full tile (`tile/L/N`) and fewer in the partial tile at the right edge (`tile/L/N.p/W`). A
//! tree of `n` leaves has `n >> 8L` such subtrees at level `L`, so it has tiles at every level
//! where that is at least 1. Any subtree hash a proof needs is either one of those hashes or the
//! root of at most 128 neighbouring hashes of one tile, so a proof takes a few tiles (about two
//! per level) rather than the whole log.
//!
//! Full tiles never change once written; only the partial tile of each level grows, under a new
//! path. That is why an export only has to write the tiles at or after its last exported size
//! ([`tiles_between`]).

use std::collections::HashMap;

use super::error::TlogError;
use super::merkle::{Hash, node_hash, root_of, split_point, verify_consistency, verify_inclusion};
use super::tiles::parse_hash_tile;
use super::tree::MemoryTree;
use super::verify::{TILE_WIDTH, tile_path};

/// The C2SP tile height: each tile level spans 8 tree levels (256 hashes).
pub const TILE_HEIGHT: u32 = 8;

/// Where tiles come from: an HTTP client of a static export, a folder, or memory in tests.
/// `path` is relative to the log's prefix (`tile/1/000.p/3`).
pub trait TileReader {
    /// The tile's bytes, or why they cannot be had (the message names no secret).
    fn read_tile(&mut self, path: &str) -> Result<Vec<u8>, String>;
}

/// Tiles held in memory by path.
#[derive(Debug, Clone, Default)]
pub struct MemoryTiles {
    pub tiles: HashMap<String, Vec<u8>>,
    /// How many reads were asked (each fetch of a real reader is one request).
    pub reads: usize,
}

impl TileReader for MemoryTiles {
    fn read_tile(&mut self, path: &str) -> Result<Vec<u8>, String> {
        self.reads += 1;
        self.tiles
            .get(path)
            .cloned()
            .ok_or_else(|| "no such tile".to_owned())
    }
}

/// How many hashes level `level`'s tile `index` holds in a tree of `size` leaves (0 when that
/// tile does not exist).
pub fn tile_width(size: u64, level: u32, index: u64) -> u64 {
    tile_width_h(TILE_HEIGHT, size, level, index)
}

fn tile_width_h(height: u32, size: u64, level: u32, index: u64) -> u64 {
    let full = 1u64 << height;
    let stored = shifted(size, height * level);
    stored.saturating_sub(index.saturating_mul(full)).min(full)
}

/// `value >> bits`, 0 when every bit is shifted out (a shift of 64 or more is not defined).
fn shifted(value: u64, bits: u32) -> u64 {
    value.checked_shr(bits).unwrap_or(0)
}

/// The path of a tile of `width` hashes out of `full`.
fn path_of(level: u32, index: u64, width: u64, full: u64) -> String {
    let level = u8::try_from(level).unwrap_or(u8::MAX);
    if width == full {
        tile_path(level, index, TILE_WIDTH)
    } else {
        tile_path(level, index, width)
    }
}

/// Every tile (level, index, width) of the tree of `new_size` leaves that is not a tile of the
/// tree of `old_size` leaves: at each level, the tile that held the old right edge (now wider
/// or full) and every tile after it.
pub fn tiles_to_write(old_size: u64, new_size: u64) -> Vec<(u32, u64, u64)> {
    tiles_to_write_h(TILE_HEIGHT, old_size, new_size)
}

fn tiles_to_write_h(height: u32, old_size: u64, new_size: u64) -> Vec<(u32, u64, u64)> {
    let mut out = Vec::new();
    let mut level = 0;
    while shifted(new_size, height * level) > 0 {
        let first = shifted(shifted(old_size, height * level), height);
        let last = shifted(shifted(new_size, height * level) - 1, height);
        for index in first..=last {
            let width = tile_width_h(height, new_size, level, index);
            // The old edge tile is only new when it grew (a level above may not have).
            if width != tile_width_h(height, old_size, level, index) {
                out.push((level, index, width));
            }
        }
        level += 1;
    }
    out
}

/// The hash tiles, with their paths, that the tree of `new_size` leaves adds to the tree of
/// `old_size` leaves, at every level, from `tree`'s stored subtree hashes (`tree` holds at
/// least `new_size` leaves). `tiles_between(tree, 0, n)` is every tile of the tree of `n`.
pub fn tiles_between(
    tree: &MemoryTree,
    old_size: u64,
    new_size: u64,
) -> Result<Vec<(String, Vec<u8>)>, TlogError> {
    tiles_between_h(TILE_HEIGHT, tree, old_size, new_size)
}

fn tiles_between_h(
    height: u32,
    tree: &MemoryTree,
    old_size: u64,
    new_size: u64,
) -> Result<Vec<(String, Vec<u8>)>, TlogError> {
    if new_size > tree.size() || old_size > new_size {
        return Err(TlogError::BadRequest(format!(
            "tiles from {old_size} to {new_size} leaves of a tree of {}",
            tree.size()
        )));
    }
    tiles_to_write_h(height, old_size, new_size)
        .into_iter()
        .map(|(level, index, width)| tile_bytes_h(height, tree, level, index, width))
        .collect()
}

/// The path and bytes of one hash tile from [`tiles_to_write`] (`tree` holds at least the
/// leaves it covers): an exporter builds a large log's tiles a few at a time with it, rather
/// than all of them at once with [`tiles_between`].
pub fn tile_bytes(
    tree: &MemoryTree,
    level: u32,
    index: u64,
    width: u64,
) -> Result<(String, Vec<u8>), TlogError> {
    tile_bytes_h(TILE_HEIGHT, tree, level, index, width)
}

fn tile_bytes_h(
    height: u32,
    tree: &MemoryTree,
    level: u32,
    index: u64,
    width: u64,
) -> Result<(String, Vec<u8>), TlogError> {
    let full = 1u64 << height;
    let at = (height * level) as usize;
    let mut bytes = Vec::with_capacity(width as usize * 32);
    for i in 0..width {
        let hash = tree.stored(at, index * full + i).ok_or_else(|| {
            TlogError::BadRequest(format!("the tree has no hash {i} of tile {level}/{index}"))
        })?;
        bytes.extend_from_slice(&hash);
    }
    Ok((path_of(level, index, width, full), bytes))
}

/// Builds the hashes a proof needs for the tree of `size` leaves from its tiles, reading each
/// tile once and only the tiles the proofs asked for touch.
pub struct TileProver<'r> {
    reader: &'r mut dyn TileReader,
    size: u64,
    height: u32,
    tiles: HashMap<String, Vec<Hash>>,
    subtrees: HashMap<(u32, u64), Hash>,
}

impl<'r> TileProver<'r> {
    pub fn new(reader: &'r mut dyn TileReader, size: u64) -> TileProver<'r> {
        TileProver::with_height(reader, size, TILE_HEIGHT)
    }

    /// Smaller tiles than C2SP's let tests reach several levels with small trees.
    pub(crate) fn with_height(
        reader: &'r mut dyn TileReader,
        size: u64,
        height: u32,
    ) -> TileProver<'r> {
        TileProver {
            reader,
            size,
            height,
            tiles: HashMap::new(),
            subtrees: HashMap::new(),
        }
    }

    /// How many distinct tiles were read so far.
    pub fn tiles_read(&self) -> usize {
        self.tiles.len()
    }

    /// The paths of the tiles read so far, sorted (for messages).
    pub fn paths_read(&self) -> Vec<String> {
        let mut paths: Vec<String> = self.tiles.keys().cloned().collect();
        paths.sort();
        paths
    }

    /// The root of the first `size` leaves (at most the prover's size) as the tiles give it.
    pub fn root_at(&mut self, size: u64) -> Result<Hash, TlogError> {
        if size == 0 {
            return Ok(super::merkle::empty_root());
        }
        self.check(size)?;
        self.range(0, size)
    }

    /// The hash of leaf `index` as its level-0 tile holds it.
    pub fn leaf(&mut self, index: u64) -> Result<Hash, TlogError> {
        self.check(index.saturating_add(1))?;
        self.subtree(0, index)
    }

    /// The RFC 6962 inclusion proof of leaf `index` in the tree of the prover's size.
    pub fn inclusion_proof(&mut self, index: u64) -> Result<Vec<Hash>, TlogError> {
        self.check(index.saturating_add(1))?;
        let mut proof = Vec::new();
        self.path(index, 0, self.size, &mut proof)?;
        Ok(proof)
    }

    /// The RFC 6962 consistency proof from the tree of `old` leaves to the prover's size.
    pub fn consistency_proof(&mut self, old: u64) -> Result<Vec<Hash>, TlogError> {
        self.check(old)?;
        let mut proof = Vec::new();
        if old > 0 && old < self.size {
            self.subproof(old, 0, self.size, true, &mut proof)?;
        }
        Ok(proof)
    }

    fn check(&self, size: u64) -> Result<(), TlogError> {
        if size > self.size {
            return Err(TlogError::BadRequest(format!(
                "{size} leaves asked of a tree of {}",
                self.size
            )));
        }
        Ok(())
    }

    /// The complete subtree of `2^h` leaves numbered `k`: one hash of a level-`h / height`
    /// tile, or the root of `2^(h % height)` neighbouring hashes of one.
    fn subtree(&mut self, h: u32, k: u64) -> Result<Hash, TlogError> {
        if let Some(hash) = self.subtrees.get(&(h, k)) {
            return Ok(*hash);
        }
        let (level, r) = (h / self.height, h % self.height);
        let full = 1u64 << self.height;
        let first = k << r;
        let index = first >> self.height;
        let offset = (first & (full - 1)) as usize;
        let width = tile_width_h(self.height, self.size, level, index);
        let path = path_of(level, index, width, full);
        if !self.tiles.contains_key(&path) {
            let bytes = self
                .reader
                .read_tile(&path)
                .map_err(|why| TlogError::TileUnavailable {
                    tile: path.clone(),
                    why,
                })?;
            let hashes = parse_hash_tile(&bytes, width, &path)?;
            self.tiles.insert(path.clone(), hashes);
        }
        let hashes = &self.tiles[&path];
        let Some(run) = hashes.get(offset..offset + (1usize << r)) else {
            return Err(TlogError::TileMismatch {
                tile: format!("{path} (it lacks the hashes of subtree {k} of height {h})"),
            });
        };
        let hash = root_of(run);
        self.subtrees.insert((h, k), hash);
        Ok(hash)
    }

    /// The hash of leaves `start..start + n`, split as RFC 6962 splits (so `start` is aligned).
    fn range(&mut self, start: u64, n: u64) -> Result<Hash, TlogError> {
        if n.is_power_of_two() && start.is_multiple_of(n) {
            return self.subtree(n.trailing_zeros(), start / n);
        }
        let k = split_point(n);
        let left = self.range(start, k)?;
        let right = self.range(start + k, n - k)?;
        Ok(node_hash(&left, &right))
    }

    fn path(&mut self, m: u64, start: u64, n: u64, out: &mut Vec<Hash>) -> Result<(), TlogError> {
        if n == 1 {
            return Ok(());
        }
        let k = split_point(n);
        if m < k {
            self.path(m, start, k, out)?;
            out.push(self.range(start + k, n - k)?);
        } else {
            self.path(m - k, start + k, n - k, out)?;
            out.push(self.range(start, k)?);
        }
        Ok(())
    }

    fn subproof(
        &mut self,
        m: u64,
        start: u64,
        n: u64,
        complete: bool,
        out: &mut Vec<Hash>,
    ) -> Result<(), TlogError> {
        if m == n {
            if !complete {
                out.push(self.range(start, n)?);
            }
            return Ok(());
        }
        let k = split_point(n);
        if m <= k {
            self.subproof(m, start, k, complete, out)?;
            out.push(self.range(start + k, n - k)?);
        } else {
            self.subproof(m - k, start + k, n - k, false, out)?;
            out.push(self.range(start, k)?);
        }
        Ok(())
    }

    fn mismatch(&self, why: &str) -> TlogError {
        TlogError::TileMismatch {
            tile: format!("{} ({why})", self.paths_read().join(", ")),
        }
    }
}

/// The inclusion proof of leaf `index` (whose hash must be `leaf`) in the tree of `size` leaves
/// with root `root`, built from tiles and checked: tiles that do not give a proof of their own
/// leaf against `root` are `tile-mismatch`; a `leaf` that is not the log's leaf `index` is
/// `bad-inclusion-proof`.
pub fn inclusion_from_tiles(
    prover: &mut TileProver<'_>,
    root: &Hash,
    index: u64,
    leaf: &Hash,
) -> Result<Vec<Hash>, TlogError> {
    let proof = prover.inclusion_proof(index)?;
    let tiled = prover.leaf(index)?;
    if verify_inclusion(index, prover.size, &tiled, &proof, root).is_err() {
        return Err(prover.mismatch("they do not hash to the checkpoint's root"));
    }
    if tiled != *leaf {
        return Err(TlogError::BadInclusionProof(format!(
            "leaf {index} of the log is not this entry"
        )));
    }
    Ok(proof)
}

/// The consistency proof from the tree of `old_size` leaves (root `old_root`) to the prover's
/// tree (root `new_root`), built from tiles and checked. Tiles that do not give `new_root` are
/// `tile-mismatch`; tiles that give it but not a proof from `old_root` show that the log does not
/// extend the old checkpoint (`bad-consistency-proof`).
pub fn consistency_from_tiles(
    prover: &mut TileProver<'_>,
    old_size: u64,
    old_root: &Hash,
    new_root: &Hash,
) -> Result<Vec<Hash>, TlogError> {
    let proof = prover.consistency_proof(old_size)?;
    if prover.root_at(prover.size)? != *new_root {
        return Err(prover.mismatch("they do not hash to the checkpoint's root"));
    }
    verify_consistency(old_size, prover.size, old_root, new_root, &proof)?;
    Ok(proof)
}

/// Checks every tile above level 0 of the tree of `size` leaves with root `root`, given its
/// leaf hashes (already checked against level 0): each level-`L` hash must be the root of the
/// 256 level-`L-1` hashes below it, and the root must come out of the tiles. Returns how many
/// upper tiles it read.
pub fn verify_upper_tiles(
    reader: &mut dyn TileReader,
    size: u64,
    root: &Hash,
    leaves: &[Hash],
) -> Result<usize, TlogError> {
    verify_upper_tiles_h(TILE_HEIGHT, reader, size, root, leaves)
}

pub(crate) fn verify_upper_tiles_h(
    height: u32,
    reader: &mut dyn TileReader,
    size: u64,
    root: &Hash,
    leaves: &[Hash],
) -> Result<usize, TlogError> {
    if leaves.len() as u64 != size {
        return Err(TlogError::TileMismatch {
            tile: format!("level 0 ({} leaves, not {size})", leaves.len()),
        });
    }
    let full = 1usize << height;
    let mut read = MemoryTiles::default();
    // What a level hashes to one level up; a partial run at the edge is not a stored hash.
    let up = |below: &[Hash]| -> Vec<Hash> {
        below
            .chunks(full)
            .filter(|c| c.len() == full)
            .map(root_of)
            .collect()
    };
    let mut below: Vec<Hash> = Vec::new();
    let mut level = 1;
    let mut count = 0;
    while shifted(size, height * level) > 0 {
        let expected = if level == 1 { up(leaves) } else { up(&below) };
        for (index, want) in expected.chunks(full).enumerate() {
            let path = path_of(level, index as u64, want.len() as u64, full as u64);
            let bytes = reader
                .read_tile(&path)
                .map_err(|why| TlogError::TileUnavailable {
                    tile: path.clone(),
                    why: why.clone(),
                })?;
            let got = parse_hash_tile(&bytes, want.len() as u64, &path)?;
            if got != want {
                return Err(TlogError::TileMismatch {
                    tile: format!(
                        "{path} (its hashes are not what level {} hashes to)",
                        level - 1
                    ),
                });
            }
            read.tiles.insert(path, bytes);
            count += 1;
        }
        below = expected;
        level += 1;
    }
    // The root is built from the upper tiles: of level 0 it needs only the last tile, for the
    // leaves right of the last complete run of 256.
    let mut all = read;
    if let Some(chunk) = leaves.chunks(full).next_back() {
        let last = (leaves.len() - 1) / full;
        let path = path_of(0, last as u64, chunk.len() as u64, full as u64);
        all.tiles.insert(path, chunk.concat());
    }
    let mut prover = TileProver::with_height(&mut all, size, height);
    if prover.root_at(size)? != *root {
        return Err(TlogError::TileMismatch {
            tile: "the top tiles (they do not give the checkpoint's root)".into(),
        });
    }
    Ok(count)
}
