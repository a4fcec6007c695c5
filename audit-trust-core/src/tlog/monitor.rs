//! What a monitor checks when it replays a whole log: every entry names the record served with
//! it (signed, by its own key), under the crate that record is about, with the next ordinal of
//! that crate (and files it under its version, as the registry must have); the entries hash to the checkpoint's tree and give its crate index; and every
//! checkpoint the monitor saw before is a prefix of this tree (else a rollback or a fork).

use std::collections::HashMap;

use super::crate_index::{CrateIndex, LogEntry};
use super::error::TlogError;
use super::merkle::Hash;
use super::note::Checkpoint;
use super::tree::MemoryTree;
use super::verify::{TILE_WIDTH, verify_leaf_tiles};
use super::versions::{Filing, filing_of};
use crate::signoff::{RecordId, SignedRecord, Statement};

/// One entry as a log serves it to a monitor, with the signed record it names.
#[derive(Debug, Clone)]
pub struct ServedEntry {
    pub index: u64,
    pub crate_name: String,
    pub ordinal: u64,
    pub record_id: RecordId,
    /// The signed record as one JSON line.
    pub record: String,
}

/// A log rebuilt entry by entry.
#[derive(Debug, Default)]
pub struct Replay {
    tree: MemoryTree,
    index: CrateIndex,
    filed: HashMap<RecordId, Filing>,
}

impl Replay {
    pub fn new() -> Replay {
        Replay::default()
    }

    pub fn size(&self) -> u64 {
        self.tree.size()
    }

    pub fn crates(&self) -> u64 {
        self.index.len()
    }

    /// Checks `served` and appends it.
    pub fn push(&mut self, served: &ServedEntry) -> Result<(), TlogError> {
        let at = self.tree.size();
        let mismatch = |why: String| Err(TlogError::EntryMismatch(format!("entry {at}: {why}")));
        if served.index != at {
            return mismatch(format!("served as entry {}", served.index));
        }
        let record = SignedRecord::from_json_line(&served.record)
            .map_err(|r| TlogError::BadRecord(format!("entry {at}: {r} ({})", r.code())))?;
        if record.id() != served.record_id {
            return mismatch("the record served is not the one the entry names".into());
        }
        let Some(filing) = filing_of(&record, |revoked| self.filed.get(revoked).cloned()) else {
            return match &record.record().statement {
                Statement::Revocation { revokes, .. } => {
                    mismatch(format!("it revokes {revokes}, not earlier in the log"))
                }
                _ => mismatch("the record is about no crate".into()),
            };
        };
        let crate_name = filing.crate_name.clone();
        if crate_name != served.crate_name {
            return mismatch(format!(
                "filed under `{}`, but the record is about `{}`",
                served.crate_name.escape_default(),
                crate_name.escape_default()
            ));
        }
        let ordinal = self.index.add(&filing, at, served.record_id);
        if ordinal != served.ordinal {
            return mismatch(format!(
                "ordinal {} where `{}` has {ordinal} entries before it",
                served.ordinal,
                crate_name.escape_default()
            ));
        }
        let entry = LogEntry {
            crate_name: crate_name.clone(),
            ordinal,
            record_id: served.record_id,
        };
        self.tree.push(entry.leaf_hash());
        self.filed.insert(served.record_id, filing);
        Ok(())
    }

    /// Checks that the replayed entries are exactly `checkpoint`'s tree and crate index.
    pub fn check_checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<(), TlogError> {
        let leaves: Vec<Hash> = (0..self.tree.size())
            .filter_map(|i| self.tree.leaf(i))
            .collect();
        let tiles: Vec<Vec<Hash>> = leaves
            .chunks(TILE_WIDTH as usize)
            .map(<[Hash]>::to_vec)
            .collect();
        verify_leaf_tiles(checkpoint, &tiles)?;
        let (count, root) = checkpoint.crate_index()?;
        if count != self.index.len() || root != self.index.root() {
            return Err(TlogError::BadIndexProof {
                name: "(the whole index)".into(),
                why: format!(
                    "the checkpoint commits to {count} crates and a root the log's entries do not \
                     give ({} crates): a signed count that hides entries",
                    self.index.len()
                ),
            });
        }
        Ok(())
    }

    /// Checks that a checkpoint seen earlier (its size and root) is a prefix of this log.
    pub fn check_seen(&self, size: u64, root: &Hash) -> Result<(), TlogError> {
        if size > self.tree.size() {
            return Err(TlogError::Rollback {
                seen: size,
                got: self.tree.size(),
            });
        }
        if self.tree.root_at(size)? != *root {
            return Err(TlogError::Fork { size });
        }
        Ok(())
    }
}
