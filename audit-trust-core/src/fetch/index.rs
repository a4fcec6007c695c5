//! What the registry's index says about each package version: its checksum and whether it was
//! yanked. The lockfile's checksum is what a pull request can edit; the index's is the registry's
//! word. Index entries are cached (with their ETag, so revalidation is a cheap 304) in our cache.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use crates_index::SparseIndex;

use super::CrateStore;
use super::cargo_config::RegistryLocation;
use crate::Error;
use crate::inventory::{Package, SourceKind};
use crate::progress::Progress;

/// An index entry for one crate is at most this big (crates with thousands of versions are a
/// few MB).
const MAX_INDEX_ENTRY_BYTES: u64 = 32 * 1024 * 1024;

/// One version as the index lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexVersion {
    pub checksum: String,
    pub yanked: bool,
}

/// The index entries of the packages asked about.
#[derive(Debug, Default)]
pub struct IndexReport {
    /// Keyed by `(source id, crate name)`; the inner map by version string.
    entries: HashMap<(String, String), HashMap<String, IndexVersion>>,
    /// Packages whose registry index could not be read, with the reason.
    pub unavailable: Vec<(String, String)>,
    /// The oldest cached entry used without revalidation (only with `--offline`).
    pub oldest_cached: Option<SystemTime>,
}

impl IndexReport {
    /// The index's word on a package; `None` when its entry was unavailable or does not list
    /// that version.
    pub fn version(&self, package: &Package) -> Option<&IndexVersion> {
        let source = package.source_id.clone().unwrap_or_default();
        self.entries
            .get(&(source, package.name.clone()))?
            .get(&package.version.to_string())
    }

    /// Records what the index says about one version (for callers that read an index another
    /// way, and for tests).
    pub fn insert(&mut self, source_id: &str, name: &str, version: &str, entry: IndexVersion) {
        self.entries
            .entry((source_id.to_owned(), name.to_owned()))
            .or_default()
            .insert(version.to_owned(), entry);
    }

    /// Whether the entry for this package's crate was read (even if it lacks the version).
    pub fn has_entry(&self, package: &Package) -> bool {
        let source = package.source_id.clone().unwrap_or_default();
        self.entries.contains_key(&(source, package.name.clone()))
    }
}

impl CrateStore {
    /// Reads the index entries of the given registry packages: from the cache when younger than
    /// `max_age`, else revalidated with the registry; with `--offline`, from the cache whatever
    /// its age. A registry that cannot be reached is an error unless offline (the gate fails
    /// closed).
    pub fn index_versions(
        &self,
        packages: &[&Package],
        max_age: Duration,
        progress: &dyn Progress,
    ) -> Result<IndexReport, Error> {
        let mut crates: Vec<(String, String, Option<String>)> = Vec::new();
        let mut report = IndexReport::default();
        for p in packages {
            let SourceKind::Registry { id, .. } = &p.source else {
                continue;
            };
            let key = (id.clone(), p.name.clone());
            if crates.iter().any(|(s, n, _)| (s, n) == (&key.0, &key.1)) {
                continue;
            }
            match self.location(p) {
                RegistryLocation::Sparse { index_url } => {
                    crates.push((key.0, key.1, Some(index_url)))
                }
                RegistryLocation::LocalRegistry { .. } | RegistryLocation::Unsupported { .. } => {
                    report.unavailable.push((
                        p.spec(),
                        "its registry has no sparse index to check against".into(),
                    ));
                }
            }
        }
        progress.begin("Index", crates.len() as u64);
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<Result<Fetched, Error>>> = Mutex::new(Vec::new());
        let workers = self.options.jobs.clamp(1, 32).min(crates.len());
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((source, name, Some(url))) = crates.get(i) else {
                            return;
                        };
                        let fetched = self.index_entry(source, name, url, max_age);
                        progress.advance(1);
                        lock(&results).push(fetched);
                    }
                });
            }
        });
        progress.finish();
        for result in results.into_inner().unwrap_or_else(|p| p.into_inner()) {
            let fetched = result?;
            if let Some(age) = fetched.stale_since {
                report.oldest_cached = Some(report.oldest_cached.map_or(age, |o| o.min(age)));
            }
            report
                .entries
                .insert((fetched.source, fetched.name), fetched.versions);
        }
        Ok(report)
    }

    fn index_entry(
        &self,
        source: &str,
        name: &str,
        index_url: &str,
        max_age: Duration,
    ) -> Result<Fetched, Error> {
        let unreachable = |message: String| Error::RegistryUnreachable {
            package: name.to_owned(),
            registry: index_url.to_owned(),
            message,
        };
        let (index_dir, canonical_url) = crates_index::local_path_and_canonical_url(
            index_url,
            Some(&self.options.cache_dir.join("index-home")),
        )
        .map_err(|e| unreachable(e.to_string()))?;
        // crates-index writes its cache entries in place: two runs at once (two `sign`s, or
        // `check` next to `sign`) could otherwise read an entry half-written. One lock per
        // crate keeps the parallel fetches of one run independent.
        crate::names::validate_crate_name(name).map_err(|e| unreachable(e.to_string()))?;
        let _entry_lock = crate::lock::FolderLock::exclusive_file(
            &index_dir
                .join(".locks")
                .join(format!("{}.lock", name.to_ascii_lowercase())),
        )?;
        let index = SparseIndex::at_path(index_dir.clone(), canonical_url);
        let cache_file = index_cache_file(&index, &index_dir, name);
        let cached_at = cache_file
            .as_ref()
            .and_then(|p| std::fs::metadata(p).ok())
            .and_then(|m| m.modified().ok());
        let fresh = cached_at.is_some_and(|t| t.elapsed().is_ok_and(|age| age <= max_age));
        let mut stale_since = None;
        let krate = if fresh || (self.options.offline && cached_at.is_some()) {
            if !fresh {
                stale_since = cached_at;
            }
            index
                .crate_from_cache(name)
                .map_err(|e| unreachable(format!("cached index entry: {e}")))?
        } else if self.options.offline {
            return Err(Error::OfflineMissing {
                missing: vec![format!("{name} (index entry)")],
            });
        } else {
            let request = index
                .make_cache_request(name)
                .and_then(|b| {
                    b.body(())
                        .map_err(|e| crates_index::Error::Url(e.to_string()))
                })
                .map_err(|e| unreachable(e.to_string()))?;
            let response = self
                .http
                .send(request, MAX_INDEX_ENTRY_BYTES)
                .map_err(|e| unreachable(e.to_string()))?;
            let status = response.status().as_u16();
            let krate = index
                .parse_cache_response(name, response, true)
                .map_err(|e| unreachable(format!("index entry (HTTP {status}): {e}")))?
                .ok_or_else(|| {
                    unreachable(format!("the index has no crate `{name}` (HTTP {status})"))
                })?;
            // A 304 leaves the file as it was; mark it as just checked.
            if let Some(path) = &cache_file
                && let Ok(file) = std::fs::File::options().write(true).open(path)
            {
                let _ = file.set_modified(SystemTime::now());
            }
            krate
        };
        let versions = krate
            .versions()
            .iter()
            .map(|v| {
                (
                    v.version().to_owned(),
                    IndexVersion {
                        checksum: hex(v.checksum()),
                        yanked: v.is_yanked(),
                    },
                )
            })
            .collect();
        Ok(Fetched {
            source: source.to_owned(),
            name: name.to_owned(),
            versions,
            stale_since,
        })
    }
}

struct Fetched {
    source: String,
    name: String,
    versions: HashMap<String, IndexVersion>,
    stale_since: Option<SystemTime>,
}

/// Where crates-index keeps its cache entry for `name`: `.cache/` plus the index's own relative
/// path (`se/rd/serde`), as cargo lays it out.
fn index_cache_file(
    index: &SparseIndex,
    index_dir: &std::path::Path,
    name: &str,
) -> Option<std::path::PathBuf> {
    let url = index.crate_url(name)?;
    let relative = url.strip_prefix(index.url())?;
    Some(index_dir.join(".cache").join(relative))
}

fn hex(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests;
