//! The license cache: one JSON file per crate checksum, beside the classification cache and kept
//! the same way (a checksum names one crate file, so an entry never goes stale; the folder name
//! carries a format version).

use std::path::{Path, PathBuf};

use super::PackageLicense;
use crate::Error;
use crate::lockfile::is_sha256_hex;

const FORMAT: &str = "licenses-v1";

#[derive(Debug, Clone)]
pub struct LicenseCache {
    dir: PathBuf,
}

impl LicenseCache {
    pub fn new(cache_dir: &Path) -> Self {
        LicenseCache {
            dir: cache_dir.join(FORMAT),
        }
    }

    fn path(&self, checksum: &str) -> Option<PathBuf> {
        is_sha256_hex(checksum).then(|| {
            self.dir
                .join(&checksum[..2])
                .join(format!("{checksum}.json"))
        })
    }

    /// A cached inventory; a missing, unreadable or corrupt entry is simply a miss.
    pub fn get(&self, checksum: &str) -> Option<PackageLicense> {
        let bytes = std::fs::read(self.path(checksum)?).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    pub fn put(&self, checksum: &str, license: &PackageLicense) -> Result<(), Error> {
        let Some(path) = self.path(checksum) else {
            return Ok(());
        };
        let bytes =
            serde_json::to_vec(license).map_err(|e| Error::io(&path, std::io::Error::other(e)))?;
        crate::fetch::write_atomically(&path, &bytes, false)
    }
}
