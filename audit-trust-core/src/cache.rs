//! The classification cache: one small JSON file per crate checksum. A checksum names exactly one
//! crate file, so an entry never goes stale; the folder name carries a format version, so a
//! change of what we compute starts a fresh cache instead of reading old answers.

use std::path::{Path, PathBuf};

use crate::Error;
use crate::classify::Classification;
use crate::lockfile::is_sha256_hex;

// v2: files pulled in with `#[path]` are counted.
const FORMAT: &str = "classify-v2";

#[derive(Debug, Clone)]
pub struct ClassificationCache {
    dir: PathBuf,
}

impl ClassificationCache {
    pub fn new(cache_dir: &Path) -> Self {
        ClassificationCache {
            dir: cache_dir.join(FORMAT),
        }
    }

    fn path(&self, checksum: &str) -> Option<PathBuf> {
        // Only a verified-looking hex digest becomes a file name.
        is_sha256_hex(checksum).then(|| {
            self.dir
                .join(&checksum[..2])
                .join(format!("{checksum}.json"))
        })
    }

    /// A cached classification; a missing, unreadable or corrupt entry is simply a miss.
    pub fn get(&self, checksum: &str) -> Option<Classification> {
        let bytes = std::fs::read(self.path(checksum)?).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    pub fn put(&self, checksum: &str, classification: &Classification) -> Result<(), Error> {
        let Some(path) = self.path(checksum) else {
            return Ok(());
        };
        let bytes = serde_json::to_vec(classification)
            .map_err(|e| Error::io(&path, std::io::Error::other(e)))?;
        crate::fetch::write_atomically(&path, &bytes, false)
    }
}
