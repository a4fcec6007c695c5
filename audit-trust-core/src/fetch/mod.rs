//! Crate files: found in cargo's own cache under `CARGO_HOME`, in our cache, or downloaded from
//! the package's registry; always checked against the lockfile's SHA-256 before any use.

pub mod cargo_config;
mod download;
pub mod index;
pub mod index_report;

pub use download::write_atomically;
pub use index::{IndexVersion, package_of};

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::http::HttpClient;
use crate::inventory::{Package, SourceKind};
use crate::progress::Progress;
use crate::{Error, names};
use cargo_config::{CargoSources, RegistryLocation};

/// Crate files larger than this are refused (crates.io's own limit is 10 MB; a few crates have
/// been granted more).
pub const DEFAULT_MAX_CRATE_BYTES: u64 = 128 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub cargo_home: PathBuf,
    /// Our cache folder: downloaded crate files live in `crates/` below it.
    pub cache_dir: PathBuf,
    pub offline: bool,
    /// Requests in flight at most (index lookups, downloads): network-bound, so not the core
    /// count; [`crate::http::PARALLEL_REQUESTS`] unless a caller has a reason to differ.
    pub jobs: usize,
    pub max_crate_bytes: u64,
}

/// Finds, downloads and verifies `.crate` files.
#[derive(Debug)]
pub struct CrateStore {
    options: StoreOptions,
    sources: CargoSources,
    http: HttpClient,
    /// Per sparse index URL, its `config.json` (fetched once per run).
    index_configs: Mutex<HashMap<String, crates_index::IndexConfig>>,
}

impl CrateStore {
    /// `project_dir` is where cargo config lookups start (the lockfile's folder).
    pub fn new(
        options: StoreOptions,
        project_dir: &Path,
        http: HttpClient,
    ) -> Result<CrateStore, Error> {
        let sources = CargoSources::load(project_dir, &options.cargo_home)?;
        Ok(CrateStore {
            options,
            sources,
            http,
            index_configs: Mutex::new(HashMap::new()),
        })
    }

    /// Makes sure a crate file is on disk for every package: cached ones are left alone, the
    /// others are downloaded in parallel (verified before they are written). With `--offline`,
    /// missing files are an error that lists all of them. Returns how many were downloaded.
    pub fn ensure_all(
        &self,
        packages: &[&Package],
        progress: &dyn Progress,
    ) -> Result<usize, Error> {
        let mut missing = Vec::new();
        for &p in packages {
            if self.candidates(p)?.is_empty() {
                missing.push(p);
            }
        }
        if missing.is_empty() {
            return Ok(0);
        }
        if self.options.offline {
            return Err(Error::OfflineMissing {
                missing: missing.iter().map(|p| p.spec()).collect(),
            });
        }
        download::download_all(self, &missing, progress)?;
        Ok(missing.len())
    }

    /// The verified bytes of a package's crate file.
    pub fn read_verified(&self, package: &Package) -> Result<Vec<u8>, Error> {
        let expected = expected_checksum(package)?;
        let candidates = self.candidates(package)?;
        let mut mismatch = None;
        for path in &candidates {
            let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            let actual = sha256_hex(&bytes);
            if actual == expected {
                return Ok(bytes);
            }
            mismatch.get_or_insert((path.clone(), actual));
        }
        match mismatch {
            Some((path, actual)) => Err(Error::ChecksumMismatch {
                package: package.spec(),
                expected: expected.to_owned(),
                actual,
                origin: path.display().to_string(),
            }),
            None => Err(Error::OfflineMissing {
                missing: vec![package.spec()],
            }),
        }
    }

    /// Keeps `bytes`, already downloaded by the caller, as the package's crate file in our
    /// cache (after checking them against its checksum), so nothing downloads it again.
    pub fn keep_verified(&self, package: &Package, bytes: &[u8]) -> Result<(), Error> {
        let expected = expected_checksum(package)?;
        let actual = sha256_hex(bytes);
        if actual != expected {
            return Err(Error::ChecksumMismatch {
                package: package.spec(),
                expected: expected.to_owned(),
                actual,
                origin: "the bytes handed over".into(),
            });
        }
        write_atomically(&self.our_path(package)?, bytes, true)
    }

    /// Existing files that may hold this package: cargo's cache (one folder per registry), a
    /// local registry from cargo's config, then ours.
    fn candidates(&self, package: &Package) -> Result<Vec<PathBuf>, Error> {
        let file_name = crate_file_name(package)?;
        let mut out = Vec::new();
        let cargo_cache = self.options.cargo_home.join("registry").join("cache");
        if let Ok(entries) = std::fs::read_dir(&cargo_cache) {
            let mut dirs: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            dirs.sort();
            out.extend(
                dirs.into_iter()
                    .map(|d| d.join(&file_name))
                    .filter(|p| p.is_file()),
            );
        }
        if let RegistryLocation::LocalRegistry { path } = self.location(package) {
            let candidate = path.join(&file_name);
            if candidate.is_file() {
                out.push(candidate);
            }
        }
        let ours = self.our_path(package)?;
        if ours.is_file() {
            out.push(ours);
        }
        Ok(out)
    }

    /// The registry's web API base URL (`config.json`'s `api`), for publisher lookups. `None`
    /// when the registry has none or is not a sparse HTTP index.
    pub fn registry_api(&self, package: &Package) -> Result<Option<String>, Error> {
        match self.location(package) {
            RegistryLocation::Sparse { index_url } => {
                Ok(download::index_config(self, &index_url, package)?.api)
            }
            _ => Ok(None),
        }
    }

    fn location(&self, package: &Package) -> RegistryLocation {
        self.location_of(&package.source)
    }

    fn location_of(&self, source: &SourceKind) -> RegistryLocation {
        match source {
            SourceKind::Registry { id, crates_io } => self.sources.locate(id, *crates_io),
            _ => RegistryLocation::Unsupported {
                reason: "only registry packages have crate files".into(),
            },
        }
    }

    /// Our cache file for a package: the checksum is part of the name, so packages of the same
    /// name and version from different registries never share a file.
    fn our_path(&self, package: &Package) -> Result<PathBuf, Error> {
        let checksum = expected_checksum(package)?;
        Ok(self.options.cache_dir.join("crates").join(format!(
            "{}-{}-{}.crate",
            package.name,
            package.version,
            &checksum[..16]
        )))
    }
}

/// `NAME-VERSION.crate`, after checking that name and version cannot form a path.
fn crate_file_name(package: &Package) -> Result<String, Error> {
    let bad = |e: names::InvalidName| Error::UnsupportedSource {
        package: package.spec(),
        message: e.to_string(),
    };
    names::validate_crate_name(&package.name).map_err(bad)?;
    names::validate_version(&package.version.to_string()).map_err(bad)?;
    Ok(format!("{}-{}.crate", package.name, package.version))
}

fn expected_checksum(package: &Package) -> Result<&str, Error> {
    package
        .checksum
        .as_deref()
        .filter(|c| crate::lockfile::is_sha256_hex(c))
        .ok_or_else(|| Error::UnsupportedSource {
            package: package.spec(),
            message: "Cargo.lock has no checksum for this registry package, so its crate file cannot be verified".into(),
        })
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lowercase hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(b & 0xf), 16).unwrap_or('0'));
    }
    out
}
