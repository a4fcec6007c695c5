//! Imported audit sets: cargo-vet `audits.toml` files named by `[[import]]` in `Cargo.audit`,
//! pinned by content in `Cargo.audit.lock` ([`lock`]), parsed ([`vet`]) and turned into
//! unsigned gate evidence labelled with the set's name ([`grant`]).
//!
//! Only `import refresh` fetches ([`fetch_set`]); everything else reads the pinned bytes
//! ([`load_pinned`]) and fails (never passes) when they are missing or do not match.

pub mod grant;
pub mod lock;
pub mod publishers;
#[cfg(test)]
mod tests;
pub mod vet;

use std::collections::BTreeSet;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use crate::Error;
use crate::audit_file::{AuditFile, Import, ImportSource};
use crate::http::HttpClient;
use crate::provenance::UrlRewrites;

pub use grant::{LoadedSet, Publishers, imported_evidence, publishers_of};
pub use lock::{ImportLock, LOCK_FILE_NAME, LockedImport, LockedPublisher, lock_path, sha256_hex};
pub use vet::AuditSet;

/// The largest set fetched or read (the largest public one is about 1 MiB).
pub const MAX_SET_BYTES: u64 = 32 * 1024 * 1024;

/// Parses a pinned or fetched set, naming the import in the error.
pub fn parse_set(import: &Import, text: &str, origin: &str) -> Result<AuditSet, Error> {
    vet::parse(text).map_err(|e| Error::Import {
        name: import.name.clone(),
        message: format!("{origin}:{e}; the set is not a cargo-vet audits.toml this tool can read"),
    })
}

/// The pinned, parsed set of every import, from the lock next to `Cargo.audit`. Any import
/// without a matching lock entry is an error (see [`ImportLock::pinned`]).
pub fn load_pinned<'a>(
    audit_file: &'a AuditFile,
    lock: Option<&ImportLock>,
) -> Result<Vec<LoadedSet<'a>>, Error> {
    let mut sets = Vec::new();
    for import in &audit_file.imports {
        let text = ImportLock::pinned(lock, import)?;
        let set = parse_set(import, text, &format!("{LOCK_FILE_NAME} ({})", import.name))?;
        sets.push(LoadedSet { import, set });
    }
    Ok(sets)
}

/// Fetches an import's bytes: over HTTP (size-bounded, through the library's client), or from
/// a local file relative to `audit_dir`. `offline` refuses URLs. The bytes must be UTF-8 and a
/// readable set: a set that cannot be read is never pinned.
///
/// `rewrites` (`[url-rewrite]`, as for repositories) may send a URL to a mirror: another
/// `https://` URL, or a local file (`file://` or an absolute path), which `offline` allows. The
/// import's identity, what the lock pins, stays the URL written in `Cargo.audit`.
pub fn fetch_set(
    import: &Import,
    audit_dir: &Path,
    http: &HttpClient,
    offline: bool,
    rewrites: &UrlRewrites,
) -> Result<String, Error> {
    let fail = |message: String| Error::Import {
        name: import.name.clone(),
        message,
    };
    let bytes = match &import.source {
        ImportSource::Url(written) => {
            let mirror = rewrites.apply(written);
            if let Some(path) = mirror.as_deref().and_then(local_mirror) {
                return finish(import, read_bounded(&path, &fail)?, &fail);
            }
            let url = mirror.as_deref().unwrap_or(written);
            if offline {
                return Err(fail(format!(
                    "--offline: not fetching {}; run without --offline to refresh it (check \
                     uses the pinned copy and never fetches)",
                    url.escape_default()
                )));
            }
            http.get_ok_retrying(url, MAX_SET_BYTES, 3).map_err(|e| {
                fail(format!(
                    "cannot fetch {}: {e}; check the URL and the network (the pinned copy, if \
                     any, is kept)",
                    url.escape_default()
                ))
            })?
        }
        ImportSource::Path(_) => {
            let path = import
                .source
                .local_path(audit_dir)
                .unwrap_or_else(|| audit_dir.to_path_buf());
            read_bounded(&path, &fail)?
        }
    };
    finish(import, bytes, &fail)
}

/// The bytes as text, checked to be a set this tool can read.
fn finish(
    import: &Import,
    bytes: Vec<u8>,
    fail: &dyn Fn(String) -> Error,
) -> Result<String, Error> {
    let text =
        String::from_utf8(bytes).map_err(|_| fail("the fetched set is not UTF-8 text".into()))?;
    parse_set(import, &text, &import.url.escape_default().to_string())?;
    Ok(text)
}

/// A rewritten import URL that names a local file: `file:///…` or an absolute path.
fn local_mirror(rewritten: &str) -> Option<PathBuf> {
    let path = rewritten.strip_prefix("file://").unwrap_or(rewritten);
    let path = Path::new(path);
    path.is_absolute().then(|| path.to_path_buf())
}

fn read_bounded(path: &Path, fail: &dyn Fn(String) -> Error) -> Result<Vec<u8>, Error> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut bytes = Vec::new();
    file.take(MAX_SET_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > MAX_SET_BYTES {
        return Err(fail(format!(
            "{} is larger than {MAX_SET_BYTES} bytes",
            path.display()
        )));
    }
    Ok(bytes)
}

/// What changed in one set between two versions of its bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SetChanges {
    pub name: String,
    /// `true` when the set was not pinned before.
    pub new: bool,
    pub unchanged: bool,
    /// `crate version-or-delta (criteria)`, sorted.
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub new_violations: Vec<String>,
    pub removed_violations: Vec<String>,
    /// Entries of the new bytes that were skipped (unreadable positive entries).
    pub skipped: Vec<String>,
}

/// Compares the audits of `old` (none when first pinned) with `new`.
pub fn changes(name: &str, old: Option<&AuditSet>, new: &AuditSet) -> SetChanges {
    let keys = |set: &AuditSet, violations: bool| -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for (crate_name, audits) in &set.audits {
            for a in audits {
                let what = match &a.kind {
                    vet::VetKind::Full(v) if !violations => v.to_string(),
                    vet::VetKind::Delta { from, to } if !violations => format!("{from} -> {to}"),
                    vet::VetKind::Violation(req) if violations => format!("violation {req}"),
                    _ => continue,
                };
                out.insert(format!("{crate_name} {what} ({})", a.criteria.join(", ")));
            }
        }
        for (kind, map) in [("trusted", &set.trusted), ("wildcard", &set.wildcard)] {
            if violations {
                continue;
            }
            for (crate_name, entries) in map {
                for e in entries {
                    let who = match &e.publisher {
                        vet::Publisher::UserId(id) => format!("user {id}"),
                        vet::Publisher::TrustedPublisher(p) => p.clone(),
                    };
                    out.insert(format!(
                        "{crate_name} {kind} {who} {}..{} ({})",
                        e.start,
                        e.end,
                        e.criteria.join(", ")
                    ));
                }
            }
        }
        out
    };
    let empty = AuditSet::default();
    let before = old.unwrap_or(&empty);
    let (old_audits, new_audits) = (keys(before, false), keys(new, false));
    let (old_v, new_v) = (keys(before, true), keys(new, true));
    let added: Vec<String> = new_audits.difference(&old_audits).cloned().collect();
    let removed: Vec<String> = old_audits.difference(&new_audits).cloned().collect();
    let new_violations: Vec<String> = new_v.difference(&old_v).cloned().collect();
    let removed_violations: Vec<String> = old_v.difference(&new_v).cloned().collect();
    SetChanges {
        name: name.to_owned(),
        new: old.is_none(),
        unchanged: old.is_some()
            && added.is_empty()
            && removed.is_empty()
            && new_violations.is_empty()
            && removed_violations.is_empty(),
        added,
        removed,
        new_violations,
        removed_violations,
        skipped: new.notes.clone(),
    }
}
