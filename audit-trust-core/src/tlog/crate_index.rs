//! What the log's leaves are, and the crate index that makes a withheld record detectable.
//!
//! Each leaf is a [`LogEntry`]: a record id, the crate it is filed under, and its ordinal among
//! that crate's entries (0, 1, 2, …, in log order). Each checkpoint also commits, in an
//! extension line, to the root of the crate index: a Merkle tree over every crate name in byte
//! order with its number of entries. A client that asks for a crate gets the crate's index entry
//! with its proof (or, for a crate the log has never seen, the two neighbours that prove it is
//! absent) and then must see every ordinal below the count, each proven in the log. Leaving one
//! out leaves a hole the client notices; lying about the count is a signed, public statement that
//! any monitor replaying the log refutes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::error::TlogError;
use super::merkle::{Hash, leaf_hash, verify_inclusion};
use super::tree::MemoryTree;
use crate::signoff::RecordId;

const ENTRY_TAG: &str = "audit-trust log entry v1";
const INDEX_TAG: &str = "audit-trust crate index v1";

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

fn index_leaf(name: &str, count: u64) -> Hash {
    leaf_hash(format!("{INDEX_TAG}\n{name}\n{count}\n").as_bytes())
}

/// A crate's place in the index and its proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexedCrate {
    pub name: String,
    pub position: u64,
    pub count: u64,
    #[serde(with = "hashes_b64")]
    pub proof: Vec<Hash>,
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

/// Every crate with its number of entries, and the tree over them.
#[derive(Debug, Clone, Default)]
pub struct CrateIndex {
    counts: BTreeMap<String, u64>,
    /// Built on first use after a change: the sorted entries and the tree over them.
    built: Option<(Vec<(String, u64)>, MemoryTree)>,
    /// Names already in `built` whose count moved since: their leaves are updated in place
    /// on next use. Rebuilding the whole tree on every checkpoint was O(crates) per publish —
    /// at 150,000 crates, 40 % of a registry's appending time. A new name still rebuilds: it
    /// moves every later leaf.
    stale: Vec<String>,
}

impl CrateIndex {
    pub fn new() -> CrateIndex {
        CrateIndex::default()
    }

    /// Counts one more entry for `name` and returns its ordinal.
    pub fn add(&mut self, name: &str) -> u64 {
        match self.counts.get_mut(name) {
            Some(count) => {
                *count += 1;
                if self.built.is_some() {
                    self.stale.push(name.to_owned());
                }
                *count - 1
            }
            None => {
                self.built = None;
                self.stale.clear();
                self.counts.insert(name.to_owned(), 1);
                0
            }
        }
    }

    pub fn count(&self, name: &str) -> u64 {
        self.counts.get(name).copied().unwrap_or(0)
    }

    pub fn len(&self) -> u64 {
        self.counts.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    fn built(&mut self) -> &(Vec<(String, u64)>, MemoryTree) {
        if let Some((entries, tree)) = &mut self.built {
            for name in self.stale.drain(..) {
                if let Ok(position) = entries.binary_search_by(|(n, _)| n.as_str().cmp(&name)) {
                    let count = self.counts.get(&name).copied().unwrap_or(0);
                    entries[position].1 = count;
                    tree.set_leaf(position, index_leaf(&name, count));
                }
            }
        }
        let counts = &self.counts;
        self.built.get_or_insert_with(|| {
            let entries: Vec<(String, u64)> = counts.iter().map(|(n, c)| (n.clone(), *c)).collect();
            let tree = MemoryTree::from_leaves(entries.iter().map(|(n, c)| index_leaf(n, *c)));
            (entries, tree)
        })
    }

    pub fn root(&mut self) -> Hash {
        self.built().1.root()
    }

    fn indexed(&mut self, position: usize) -> Option<IndexedCrate> {
        let (entries, tree) = self.built();
        let (name, count) = entries.get(position)?;
        let proof = tree
            .inclusion_proof(position as u64, entries.len() as u64)
            .ok()?;
        Some(IndexedCrate {
            name: name.clone(),
            position: position as u64,
            count: *count,
            proof,
        })
    }

    /// The proof of `name`'s count (zero when absent).
    pub fn proof(&mut self, name: &str) -> IndexProof {
        let found = self
            .built()
            .0
            .binary_search_by(|(n, _)| n.as_str().cmp(name));
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
}

/// How many entries the index (of `size` crates with root `root`) commits to for `name`.
pub fn verify_index_proof(
    name: &str,
    proof: &IndexProof,
    size: u64,
    root: &Hash,
) -> Result<u64, TlogError> {
    let fail = |why: String| TlogError::BadIndexProof {
        name: name.to_owned(),
        why,
    };
    let check = |c: &IndexedCrate| {
        verify_inclusion(
            c.position,
            size,
            &index_leaf(&c.name, c.count),
            &c.proof,
            root,
        )
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
            Ok(entry.count)
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
            let adjacent = match (before, after) {
                (Some(b), Some(a)) => b.position.checked_add(1) == Some(a.position),
                (None, Some(a)) => a.position == 0,
                (Some(b), None) => b.position.checked_add(1) == Some(size),
                (None, None) => size == 0,
            };
            if !adjacent {
                return Err(fail(
                    "the neighbours shown are not adjacent in the index".into(),
                ));
            }
            Ok(0)
        }
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
