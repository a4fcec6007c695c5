//! What the log's leaves are, and the crate index that makes a withheld record detectable.
//!
//! Each leaf is a [`LogEntry`]: a record id, the crate it is filed under, and its ordinal among
//! that crate's entries (0, 1, 2, …, in log order). Each checkpoint also commits, in an
//! extension line, to the root of the crate index: a Merkle tree over every crate name in byte
//! order with its number of entries and the size and root of its version tree
//! ([`super::versions`]). A client that asks for a crate gets the crate's index entry
//! with its proof (or, for a crate the log has never seen, the two neighbours that prove it is
//! absent) and then must see every ordinal below the count, each proven in the log. Leaving one
//! out leaves a hole the client notices; lying about the count is a signed, public statement that
//! any monitor replaying the log refutes. A client that asks for some versions of a crate gets
//! the version tree's leaves for them instead of every entry.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use serde::{Deserialize, Serialize};

use super::error::TlogError;
use super::merkle::{Hash, empty_root, leaf_hash, verify_inclusion};
use super::tree::MemoryTree;
use super::versions::{CrateVersions, Filing, VersionQuery, VersionsAnswer};
use crate::signoff::RecordId;

const ENTRY_TAG: &str = "audit-trust log entry v1";
const INDEX_TAG: &str = "audit-trust crate index v3";

/// One leaf of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// The lowercase crate name the record is filed under (empty for a record about no crate).
    pub crate_name: String,
    pub ordinal: u64,
    pub record_id: RecordId,
}

impl LogEntry {
    pub fn to_bytes(&self) -> Vec<u8> {
        format!(
            "{ENTRY_TAG}\n{}\n{}\n{}\n",
            self.crate_name, self.ordinal, self.record_id
        )
        .into_bytes()
    }

    pub fn leaf_hash(&self) -> Hash {
        leaf_hash(&self.to_bytes())
    }
}

pub(super) fn index_leaf(name: &str, count: u64, versions: u64, versions_root: &Hash) -> Hash {
    leaf_hash(
        format!(
            "{INDEX_TAG}\n{name}\n{count}\n{versions}\n{}\n",
            crate::signoff::hex(versions_root)
        )
        .as_bytes(),
    )
}

/// A crate's place in the index and its proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexedCrate {
    pub name: String,
    pub position: u64,
    pub count: u64,
    /// The size and root of the crate's version tree (see [`super::versions`]).
    pub versions: u64,
    #[serde(with = "super::versions::hash_b64")]
    pub versions_root: Hash,
    #[serde(with = "hashes_b64")]
    pub proof: Vec<Hash>,
}

impl IndexedCrate {
    pub(super) fn leaf_hash(&self) -> Hash {
        index_leaf(&self.name, self.count, self.versions, &self.versions_root)
    }
}

/// What the index commits to for one crate: its number of entries and its version tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrateCommitment {
    pub count: u64,
    pub versions: u64,
    pub versions_root: Hash,
}

/// The answer for one name: its entry, or the entries on either side of where it would be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum IndexProof {
    Present {
        entry: IndexedCrate,
    },
    Absent {
        before: Option<IndexedCrate>,
        after: Option<IndexedCrate>,
    },
}

impl IndexProof {
    /// The index leaves this proof shows: the crate's, or its neighbours'.
    pub fn leaves_mut(&mut self) -> Vec<&mut IndexedCrate> {
        match self {
            IndexProof::Present { entry } => vec![entry],
            IndexProof::Absent { before, after } => {
                before.iter_mut().chain(after.iter_mut()).collect()
            }
        }
    }

    /// The index leaves this proof shows: the crate's, or its neighbours'.
    pub fn leaves(&self) -> Vec<&IndexedCrate> {
        match self {
            IndexProof::Present { entry } => vec![entry],
            IndexProof::Absent { before, after } => before.iter().chain(after.iter()).collect(),
        }
    }
}

/// One crate in the index.
#[derive(Debug, Clone, Default)]
struct IndexedEntries {
    count: u64,
    versions: CrateVersions,
    /// Its index leaf, until it gets another entry: a rebuild after new names then hashes
    /// only the crates that changed, not every crate's leaf again.
    leaf: Option<Hash>,
}

impl IndexedEntries {
    fn leaf(&mut self, name: &str) -> Hash {
        if let Some(leaf) = self.leaf {
            return leaf;
        }
        let root = self.versions.root(name);
        let leaf = index_leaf(name, self.count, self.versions.len(), &root);
        self.leaf = Some(leaf);
        leaf
    }
}

/// Every crate with its number of entries and its versions, and the tree over them.
#[derive(Debug, Clone, Default)]
pub struct CrateIndex {
    crates: BTreeMap<String, IndexedEntries>,
    /// Built on first use after a change: the sorted names and the tree over them. Version
    /// trees keep their own cache, so a rebuild rehashes only the crates that changed.
    built: Option<(Vec<String>, MemoryTree)>,
    /// Crates with new entries since `built` was made: their leaves are replaced in place
    /// (O(log n) each) instead of rebuilding the tree, which a log of 150,000 crates appending
    /// a few thousand records a second cannot afford.
    changed: BTreeSet<String>,
    /// Names new since `built` was made. Each moves every later leaf, so the tree is cut
    /// before the first of them and the leaves from there on are pushed again: O(crates after
    /// it), not a rebuild of every leaf and name.
    added: BTreeSet<String>,
}

impl CrateIndex {
    pub fn new() -> CrateIndex {
        CrateIndex::default()
    }

    /// Counts one more entry, filed as `filing` (leaf `leaf` of the log, record `id`), and
    /// returns its ordinal among its crate's entries.
    pub fn add(&mut self, filing: &Filing, leaf: u64, id: RecordId) -> u64 {
        let name = filing.crate_name.as_str();
        if self.built.is_some() {
            if !self.crates.contains_key(name) {
                self.added.insert(name.to_owned());
            } else if !self.changed.contains(name) {
                self.changed.insert(name.to_owned());
            }
        }
        // Looked up before inserting: `entry` would allocate the name for every entry, and
        // nearly every entry is of a crate the index already holds.
        let add = |at: &mut IndexedEntries| {
            at.leaf = None;
            at.count += 1;
            at.versions.add(filing, leaf, id);
            at.count - 1
        };
        match self.crates.get_mut(name) {
            Some(at) => add(at),
            None => add(self.crates.entry(name.to_owned()).or_default()),
        }
    }

    pub fn count(&self, name: &str) -> u64 {
        self.crates.get(name).map_or(0, |c| c.count)
    }

    pub fn len(&self) -> u64 {
        self.crates.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.crates.is_empty()
    }

    fn built(&mut self) -> &(Vec<String>, MemoryTree) {
        let crates = &mut self.crates;
        if let Some((names, tree)) = &mut self.built {
            let added = std::mem::take(&mut self.added);
            // Leaves before the first new name keep their positions (and so do the stored
            // subtrees over them); every leaf from it on is pushed again.
            let first = added
                .first()
                .map_or(names.len(), |a| names.partition_point(|n| n < a));
            if !added.is_empty() {
                let later = names.split_off(first);
                names.reserve(later.len() + added.len());
                let mut later = later.into_iter().peekable();
                for a in added {
                    while let Some(n) = later.next_if(|n| *n < a) {
                        names.push(n);
                    }
                    names.push(a);
                }
                names.extend(later);
                tree.truncate(first as u64);
            }
            for name in std::mem::take(&mut self.changed) {
                let (Ok(position), Some(c)) = (
                    names[..first].binary_search_by(|n| n.as_str().cmp(&name)),
                    crates.get_mut(&name),
                ) else {
                    // At or after `first`: pushed below.
                    continue;
                };
                tree.set_leaf(position as u64, c.leaf(&name));
            }
            // The crates from the first new name on, in the same (byte) order as `names`:
            // walked in the map, not looked up one by one.
            if let Some(from) = names.get(first) {
                for (name, c) in
                    crates.range_mut::<str, _>((Bound::Included(from.as_str()), Bound::Unbounded))
                {
                    tree.push(c.leaf(name));
                }
            }
        }
        self.changed.clear();
        self.added.clear();
        self.built.get_or_insert_with(|| {
            let names: Vec<String> = crates.keys().cloned().collect();
            let tree = MemoryTree::from_leaves(crates.iter_mut().map(|(n, c)| c.leaf(n)));
            (names, tree)
        })
    }

    pub fn root(&mut self) -> Hash {
        self.built().1.root()
    }

    fn indexed(&mut self, position: usize) -> Option<IndexedCrate> {
        let (names, tree) = self.built();
        let size = names.len() as u64;
        let name = names.get(position)?.clone();
        let proof = tree.inclusion_proof(position as u64, size).ok()?;
        let at = self.crates.get_mut(&name)?;
        Some(IndexedCrate {
            position: position as u64,
            count: at.count,
            versions: at.versions.len(),
            versions_root: at.versions.root(&name),
            name,
            proof,
        })
    }

    /// One multi-leaf proof of the index leaves at `positions` (strictly increasing): what an
    /// answer for many crates carries instead of one inclusion proof each.
    pub fn multi_proof(&mut self, positions: &[u64]) -> Result<Vec<Hash>, TlogError> {
        let (names, tree) = self.built();
        tree.multi_proof(positions, names.len() as u64)
    }

    /// The proof of `name`'s count and versions (none when absent).
    pub fn proof(&mut self, name: &str) -> IndexProof {
        let found = self.built().0.binary_search_by(|n| n.as_str().cmp(name));
        match found {
            Ok(position) => match self.indexed(position) {
                Some(entry) => IndexProof::Present { entry },
                None => IndexProof::Absent {
                    before: None,
                    after: None,
                },
            },
            Err(position) => IndexProof::Absent {
                before: position.checked_sub(1).and_then(|p| self.indexed(p)),
                after: self.indexed(position),
            },
        }
    }

    /// Every leaf of the index, in order: what the static export writes.
    pub fn leaves(&mut self) -> Vec<super::static_crates::IndexLeaf> {
        self.crates
            .iter_mut()
            .map(|(name, at)| {
                let commitment = CrateCommitment {
                    count: at.count,
                    versions: at.versions.len(),
                    versions_root: at.versions.root(name),
                };
                super::static_crates::IndexLeaf::new(name, &commitment)
            })
            .collect()
    }

    /// `name`'s version-tree leaves as they were when the log had `size` entries (entries
    /// filed since are left out), each `(version, bucket, entries)`: an export reads them
    /// after the log has moved on and writes the files of the checkpoint it exports.
    pub fn version_leaves_at(&self, name: &str, size: u64) -> Vec<super::versions::FiledLeaf> {
        self.crates
            .get(name)
            .map(|at| at.versions.leaves_at(size))
            .unwrap_or_default()
    }

    /// What `name`'s version tree holds for `query`: the leaves, with the entries of those
    /// asked, and their proof. Empty for a crate the index does not hold (its absence is
    /// proven by [`Self::proof`]).
    pub fn versions_answer(&mut self, name: &str, query: VersionQuery<'_>) -> VersionsAnswer {
        match self.crates.get_mut(name) {
            Some(at) => at.versions.answer(name, query),
            None => VersionsAnswer {
                versions: query.versions.iter().cloned().collect(),
                leaves: Vec::new(),
                proof: Vec::new(),
            },
        }
    }
}

/// What the index (of `size` crates with root `root`) commits to for `name`: no entries and
/// no versions when the proof shows it absent.
pub fn verify_index_proof(
    name: &str,
    proof: &IndexProof,
    size: u64,
    root: &Hash,
) -> Result<CrateCommitment, TlogError> {
    index_commitment(name, proof, size, root, false)
}

/// As [`verify_index_proof`]; with `included`, the leaves shown were already proven in the
/// index (by one multi-leaf proof for a whole answer) and only their order is checked.
pub(super) fn index_commitment(
    name: &str,
    proof: &IndexProof,
    size: u64,
    root: &Hash,
    included: bool,
) -> Result<CrateCommitment, TlogError> {
    let fail = |why: String| TlogError::BadIndexProof {
        name: name.to_owned(),
        why,
    };
    let check = |c: &IndexedCrate| {
        if included {
            return if c.position < size {
                Ok(())
            } else {
                Err(fail("a leaf lies beyond the index".into()))
            };
        }
        verify_inclusion(c.position, size, &c.leaf_hash(), &c.proof, root)
            .map_err(|e| fail(e.to_string()))
    };
    match proof {
        IndexProof::Present { entry } => {
            if entry.name != name {
                return Err(fail(format!(
                    "it proves `{}` instead",
                    entry.name.escape_default()
                )));
            }
            check(entry)?;
            Ok(CrateCommitment {
                count: entry.count,
                versions: entry.versions,
                versions_root: entry.versions_root,
            })
        }
        IndexProof::Absent { before, after } => {
            if let Some(b) = before {
                check(b)?;
                if b.name.as_str() >= name {
                    return Err(fail("the entry before it does not sort before it".into()));
                }
            }
            if let Some(a) = after {
                check(a)?;
                if a.name.as_str() <= name {
                    return Err(fail("the entry after it does not sort after it".into()));
                }
            }
            if !adjacent(
                before.as_ref().map(|b| b.position),
                after.as_ref().map(|a| a.position),
                size,
            ) {
                return Err(fail(
                    "the neighbours shown are not adjacent in the index".into(),
                ));
            }
            Ok(CrateCommitment {
                count: 0,
                versions: 0,
                versions_root: empty_root(),
            })
        }
    }
}

/// Whether leaves at `before` and `after` (either missing at an end of the tree) are next to
/// each other in a sorted tree of `size` leaves, so nothing can sort between them.
pub(super) fn adjacent(before: Option<u64>, after: Option<u64>, size: u64) -> bool {
    match (before, after) {
        (Some(b), Some(a)) => b.checked_add(1) == Some(a),
        (None, Some(a)) => a == 0,
        (Some(b), None) => b.checked_add(1) == Some(size),
        (None, None) => size == 0,
    }
}

/// Hash lists as base64 strings in JSON.
pub(crate) mod hashes_b64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as BASE64;
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Hash;

    pub fn serialize<S: Serializer>(hashes: &[Hash], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(hashes.iter().map(|h| BASE64.encode(h)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Hash>, D::Error> {
        let texts = Vec::<String>::deserialize(d)?;
        if texts.len() > super::super::merkle::MAX_PROOF_HASHES {
            return Err(serde::de::Error::custom(
                "a proof of more hashes than any tree needs",
            ));
        }
        texts
            .iter()
            .map(|t| {
                BASE64
                    .decode(t)
                    .ok()
                    .and_then(|b| Hash::try_from(b.as_slice()).ok())
                    .ok_or_else(|| {
                        serde::de::Error::custom("a proof hash is not 32 bytes of base64")
                    })
            })
            .collect()
    }
}
