//! The log part of a registry's crate answer (`"log"` in `GET /v1/crates/{name}` and
//! `POST /v1/crates`), read from JSON and checked whole: the checkpoint against the pin, its
//! consistency with the checkpoint the client saw before, and for each crate that every entry
//! the index commits to is proven and its record was served.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize as _;
use serde_json::Value;

use super::crate_index::{IndexProof, LogEntry};
use super::crate_index::{IndexedCrate, index_commitment, verify_index_proof};
use super::error::TlogError;
use super::merkle::{Hash, MAX_PROOF_HASHES};
use super::multiproof::{MAX_MULTI_PROOF_HASHES, verify_multi_inclusion};
use super::note::Checkpoint;
use super::note::SignedNote;
use super::verify::{
    LogPin, ProvenEntry, VerifiedCheckpoint, check_progress, verify_checkpoint, verify_entries,
    verify_listed_versions,
};
use super::versions::{VersionQuery, VersionsAnswer};
use super::versions_verify::ListedEntry;
use crate::signoff::RecordId;

/// One crate's proofs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrateProofs {
    pub index: IndexProof,
    pub entries: Vec<ProvenEntry>,
    /// In an answer scoped to versions: the version tree's leaves for them and their proof,
    /// instead of every entry.
    pub versions: Option<VersionsAnswer>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogAnswer {
    pub checkpoint: String,
    pub crates: BTreeMap<String, CrateProofs>,
    /// The consistency proof from the size the client sent.
    pub consistency: Option<(u64, Vec<Hash>)>,
    /// When the answer proves every index leaf it shows with one multi-leaf proof
    /// (`"index_proof"`, what `POST /v1/crates` sends): the index size and root it was
    /// checked against when read, which the verified checkpoint must commit to.
    pub index_proven: Option<(u64, Hash)>,
}

fn malformed(why: impl Into<String>) -> TlogError {
    TlogError::MalformedProof(why.into())
}

fn hashes(value: &Value) -> Result<Vec<Hash>, TlogError> {
    let list = value
        .as_array()
        .ok_or_else(|| malformed("a proof is not a list"))?;
    if list.len() > MAX_PROOF_HASHES {
        return Err(malformed("a proof of more hashes than any tree needs"));
    }
    list.iter()
        .map(|h| {
            h.as_str()
                .and_then(|t| BASE64.decode(t).ok())
                .and_then(|b| Hash::try_from(b.as_slice()).ok())
                .ok_or_else(|| malformed("a proof hash is not 32 bytes of base64"))
        })
        .collect()
}

fn number(value: &Value, field: &str) -> Result<u64, TlogError> {
    value[field]
        .as_u64()
        .ok_or_else(|| malformed(format!("`{field}` is not a number")))
}

impl LogAnswer {
    pub fn from_json(log: &Value) -> Result<LogAnswer, TlogError> {
        let checkpoint = log["checkpoint"]
            .as_str()
            .ok_or_else(|| malformed("the answer has no checkpoint"))?
            .to_owned();
        let mut crates = BTreeMap::new();
        let map = log["crates"]
            .as_object()
            .ok_or_else(|| malformed("the answer has no crate proofs"))?;
        for (name, proofs) in map {
            // Read from the value in place: `from_value` takes it by value, and cloning each
            // crate's proofs to read them was a visible share of a warm check.
            let index = IndexProof::deserialize(&proofs["index"])
                .map_err(|e| malformed(format!("the index proof of `{name}`: {e}")))?;
            let versions = match &proofs["versions"] {
                Value::Null => None,
                v => Some(
                    VersionsAnswer::deserialize(v)
                        .map_err(|e| malformed(format!("the version proofs of `{name}`: {e}")))?,
                ),
            };
            let mut entries = Vec::new();
            let listed = match (&proofs["entries"], &versions) {
                (Value::Null, Some(_)) => &[][..],
                (list, _) => list
                    .as_array()
                    .ok_or_else(|| malformed(format!("`{name}` has no entry list")))?
                    .as_slice(),
            };
            for e in listed {
                let record_id = e["record_id"]
                    .as_str()
                    .and_then(|t| RecordId::parse(t).ok())
                    .ok_or_else(|| malformed("an entry's record id is not 64 hex digits"))?;
                entries.push(ProvenEntry {
                    leaf_index: number(e, "leaf_index")?,
                    entry: LogEntry {
                        crate_name: name.clone(),
                        ordinal: number(e, "ordinal")?,
                        record_id,
                    },
                    proof: hashes(&e["proof"])?,
                });
            }
            crates.insert(
                name.clone(),
                CrateProofs {
                    index,
                    entries,
                    versions,
                },
            );
        }
        let consistency = match &log["consistency"] {
            Value::Null => None,
            c => Some((number(c, "from")?, hashes(&c["proof"])?)),
        };
        let index_proven = match &log["index_proof"] {
            Value::Null => None,
            proof => Some(prove_index_leaves(&checkpoint, &crates, proof)?),
        };
        Ok(LogAnswer {
            checkpoint,
            crates,
            consistency,
            index_proven,
        })
    }

    /// Checks everything: the checkpoint, its consistency with `seen` (the proof must be there
    /// when `seen` is), and for each of `served` (crate → ids of the records served for it)
    /// that the log's entries are all proven and all served. Returns the checkpoint to cache.
    pub fn verify(
        &self,
        pin: &LogPin,
        seen: Option<&Checkpoint>,
        served: &BTreeMap<String, BTreeSet<RecordId>>,
    ) -> Result<VerifiedCheckpoint, TlogError> {
        let verified = verify_checkpoint(pin, &self.checkpoint)?;
        if let Some(seen) = seen {
            let proof = match &self.consistency {
                Some((from, proof)) if *from == seen.size => proof.as_slice(),
                _ if verified.checkpoint.size <= seen.size => &[],
                _ => {
                    return Err(TlogError::BadConsistencyProof(format!(
                        "no proof from the size {} seen before",
                        seen.size
                    )));
                }
            };
            check_progress(Some(seen), &verified.checkpoint, proof)?;
        }
        for (name, ids) in served {
            self.verify_crate(&verified.checkpoint, name, ids, None)?;
        }
        Ok(verified)
    }

    /// Checks one crate of the answer against `checkpoint` (already verified) and returns every
    /// record the log commits to for what was asked, each of which is among `ids` (the records
    /// served for it), with where it is filed when the answer is scoped. A whole-crate answer
    /// proves the index entry and every entry's inclusion and ordinal; an answer scoped to
    /// versions (and maybe keys: `query`) proves the version tree's leaves for them, and must
    /// answer every version asked.
    pub fn verify_crate(
        &self,
        checkpoint: &Checkpoint,
        name: &str,
        ids: &BTreeSet<RecordId>,
        query: Option<VersionQuery<'_>>,
    ) -> Result<BTreeMap<RecordId, Option<ListedEntry>>, TlogError> {
        let Some(proofs) = self.crates.get(name) else {
            return Err(malformed(format!(
                "no proofs for `{}`",
                name.escape_default()
            )));
        };
        let (index_size, index_root) = checkpoint.crate_index()?;
        let commitment = match self.index_proven {
            Some(proven) if proven == (index_size, index_root) => {
                index_commitment(name, &proofs.index, index_size, &index_root, true)?
            }
            Some(_) => {
                return Err(TlogError::BadIndexProof {
                    name: name.to_owned(),
                    why: "the index leaves were proven against another checkpoint".into(),
                });
            }
            None => verify_index_proof(name, &proofs.index, index_size, &index_root)?,
        };
        let committed: BTreeMap<RecordId, Option<ListedEntry>> = match (&proofs.versions, query) {
            (Some(versions), Some(query)) => {
                verify_listed_versions(checkpoint, name, &commitment, versions, query)?
                    .into_iter()
                    .map(|e| (e.id, Some(e)))
                    .collect()
            }
            (None, None) => {
                verify_entries(checkpoint, name, &commitment, &proofs.entries)?;
                proofs
                    .entries
                    .iter()
                    .map(|e| (e.entry.record_id, None))
                    .collect()
            }
            (Some(_), None) => {
                return Err(malformed(format!(
                    "`{}` was asked whole and answered for some versions",
                    name.escape_default()
                )));
            }
            (None, Some(_)) => {
                return Err(malformed(format!(
                    "`{}` was asked for some versions and answered without their proofs",
                    name.escape_default()
                )));
            }
        };
        let missing = committed.keys().filter(|id| !ids.contains(id)).count();
        if missing > 0 {
            let expected = committed.len() as u64;
            return Err(TlogError::WithheldRecord {
                name: name.to_owned(),
                expected,
                got: expected - missing as u64,
            });
        }
        Ok(committed)
    }
}

/// Checks the one multi-leaf proof of every index leaf `crates` show (each shown without its
/// own proof) against the index the checkpoint (`text`, its signature checked later) commits
/// to, and returns that index's size and root.
fn prove_index_leaves(
    text: &str,
    crates: &BTreeMap<String, CrateProofs>,
    proof: &Value,
) -> Result<(u64, Hash), TlogError> {
    let bad = |why: &str| TlogError::BadIndexProof {
        name: "(the answer's crates)".into(),
        why: why.to_owned(),
    };
    let list = proof
        .as_array()
        .ok_or_else(|| malformed("the index proof is not a list"))?;
    if list.len() > MAX_MULTI_PROOF_HASHES {
        return Err(malformed(
            "an index proof of more hashes than any tree needs",
        ));
    }
    let hashes: Vec<Hash> = list
        .iter()
        .map(|h| {
            h.as_str()
                .and_then(|t| BASE64.decode(t).ok())
                .and_then(|b| Hash::try_from(b.as_slice()).ok())
                .ok_or_else(|| malformed("a proof hash is not 32 bytes of base64"))
        })
        .collect::<Result<_, _>>()?;
    let note = SignedNote::parse(text)?;
    let (size, root) = Checkpoint::parse_body(&note.body)?.crate_index()?;
    let mut shown: BTreeMap<u64, &IndexedCrate> = BTreeMap::new();
    for proofs in crates.values() {
        for leaf in proofs.index.leaves() {
            if !leaf.proof.is_empty() {
                return Err(bad("a leaf carries its own proof beside the shared one"));
            }
            if shown
                .insert(leaf.position, leaf)
                .is_some_and(|other| other != leaf)
            {
                return Err(bad("two different leaves are shown at one position"));
            }
        }
    }
    if shown.is_empty() {
        // Only an empty index shows no leaf: every crate is absent with no neighbours.
        return if hashes.is_empty() && size == 0 {
            Ok((size, root))
        } else {
            Err(bad("no leaf is shown for a non-empty index"))
        };
    }
    let leaves: Vec<(u64, Hash)> = shown.iter().map(|(p, l)| (*p, l.leaf_hash())).collect();
    verify_multi_inclusion(size, &leaves, &hashes, &root).map_err(|e| bad(&e.to_string()))?;
    Ok((size, root))
}
