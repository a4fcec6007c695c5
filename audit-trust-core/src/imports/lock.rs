//! `Cargo.audit.lock`: the pinned bytes of every `[[import]]`, with their SHA-256, and the
//! publishers learned for `trusted` / `wildcard-audits` entries. Written only by `import
//! refresh`; every other command reads it and never fetches.
//!
//! ```toml
//! version = 1
//!
//! [[import]]
//! name = "mozilla"
//! url = "https://…/audits.toml"
//! sha256 = "…"
//! fetched = "2026-12-03T16:00:00Z"
//! content = '''…the bytes…'''
//!
//! [[publisher]]            # one per crate version: who published it, and when
//! crate = "leafy"
//! version = "1.0.1"
//! when = "2025-01-01"
//! user-id = 42
//! user-login = "alice"     # optional, as cargo-vet's imports.lock has it
//! trusted-publisher = "github:org/repo"   # optional: published by trusted publishing
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Error;
use crate::audit_file::Import;

/// The lock file's name, next to `Cargo.audit`.
pub const LOCK_FILE_NAME: &str = "Cargo.audit.lock";
const LOCK_VERSION: u32 = 1;
const HEADER: &str = "# The pinned bytes of each [[import]] of Cargo.audit, and the publishers of crate\n\
# versions. Written by `cargo audit-trust import refresh`; do not edit by hand.\n";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ImportLock {
    pub version: u32,
    #[serde(default, rename = "import", skip_serializing_if = "Vec::is_empty")]
    pub imports: Vec<LockedImport>,
    #[serde(default, rename = "publisher", skip_serializing_if = "Vec::is_empty")]
    pub publishers: Vec<LockedPublisher>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LockedImport {
    pub name: String,
    pub url: String,
    pub sha256: String,
    /// When the bytes were fetched (`YYYY-MM-DDTHH:MM:SSZ`).
    pub fetched: String,
    /// Where the bytes came from when not from `url` itself: `init --from-cargo-vet` pins the
    /// part of each set that cargo-vet's `imports.lock` kept, until `import refresh` fetches
    /// the whole set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    pub content: String,
}

/// Who published one crate version (crates.io's `published_by`), and when.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LockedPublisher {
    #[serde(rename = "crate")]
    pub name: String,
    pub version: String,
    /// The day of publication (`YYYY-MM-DD`).
    pub when: String,
    pub user_id: Option<u64>,
    pub user_login: Option<String>,
    pub trusted_publisher: Option<String>,
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `Cargo.audit.lock` next to the audit file at `audit_file`.
pub fn lock_path(audit_file_dir: &Path) -> PathBuf {
    audit_file_dir.join(LOCK_FILE_NAME)
}

impl ImportLock {
    /// `None` when there is no lock file.
    pub fn load(path: &Path) -> Result<Option<ImportLock>, Error> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(path, e)),
        };
        ImportLock::parse(&text, path).map(Some)
    }

    pub fn parse(text: &str, path: &Path) -> Result<ImportLock, Error> {
        let bad = |offset: Option<usize>, message: String| {
            let (line, column) = offset.map_or((None, None), |o| {
                let (l, c) = crate::audit_file::line_and_column(text, o);
                (Some(l), Some(c))
            });
            Error::AuditFile {
                path: path.to_owned(),
                line,
                column,
                message: format!(
                    "{message} (the lock is written by `cargo audit-trust import refresh`: run it \
                     to write it again)"
                ),
            }
        };
        let lock: ImportLock = toml::from_str(text)
            .map_err(|e| bad(e.span().map(|s| s.start), e.message().to_owned()))?;
        if lock.version != LOCK_VERSION {
            return Err(bad(
                None,
                format!(
                    "lock version {} is not {LOCK_VERSION}, the one this tool reads",
                    lock.version
                ),
            ));
        }
        Ok(lock)
    }

    pub fn entry(&self, name: &str) -> Option<&LockedImport> {
        self.imports.iter().find(|i| i.name == name)
    }

    /// The pinned text of `import`, checked: an entry exists, names the same URL, and its bytes
    /// hash to its `sha256`. Anything else is an error that says to run `import refresh`.
    pub fn pinned<'a>(lock: Option<&'a ImportLock>, import: &Import) -> Result<&'a str, Error> {
        let refresh = format!(
            "run `cargo audit-trust import refresh {}` to fetch it, then review and commit {LOCK_FILE_NAME}",
            import.name
        );
        let fail = |what: String| Error::Import {
            name: import.name.clone(),
            message: format!("{what}; {refresh}"),
        };
        let Some(entry) = lock.and_then(|l| l.entry(&import.name)) else {
            return Err(fail(format!("it is not pinned in {LOCK_FILE_NAME}")));
        };
        if entry.url != import.url {
            return Err(fail(format!(
                "{LOCK_FILE_NAME} pins `{}`, but Cargo.audit now says `{}`",
                entry.url.escape_default(),
                import.url.escape_default()
            )));
        }
        let actual = sha256_hex(entry.content.as_bytes());
        if actual != entry.sha256 {
            return Err(fail(format!(
                "the pinned bytes in {LOCK_FILE_NAME} hash to {actual}, not the sha256 {} it \
                 records: the lock was edited or damaged",
                entry.sha256.escape_default()
            )));
        }
        Ok(&entry.content)
    }

    /// Replaces (or adds) the entry of `locked.name`, keeping the order of `Cargo.audit`'s
    /// imports where known.
    pub fn put(&mut self, locked: LockedImport) {
        match self.imports.iter_mut().find(|i| i.name == locked.name) {
            Some(slot) => *slot = locked,
            None => self.imports.push(locked),
        }
    }

    /// The text of the lock file.
    pub fn render(&self) -> Result<String, Error> {
        let mut sorted = self.clone();
        sorted.version = LOCK_VERSION;
        sorted.publishers.sort();
        sorted.publishers.dedup();
        let body = toml::to_string(&sorted).map_err(|e| Error::Import {
            name: "(lock)".into(),
            message: format!("cannot write the lock: {e}"),
        })?;
        Ok(format!("{HEADER}{body}"))
    }

    /// Writes the lock atomically (a temporary file renamed over it).
    pub fn write(&self, path: &Path) -> Result<(), Error> {
        let text = self.render()?;
        crate::fetch::write_atomically(path, text.as_bytes(), true)?;
        // A file to commit and share, not a secret (the temporary file it was is private).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
                .map_err(|e| Error::io(path, e))?;
        }
        Ok(())
    }
}
