//! The sparse index, as the worker reads it: one crate's file by conditional request (ETag,
//! Last-Modified), and the registry's `config.json` for its download URL template. Everything
//! read is input: versions that are not semver, checksums that are not SHA-256 hex and lines
//! about other crates are dropped.

use std::sync::Mutex;

use audit_trust_core::http::{HttpClient, HttpError};
use audit_trust_core::names::validate_version;
use crates_index::SparseIndex;
use crates_index::http as http_types;

use crate::db::PollValidators;

/// Index files of the largest crates are a few megabytes.
const MAX_INDEX_FILE_BYTES: u64 = 32 * 1024 * 1024;
const MAX_CONFIG_BYTES: u64 = 64 * 1024;

/// One version line of an index file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedVersion {
    /// As the index spells it (the tarball's folder uses this spelling).
    pub name: String,
    pub version: String,
    pub checksum: String,
    pub yanked: bool,
}

/// What a conditional request for a crate's file returned.
#[derive(Debug)]
pub enum IndexAnswer {
    /// 304: the file did not change.
    Unchanged,
    /// 404/410/451: the crate does not exist (yet).
    Missing,
    Changed {
        versions: Vec<ListedVersion>,
        validators: PollValidators,
    },
}

#[derive(Debug)]
pub struct IndexSource {
    index: Option<SparseIndex>,
    url: String,
    /// `config.json`'s download template, read once per process.
    config: Mutex<Option<crates_index::IndexConfig>>,
}

impl IndexSource {
    pub fn new(url: &str) -> IndexSource {
        let index = url
            .starts_with("sparse+http")
            .then(|| SparseIndex::at_path(std::path::PathBuf::new(), url.to_owned()));
        IndexSource {
            index,
            url: url.to_owned(),
            config: Mutex::new(None),
        }
    }

    fn index(&self) -> Result<&SparseIndex, String> {
        self.index.as_ref().ok_or_else(|| {
            format!(
                "`{}` is not a sparse index URL (sparse+https://…/)",
                self.url
            )
        })
    }

    /// Fetches `name`'s index file unless it is unchanged since `validators`.
    pub fn fetch(
        &self,
        http: &HttpClient,
        name: &str,
        validators: &PollValidators,
    ) -> Result<IndexAnswer, HttpError> {
        let url = self
            .index()
            .map_err(HttpError::Transport)?
            .crate_url(name)
            .ok_or_else(|| HttpError::Transport(format!("no index path for `{name}`")))?;
        let mut request = http_types::Request::get(&url);
        if let Some(etag) = &validators.etag {
            request = request.header("if-none-match", etag.as_str());
        } else if let Some(modified) = &validators.last_modified {
            request = request.header("if-modified-since", modified.as_str());
        }
        let request = request
            .body(())
            .map_err(|e| HttpError::Transport(format!("invalid URL `{url}`: {e}")))?;
        let response = http.send(request, MAX_INDEX_FILE_BYTES)?;
        let status = response.status().as_u16();
        match status {
            304 => Ok(IndexAnswer::Unchanged),
            404 | 410 | 451 => Ok(IndexAnswer::Missing),
            200 => {
                let header = |h: &str| {
                    response
                        .headers()
                        .get(h)
                        .and_then(|v| v.to_str().ok())
                        .filter(|v| v.len() <= 256)
                        .map(str::to_owned)
                };
                let validators = PollValidators {
                    etag: header("etag"),
                    last_modified: header("last-modified"),
                };
                Ok(IndexAnswer::Changed {
                    versions: parse_index_versions(response.body(), name),
                    validators,
                })
            }
            _ => Err(HttpError::Status { status }),
        }
    }

    /// The download URL of `name@version` with SHA-256 `checksum` (hex).
    pub fn download_url(
        &self,
        http: &HttpClient,
        name: &str,
        version: &str,
        checksum: &str,
    ) -> Result<String, HttpError> {
        let config = self.config(http)?;
        let mut sum = [0u8; 32];
        for (slot, pair) in sum.iter_mut().zip(checksum.as_bytes().chunks(2)) {
            *slot = std::str::from_utf8(pair)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .unwrap_or(0);
        }
        config
            .download_url_with_checksum(name, version, &sum)
            .ok_or_else(|| {
                HttpError::Transport(format!(
                    "config.json has an unusable download template `{}`",
                    config.dl
                ))
            })
    }

    fn config(&self, http: &HttpClient) -> Result<crates_index::IndexConfig, HttpError> {
        if let Some(config) = lock(&self.config).as_ref() {
            return Ok(config.clone());
        }
        let index = self.index().map_err(HttpError::Transport)?;
        let request = index
            .make_config_request()
            .and_then(|b| {
                b.body(())
                    .map_err(|e| crates_index::Error::Url(e.to_string()))
            })
            .map_err(|e| HttpError::Transport(e.to_string()))?;
        let response = http.send(request, MAX_CONFIG_BYTES)?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(HttpError::Status { status });
        }
        let config = index
            .parse_config_response(response, false)
            .map_err(|e| HttpError::Transport(format!("config.json: {e}")))?;
        *lock(&self.config) = Some(config.clone());
        Ok(config)
    }
}

#[derive(serde::Deserialize)]
struct IndexLine {
    name: String,
    vers: String,
    cksum: String,
    #[serde(default)]
    yanked: bool,
}

/// Every valid version line about `name` (compared without case, as the index does).
pub fn parse_index_versions(bytes: &[u8], name: &str) -> Vec<ListedVersion> {
    bytes
        .split(|b| *b == b'\n')
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .filter_map(|line| serde_json::from_slice::<IndexLine>(line).ok())
        .filter(|l| l.name.eq_ignore_ascii_case(name))
        .filter(|l| {
            l.cksum.len() == 64
                && l.cksum
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        })
        .filter_map(|l| {
            let version = validate_version(&l.vers).ok()?.to_string();
            Some(ListedVersion {
                name: l.name,
                version,
                checksum: l.cksum,
                yanked: l.yanked,
            })
        })
        .collect()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::parse_index_versions;

    #[test]
    fn keeps_valid_lines_about_the_crate() {
        let sum = "a".repeat(64);
        let text = format!(
            "{{\"name\":\"Foo\",\"vers\":\"1.0.0\",\"cksum\":\"{sum}\"}}\n\
             {{\"name\":\"foo\",\"vers\":\"1.1.0\",\"cksum\":\"{sum}\",\"yanked\":true}}\n\
             {{\"name\":\"bar\",\"vers\":\"2.0.0\",\"cksum\":\"{sum}\"}}\n\
             {{\"name\":\"foo\",\"vers\":\"../x\",\"cksum\":\"{sum}\"}}\n\
             {{\"name\":\"foo\",\"vers\":\"3.0.0\",\"cksum\":\"XYZ\"}}\nnot json\n"
        );
        let listed = parse_index_versions(text.as_bytes(), "foo");
        let got: Vec<(&str, bool)> = listed
            .iter()
            .map(|v| (v.version.as_str(), v.yanked))
            .collect();
        assert_eq!(got, [("1.0.0", false), ("1.1.0", true)]);
    }
}
