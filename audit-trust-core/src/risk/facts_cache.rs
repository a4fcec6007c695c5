//! The facts of crate files already read, one small JSON file per crate checksum (a checksum
//! names exactly one crate file, so an entry never goes stale), so a warm `check` does not
//! unpack and lex every unaudited package again. The folder name carries a format version and
//! the blob threshold the facts were computed with. Like the classification cache it lives in
//! the user's own cache folder; a missing or corrupt entry is a miss.

use std::path::{Path, PathBuf};

use super::CrateFacts;
use crate::lockfile::is_sha256_hex;

const FORMAT: &str = "risk-facts-v1";

pub(super) struct FactsCache {
    dir: PathBuf,
}

impl FactsCache {
    pub(super) fn new(cache_dir: &Path, blob_bytes: u64) -> Self {
        FactsCache {
            dir: cache_dir.join(format!("{FORMAT}-blob{blob_bytes}")),
        }
    }

    fn path(&self, checksum: &str) -> Option<PathBuf> {
        is_sha256_hex(checksum).then(|| {
            self.dir
                .join(&checksum[..2])
                .join(format!("{checksum}.json"))
        })
    }

    pub(super) fn get(&self, checksum: &str) -> Option<CrateFacts> {
        let bytes = std::fs::read(self.path(checksum)?).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    pub(super) fn put(&self, checksum: &str, facts: &CrateFacts) -> Result<(), crate::Error> {
        let Some(path) = self.path(checksum) else {
            return Ok(());
        };
        let bytes = serde_json::to_vec(facts)
            .map_err(|e| crate::Error::io(&path, std::io::Error::other(e)))?;
        crate::fetch::write_atomically(&path, &bytes, false)
    }
}
