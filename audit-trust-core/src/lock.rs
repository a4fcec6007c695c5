//! Advisory locks on a folder (a `.lock` file inside it) or on a named lock file, released when
//! dropped or when the process dies: a crashed writer never leaves a stale lock behind.

use std::fs::File;
use std::path::Path;

use crate::Error;

/// Held while it lives.
#[derive(Debug)]
pub struct FolderLock {
    file: File,
}

impl FolderLock {
    /// Waits for exclusive use of `dir` (writers).
    pub fn exclusive(dir: &Path) -> Result<FolderLock, Error> {
        let (file, path) = open(dir)?;
        // Fully qualified: std's own `File::lock` needs a newer Rust than ours.
        fs4::FileExt::lock(&file).map_err(|e| Error::io(&path, e))?;
        Ok(FolderLock { file })
    }

    /// Waits for exclusive use of whatever `lock_file` stands for (creating it and its folder).
    pub fn exclusive_file(lock_file: &Path) -> Result<FolderLock, Error> {
        if let Some(dir) = lock_file.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let file = open_file(lock_file)?;
        fs4::FileExt::lock(&file).map_err(|e| Error::io(lock_file, e))?;
        Ok(FolderLock { file })
    }

    /// Waits until no writer holds `dir` (readers, who then see a consistent folder). `None`
    /// when the lock file cannot be created, e.g. in a read-only checkout, where no writer can
    /// run either.
    pub fn shared(dir: &Path) -> Result<Option<FolderLock>, Error> {
        let Ok((file, path)) = open(dir) else {
            return Ok(None);
        };
        fs4::FileExt::lock_shared(&file).map_err(|e| Error::io(&path, e))?;
        Ok(Some(FolderLock { file }))
    }
}

impl Drop for FolderLock {
    fn drop(&mut self) {
        let _ = fs4::FileExt::unlock(&self.file);
    }
}

fn open(dir: &Path) -> Result<(File, std::path::PathBuf), Error> {
    let path = dir.join(".lock");
    Ok((open_file(&path)?, path))
}

fn open_file(path: &Path) -> Result<File, Error> {
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| Error::io(path, e))
}
