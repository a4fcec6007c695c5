//! For commands that need no `cargo metadata` (`sign`, `query`): where the project's
//! `Cargo.audit` and `Cargo.lock` are, and what time it is.

use std::path::{Path, PathBuf};

use audit_trust_core::audit_file::{AUDIT_FILE_NAME, AuditFile};
use audit_trust_core::lockfile::Lockfile;
use audit_trust_core::time::{Clock, FixedClock, SystemClock, Timestamp};

use crate::cli::GlobalArgs;
use crate::context::CliError;

/// A loaded `Cargo.audit` and the folder it is in (record folders are relative to it).
pub struct Project {
    pub audit_file: AuditFile,
    pub audit_path: PathBuf,
    pub dir: PathBuf,
}

/// `--audit-file`, else the nearest `Cargo.audit` at or above the lockfile's, the manifest's
/// or the current folder.
pub fn load_project(global: &GlobalArgs) -> Result<Project, CliError> {
    let audit_path = match &global.audit_file {
        Some(path) => absolute(path),
        None => {
            let start = start_dir(global)?;
            start
                .ancestors()
                .map(|d| d.join(AUDIT_FILE_NAME))
                .find(|p| p.is_file())
                .ok_or_else(|| {
                    CliError::Usage(format!(
                        "no {AUDIT_FILE_NAME} in {} or any folder above it: it pins the auditors \
                         you trust (see docs/guide.md), or pass `--audit-file PATH`",
                        start.display()
                    ))
                })?
        }
    };
    let audit_file = AuditFile::load(&audit_path)?;
    let dir = audit_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    Ok(Project {
        audit_file,
        audit_path,
        dir,
    })
}

/// The project's lockfile, if there is one: `--lockfile`, else `Cargo.lock` next to
/// `Cargo.audit`.
pub fn load_lockfile(global: &GlobalArgs, project: &Project) -> Result<Option<Lockfile>, CliError> {
    let path = match &global.lockfile {
        Some(path) => path.clone(),
        None => project.dir.join("Cargo.lock"),
    };
    if !path.is_file() {
        return Ok(None);
    }
    Ok(Some(Lockfile::load(&path)?))
}

fn start_dir(global: &GlobalArgs) -> Result<PathBuf, CliError> {
    let explicit = global
        .lockfile
        .as_deref()
        .or(global.manifest_path.as_deref())
        .and_then(Path::parent)
        .filter(|p| !p.as_os_str().is_empty());
    match explicit {
        Some(dir) => Ok(absolute(dir)),
        None => std::env::current_dir()
            .map_err(|e| CliError::Usage(format!("cannot read the current folder: {e}"))),
    }
}

/// The system clock, or the instant given with the hidden `--now` (reproducible tests).
pub fn now(global: &GlobalArgs) -> Result<Timestamp, CliError> {
    match &global.now {
        Some(text) => Timestamp::parse(text)
            .map(|t| FixedClock(t).now())
            .ok_or_else(|| CliError::Usage(format!("--now `{text}`: write 2025-01-31T12:00:00Z"))),
        None => Ok(SystemClock.now()),
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
