//! The static export of a registry: every key's signed head and records as plain files that any
//! web server, object store or CDN can serve (`docs/registry-api.md`, "Static export"):
//!
//! ```text
//! DIR/v1/index.json                       format, when it was made, each key's head sequence
//! DIR/v1/keys/<key in hex>/head.json      the key's signed head, exactly as signed
//! DIR/v1/keys/<key in hex>/records.jsonl  every record of the key, in head order, as signed
//! DIR/v1/crates/<first two letters>/<crate>.jsonl   every record about a crate (for people)
//! ```
//!
//! File names come from the key's bytes (hex) and from validated lowercase crate names, never
//! from text a record or a reader supplies, so no data can reach outside `DIR`. Readers derive
//! the same names from the keys they pin and ignore the paths listed in the index.
//!
//! Why files are replaced one by one rather than the whole folder swapped: `DIR` is usually a
//! web root or the source of an object-store sync, which a swap through a symlink would not
//! survive everywhere. Instead every file is written through a temporary file and a rename, in
//! an order that keeps every moment consistent for a reader that fetches a head before the
//! records: records first, then heads, the index last. A key's `records.jsonl` only ever grows
//! at the end (records are ordered by the head that first covered them), so a reader holding
//! head #N takes the file's first `count` lines, which are exactly the records head #N covers
//! even when the file was rewritten for head #N+1 in between.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::PublicKey;
use crate::Error;
use crate::names::validate_crate_name;
use crate::time::Timestamp;

/// The layout's version; also the first folder of every path.
pub const EXPORT_FORMAT: u64 = 1;
pub const INDEX_PATH: &str = "v1/index.json";

/// Bounds a reader applies to what it fetches.
pub const MAX_INDEX_BYTES: u64 = 16 * 1024 * 1024;
pub const MAX_HEAD_BYTES: u64 = 4096;
pub const MAX_KEY_RECORDS_BYTES: u64 = 256 * 1024 * 1024;

/// `v1/index.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportIndex {
    pub format: u64,
    /// When the export was made (RFC 3339); for people, readers do not rely on it.
    pub generated: String,
    /// By public key (`ed25519:…`).
    pub keys: BTreeMap<String, IndexedKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexedKey {
    /// The sequence of the key's head in this export.
    pub sequence: u64,
    /// How many records that head covers.
    pub count: u64,
    /// Relative to `v1/`; informative only (readers derive them from the key).
    pub head: String,
    pub records: String,
}

/// What the export holds for one key.
#[derive(Debug, Clone, Default)]
pub struct KeyExport {
    /// The signed head as stored (JSON).
    pub head_json: String,
    pub sequence: u64,
    pub count: u64,
    /// Its records, oldest head first.
    pub records: Vec<ExportRecord>,
}

#[derive(Debug, Clone)]
pub struct ExportRecord {
    /// The lowercase crate it is filed under (a revocation: the crate of what it revokes).
    pub crate_name: String,
    /// The signed record as one JSON line, exactly as signed.
    pub line: String,
}

/// What [`write_export`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportSummary {
    pub keys: usize,
    pub records: usize,
    pub crates: usize,
    /// Files written because they were new or changed (the others were left alone).
    pub files_written: usize,
    /// The log's size in this export, and the size its tiles were brought up from (0 when all
    /// were written, the size of the earlier export when only what is new was).
    pub log_size: u64,
    pub log_from: u64,
    /// Of `files_written`, those under `tlog/`.
    pub log_files_written: usize,
}

/// `keys/<key in hex>` (relative to `v1/`).
pub fn key_dir(key: &PublicKey) -> String {
    format!("keys/{}", key.hex())
}

pub fn head_path(key: &PublicKey) -> String {
    format!("v1/{}/head.json", key_dir(key))
}

pub fn records_path(key: &PublicKey) -> String {
    format!("v1/{}/records.jsonl", key_dir(key))
}

/// `v1/crates/<first two letters>/<crate>.jsonl`, for a valid crate name only.
pub fn crate_path(name: &str) -> Result<String, Error> {
    validate_crate_name(name).map_err(|e| Error::Store {
        path: PathBuf::from(name),
        message: e.to_string(),
    })?;
    let lower = name.to_ascii_lowercase();
    let prefix: String = lower.chars().take(2).collect();
    Ok(format!("v1/crates/{prefix}/{lower}.jsonl"))
}

/// Writes (or brings up to date) the export in `dir` from keys held in memory (the registry
/// streams instead, through [`super::static_writer::ExportWriter`]). Files whose bytes would not
/// change are left alone, so a web server's `ETag`/`Last-Modified` stay the same for them.
pub fn write_export(
    dir: &Path,
    keys: &BTreeMap<PublicKey, KeyExport>,
    generated: Timestamp,
) -> Result<ExportSummary, Error> {
    let mut writer = super::static_writer::ExportWriter::open(dir)?;
    // An exporter that read its keys before another one published and exported must not put
    // an older head back: such keys keep what is on disk.
    let all = keys.len();
    let keys: BTreeMap<&PublicKey, &KeyExport> = keys
        .iter()
        .filter(|(key, export)| {
            writer
                .key_on_disk(key)
                .is_none_or(|(seq, _)| seq <= export.sequence)
        })
        .collect();
    // Crate files gather every key's records; this exporter is behind for some key, so the
    // ones on disk (written by the exporter ahead of it) are left as they are.
    let behind = keys.len() < all;
    let mut crates: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    // Records first: a head must never be visible before the records it covers.
    for (key, export) in &keys {
        let Some(mut file) = writer.records_file(key, 0)? else {
            return Err(export_error(dir, "cannot start a records file"));
        };
        for record in &export.records {
            file.push(&record.line)?;
            crates
                .entry(record.crate_name.to_ascii_lowercase())
                .or_default()
                .push(&record.line);
        }
        file.finish(&mut writer)?;
        writer.count(1, export.records.len());
    }
    for (name, lines) in crates.iter().filter(|_| !behind) {
        writer.write_crate(name, lines)?;
    }
    for (key, export) in &keys {
        writer.write_head(key, &export.head_json)?;
    }
    writer.write_index(generated)?;
    Ok(writer.summary())
}

/// The path of the log's checkpoint in an export.
pub const LOG_CHECKPOINT_PATH: &str = "tlog/checkpoint";

/// The log checkpoint an earlier export left in `dir` (not yet verified: the caller checks it
/// against the log's key and tree before trusting the tiles below its size).
pub fn exported_log_checkpoint(dir: &Path) -> Option<String> {
    read_regular(dir, LOG_CHECKPOINT_PATH, 64 * 1024).and_then(|b| String::from_utf8(b).ok())
}

/// Whether `rel` is a regular file in the export, reached without a symlink.
pub fn exported_file_exists(dir: &Path, rel: &str) -> bool {
    real_folders(dir, rel) && std::fs::symlink_metadata(dir.join(rel)).is_ok_and(|m| m.is_file())
}

/// Parses `v1/index.json` as served; only the format is checked here, the rest is verified
/// through the signed heads.
pub fn parse_index(bytes: &[u8]) -> Result<ExportIndex, String> {
    let index: ExportIndex =
        serde_json::from_slice(bytes).map_err(|e| format!("not an export index: {e}"))?;
    if index.format != EXPORT_FORMAT {
        return Err(format!(
            "export format {} is not one this tool reads (it reads {EXPORT_FORMAT})",
            index.format
        ));
    }
    Ok(index)
}

/// The first `count` records of a key's `records.jsonl`: the ones its head covers (see the
/// module's comment on why a longer file is normal).
pub fn covered_lines(text: &str, count: u64) -> Vec<String> {
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .take(count)
        .map(str::to_owned)
        .collect()
}

/// `(sequence, count)` of the head of `key` in the export at `dir`, if one verifies there.
pub(super) fn on_disk_head(dir: &Path, key: &PublicKey) -> Option<(u64, u64)> {
    let bytes = read_regular(dir, &head_path(key), MAX_HEAD_BYTES)?;
    let head = super::SignedHead::from_json(std::str::from_utf8(&bytes).ok()?.trim()).ok()?;
    (head.head().key == *key).then(|| (head.head().sequence, head.head().count))
}

/// The keys that have a folder under `v1/keys/` (named by their hex; anything else is ignored).
pub(super) fn keys_on_disk(dir: &Path) -> Result<Vec<PublicKey>, Error> {
    let keys_dir = dir.join("v1/keys");
    if !real_folders(dir, "v1/keys/head.json") {
        return Ok(Vec::new());
    }
    let entries = match std::fs::read_dir(&keys_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(&keys_dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(&keys_dir, e))?;
        if let Some(key) = entry.file_name().to_str().and_then(PublicKey::from_hex) {
            out.push(key);
        }
    }
    Ok(out)
}

pub(super) fn export_error(dir: &Path, message: &str) -> Error {
    Error::Store {
        path: dir.to_owned(),
        message: message.to_owned(),
    }
}

/// `DIR` is often writable by others (a web server's user, a sync job), so nothing below it is
/// followed: `rel`'s folders are made one by one and each must be a real folder, never a
/// symlink, or the export stops rather than write elsewhere. The file itself may be anything:
/// the rename in [`write_public`] replaces it (a symlink included) without following it.
pub(super) fn prepare(dir: &Path, rel: &str) -> Result<PathBuf, Error> {
    let mut path = dir.to_path_buf();
    let mut parts = rel.split('/').peekable();
    while let Some(part) = parts.next() {
        path.push(part);
        if parts.peek().is_none() {
            break;
        }
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(export_error(
                    dir,
                    &format!(
                        "`{}` is a symlink or not a folder; the export does not write through it",
                        path.display()
                    ),
                ));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                match std::fs::create_dir(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(Error::io(&path, e)),
                }
            }
            Err(e) => return Err(Error::io(&path, e)),
        }
    }
    Ok(path)
}

/// Whether `rel` is a regular file reached without a symlink.
pub(super) fn is_regular(dir: &Path, rel: &str) -> bool {
    exported_file_exists(dir, rel)
}

/// Whether every folder of `rel` under `dir` is a real folder (none a symlink).
fn real_folders(dir: &Path, rel: &str) -> bool {
    let mut path = dir.to_path_buf();
    let parts: Vec<&str> = rel.split('/').collect();
    parts[..parts.len().saturating_sub(1)].iter().all(|part| {
        path.push(part);
        std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir())
    })
}

/// The bytes of `rel` under `dir` when it is a regular file reached without a symlink and holds
/// at most `limit` bytes: a planted FIFO, device or link is not read (it could block or flood).
pub(super) fn read_regular(dir: &Path, rel: &str, limit: u64) -> Option<Vec<u8>> {
    use std::io::Read as _;
    if !real_folders(dir, rel) {
        return None;
    }
    let path = dir.join(rel);
    let meta = std::fs::symlink_metadata(&path).ok()?;
    if !meta.is_file() || meta.len() > limit {
        return None;
    }
    let mut bytes = Vec::new();
    std::fs::File::open(&path)
        .ok()?
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .ok()?;
    (u64::try_from(bytes.len()).ok()? <= limit).then_some(bytes)
}

/// Writes through a temporary file and a rename, readable by everyone: the files are meant to
/// be served, often by a web server running as another user.
pub(super) fn write_public(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(dir, e))?;
    tmp.write_all(bytes).map_err(|e| Error::io(tmp.path(), e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io(tmp.path(), e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))
            .map_err(|e| Error::io(tmp.path(), e))?;
    }
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}
