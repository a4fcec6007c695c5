//! The files of a static export's per-crate layout that the last read used, kept in the cache
//! folder (`static-files-v1`, one folder per export URL). Every one of them is named by its
//! hash and never changes, so a warm read takes them from here and fetches only what is new:
//! the checkpoint, and the manifest, runs and crate files that changed since. Each file is
//! still checked against its name when it is used; a read that fails with files from here is
//! made again without them (see `static_log_reader`), so a damaged copy costs a fetch, never a
//! wrong answer. After a read, the files it did not use are deleted: the folder holds one read's
//! worth (a few MB).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Mutex;

use sha2::{Digest as _, Sha256};

const FOLDER: &str = "static-files-v1";

#[derive(Debug, Default)]
pub(super) struct FileCache {
    dir: Option<PathBuf>,
    used: Mutex<BTreeSet<String>>,
    /// Whether any file was taken from here in this read.
    hits: Mutex<usize>,
}

impl FileCache {
    /// The cache of the export at `url` in `cache_dir` (`None`: no cache).
    pub(super) fn new(cache_dir: Option<&std::path::Path>, url: &str) -> FileCache {
        let dir = cache_dir.map(|d| {
            let id = super::hex(&Sha256::digest(url.trim_end_matches('/').as_bytes())[..16]);
            d.join(FOLDER).join(id)
        });
        FileCache {
            dir,
            ..FileCache::default()
        }
    }

    /// `path` (a path the reader built: hex names and validated crate names) as kept, if it is.
    pub(super) fn get(&self, path: &str, max: u64) -> Option<Vec<u8>> {
        let file = self.dir.as_ref()?.join(path);
        let meta = std::fs::symlink_metadata(&file).ok()?;
        if !meta.is_file() || meta.len() > max {
            return None;
        }
        let bytes = std::fs::read(&file).ok()?;
        self.note(path);
        if let Ok(mut hits) = self.hits.lock() {
            *hits += 1;
        }
        Some(bytes)
    }

    /// Keeps `bytes` as `path` (only a saving: a failed write is ignored).
    pub(super) fn put(&self, path: &str, bytes: &[u8]) {
        let Some(dir) = &self.dir else { return };
        self.note(path);
        let _ = crate::fetch::write_atomically(&dir.join(path), bytes, false);
    }

    fn note(&self, path: &str) {
        if let Ok(mut used) = self.used.lock() {
            used.insert(path.to_owned());
        }
    }

    pub(super) fn hits(&self) -> usize {
        self.hits.lock().map_or(0, |h| *h)
    }

    /// Forgets every kept file (a read with them failed).
    pub(super) fn clear(&self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    /// Deletes the kept files this read did not use.
    pub(super) fn prune(&self) {
        let (Some(dir), Ok(used)) = (&self.dir, self.used.lock()) else {
            return;
        };
        let mut todo = vec![dir.clone()];
        while let Some(at) = todo.pop() {
            let Ok(entries) = std::fs::read_dir(&at) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let Ok(meta) = std::fs::symlink_metadata(&path) else {
                    continue;
                };
                if meta.is_dir() {
                    todo.push(path);
                    continue;
                }
                let relative = path
                    .strip_prefix(dir)
                    .ok()
                    .and_then(|p| p.to_str())
                    .map(|p| p.replace(std::path::MAIN_SEPARATOR, "/"));
                if relative.is_none_or(|r| !used.contains(&r)) {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
    }
}
