//! Record ids whose signatures this machine already checked, kept in the cache folder
//! (`verified-records-v1`), so a warm per-crate read does not verify the same ed25519
//! signatures on every run: most of a lockfile's records are the ones the last run saw.
//!
//! A record's id is the SHA-256 of the bytes its key signs (key, date and statement), so a
//! record with a remembered id is byte for byte a statement its key was seen to sign. Its
//! signature field may differ (a signature is not covered by the id), but it then adds nothing:
//! the key signed those bytes. Every other check (the log's proofs, pinned keys, key dates,
//! criteria, revocations) still runs on every record. The file is as trusted as the rest of the
//! cache folder (the checkpoints and heads it remembers); a damaged file is ignored and
//! written again, which costs only the signature checks it would have saved.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::RecordId;

const FILE: &str = "verified-records-v1";

/// Most ids kept (32 MB): past it, the file starts over with the last run's ids.
const MAX_IDS: usize = 1 << 20;

#[derive(Debug, Default)]
pub struct VerifiedIds {
    path: Option<PathBuf>,
    known: HashSet<[u8; 32]>,
    new: Vec<[u8; 32]>,
}

impl VerifiedIds {
    /// The ids remembered in `cache_dir` (none when the file is missing or damaged).
    pub fn load(cache_dir: &Path) -> VerifiedIds {
        let path = cache_dir.join(FILE);
        let known = std::fs::read(&path)
            .ok()
            .filter(|b| b.len() % 32 == 0 && b.len() / 32 <= MAX_IDS)
            .map(|b| {
                b.chunks_exact(32)
                    .filter_map(|c| <[u8; 32]>::try_from(c).ok())
                    .collect()
            })
            .unwrap_or_default();
        VerifiedIds {
            path: Some(path),
            known,
            new: Vec::new(),
        }
    }

    /// No memory: every signature is checked (`None` cache folder).
    pub fn none() -> VerifiedIds {
        VerifiedIds::default()
    }

    pub fn contains(&self, id: &RecordId) -> bool {
        self.known.contains(id.as_bytes())
    }

    /// Remembers `id`, whose record's signature was just verified.
    pub fn remember(&mut self, id: &RecordId) {
        if self.known.insert(*id.as_bytes()) {
            self.new.push(*id.as_bytes());
        }
    }

    /// Writes the ids back when any is new. Only a saving: failing to write costs the next
    /// run some signature checks, so it is not an error.
    pub fn save(&self) {
        let Some(path) = &self.path else { return };
        if self.new.is_empty() {
            return;
        }
        let ids: Vec<&[u8; 32]> = if self.known.len() > MAX_IDS {
            self.new.iter().rev().take(MAX_IDS).collect()
        } else {
            self.known.iter().collect()
        };
        let bytes: Vec<u8> = ids.into_iter().flatten().copied().collect();
        let _ = crate::fetch::write_atomically(path, &bytes, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_remembered_across_loads_and_a_damaged_file_is_ignored() {
        let dir = tempfile::tempdir().expect("tmp");
        let id = RecordId::parse(&format!("{:064x}", 7)).expect("id");
        let other = RecordId::parse(&format!("{:064x}", 8)).expect("id");
        let mut ids = VerifiedIds::load(dir.path());
        assert!(!ids.contains(&id));
        ids.remember(&id);
        ids.save();
        let again = VerifiedIds::load(dir.path());
        assert!(again.contains(&id) && !again.contains(&other));
        std::fs::write(dir.path().join(FILE), b"short").expect("write");
        assert!(!VerifiedIds::load(dir.path()).contains(&id));
    }
}
