//! Where `diff` gets crate files from: the lockfile's packages (verified against its checksums),
//! else the registry's index (verified against the index checksum), or a local file.

use std::path::{Path, PathBuf};

use audit_trust_core::audit_file::AuditFile;
use audit_trust_core::fetch::{CrateStore, DEFAULT_MAX_CRATE_BYTES, package_of};
use audit_trust_core::inventory::CRATES_IO_SOURCE_ID;
use audit_trust_core::progress::NoProgress;
use audit_trust_core::tarball::{CrateArchive, Limits, read_crate};
use audit_trust_core::{Error, Inventory, Package, SourceKind};

use crate::cli::GlobalArgs;
use crate::context::{CliError, crate_store_at};

pub struct CrateSource {
    store: CrateStore,
    inventory: Option<Inventory>,
    /// Where `Cargo.audit` and cargo's config are looked for.
    project_dir: PathBuf,
}

impl CrateSource {
    /// Reads the lockfile when there is one (`--lockfile`, or the nearest `Cargo.lock` above the
    /// manifest). `need_lockfile` makes its absence an error.
    pub fn open(global: &GlobalArgs, need_lockfile: bool) -> Result<CrateSource, CliError> {
        let inventory = match find_lockfile(global) {
            Some(path) => Some(Inventory::from_lockfile(&path)?),
            None if need_lockfile => {
                return Err(CliError::Usage(
                    "no Cargo.lock found to take the version from: give it as NAME@VERSION, or \
                     pass `--lockfile PATH` or `--manifest-path PATH`"
                        .into(),
                ));
            }
            None => None,
        };
        let project_dir = match &inventory {
            Some(inventory) => inventory.root.clone(),
            None => std::env::current_dir()
                .map_err(|e| CliError::Usage(format!("cannot read the current folder: {e}")))?,
        };
        let store = crate_store_at(global, &project_dir)?;
        Ok(CrateSource {
            store,
            inventory,
            project_dir,
        })
    }

    pub fn store(&self) -> &CrateStore {
        &self.store
    }

    /// `--audit-file`, else `Cargo.audit` next to `Cargo.lock` (or in the current folder when
    /// there is no lockfile), as for the other commands.
    /// The audit file and the folder its record folders are relative to; `None` without one.
    pub fn audit_file_and_dir(
        &self,
        global: &GlobalArgs,
    ) -> Result<Option<(AuditFile, std::path::PathBuf)>, CliError> {
        let path = match &global.audit_file {
            Some(path) => Some(path.clone()),
            None => AuditFile::find(&self.project_dir),
        };
        let Some(path) = path else { return Ok(None) };
        let dir = path
            .parent()
            .map_or_else(|| self.project_dir.clone(), std::path::Path::to_path_buf);
        Ok(Some((AuditFile::load(&path)?, dir)))
    }

    pub fn audit_file(&self, global: &GlobalArgs) -> Result<AuditFile, CliError> {
        Ok(self
            .audit_file_and_dir(global)?
            .map(|(file, _)| file)
            .unwrap_or_default())
    }

    fn locked(&self, name: &str) -> Vec<&Package> {
        self.inventory
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

/// `--lockfile`, else the `Cargo.lock` of the workspace around `--manifest-path` or the nearest
/// `Cargo.toml` at or above the current folder (the nearest lockfile at or above it, as cargo's
/// workspace root holds it).
fn find_lockfile(global: &GlobalArgs) -> Option<PathBuf> {
    if let Some(lockfile) = &global.lockfile {
        return Some(lockfile.clone());
    }
    let manifest = match &global.manifest_path {
        Some(manifest) => std::path::absolute(manifest).ok()?,
        None => std::env::current_dir()
            .ok()?
            .ancestors()
            .map(|dir| dir.join("Cargo.toml"))
            .find(|path| path.is_file())?,
    };
    manifest
        .parent()?
        .ancestors()
        .map(|dir| dir.join("Cargo.lock"))
        .find(|path| path.is_file())
}
