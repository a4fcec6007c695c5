//! Where `diff` and the review UI get crate files from: the lockfile's packages (verified
//! against its checksums), else the registry's index (verified against the index checksum), or
//! a local file.

use std::path::Path;

use audit_trust_core::fetch::{CrateStore, DEFAULT_MAX_CRATE_BYTES, package_of};
use audit_trust_core::inventory::CRATES_IO_SOURCE_ID;
use audit_trust_core::progress::NoProgress;
use audit_trust_core::tarball::{CrateArchive, Limits, read_crate};
use audit_trust_core::{Error, Package, SourceKind};

use super::crate_store;
use crate::error::CliError;
use crate::project::{InventoryNeed, Project};
use crate::settings::Settings;

/// The project (with its lockfile's packages when there is a lockfile) and a crate store.
pub struct CrateSource {
    store: CrateStore,
    project: Project,
}

impl CrateSource {
    /// Opens the project; `need_lockfile` makes a missing lockfile an error (there is no
    /// version to take from it then).
    pub fn open(settings: &Settings, need_lockfile: bool) -> Result<CrateSource, CliError> {
        let project = Project::open(settings, InventoryNeed::LockfileIfPresent)?;
        if need_lockfile && project.inventory.is_none() {
            return Err(CliError::Usage(
                "no Cargo.lock found to take the version from: give it as NAME@VERSION, or \
                 pass `--lockfile PATH` or `--manifest-path PATH`"
                    .into(),
            ));
        }
        let store = crate_store(&project)?;
        Ok(CrateSource { store, project })
    }

    pub fn store(&self) -> &CrateStore {
        &self.store
    }

    pub fn project(&self) -> &Project {
        &self.project
    }

    fn locked(&self, name: &str) -> Vec<&Package> {
        self.project
            .inventory
            .iter()
            .flat_map(|i| &i.packages)
            .filter(|p| p.name == name && p.source.is_registry())
            .collect()
    }

    /// The one version of `name` in the lockfile.
    pub fn locked_version(&self, name: &str) -> Result<String, CliError> {
        match self.locked(name).as_slice() {
            [] => Err(CliError::Usage(format!(
                "{name} is not a registry package in Cargo.lock; give the version: {name}@VERSION"
            ))),
            [one] => Ok(one.version.to_string()),
            several => Err(CliError::Usage(format!(
                "Cargo.lock has several versions of {name} ({}); give one: {name}@VERSION",
                several
                    .iter()
                    .map(|p| p.version.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// The registry `name` comes from: the lockfile's, else crates.io.
    pub fn registry(&self, name: &str) -> SourceKind {
        self.locked(name)
            .first()
            .map(|p| p.source.clone())
            .unwrap_or_else(|| SourceKind::Registry {
                id: CRATES_IO_SOURCE_ID.to_owned(),
                crates_io: true,
            })
    }

    /// `name@version` from the lockfile, else as the registry's index lists it.
    pub fn package(&self, name: &str, version: &str) -> Result<Package, CliError> {
        if let Some(locked) = self
            .locked(name)
            .into_iter()
            .find(|p| p.version.to_string() == version)
        {
            return Ok(locked.clone());
        }
        let registry = self.registry(name);
        let published = self.store.index_versions(name, &registry)?;
        let found = published
            .iter()
            .find(|p| p.version.to_string() == version)
            .ok_or_else(|| {
                CliError::Usage(format!("{name}@{version} is not published in its registry"))
            })?;
        Ok(package_of(name, found, &registry))
    }

    /// The verified crate file of `package`, read safely.
    pub fn read(&self, package: &Package) -> Result<(Vec<u8>, CrateArchive), CliError> {
        self.store.ensure_all(&[package], &NoProgress)?;
        let bytes = self.store.read_verified(package)?;
        let archive = read_archive(&bytes, &package.name, &package.version.to_string())?;
        Ok((bytes, archive))
    }
}

pub fn read_archive(bytes: &[u8], name: &str, version: &str) -> Result<CrateArchive, CliError> {
    read_crate(bytes, name, version, &Limits::default()).map_err(|source| {
        CliError::Core(Error::Tarball {
            package: format!("{name}@{version}"),
            source,
        })
    })
}

/// A local `.crate` file, refused before reading when it is larger than any crate may be.
pub fn read_crate_file(path: &Path) -> Result<Vec<u8>, CliError> {
    let io = |e| {
        CliError::Core(Error::Io {
            path: path.to_owned(),
            source: e,
        })
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > DEFAULT_MAX_CRATE_BYTES {
        return Err(CliError::Usage(format!(
            "{} is {size} bytes, more than any crate file may be ({DEFAULT_MAX_CRATE_BYTES})",
            path.display()
        )));
    }
    std::fs::read(path).map_err(io)
}
