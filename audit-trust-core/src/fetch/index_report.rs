//! The index's word on every registry package of a lockfile, for the gate: checksums and
//! yanked flags, read in parallel through [`CrateStore::index_versions_within`] (cached for the
//! policy's maximum age).

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use super::CrateStore;
use super::cargo_config::RegistryLocation;
use super::index::IndexVersion;
use crate::Error;
use crate::inventory::{Package, SourceKind};
use crate::parallel::map_requests_until_error;
use crate::progress::Progress;

/// The index entries of the packages asked about.
#[derive(Debug, Default)]
pub struct IndexReport {
    /// Keyed by `(source id, crate name)`; the inner map by version string.
    entries: HashMap<(String, String), HashMap<String, IndexVersion>>,
    /// Packages whose registry index could not be read, with the reason.
    pub unavailable: Vec<(String, String)>,
    /// The oldest cached entry used without asking the registry (only with `--offline`, or
    /// within the maximum age).
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

    /// Every version of the package's crate the index lists, oldest first (empty when its
    /// entry was not read): the candidates a fix or a move is looked for among.
    pub fn versions(&self, package: &Package) -> Vec<&IndexVersion> {
        let source = package.source_id.clone().unwrap_or_default();
        let mut out: Vec<&IndexVersion> = self
            .entries
            .get(&(source, package.name.clone()))
            .map(|m| m.values().collect())
            .unwrap_or_default();
        out.sort_by(|a, b| a.version.cmp(&b.version));
        out
    }

    /// Records what the index says about one version.
    pub fn insert(&mut self, source_id: &str, name: &str, entry: IndexVersion) {
        self.entries
            .entry((source_id.to_owned(), name.to_owned()))
            .or_default()
            .insert(entry.version.to_string(), entry);
    }

    /// Whether the entry for this package's crate was read (even if it lacks the version).
    pub fn has_entry(&self, package: &Package) -> bool {
        let source = package.source_id.clone().unwrap_or_default();
        self.entries.contains_key(&(source, package.name.clone()))
    }
}

impl CrateStore {
    /// Reads the index entries of the given registry packages in parallel: from the cache when
    /// younger than `max_age`, else from the registry; with `--offline`, from the cache whatever
    /// its age. A registry that cannot be reached is an error (the gate fails closed).
    pub fn index_report(
        &self,
        packages: &[&Package],
        max_age: Duration,
        progress: &dyn Progress,
    ) -> Result<IndexReport, Error> {
        let mut crates: Vec<(&Package, String)> = Vec::new();
        let mut report = IndexReport::default();
        for &p in packages {
            let SourceKind::Registry { id, .. } = &p.source else {
                continue;
            };
            if crates.iter().any(|(q, s)| s == id && q.name == p.name) {
                continue;
            }
            match self.location(p) {
                RegistryLocation::Sparse { .. } => crates.push((p, id.clone())),
                RegistryLocation::LocalRegistry { .. } | RegistryLocation::Unsupported { .. } => {
                    report.unavailable.push((
                        p.spec(),
                        "its registry has no sparse index to check against".into(),
                    ));
                }
            }
        }
        progress.begin("Index", crates.len() as u64);
        let fetched = map_requests_until_error(
            &crates,
            self.options.jobs.clamp(1, 64),
            |(package, source_id)| {
                let (versions, cached_at) =
                    self.index_versions_within(&package.name, &package.source, max_age)?;
                progress.advance(1);
                Ok::<_, Error>((source_id.clone(), package.name.clone(), versions, cached_at))
            },
        );
        progress.finish();
        for (source_id, name, versions, cached_at) in fetched? {
            if let Some(at) = cached_at {
                report.oldest_cached = Some(report.oldest_cached.map_or(at, |o| o.min(at)));
            }
            let entry = report.entries.entry((source_id, name)).or_default();
            for v in versions {
                entry.insert(v.version.to_string(), v);
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests;
