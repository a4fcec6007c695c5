//! The project a command works on: where its files are ([`discovery`]), its audit file, its
//! inventory when the command needs one, and the run's settings. Every command opens it the
//! same way, through [`Project::open`].

pub mod discovery;

use std::path::{Path, PathBuf};

use audit_trust_core::audit_file::{AUDIT_FILE_NAME, AuditFile};
use audit_trust_core::inventory::MetadataOptions;
use audit_trust_core::lockfile::Lockfile;
use audit_trust_core::{Error, Inventory};

use crate::error::CliError;
use crate::settings::Settings;
use discovery::{ProjectPaths, discover};

/// How much of the dependency graph a command reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InventoryNeed {
    /// None (`sign`, `query`, key management).
    None,
    /// The lockfile's packages when there is a lockfile, and nothing otherwise (`diff`).
    LockfileIfPresent,
    /// The full inventory: with `cargo metadata` unless `--lockfile` (lockfile-only mode).
    /// `targets`: also resolve the policy's target platforms (the gate needs them).
    Required { targets: bool },
}

/// A project as the commands see it.
#[derive(Debug)]
pub struct Project {
    pub paths: ProjectPaths,
    /// The audit file, or the defaults when there is none (`paths.audit_file` is `None`).
    pub audit_file: AuditFile,
    /// Read as [`InventoryNeed`] asked; see [`Project::inventory`].
    pub inventory: Option<Inventory>,
    pub settings: Settings,
}

impl Project {
    /// Finds the project's files from the current folder (see [`discovery`]), reads the audit
    /// file and, as `need` asks, the inventory.
    pub fn open(settings: &Settings, need: InventoryNeed) -> Result<Project, CliError> {
        Project::open_as(settings, need, true)
    }

    /// [`Project::open`] for `init`, which writes the audit file: none is looked for or read,
    /// and the defaults apply.
    pub fn open_without_audit_file(
        settings: &Settings,
        need: InventoryNeed,
    ) -> Result<Project, CliError> {
        Project::open_as(settings, need, false)
    }

    fn open_as(
        settings: &Settings,
        need: InventoryNeed,
        read_audit_file: bool,
    ) -> Result<Project, CliError> {
        let cwd = std::env::current_dir()
            .map_err(|e| CliError::Usage(format!("cannot read the current folder: {e}")))?;
        let mut paths = discover(&settings.given_paths, &cwd);
        if !read_audit_file {
            paths.audit_file = None;
        }
        let audit_file = match &paths.audit_file {
            Some(path) => AuditFile::load(path)?,
            None => AuditFile::default(),
        };
        let inventory = match need {
            InventoryNeed::None => None,
            // Discovery names only files that exist; a `--lockfile` that does not is an error.
            InventoryNeed::LockfileIfPresent => match &paths.lockfile {
                Some(lockfile) => Some(Inventory::from_lockfile(lockfile)?),
                None => None,
            },
            InventoryNeed::Required { targets } => {
                Some(read_inventory(&paths, &audit_file, settings, targets)?)
            }
        };
        Ok(Project {
            paths,
            audit_file,
            inventory,
            settings: settings.clone(),
        })
    }

    /// The inventory; an error that says how to provide a lockfile when there is none.
    pub fn inventory(&self) -> Result<&Inventory, CliError> {
        self.inventory.as_ref().ok_or_else(|| self.no_lockfile())
    }

    /// Moves the inventory out, for a caller that keeps it beside the project.
    pub fn take_inventory(&mut self) -> Result<Inventory, CliError> {
        self.inventory.take().ok_or_else(|| self.no_lockfile())
    }

    /// The lockfile as cargo wrote it (with line numbers and raw source ids), when there is one.
    pub fn lockfile(&self) -> Result<Option<Lockfile>, CliError> {
        match &self.paths.lockfile {
            Some(path) => Ok(Some(Lockfile::load(path)?)),
            None => Ok(None),
        }
    }

    /// The lockfile's path, or an error that says how to make or name one.
    pub fn require_lockfile(&self) -> Result<&Path, CliError> {
        self.paths
            .lockfile
            .as_deref()
            .ok_or_else(|| self.no_lockfile())
    }

    /// The audit file's path, for commands that cannot work without one (signing, queries).
    pub fn require_audit_file(&self) -> Result<&Path, CliError> {
        self.paths.audit_file.as_deref().ok_or_else(|| {
            CliError::Usage(format!(
                "no {AUDIT_FILE_NAME} in {} or any folder above it: it pins the auditors you \
                 trust (see docs/guide.md), or pass `--audit-file PATH`",
                self.paths
                    .lockfile
                    .as_deref()
                    .and_then(Path::parent)
                    .unwrap_or(&self.paths.start)
                    .display()
            ))
        })
    }

    /// The folder the project lives in (the lockfile's); cargo's configuration is read from here.
    pub fn root(&self) -> PathBuf {
        self.paths.root()
    }

    /// The folder `Cargo.audit`'s relative paths start from.
    pub fn audit_dir(&self) -> PathBuf {
        self.paths.audit_dir()
    }

    /// How the audit file is named in messages: its path, or "Cargo.audit" when there is none.
    pub fn audit_file_name(&self) -> String {
        self.paths
            .audit_file
            .as_deref()
            .map_or_else(|| AUDIT_FILE_NAME.to_owned(), |p| p.display().to_string())
    }

    /// Where `init` writes a new audit file: `--audit-file`, else next to `Cargo.lock` (a
    /// `Cargo.audit` further up belongs to an enclosing project; this one may have its own).
    pub fn new_audit_file_target(&self) -> Result<PathBuf, CliError> {
        match &self.settings.given_paths.audit_file {
            Some(path) => Ok(path.clone()),
            None => Ok(self.require_lockfile()?.with_file_name(AUDIT_FILE_NAME)),
        }
    }

    fn no_lockfile(&self) -> CliError {
        match &self.paths.manifest {
            Some(manifest) => CliError::Core(Error::NoLockfile {
                manifest: manifest.clone(),
            }),
            None => no_manifest(&self.paths.start),
        }
    }
}

/// The inventory the paths describe: lockfile-only with `--lockfile`, else `cargo metadata`
/// on the manifest merged with its workspace's lockfile.
fn read_inventory(
    paths: &ProjectPaths,
    audit_file: &AuditFile,
    settings: &Settings,
    targets: bool,
) -> Result<Inventory, CliError> {
    if paths.lockfile_only {
        let lockfile = paths
            .lockfile
            .as_deref()
            .ok_or_else(|| no_manifest(&paths.start))?;
        return Ok(Inventory::from_lockfile(lockfile)?);
    }
    let manifest = paths
        .manifest
        .as_deref()
        .ok_or_else(|| no_manifest(&paths.start))?;
    let options = MetadataOptions {
        offline: settings.offline,
        cargo: None,
        targets: if targets {
            audit_file.policy.targets.clone()
        } else {
            Vec::new()
        },
    };
    Ok(Inventory::from_manifest(manifest, &options)?)
}

fn no_manifest(start: &Path) -> CliError {
    CliError::Usage(format!(
        "no Cargo.toml in {} or any folder above it; pass `--manifest-path PATH` or `--lockfile PATH`",
        start.display()
    ))
}
