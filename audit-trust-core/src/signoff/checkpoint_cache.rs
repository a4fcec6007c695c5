//! The client's memory of the last transparency-log checkpoint it verified, per registry and
//! pinned log. The next answer must extend it (a consistency proof from its size), so a registry
//! that rolls its log back or shows this client another history is caught (`log-rollback`,
//! `log-fork`, `bad-consistency-proof`).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::Error;
use crate::audit_file::RegistryLogPin;
use crate::lock::FolderLock;
use crate::tlog::{Checkpoint, SignedNote, TlogError};

const FORMAT: &str = "log-checkpoints-v1";

#[derive(Debug, Clone)]
pub struct CheckpointCache {
    dir: PathBuf,
    /// The cache folder itself.
    root: PathBuf,
}

impl CheckpointCache {
    pub fn new(cache_dir: &Path) -> CheckpointCache {
        CheckpointCache {
            dir: cache_dir.join(FORMAT),
            root: cache_dir.to_owned(),
        }
    }

    /// The cache folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The record ids whose signatures were verified on this machine before.
    pub fn verified_ids(&self) -> super::verified_ids::VerifiedIds {
        super::verified_ids::VerifiedIds::load(&self.root)
    }

    /// One file per registry and pinned log; the URL is hashed into the name, never used as a
    /// path.
    fn path(&self, url: &str, pin: &RegistryLogPin) -> PathBuf {
        let id = format!("{}\n{}\n{}", url.trim_end_matches('/'), pin.origin, pin.key);
        let hash = super::hex(&Sha256::digest(id.as_bytes())[..16]);
        self.dir.join(format!("{hash}.note"))
    }

    /// The checkpoint last verified for this registry's pinned log, if any. A damaged file is
    /// an error, never a reason to trust the registry afresh.
    pub fn load(&self, url: &str, pin: &RegistryLogPin) -> Result<Option<Checkpoint>, Error> {
        let path = self.path(url, pin);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&path, e)),
        };
        let corrupt = |e: TlogError| Error::Store {
            path: path.clone(),
            message: format!(
                "the remembered checkpoint is unreadable ({e}); delete this file to trust the \
                 registry's log afresh"
            ),
        };
        let note = SignedNote::parse(&text).map_err(corrupt)?;
        let checkpoint = Checkpoint::parse_body(&note.body).map_err(corrupt)?;
        if checkpoint.origin != pin.origin {
            return Err(corrupt(TlogError::OriginMismatch {
                expected: pin.origin.clone(),
                got: checkpoint.origin.escape_default().to_string(),
            }));
        }
        Ok(Some(checkpoint))
    }

    /// Remembers `note` (verified, and consistent with what [`Self::load`] gave) unless a
    /// larger checkpoint was remembered meanwhile by another run. The inner error is a fork
    /// between this answer and one another run remembered at the same size.
    pub fn remember(
        &self,
        url: &str,
        pin: &RegistryLogPin,
        checkpoint: &Checkpoint,
        note: &str,
    ) -> Result<Result<(), TlogError>, Error> {
        std::fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        let _lock = FolderLock::exclusive(&self.dir)?;
        if let Some(stored) = self.load(url, pin)? {
            if stored.size > checkpoint.size {
                return Ok(Ok(()));
            }
            if stored.size == checkpoint.size {
                return Ok(if stored.root == checkpoint.root {
                    Ok(())
                } else {
                    Err(TlogError::Fork {
                        size: checkpoint.size,
                    })
                });
            }
        }
        let path = self.path(url, pin);
        crate::fetch::write_atomically(&path, note.as_bytes(), true)?;
        Ok(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signoff::PublicKey;

    fn checkpoint(size: u64, root: u8) -> Checkpoint {
        Checkpoint {
            origin: "audit-registry/test".into(),
            size,
            root: [root; 32],
            extensions: Vec::new(),
        }
    }

    fn note(c: &Checkpoint) -> String {
        // The cache keeps the note as served; a signature line is all the parser needs here.
        format!("{}\n\u{2014} audit-registry/test AAAAAAA=\n", c.body())
    }

    #[test]
    fn remembers_the_largest_checkpoint_and_catches_a_fork_between_runs() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = CheckpointCache::new(dir.path());
        let pin = RegistryLogPin {
            origin: "audit-registry/test".into(),
            key: PublicKey::parse("ed25519:Bsiz+tawIi9aD5s1Oje6y2hFjrp3+UefRwSGIJhx6/o=")
                .expect("key"),
        };
        let url = "https://audit.example.com";
        assert_eq!(cache.load(url, &pin).expect("load"), None);
        let (five, seven) = (checkpoint(5, 1), checkpoint(7, 2));
        cache
            .remember(url, &pin, &seven, &note(&seven))
            .expect("io")
            .expect("first");
        // A run that verified an older checkpoint does not lower what is remembered.
        cache
            .remember(url, &pin, &five, &note(&five))
            .expect("io")
            .expect("older");
        assert_eq!(cache.load(url, &pin).expect("load"), Some(seven.clone()));
        let other_root = checkpoint(7, 3);
        let fork = cache.remember(url, &pin, &other_root, &note(&other_root));
        assert_eq!(fork.expect("io"), Err(TlogError::Fork { size: 7 }));
        // Another registry URL is another entry.
        assert_eq!(
            cache.load("https://other.example", &pin).expect("load"),
            None
        );
        std::fs::write(cache.path(url, &pin), "garbage").expect("damage");
        assert!(
            cache.load(url, &pin).is_err(),
            "a damaged entry is an error"
        );
    }
}
