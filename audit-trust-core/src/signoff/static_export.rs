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

/// Writes (or brings up to date) the export in `dir`. Files whose bytes would not change are
/// left alone, so a web server's `ETag`/`Last-Modified` stay the same for them.
pub fn write_export(
    dir: &Path,
    keys: &BTreeMap<PublicKey, KeyExport>,
    generated: Timestamp,
) -> Result<ExportSummary, Error> {
    write_export_with_log(dir, keys, generated, None)
}

/// The transparency log's static files (C2SP tiles under `tlog/`): `files` (tiles, entry
/// bundles, records) and, written after them, the checkpoint of `size` entries.
#[derive(Debug, Clone, Default)]
pub struct LogExport {
    pub files: Vec<(String, Vec<u8>)>,
    pub checkpoint: String,
    pub size: u64,
    /// The size `files` start from: only the tiles of `size` that one did not have.
    pub from: u64,
}

/// The path of the log's checkpoint in an export.
pub const LOG_CHECKPOINT_PATH: &str = "tlog/checkpoint";

/// [`write_export`], with the log's tiles written under the same lock. The log only grows, so
/// tiles of one path always hold the same bytes; only the checkpoint could go back, and an
/// exporter that is behind (a smaller checkpoint than the one on disk) leaves it.
pub fn write_export_with_log(
    dir: &Path,
    keys: &BTreeMap<PublicKey, KeyExport>,
    generated: Timestamp,
    log: Option<&LogExport>,
) -> Result<ExportSummary, Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    // The lock file is opened with `create`: through a planted symlink that would make a file
    // wherever it points.
    let lock_file = dir.join(".lock");
    if std::fs::symlink_metadata(&lock_file).is_ok_and(|m| !m.is_file()) {
        return Err(export_error(
            dir,
            &format!(
                "`{}` is a symlink or not a file; remove it",
                lock_file.display()
            ),
        ));
    }
    // Two exporters of one folder (two instances sharing a database and a disk) take turns.
    let _lock = crate::lock::FolderLock::exclusive(dir)?;
    // An exporter that read the database before another one published and exported must not
    // put an older head back: such keys keep what is on disk.
    let all = keys.len();
    let keys: BTreeMap<&PublicKey, &KeyExport> = keys
        .iter()
        .filter(|(key, export)| on_disk_sequence(dir, key).is_none_or(|seq| seq <= export.sequence))
        .collect();
    // Crate files gather every key's records; this exporter is behind for some key, so the
    // ones on disk (written by the exporter ahead of it) are left as they are.
    let behind = keys.len() < all;
    let mut summary = ExportSummary {
        keys: keys.len(),
        ..ExportSummary::default()
    };
    let mut crates: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    // Records first: a head must never be visible before the records it covers.
    for (key, export) in &keys {
        let mut text = String::new();
        for record in &export.records {
            if record.line.contains('\n') {
                return Err(export_error(dir, "a stored record spans several lines"));
            }
            text.push_str(&record.line);
            text.push('\n');
            crates
                .entry(record.crate_name.to_ascii_lowercase())
                .or_default()
                .push(&record.line);
        }
        summary.records += export.records.len();
        summary.files_written += write_if_changed(dir, &records_path(key), text.as_bytes())?;
    }
    for (name, lines) in crates.iter().filter(|_| !behind) {
        // A name that is not a crate name never becomes a path (the registry validates them
        // on publish; this guards the export on its own).
        let Ok(path) = crate_path(name) else { continue };
        let mut text = lines.join("\n");
        text.push('\n');
        summary.crates += 1;
        summary.files_written += write_if_changed(dir, &path, text.as_bytes())?;
    }
    for (key, export) in &keys {
        let text = format!("{}\n", export.head_json.trim_end());
        summary.files_written += write_if_changed(dir, &head_path(key), text.as_bytes())?;
    }
    // The index lists every key on disk, also those kept from a newer export.
    let mut listed = BTreeMap::new();
    for key in keys_on_disk(dir)? {
        let Some((sequence, count)) = on_disk_head(dir, &key) else {
            continue;
        };
        listed.insert(
            key.to_string(),
            IndexedKey {
                sequence,
                count,
                head: format!("{}/head.json", key_dir(&key)),
                records: format!("{}/records.jsonl", key_dir(&key)),
            },
        );
    }
    let index = ExportIndex {
        format: EXPORT_FORMAT,
        generated: generated.to_string(),
        keys: listed,
    };
    let mut bytes = serde_json::to_vec_pretty(&index)
        .map_err(|e| export_error(dir, &format!("cannot encode the index: {e}")))?;
    bytes.push(b'\n');
    // The index changes with `generated` on every run; it is the one file always rewritten.
    write_public(&prepare(dir, INDEX_PATH)?, &bytes)?;
    summary.files_written += 1;
    if let Some(log) = log {
        summary.log_size = log.size;
        summary.log_from = log.from;
        for (path, bytes) in &log.files {
            summary.log_files_written += write_if_changed(dir, path, bytes)?;
        }
        let on_disk = read_regular(dir, LOG_CHECKPOINT_PATH, 64 * 1024)
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|t| t.lines().nth(1).and_then(|l| l.parse::<u64>().ok()));
        if on_disk.is_none_or(|size| size <= log.size) {
            summary.log_files_written +=
                write_if_changed(dir, LOG_CHECKPOINT_PATH, log.checkpoint.as_bytes())?;
        }
        summary.files_written += summary.log_files_written;
    }
    Ok(summary)
}

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
fn on_disk_head(dir: &Path, key: &PublicKey) -> Option<(u64, u64)> {
    let bytes = read_regular(dir, &head_path(key), MAX_HEAD_BYTES)?;
    let head = super::SignedHead::from_json(std::str::from_utf8(&bytes).ok()?.trim()).ok()?;
    (head.head().key == *key).then(|| (head.head().sequence, head.head().count))
}

fn on_disk_sequence(dir: &Path, key: &PublicKey) -> Option<u64> {
    on_disk_head(dir, key).map(|(sequence, _)| sequence)
}

/// The keys that have a folder under `v1/keys/` (named by their hex; anything else is ignored).
fn keys_on_disk(dir: &Path) -> Result<Vec<PublicKey>, Error> {
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

fn export_error(dir: &Path, message: &str) -> Error {
    Error::Store {
        path: dir.to_owned(),
        message: message.to_owned(),
    }
}

/// 1 when the file was written, 0 when it already held `bytes`.
fn write_if_changed(dir: &Path, rel: &str, bytes: &[u8]) -> Result<usize, Error> {
    let path = prepare(dir, rel)?;
    let limit = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    match read_regular(dir, rel, limit) {
        Some(old) if old == bytes => Ok(0),
        _ => write_public(&path, bytes).map(|()| 1),
    }
}

/// `DIR` is often writable by others (a web server's user, a sync job), so nothing below it is
/// followed: `rel`'s folders are made one by one and each must be a real folder, never a
/// symlink, or the export stops rather than write elsewhere. The file itself may be anything:
/// the rename in [`write_public`] replaces it (a symlink included) without following it.
fn prepare(dir: &Path, rel: &str) -> Result<PathBuf, Error> {
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
fn read_regular(dir: &Path, rel: &str, limit: u64) -> Option<Vec<u8>> {
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
fn write_public(path: &Path, bytes: &[u8]) -> Result<(), Error> {
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
