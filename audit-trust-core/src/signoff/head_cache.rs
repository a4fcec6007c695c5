//! The client's memory of the highest head seen, per source and per key, with the record ids it
//! covered. A source that later serves an older head (rollback), another head with the same
//! number (fork) or a newer head that drops a record seen before (truncation) is refused.
//!
//! Entries are per source (a folder or a URL) as well as per key, because one key may sign in
//! two independent local stores (two projects), each with its own numbering.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::PublicKey;
use super::head::SignedHead;
use super::record::RecordId;
use super::rejection::Rejection;
use crate::Error;
use crate::lock::FolderLock;

const FORMAT: &str = "heads-v1";

#[derive(Debug, Clone)]
pub struct HeadCache {
    dir: PathBuf,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    source: String,
    head: String,
    records: Vec<String>,
}

impl HeadCache {
    pub fn new(cache_dir: &Path) -> HeadCache {
        HeadCache {
            dir: cache_dir.join(FORMAT),
        }
    }

    /// Compares `head` (already checked against the records it covers, `ids`) with the highest
    /// head remembered for `source`, and remembers it when it is higher. The outer error is a
    /// cache that cannot be read or written; the inner one is the source's fault.
    pub fn check_and_remember(
        &self,
        source: &str,
        head: &SignedHead,
        ids: &BTreeSet<RecordId>,
    ) -> Result<Result<(), Rejection>, Error> {
        std::fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        // Two runs at once must not lower the remembered head.
        let _lock = FolderLock::exclusive(&self.dir)?;
        let path = self.entry_path(source, head);
        let seen = self.load(&path, source)?;
        let served = head.head();
        if let Some((seen_head, seen_ids)) = &seen {
            let seen_seq = seen_head.head().sequence;
            if served.sequence < seen_seq {
                return Ok(Err(Rejection::HeadRollback {
                    key: served.key,
                    seen: seen_seq,
                    served: served.sequence,
                }));
            }
            if served.sequence == seen_seq {
                return Ok(if seen_head.id_hex() == head.id_hex() {
                    Ok(())
                } else {
                    Err(Rejection::HeadFork {
                        key: served.key,
                        sequence: served.sequence,
                    })
                });
            }
            let missing = seen_ids.difference(ids).count();
            if missing > 0 {
                return Ok(Err(Rejection::HeadTruncation {
                    key: served.key,
                    seen: seen_seq,
                    served: served.sequence,
                    missing,
                }));
            }
        }
        let entry = Entry {
            source: source.to_owned(),
            head: head.to_json(),
            records: ids.iter().map(RecordId::to_string).collect(),
        };
        let bytes =
            serde_json::to_vec(&entry).map_err(|e| Error::io(&path, std::io::Error::other(e)))?;
        crate::fetch::write_atomically(&path, &bytes, true)?;
        Ok(Ok(()))
    }

    /// Refuses `head` when it is older than the highest head of its key remembered for `source`
    /// (a rollback), without remembering anything: the head has not been checked yet.
    pub fn check_not_older(
        &self,
        source: &str,
        head: &SignedHead,
    ) -> Result<Result<(), Rejection>, Error> {
        let served = head.head();
        let path = self.entry_path(source, head);
        Ok(match self.load(&path, source)? {
            Some((seen, _)) if seen.head().sequence > served.sequence => {
                Err(Rejection::HeadRollback {
                    key: served.key,
                    seen: seen.head().sequence,
                    served: served.sequence,
                })
            }
            _ => Ok(()),
        })
    }

    /// A source that serves neither records nor a head for `key`: refused if a head of that
    /// key was seen from it before (everything was withheld).
    pub fn check_nothing_served(
        &self,
        source: &str,
        key: &PublicKey,
    ) -> Result<Result<(), Rejection>, Error> {
        let path = self.entry_path_for(source, key);
        Ok(match self.load(&path, source)? {
            Some((seen, _)) => Err(Rejection::HeadRollback {
                key: *key,
                seen: seen.head().sequence,
                served: 0,
            }),
            None => Ok(()),
        })
    }

    /// One file per source and key; the source's text is hashed into the name, never used as a
    /// path.
    fn entry_path(&self, source: &str, head: &SignedHead) -> PathBuf {
        self.entry_path_for(source, &head.head().key)
    }

    fn entry_path_for(&self, source: &str, key: &PublicKey) -> PathBuf {
        let source_hash = super::hex(&Sha256::digest(source.as_bytes())[..16]);
        self.dir.join(format!("{source_hash}-{}.json", key.hex()))
    }

    fn load(
        &self,
        path: &Path,
        source: &str,
    ) -> Result<Option<(SignedHead, BTreeSet<RecordId>)>, Error> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(path, e)),
        };
        // A damaged entry is not a reason to trust a source afresh: fail closed and say how to
        // start over.
        let corrupt = |what: String| Error::Store {
            path: path.to_owned(),
            message: format!(
                "the remembered head is unreadable ({what}); delete this file to trust the source afresh"
            ),
        };
        let entry: Entry = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
        if entry.source != source {
            return Err(corrupt("it belongs to another source".into()));
        }
        let head = SignedHead::from_json(&entry.head).map_err(|e| corrupt(e.to_string()))?;
        let ids = entry
            .records
            .iter()
            .map(|id| RecordId::parse(id))
            .collect::<Result<BTreeSet<_>, _>>()
            .map_err(corrupt)?;
        Ok(Some((head, ids)))
    }
}
