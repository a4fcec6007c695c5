//! Reading a registry's static export (`records = { url = "…" }`, layout in
//! [`super::static_export`]). It moves bytes only, like the registry client: what it returns
//! fills the same mirror and is verified the same way (signatures, pins, the whole log of each
//! key against its signed head, the cache of heads).
//!
//! Cost: one conditional GET of the index per run (`If-None-Match` / `If-Modified-Since`, so
//! an unchanged export answers 304 with no body), and for each pinned key whose head sequence
//! moved, its head and its records. A client that synced the key before asks only for the
//! records after those it has: a key's `records.jsonl` only grows at the end, so it fetches the
//! file from the byte where its last read ended (`Range: bytes=<offset - 1>-`; the byte before
//! must still be the end of a line). A server that does not serve ranges sends the whole file,
//! which is read as before.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::registry_client::KeyLog;
use super::registry_sync::LogSource;
use super::static_export::{
    INDEX_PATH, MAX_HEAD_BYTES, MAX_INDEX_BYTES, MAX_KEY_RECORDS_BYTES, covered_lines, head_path,
    parse_index, records_path,
};
use super::{PublicKey, SignedHead};
use crate::Error;
use crate::http::{Conditional, HttpClient, Ranged, Validators};

/// The index as last fetched, kept next to the mirror so a 304 can be answered from it.
const SAVED_INDEX: &str = ".export-index.json";
/// Where each key's last read of `records.jsonl` ended ([`ReadUpTo`] by key).
const SAVED_KEYS: &str = ".export-keys.json";

/// How far a key's records were read: the first `count` lines, covered by the head of
/// `sequence`, are the file's first `bytes` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct ReadUpTo {
    sequence: u64,
    count: u64,
    bytes: u64,
}

#[derive(Debug)]
pub struct StaticClient<'a> {
    base: String,
    http: &'a HttpClient,
    /// Where the last index and its validators are kept (`None`: always fetch it whole).
    state_dir: Option<PathBuf>,
}

#[derive(Serialize, Deserialize)]
struct SavedIndex {
    validators: Validators,
    body: String,
}

impl<'a> StaticClient<'a> {
    pub fn new(url: &str, http: &'a HttpClient, state_dir: Option<PathBuf>) -> StaticClient<'a> {
        StaticClient {
            base: url.trim_end_matches('/').to_owned(),
            http,
            state_dir,
        }
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    fn error(&self, message: String) -> Error {
        Error::StaticExport {
            url: self.base.clone(),
            message,
        }
    }

    fn get(&self, path: &str, max: u64) -> Result<Vec<u8>, Error> {
        let url = format!("{}/{path}", self.base);
        self.http
            .get_ok(&url, max)
            .map_err(|e| self.error(format!("{path}: {e}")))
    }

    /// A file of the export (`path` relative to its root), at most `max` bytes.
    pub fn get_file(&self, path: &str, max: u64) -> Result<Vec<u8>, Error> {
        self.get(path, max)
    }

    /// The index's bytes: the saved copy when the server says it is unchanged.
    fn index_bytes(&self) -> Result<Vec<u8>, Error> {
        let saved_path = self.state_dir.as_ref().map(|d| d.join(SAVED_INDEX));
        let saved: Option<SavedIndex> = saved_path
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice(&b).ok());
        let validators = saved
            .as_ref()
            .map(|s| s.validators.clone())
            .unwrap_or_default();
        let url = format!("{}/{INDEX_PATH}", self.base);
        let answer = self
            .http
            .get_if_changed(&url, MAX_INDEX_BYTES, &validators)
            .map_err(|e| self.error(format!("{INDEX_PATH}: {e}")))?;
        match (answer, saved) {
            (Conditional::NotModified, Some(saved)) => Ok(saved.body.into_bytes()),
            (Conditional::NotModified, None) => Err(self.error(format!(
                "{INDEX_PATH}: answered 304 to a request that was not conditional"
            ))),
            (Conditional::Changed { body, validators }, _) => {
                if let Some(path) = saved_path
                    && (validators.etag.is_some() || validators.last_modified.is_some())
                    && let Ok(text) = std::str::from_utf8(&body)
                {
                    let saved = SavedIndex {
                        validators,
                        body: text.to_owned(),
                    };
                    // Only an optimisation: a copy that cannot be saved is fetched again.
                    if let Ok(bytes) = serde_json::to_vec(&saved) {
                        let _ = crate::fetch::write_atomically(&path, &bytes, false);
                    }
                }
                Ok(body)
            }
        }
    }

    fn saved_keys(&self) -> BTreeMap<String, ReadUpTo> {
        self.state_dir
            .as_ref()
            .and_then(|d| std::fs::read(d.join(SAVED_KEYS)).ok())
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// A key's head and the records it covers beyond those of the head of sequence `after`
    /// the mirror has (all of them when this client has not read the key up to there). The
    /// head is fetched first: the exporter writes records before heads, so the records file is
    /// at least as new as the head.
    fn key_log(
        &self,
        key: &PublicKey,
        after: u64,
        saved: Option<ReadUpTo>,
    ) -> Result<(KeyLog, Option<ReadUpTo>), Error> {
        let head_text = String::from_utf8(self.get(&head_path(key), MAX_HEAD_BYTES)?)
            .map_err(|_| self.error(format!("{}: not UTF-8", head_path(key))))?;
        let head_text = head_text.trim().to_owned();
        let head = SignedHead::from_json(&head_text).ok();
        if let (Some(head), Some(saved)) = (&head, saved)
            && saved.sequence == after
            && saved.bytes > 0
            && head.head().count >= saved.count
            && let Some((records, read)) = self.records_after(key, head, saved)
        {
            let log = KeyLog {
                head: Some(head_text),
                records,
            };
            return Ok((log, Some(read)));
        }
        let path = records_path(key);
        let records = String::from_utf8(self.get(&path, MAX_KEY_RECORDS_BYTES)?)
            .map_err(|_| self.error(format!("{path}: not UTF-8")))?;
        let (lines, read) = match &head {
            // Only what the head covers; a longer file is a newer export being written.
            Some(head) => {
                let count = head.head().count;
                let read = (prefix_bytes(&records, count) as u64, count);
                (
                    covered_lines(&records, count),
                    Some(ReadUpTo {
                        sequence: head.head().sequence,
                        count: read.1,
                        bytes: read.0,
                    }),
                )
            }
            // A head that does not verify is passed on as it is; the mirror refuses it.
            None => (covered_lines(&records, u64::MAX), None),
        };
        let log = KeyLog {
            head: Some(head_text),
            records: lines,
        };
        Ok((log, read))
    }

    /// The records `head` covers after the first `saved.count`, read from the byte before
    /// where the last read ended. `None` (read the whole file) when the server does not serve
    /// the range, or the file no longer lines up with what was read (an export written anew).
    fn records_after(
        &self,
        key: &PublicKey,
        head: &SignedHead,
        saved: ReadUpTo,
    ) -> Option<(Vec<String>, ReadUpTo)> {
        let url = format!("{}/{}", self.base, records_path(key));
        let body = match self
            .http
            .get_from(&url, saved.bytes - 1, MAX_KEY_RECORDS_BYTES)
            .ok()?
        {
            Ranged::Partial(body) => body,
            Ranged::Whole(_) | Ranged::NotSatisfiable => return None,
        };
        // The byte before the offset must end a line, or the file is not the one read before.
        let rest = body.strip_prefix(b"\n")?;
        let text = std::str::from_utf8(rest).ok()?;
        let new = head.head().count - saved.count;
        let lines = covered_lines(text, new);
        if lines.len() as u64 != new {
            return None;
        }
        let read = ReadUpTo {
            sequence: head.head().sequence,
            count: head.head().count,
            bytes: saved.bytes + prefix_bytes(text, new) as u64,
        };
        Some((lines, read))
    }
}

/// The length in bytes of the first `count` non-empty lines of `text`, line ends included (the
/// lines [`covered_lines`] takes).
fn prefix_bytes(text: &str, count: u64) -> usize {
    let mut bytes = 0;
    let mut taken = 0;
    for line in text.split_inclusive('\n') {
        if taken == count {
            break;
        }
        bytes += line.len();
        if !line.trim().is_empty() {
            taken += 1;
        }
    }
    bytes
}

impl LogSource for StaticClient<'_> {
    /// Keys whose head sequence in the index equals the one the mirror has are not fetched: the
    /// index is not signed, but a server that lies in it can only hide news, as it could by
    /// serving old files, and heads expire.
    fn logs_after(
        &self,
        keys: &BTreeMap<PublicKey, u64>,
    ) -> Result<BTreeMap<PublicKey, KeyLog>, Error> {
        let index = parse_index(&self.index_bytes()?).map_err(|m| self.error(m))?;
        let mut saved = self.saved_keys();
        let before = saved.clone();
        let mut out = BTreeMap::new();
        for (key, after) in keys {
            // A key the export does not list is answered like the registry answers it: no head.
            let Some(listed) = index.keys.get(&key.to_string()) else {
                continue;
            };
            if listed.sequence == *after && *after != 0 {
                continue;
            }
            let name = key.to_string();
            let (log, read) = self.key_log(key, *after, saved.get(&name).copied())?;
            match read {
                Some(read) => saved.insert(name, read),
                None => saved.remove(&name),
            };
            out.insert(*key, log);
        }
        // Only an optimisation: what cannot be saved is read whole next time. It is saved
        // before the mirror imports these records; if that fails, the mirror's sequence is
        // not the saved one and the next read is whole again.
        if saved != before
            && let Some(dir) = &self.state_dir
            && let Ok(bytes) = serde_json::to_vec(&saved)
        {
            let _ = crate::fetch::write_atomically(&dir.join(SAVED_KEYS), &bytes, false);
        }
        Ok(out)
    }
}
