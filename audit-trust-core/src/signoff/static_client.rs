//! Reading a registry's static export (`records = { url = "…" }`, layout in
//! [`super::static_export`]). It moves bytes only, like the registry client: what it returns
//! fills the same mirror and is verified the same way (signatures, pins, the whole log of each
//! key against its signed head, the cache of heads).
//!
//! Cost: one conditional GET of the index per run (`If-None-Match` / `If-Modified-Since`, so
//! an unchanged export answers 304 with no body), and for each pinned key whose head sequence
//! moved, its head and its records.

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
use crate::http::{Conditional, HttpClient, Validators};

/// The index as last fetched, kept next to the mirror so a 304 can be answered from it.
const SAVED_INDEX: &str = ".export-index.json";

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

    /// A key's head and the records it covers. The head is fetched first: the exporter writes
    /// records before heads, so the records file is at least as new as the head.
    fn key_log(&self, key: &PublicKey) -> Result<KeyLog, Error> {
        let head_text = String::from_utf8(self.get(&head_path(key), MAX_HEAD_BYTES)?)
            .map_err(|_| self.error(format!("{}: not UTF-8", head_path(key))))?;
        let head_text = head_text.trim().to_owned();
        let records = String::from_utf8(self.get(&records_path(key), MAX_KEY_RECORDS_BYTES)?)
            .map_err(|_| self.error(format!("{}: not UTF-8", records_path(key))))?;
        let records = match SignedHead::from_json(&head_text) {
            // Only what the head covers; a longer file is a newer export being written.
            Ok(head) => covered_lines(&records, head.head().count),
            // A head that does not verify is passed on as it is; the mirror refuses it.
            Err(_) => covered_lines(&records, u64::MAX),
        };
        Ok(KeyLog {
            head: Some(head_text),
            records,
        })
    }
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
        let mut out = BTreeMap::new();
        for (key, after) in keys {
            // A key the export does not list is answered like the registry answers it: no head.
            let Some(listed) = index.keys.get(&key.to_string()) else {
                continue;
            };
            if listed.sequence == *after && *after != 0 {
                continue;
            }
            out.insert(*key, self.key_log(key)?);
        }
        Ok(out)
    }
}
