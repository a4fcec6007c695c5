//! A Merkle tree held as its complete subtrees, level by level, so proofs for any leaf and any
//! earlier size take O(log n) lookups: level 0 holds the leaf hashes, level `l` the hash of
//! every complete, aligned run of 2^l leaves. It needs about twice the leaf hashes in memory.

use super::error::TlogError;
use super::merkle::{Hash, empty_root, node_hash, split_point};
use super::multiproof::prove_multi;

#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    pub fn new() -> MemoryTree {
        MemoryTree::default()
    }

    pub fn from_leaves(leaves: impl IntoIterator<Item = Hash>) -> MemoryTree {
        let mut tree = MemoryTree::new();
        for leaf in leaves {
            tree.push(leaf);
        }
        tree
    }

    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    pub fn leaf(&self, index: u64) -> Option<Hash> {
        self.levels
            .first()?
            .get(usize::try_from(index).ok()?)
            .copied()
    }

    /// The stored hash of the complete subtree of `2^height` leaves numbered `index` at that
    /// height (leaves `index * 2^height ..`), if the tree has it: what a C2SP tile holds.
    pub fn stored(&self, height: usize, index: u64) -> Option<Hash> {
        self.levels
            .get(height)?
            .get(usize::try_from(index).ok()?)
            .copied()
    }

    pub fn push(&mut self, leaf: Hash) {
        let mut hash = leaf;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            self.levels[level].push(hash);
            let len = self.levels[level].len();
            if len % 2 == 1 {
                break;
            }
            hash = node_hash(&self.levels[level][len - 2], &self.levels[level][len - 1]);
            level += 1;
        }
    }

    /// Replaces leaf `index` and rehashes the stored subtrees above it: O(log n). Only for
    /// trees that are not logs (the crate index, whose leaves are counts that change); a log's
    /// leaves never change. An index past the end is ignored.
    pub fn set_leaf(&mut self, index: u64, leaf: Hash) {
        let Ok(mut at) = usize::try_from(index) else {
            return;
        };
        match self.levels.first_mut().and_then(|l| l.get_mut(at)) {
            Some(slot) => *slot = leaf,
            None => return,
        }
        for level in 1..self.levels.len() {
            at /= 2;
            let below = &self.levels[level - 1];
            let (Some(left), Some(right)) = (below.get(2 * at), below.get(2 * at + 1)) else {
                break;
            };
            let hash = node_hash(left, right);
            match self.levels[level].get_mut(at) {
                Some(slot) => *slot = hash,
                None => break,
            }
        }
    }

    /// Keeps the first `size` leaves and the stored subtrees over them only: O(levels). Only
    /// for trees that are not logs (the crate index, where a new name moves every later leaf,
    /// which are then pushed again); a log never drops leaves. A larger size changes nothing.
    pub fn truncate(&mut self, size: u64) {
        for (height, level) in self.levels.iter_mut().enumerate() {
            let keep = usize::try_from(size >> height).unwrap_or(usize::MAX);
            level.truncate(keep);
        }
        while self.levels.last().is_some_and(Vec::is_empty) {
            self.levels.pop();
        }
    }

    /// The root of the first `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, TlogError> {
        self.check_size(size)?;
        Ok(if size == 0 {
            empty_root()
        } else {
            self.range(0, size)
        })
    }

    pub fn root(&self) -> Hash {
        self.root_at(self.size()).unwrap_or_else(|_| empty_root())
    }

    /// The inclusion proof of leaf `index` in the tree of the first `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, TlogError> {
        self.check_size(size)?;
        if index >= size {
            return Err(TlogError::BadRequest(format!(
                "leaf {index} is not in a tree of {size} leaves"
            )));
        }
        let mut proof = Vec::new();
        self.path(index, 0, size, &mut proof);
        Ok(proof)
    }

    /// The consistency proof from the first `old` leaves to the first `new` leaves.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, TlogError> {
        self.check_size(new)?;
        if old > new {
            return Err(TlogError::BadRequest(format!(
                "size {old} is larger than the tree of {new} leaves"
            )));
        }
        let mut proof = Vec::new();
        if old > 0 && old < new {
            self.subproof(old, 0, new, true, &mut proof);
        }
        Ok(proof)
    }

    /// The multi-leaf proof of `positions` (strictly increasing, at least one) in the tree of
    /// the first `size` leaves (see [`super::multiproof`]).
    pub fn multi_proof(&self, positions: &[u64], size: u64) -> Result<Vec<Hash>, TlogError> {
        self.check_size(size)?;
        let in_order = positions.windows(2).all(|w| w[0] < w[1]);
        if positions.is_empty() || !in_order || positions.last().is_some_and(|p| *p >= size) {
            return Err(TlogError::BadRequest(format!(
                "no multi-leaf proof of {positions:?} in a tree of {size} leaves"
            )));
        }
        let mut proof = Vec::new();
        prove_multi(
            positions,
            0,
            size,
            &mut |start, n| self.range(start, n),
            &mut proof,
        );
        Ok(proof)
    }

    fn check_size(&self, size: u64) -> Result<(), TlogError> {
        if size > self.size() {
            return Err(TlogError::BadRequest(format!(
                "the log has {} leaves, not {size}",
                self.size()
            )));
        }
        Ok(())
    }

    /// The hash of leaves `start..start + n` (`n` at least 1), where `start` is a multiple of
    /// the largest power of two not above `n`, as RFC 6962's splits always are.
    fn range(&self, start: u64, n: u64) -> Hash {
        if n.is_power_of_two() && start.is_multiple_of(n) {
            let level = n.trailing_zeros() as usize;
            // Complete and aligned, hence stored.
            return self.levels[level][(start / n) as usize];
        }
        let k = split_point(n);
        node_hash(&self.range(start, k), &self.range(start + k, n - k))
    }

    fn path(&self, m: u64, start: u64, n: u64, out: &mut Vec<Hash>) {
        if n == 1 {
            return;
        }
        let k = split_point(n);
        if m < k {
            self.path(m, start, k, out);
            out.push(self.range(start + k, n - k));
        } else {
            self.path(m - k, start + k, n - k, out);
            out.push(self.range(start, k));
        }
    }

    fn subproof(&self, m: u64, start: u64, n: u64, complete: bool, out: &mut Vec<Hash>) {
        if m == n {
            if !complete {
                out.push(self.range(start, n));
            }
            return;
        }
        let k = split_point(n);
        if m <= k {
            self.subproof(m, start, k, complete, out);
            out.push(self.range(start + k, n - k));
        } else {
            self.subproof(m - k, start + k, n - k, false, out);
            out.push(self.range(start, k));
        }
    }
}
