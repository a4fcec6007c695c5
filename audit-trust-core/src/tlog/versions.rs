//! The second level of the crate index: per crate, a Merkle tree over the versions its entries
//! are about and the keys that signed them, so an answer can be scoped to the versions a
//! lockfile holds and the auditors a project pins, and still prove that nothing was left out.
//!
//! Each entry is *filed* under one version and one key bucket: a sign-off or a flag under the
//! version it is about, a revocation under the version of the record it withdraws; each under
//! the bucket of the key that signed it (the first [`KEY_BUCKET_CHARS`] base64 characters of
//! the key). A crate's version tree has one leaf per (version, bucket) that holds entries, in
//! byte order, committing to how many entries are filed there and to the list of them (leaf
//! index and record id). The crate's leaf in the crate index commits to the size and root of
//! its version tree, and the checkpoint signs the crate index: a client that asks for
//! `serde 1.0.210` as signed by its two pinned auditors gets those leaves (or the neighbours
//! that prove them empty) under one multi-leaf proof, and only those auditors' records. A
//! registry that leaves a flag out of a list signs a leaf that any monitor replaying the log
//! refutes (the argument of `docs/transparency-log.md`).
//!
//! A bucket is a partition, not an identity: two keys that share a prefix share a bucket, and
//! a client asking for one of them gets the other's records too (and ignores them). Nothing can
//! be withheld that way, since a bucket's list is complete or the leaf is refuted.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::merkle::{Hash, empty_root, leaf_hash};
use super::tree::MemoryTree;
use crate::signoff::{PublicKey, RecordId, SignedRecord, Statement};

const VERSION_TAG: &str = "audit-trust crate version v2";

/// How many base64 characters of a key name its bucket (66 bits).
pub const KEY_BUCKET_CHARS: usize = 11;

/// Most versions a scoped answer adds for one crate by following delta sign-offs: a chain of
/// deltas longer than this is cut (the client then sees fewer sign-offs, never more).
pub const MAX_CLOSURE_VERSIONS: usize = 256;

/// The bucket `key`'s entries are filed under.
pub fn key_bucket(key: &PublicKey) -> String {
    let mut text = BASE64.encode(key.as_bytes());
    text.truncate(KEY_BUCKET_CHARS);
    text
}

/// Whether `text` has the shape of a key bucket (what a client may ask for).
pub fn is_key_bucket(text: &str) -> bool {
    text.len() == KEY_BUCKET_CHARS
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

/// Where an entry is filed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filing {
    pub crate_name: String,
    pub version: String,
    /// The bucket of the key that signed the entry's record.
    pub key: String,
    /// The version a delta sign-off starts from: an answer scoped to `version` also answers
    /// for it, so the client can follow the chain down to a full sign-off.
    pub delta_from: Option<String>,
}

/// Where `record` is filed; `revoked` finds where an earlier record was (for a revocation).
/// `None` for a revocation of a record not known.
pub fn filing_of(
    record: &SignedRecord,
    revoked: impl FnOnce(&RecordId) -> Option<Filing>,
) -> Option<Filing> {
    let key = key_bucket(record.key());
    match &record.record().statement {
        Statement::Revocation { revokes, .. } => revoked(revokes).map(|f| Filing {
            crate_name: f.crate_name,
            version: f.version,
            key,
            delta_from: None,
        }),
        Statement::SignOff {
            subject,
            delta_from,
            ..
        } => Some(Filing {
            crate_name: subject.name().to_ascii_lowercase(),
            version: subject.version().to_string(),
            key,
            delta_from: delta_from.as_ref().map(|d| d.version.to_string()),
        }),
        Statement::Flag { subject, .. } => Some(Filing {
            crate_name: subject.name().to_ascii_lowercase(),
            version: subject.version().to_string(),
            key,
            delta_from: None,
        }),
    }
}

/// One (version, bucket) leaf with its entries (leaf index, record id), as an export reads it.
pub type FiledLeaf = (String, String, Vec<(u64, RecordId)>);

/// The entries filed under one (version, bucket).
#[derive(Debug, Clone, Default)]
struct LeafEntries {
    entries: Vec<(u64, RecordId)>,
    /// Versions delta sign-offs filed here start from (not committed: a hint for answers).
    deltas: BTreeSet<String>,
    /// Its leaf hash, until it gets another entry: a changed crate then rehashes only the
    /// leaves that changed, not every digest of every leaf again.
    hash: Option<Hash>,
}

impl LeafEntries {
    fn hash(&mut self, name: &str, version: &str, key: &str) -> Hash {
        *self.hash.get_or_insert_with(|| {
            version_leaf(
                name,
                version,
                key,
                self.entries.len() as u64,
                &digest(&self.entries),
            )
        })
    }
}

pub fn digest(entries: &[(u64, RecordId)]) -> Hash {
    use std::fmt::Write as _;
    let mut hasher = Sha256::new();
    // One buffer for every line: a `format!` per entry was an allocation per entry.
    let mut line = String::with_capacity(96);
    for (leaf, id) in entries {
        line.clear();
        let _ = writeln!(line, "{leaf} {id}");
        hasher.update(line.as_bytes());
    }
    hasher.finalize().into()
}

pub(super) fn version_leaf(
    name: &str,
    version: &str,
    key: &str,
    count: u64,
    digest: &Hash,
) -> Hash {
    leaf_hash(
        format!(
            "{VERSION_TAG}\n{name}\n{version}\n{key}\n{count}\n{}\n",
            crate::signoff::hex(digest)
        )
        .as_bytes(),
    )
}

/// One leaf of a crate's version tree as an answer shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionLeaf {
    pub position: u64,
    pub version: String,
    pub key: String,
    pub count: u64,
    #[serde(with = "hash_b64")]
    pub digest: Hash,
    /// `[leaf index, record id]` of each entry filed there, in log order: present for the
    /// leaves the client asked for, absent for neighbours shown only to prove a gap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<Vec<(u64, String)>>,
}

impl VersionLeaf {
    pub(super) fn hash(&self, name: &str) -> Hash {
        version_leaf(name, &self.version, &self.key, self.count, &self.digest)
    }
}

/// A crate's part of an answer scoped to versions (and maybe keys): the versions answered, the
/// leaves that answer them, and one multi-leaf proof of those leaves in the version tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionsAnswer {
    /// The versions asked, and those delta sign-offs among them start from.
    pub versions: Vec<String>,
    /// Leaves in position order.
    pub leaves: Vec<VersionLeaf>,
    #[serde(with = "multi_hashes_b64")]
    pub proof: Vec<Hash>,
}

/// What a scoped answer is about: versions of one crate, and the key buckets the client reads
/// (`None`: every key).
#[derive(Debug, Clone, Copy)]
pub struct VersionQuery<'a> {
    pub versions: &'a BTreeSet<String>,
    pub keys: Option<&'a BTreeSet<String>>,
}

impl VersionQuery<'_> {
    /// Whether a leaf at (`version`, `key`) is one the answer must list, given the versions
    /// it answers.
    pub(super) fn wants(&self, answered: &BTreeSet<String>, version: &str, key: &str) -> bool {
        answered.contains(version) && self.keys.is_none_or(|k| k.contains(key))
    }
}

/// One crate's (version, bucket) leaves and the tree over them.
#[derive(Debug, Clone, Default)]
pub(super) struct CrateVersions {
    leaves: BTreeMap<(String, String), LeafEntries>,
    /// Made on first use and then brought up to date on use after a change, not rebuilt: a log
    /// appending thousands of records a second changes thousands of crates per checkpoint, and
    /// rebuilding each one's tree made every append cost O(the crate's entries).
    built: Option<BuiltVersions>,
}

/// The sorted leaf keys and the tree over them, with what changed since the tree was last
/// brought up to date.
#[derive(Debug, Clone, Default)]
struct BuiltVersions {
    keys: Vec<(String, String)>,
    tree: MemoryTree,
    /// Leaves from this position on moved (a new key sorted before them) or are new: the tree
    /// is cut there and they are pushed again.
    cut: usize,
    /// Positions before `cut` whose leaf got another entry: replaced in place, O(log n) each.
    changed: Vec<usize>,
}

impl CrateVersions {
    pub(super) fn add(&mut self, filing: &Filing, leaf: u64, id: RecordId) {
        let (version, key) = (filing.version.as_str(), filing.key.as_str());
        if let Some(b) = &mut self.built {
            match b
                .keys
                .binary_search_by(|(v, k)| (v.as_str(), k.as_str()).cmp(&(version, key)))
            {
                Ok(position) if position < b.cut => b.changed.push(position),
                Ok(_) => {}
                Err(position) => {
                    b.keys
                        .insert(position, (version.to_owned(), key.to_owned()));
                    b.cut = b.cut.min(position);
                }
            }
        }
        let at = self
            .leaves
            .entry((version.to_owned(), key.to_owned()))
            .or_default();
        at.hash = None;
        at.entries.push((leaf, id));
        if let Some(from) = &filing.delta_from {
            at.deltas.insert(from.clone());
        }
    }

    pub(super) fn len(&self) -> u64 {
        self.leaves.len() as u64
    }

    /// The leaves with only the entries below leaf index `size` (leaves left empty dropped).
    pub(super) fn leaves_at(&self, size: u64) -> Vec<FiledLeaf> {
        self.leaves
            .iter()
            .filter_map(|((version, key), at)| {
                // Entries are in log order: those below `size` come first.
                let kept = at.entries.partition_point(|(leaf, _)| *leaf < size);
                (kept > 0).then(|| (version.clone(), key.clone(), at.entries[..kept].to_vec()))
            })
            .collect()
    }

    fn built(&mut self, name: &str) -> &BuiltVersions {
        let leaves = &mut self.leaves;
        let b = self.built.get_or_insert_with(|| BuiltVersions {
            keys: leaves.keys().cloned().collect(),
            ..BuiltVersions::default()
        });
        let BuiltVersions {
            keys,
            tree,
            cut,
            changed,
        } = &mut *b;
        tree.truncate(*cut as u64);
        for position in std::mem::take(changed) {
            // Those at or after the cut are pushed again below.
            let Some(k) = keys.get(position).filter(|_| position < *cut) else {
                continue;
            };
            if let Some(at) = leaves.get_mut(k) {
                tree.set_leaf(position as u64, at.hash(name, &k.0, &k.1));
            }
        }
        // The leaves from the cut on, in the map's order, which is the order of `keys`.
        if let Some(from) = keys.get(*cut) {
            for ((v, k), at) in leaves.range_mut::<(String, String), _>(from.clone()..) {
                tree.push(at.hash(name, v, k));
            }
        }
        *cut = keys.len();
        b
    }

    pub(super) fn root(&mut self, name: &str) -> Hash {
        if self.leaves.is_empty() {
            return empty_root();
        }
        self.built(name).tree.root()
    }

    /// `asked` and every version reachable from them through delta sign-offs by the keys
    /// `keys` reads, at most [`MAX_CLOSURE_VERSIONS`] more than asked.
    pub(super) fn closure(
        &self,
        asked: &BTreeSet<String>,
        keys: Option<&BTreeSet<String>>,
    ) -> BTreeSet<String> {
        // Every asked version is answered; only the delta bases count against the bound.
        let mut out: BTreeSet<String> = asked.clone();
        let mut todo: Vec<String> = asked.iter().cloned().collect();
        while let Some(version) = todo.pop() {
            let from = (version.clone(), String::new());
            let run = self
                .leaves
                .range(from..)
                .take_while(|((v, _), _)| *v == version);
            for ((_, key), at) in run {
                if keys.is_some_and(|k| !k.contains(key)) {
                    continue;
                }
                for base in &at.deltas {
                    if out.len() >= asked.len() + MAX_CLOSURE_VERSIONS {
                        return out;
                    }
                    if out.insert(base.clone()) {
                        todo.push(base.clone());
                    }
                }
            }
        }
        out
    }

    /// The answer for `query`: every leaf it wants, the neighbours that bound each gap, and
    /// the multi-leaf proof of them. Empty (no leaves, no proof) when the crate has no
    /// entries: its index entry then proves an empty version tree.
    pub(super) fn answer(&mut self, name: &str, query: VersionQuery<'_>) -> VersionsAnswer {
        let answered = self.closure(query.versions, query.keys);
        let mut positions: BTreeSet<usize> = BTreeSet::new();
        self.built(name);
        let Some(BuiltVersions { keys, tree, .. }) = self.built.as_ref() else {
            return VersionsAnswer {
                versions: answered.into_iter().collect(),
                leaves: Vec::new(),
                proof: Vec::new(),
            };
        };
        let size = keys.len();
        // The leaves in [lower, upper) of the sort order, and the one on either side.
        let mut bound = |lower: usize, upper: usize| {
            positions.extend(lower.saturating_sub(1)..(upper + 1).min(size));
        };
        for version in &answered {
            let start = keys.partition_point(|(v, _)| v < version);
            match query.keys {
                None => {
                    let end = keys.partition_point(|(v, _)| v <= version);
                    bound(start, end);
                }
                Some(wanted) => {
                    for key in wanted {
                        let at = keys.partition_point(|(v, k)| {
                            (v.as_str(), k.as_str()) < (version.as_str(), key.as_str())
                        });
                        let found = keys.get(at).is_some_and(|(v, k)| v == version && k == key);
                        bound(at, at + usize::from(found));
                    }
                }
            }
        }
        let positions: Vec<u64> = positions.into_iter().map(|p| p as u64).collect();
        let proof = if positions.is_empty() {
            Vec::new()
        } else {
            tree.multi_proof(&positions, size as u64)
                .unwrap_or_default()
        };
        let mut leaves = Vec::with_capacity(positions.len());
        for position in positions {
            let Some((version, key)) = keys.get(position as usize) else {
                continue;
            };
            let Some(at) = self.leaves.get(&(version.clone(), key.clone())) else {
                continue;
            };
            let records = query.wants(&answered, version, key).then(|| {
                at.entries
                    .iter()
                    .map(|(leaf, id)| (*leaf, id.to_string()))
                    .collect()
            });
            leaves.push(VersionLeaf {
                position,
                version: version.clone(),
                key: key.clone(),
                count: at.entries.len() as u64,
                digest: digest(&at.entries),
                records,
            });
        }
        VersionsAnswer {
            versions: answered.into_iter().collect(),
            leaves,
            proof,
        }
    }
}

/// One hash as base64 in JSON.
pub(crate) mod hash_b64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as BASE64;
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Hash;

    pub fn serialize<S: Serializer>(hash: &Hash, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&BASE64.encode(hash))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        let text = String::deserialize(d)?;
        BASE64
            .decode(&text)
            .ok()
            .and_then(|b| Hash::try_from(b.as_slice()).ok())
            .ok_or_else(|| serde::de::Error::custom("a hash is not 32 bytes of base64"))
    }
}

/// A multi-leaf proof's hashes as base64 in JSON, bounded by
/// [`super::multiproof::MAX_MULTI_PROOF_HASHES`].
pub(crate) mod multi_hashes_b64 {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::super::multiproof::MAX_MULTI_PROOF_HASHES;
    use super::Hash;

    pub fn serialize<S: Serializer>(hashes: &[Hash], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(hashes.iter().map(super::encode_hash))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Hash>, D::Error> {
        let texts = Vec::<String>::deserialize(d)?;
        if texts.len() > MAX_MULTI_PROOF_HASHES {
            return Err(serde::de::Error::custom(
                "a proof of more hashes than any tree needs",
            ));
        }
        texts
            .iter()
            .map(|t| {
                super::decode_hash(t).ok_or_else(|| {
                    serde::de::Error::custom("a proof hash is not 32 bytes of base64")
                })
            })
            .collect()
    }
}

fn encode_hash(hash: &Hash) -> String {
    BASE64.encode(hash)
}

fn decode_hash(text: &str) -> Option<Hash> {
    BASE64
        .decode(text)
        .ok()
        .and_then(|b| Hash::try_from(b.as_slice()).ok())
}
