//! The second level of the crate index: per crate, a Merkle tree over the versions its entries
//! are about, so an answer can be scoped to the versions a lockfile holds and still prove that
//! nothing was left out.
//!
//! Each entry is *filed* under one version: a sign-off or a flag under the version it is about,
//! a revocation under the version of the record it withdraws. A crate's version tree has one
//! leaf per version, in byte order, committing to how many entries are filed there and to the
//! list of them (leaf index and record id). The crate's leaf in the crate index commits to the
//! size and root of its version tree, and the checkpoint signs the crate index: a client that
//! asks for `serde 1.0.210` gets that version's leaf and two inclusion proofs instead of every
//! entry of `serde`, and a registry that leaves a flag out of the list signs a leaf that any
//! monitor replaying the log refutes (the argument of `docs/transparency-log.md`).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::crate_index::{adjacent, hashes_b64};
use super::error::TlogError;
use super::merkle::{Hash, empty_root, leaf_hash, verify_inclusion};
use super::tree::MemoryTree;
use crate::signoff::{RecordId, SignedRecord, Statement};

const VERSION_TAG: &str = "audit-trust crate version v1";

/// Most versions a scoped answer adds for one crate by following delta sign-offs: a chain of
/// deltas longer than this is cut (the client then sees fewer sign-offs, never more).
pub const MAX_CLOSURE_VERSIONS: usize = 256;

/// Where an entry is filed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filing {
    pub crate_name: String,
    pub version: String,
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
    match &record.record().statement {
        Statement::Revocation { revokes, .. } => revoked(revokes).map(|f| Filing {
            delta_from: None,
            ..f
        }),
        Statement::SignOff {
            subject,
            delta_from,
            ..
        } => Some(Filing {
            crate_name: subject.name().to_ascii_lowercase(),
            version: subject.version().to_string(),
            delta_from: delta_from.as_ref().map(|d| d.version.to_string()),
        }),
        Statement::Flag { subject, .. } => Some(Filing {
            crate_name: subject.name().to_ascii_lowercase(),
            version: subject.version().to_string(),
            delta_from: None,
        }),
    }
}

/// The entries filed under one version.
#[derive(Debug, Clone, Default)]
struct VersionEntries {
    entries: Vec<(u64, RecordId)>,
    /// Versions delta sign-offs filed here start from (not committed: a hint for answers).
    deltas: BTreeSet<String>,
}

fn digest(entries: &[(u64, RecordId)]) -> Hash {
    let mut hasher = Sha256::new();
    for (leaf, id) in entries {
        hasher.update(format!("{leaf} {id}\n").as_bytes());
    }
    hasher.finalize().into()
}

fn version_leaf(name: &str, version: &str, count: u64, digest: &Hash) -> Hash {
    leaf_hash(
        format!(
            "{VERSION_TAG}\n{name}\n{version}\n{count}\n{}\n",
            crate::signoff::hex(digest)
        )
        .as_bytes(),
    )
}

/// One crate's versions and the tree over them.
#[derive(Debug, Clone, Default)]
pub(super) struct CrateVersions {
    versions: BTreeMap<String, VersionEntries>,
    /// Built on first use after a change: the sorted versions and the tree over them.
    built: Option<(Vec<String>, MemoryTree)>,
}

/// A version's place in a crate's version tree and its proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexedVersion {
    pub version: String,
    pub position: u64,
    pub count: u64,
    #[serde(with = "hash_b64")]
    pub digest: Hash,
    #[serde(with = "hashes_b64")]
    pub proof: Vec<Hash>,
}

/// The answer for one version of a crate: its leaf and the entries it lists, or the leaves on
/// either side of where it would be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum VersionProof {
    Present {
        entry: IndexedVersion,
        /// `[leaf index, record id]` of each entry filed there, in log order.
        records: Vec<(u64, String)>,
    },
    Absent {
        before: Option<IndexedVersion>,
        after: Option<IndexedVersion>,
    },
}

impl CrateVersions {
    pub(super) fn add(&mut self, version: &str, leaf: u64, id: RecordId, delta_from: Option<&str>) {
        self.built = None;
        let at = self.versions.entry(version.to_owned()).or_default();
        at.entries.push((leaf, id));
        if let Some(from) = delta_from {
            at.deltas.insert(from.to_owned());
        }
    }

    pub(super) fn len(&self) -> u64 {
        self.versions.len() as u64
    }

    fn built(&mut self, name: &str) -> &(Vec<String>, MemoryTree) {
        let versions = &self.versions;
        self.built.get_or_insert_with(|| {
            let keys: Vec<String> = versions.keys().cloned().collect();
            let tree =
                MemoryTree::from_leaves(versions.iter().map(|(v, e)| {
                    version_leaf(name, v, e.entries.len() as u64, &digest(&e.entries))
                }));
            (keys, tree)
        })
    }

    pub(super) fn root(&mut self, name: &str) -> Hash {
        if self.versions.is_empty() {
            return empty_root();
        }
        self.built(name).1.root()
    }

    fn indexed(&mut self, name: &str, position: usize) -> Option<IndexedVersion> {
        let (keys, tree) = self.built(name);
        let size = keys.len() as u64;
        let version = keys.get(position)?.clone();
        let proof = tree.inclusion_proof(position as u64, size).ok()?;
        let entries = &self.versions.get(&version)?.entries;
        Some(IndexedVersion {
            position: position as u64,
            count: entries.len() as u64,
            digest: digest(entries),
            version,
            proof,
        })
    }

    pub(super) fn proof(&mut self, name: &str, version: &str) -> VersionProof {
        let found = self
            .built(name)
            .0
            .binary_search_by(|v| v.as_str().cmp(version));
        match found {
            Ok(position) => {
                let records = self.versions.get(version).map_or_else(Vec::new, |e| {
                    e.entries
                        .iter()
                        .map(|(leaf, id)| (*leaf, id.to_string()))
                        .collect()
                });
                match self.indexed(name, position) {
                    Some(entry) => VersionProof::Present { entry, records },
                    None => VersionProof::Absent {
                        before: None,
                        after: None,
                    },
                }
            }
            Err(position) => VersionProof::Absent {
                before: position.checked_sub(1).and_then(|p| self.indexed(name, p)),
                after: self.indexed(name, position),
            },
        }
    }

    /// `asked` and every version reachable from them through delta sign-offs, at most
    /// [`MAX_CLOSURE_VERSIONS`] more than asked.
    pub(super) fn closure(&self, asked: &BTreeSet<String>) -> BTreeSet<String> {
        // Every asked version is answered; only the delta bases count against the bound.
        let mut out: BTreeSet<String> = asked.clone();
        let mut todo: Vec<&str> = asked.iter().map(String::as_str).collect();
        while let Some(version) = todo.pop() {
            let Some(at) = self.versions.get(version) else {
                continue;
            };
            for base in &at.deltas {
                if out.len() >= asked.len() + MAX_CLOSURE_VERSIONS {
                    return out;
                }
                if out.insert(base.clone()) {
                    todo.push(base);
                }
            }
        }
        out
    }
}

/// The entries (leaf index, record id) a crate's version tree (of `size` versions with root
/// `root`) commits to for `version`: none when the proof shows it absent.
pub fn verify_version_proof(
    name: &str,
    version: &str,
    proof: &VersionProof,
    size: u64,
    root: &Hash,
) -> Result<Vec<(u64, RecordId)>, TlogError> {
    let fail = |why: String| TlogError::BadIndexProof {
        name: format!("{name}@{version}"),
        why,
    };
    let check = |v: &IndexedVersion| {
        let leaf = version_leaf(name, &v.version, v.count, &v.digest);
        verify_inclusion(v.position, size, &leaf, &v.proof, root).map_err(|e| fail(e.to_string()))
    };
    match proof {
        VersionProof::Present { entry, records } => {
            if entry.version != version {
                return Err(fail(format!(
                    "it proves version `{}` instead",
                    entry.version.escape_default()
                )));
            }
            check(entry)?;
            let mut listed = Vec::with_capacity(records.len());
            for (leaf, id) in records {
                let id = RecordId::parse(id)
                    .map_err(|_| fail("a listed record id is not 64 hex digits".into()))?;
                listed.push((*leaf, id));
            }
            if listed.len() as u64 != entry.count || digest(&listed) != entry.digest {
                return Err(TlogError::WithheldRecord {
                    name: format!("{name}@{version}"),
                    expected: entry.count,
                    got: listed.len() as u64,
                });
            }
            Ok(listed)
        }
        VersionProof::Absent { before, after } => {
            if let Some(b) = before {
                check(b)?;
                if b.version.as_str() >= version {
                    return Err(fail("the version before it does not sort before it".into()));
                }
            }
            if let Some(a) = after {
                check(a)?;
                if a.version.as_str() <= version {
                    return Err(fail("the version after it does not sort after it".into()));
                }
            }
            if !adjacent(
                before.as_ref().map(|b| b.position),
                after.as_ref().map(|a| a.position),
                size,
            ) {
                return Err(fail(
                    "the neighbours shown are not adjacent in the crate's versions".into(),
                ));
            }
            Ok(Vec::new())
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
