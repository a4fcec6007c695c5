//! Who published each crate version, from the registry's web API (`GET
//! {api}/api/v1/crates/{name}/versions`, the base URL being the `api` field of the index's
//! `config.json`): crates.io's `published_by.id` and `created_at`, and `trustpub_data` for
//! versions published through trusted publishing. `trusted` and `wildcard-audits` entries need it.
//!
//! Answers are cached on disk (a version's publisher never changes), requests are spaced by the
//! registry's crawler rate limit (one a second for crates.io), and answers are bounded in size.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::lock::LockedPublisher;
use crate::http::HttpClient;
use crate::names::validate_crate_name;

/// One page of versions is a few hundred KiB at most.
const MAX_PAGE_BYTES: u64 = 8 * 1024 * 1024;
/// Bounds a hostile `next_page` chain.
const MAX_PAGES: usize = 50;
/// crates.io's crawler policy: at most one request per second.
pub const CRATES_IO_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Deserialize)]
struct Page {
    versions: Vec<ApiVersion>,
    #[serde(default)]
    meta: Option<Meta>,
}

#[derive(Deserialize)]
struct Meta {
    next_page: Option<String>,
}

#[derive(Deserialize)]
struct ApiVersion {
    num: String,
    created_at: String,
    published_by: Option<ApiUser>,
    #[serde(default)]
    trustpub_data: Option<TrustPub>,
}

#[derive(Deserialize)]
struct ApiUser {
    id: u64,
    login: Option<String>,
}

#[derive(Deserialize)]
struct TrustPub {
    provider: Option<String>,
    repository: Option<String>,
}

/// Looks publishers up, one crate at a time, spacing requests by `interval`.
pub struct PublisherLookup<'a> {
    http: &'a HttpClient,
    api: String,
    cache: PathBuf,
    interval: Duration,
    last: Option<Instant>,
}

impl<'a> PublisherLookup<'a> {
    /// `api`: the registry's API base URL (`https://crates.io`); `cache_dir`: the tool's cache
    /// folder (answers go to `publishers/` below it, per API host).
    pub fn new(http: &'a HttpClient, api: &str, cache_dir: &Path, interval: Duration) -> Self {
        let api = api.trim_end_matches('/').to_owned();
        let host: String = api
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .take(100)
            .collect();
        PublisherLookup {
            http,
            api,
            cache: cache_dir.join("publishers").join(host),
            interval,
            last: None,
        }
    }

    /// Publication facts of `name@version`: from the cache when it lists that version, else
    /// from the API (every version of the crate, cached). `Ok(None)`: the API does not list the
    /// version. `Err`: the lookup failed, in words.
    pub fn lookup(
        &mut self,
        name: &str,
        version: &semver::Version,
    ) -> Result<Option<LockedPublisher>, String> {
        validate_crate_name(name).map_err(|e| e.to_string())?;
        let file = self
            .cache
            .join(format!("{}.json", name.to_ascii_lowercase()));
        let find = |all: &[LockedPublisher]| {
            all.iter()
                .find(|p| semver::Version::parse(&p.version).is_ok_and(|v| &v == version))
                .cloned()
        };
        if let Some(cached) = std::fs::read(&file)
            .ok()
            .and_then(|b| serde_json::from_slice::<Vec<LockedPublisher>>(&b).ok())
            && let Some(found) = find(&cached)
        {
            return Ok(Some(found));
        }
        let all = self.fetch_all(name)?;
        if let Ok(bytes) = serde_json::to_vec(&all) {
            // A cache that cannot be written only costs a request next time.
            let _ = crate::fetch::write_atomically(&file, &bytes, false);
        }
        Ok(find(&all))
    }

    fn fetch_all(&mut self, name: &str) -> Result<Vec<LockedPublisher>, String> {
        let mut url = format!("{}/api/v1/crates/{name}/versions?per_page=100", self.api);
        let mut out = Vec::new();
        for _ in 0..MAX_PAGES {
            if let Some(last) = self.last {
                let since = last.elapsed();
                if since < self.interval {
                    std::thread::sleep(self.interval - since);
                }
            }
            self.last = Some(Instant::now());
            let body = self
                .http
                .get_ok_retrying(&url, MAX_PAGE_BYTES, 3)
                .map_err(|e| format!("{url}: {e}"))?;
            let page: Page = serde_json::from_slice(&body)
                .map_err(|e| format!("{url}: not a versions answer: {e}"))?;
            out.extend(
                page.versions
                    .into_iter()
                    .filter_map(|v| to_publisher(name, v)),
            );
            match page.meta.and_then(|m| m.next_page) {
                Some(next) if next.starts_with('?') && !next.chars().any(char::is_control) => {
                    url = format!("{}/api/v1/crates/{name}/versions{next}", self.api);
                }
                _ => return Ok(out),
            }
        }
        Err(format!("{name}: more than {MAX_PAGES} pages of versions"))
    }
}

fn to_publisher(name: &str, v: ApiVersion) -> Option<LockedPublisher> {
    semver::Version::parse(&v.num).ok()?;
    let when = v.created_at.get(..10)?;
    crate::time::Date::parse(when)?;
    let trusted_publisher = v
        .trustpub_data
        .and_then(|t| match (t.provider, t.repository) {
            (Some(p), Some(r)) if p.len() <= 32 && r.len() <= 200 => Some(format!("{p}:{r}")),
            _ => None,
        });
    Some(LockedPublisher {
        name: name.to_owned(),
        version: v.num,
        when: when.to_owned(),
        user_id: v.published_by.as_ref().map(|u| u.id),
        user_login: v.published_by.and_then(|u| u.login),
        trusted_publisher,
    })
}
