//! Writing `Cargo.audit` back after an edit (`prune`, `exemptions renew`), or anew
//! (`init`, `init --from-cargo-vet`).

use std::io::Write as _;
use std::path::Path;

use audit_trust_core::Error;

use crate::error::CliError;

/// Replaces `path` atomically: a temporary file in the same folder, renamed over it, so a
/// reader (or a crash) sees the old file or the new one, never half of it.
pub fn replace_file(path: &Path, text: &str) -> Result<(), CliError> {
    let tmp = written_beside(path, text)?;
    // The temporary file is private (0600); the edited file keeps the mode it had.
    if let Ok(meta) = std::fs::metadata(path) {
        tmp.as_file()
            .set_permissions(meta.permissions())
            .map_err(|e| io_error(tmp.path(), e))?;
    }
    tmp.persist(path).map_err(|e| io_error(path, e.error))?;
    Ok(())
}

/// `text` in a temporary file in `path`'s folder, ready to be renamed into place.
fn written_beside(path: &Path, text: &str) -> Result<tempfile::NamedTempFile, CliError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| io_error(dir, e))?;
    tmp.write_all(text.as_bytes())
        .map_err(|e| io_error(tmp.path(), e))?;
    Ok(tmp)
}

/// Writes a new file at `path` atomically, never over one that exists (a file that appeared
/// meanwhile wins): `refused` is the error for a file already there.
pub fn create_file(
    path: &Path,
    text: &str,
    refused: impl Fn() -> CliError,
) -> Result<(), CliError> {
    if path.exists() {
        return Err(refused());
    }
    let tmp = written_beside(path, text)?;
    // A file to commit and share, not a secret (the temporary file is private, 0600).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(|e| io_error(tmp.path(), e))?;
    }
    tmp.persist_noclobber(path).map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            refused()
        } else {
            CliError::Core(io_error(path, e.error))
        }
    })?;
    Ok(())
}

/// The error for a file `init` would create that is already there.
pub fn refused_overwrite(path: &Path) -> CliError {
    CliError::Usage(format!(
        "{} already exists; `init` never overwrites it (edit it, or move it away first)",
        path.display()
    ))
}

pub fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}
