//! Writing the static export one file at a time ([`ExportWriter`]), so an exporter streams what
//! it reads from its database instead of holding the whole export in memory, and writes only
//! what a new head or checkpoint changes.
//!
//! The rule for what a client of the previous export still needs: nothing is ever removed. A
//! key's `records.jsonl` is replaced only by a file that begins with the same lines (the
//! records its previous head covered) and has new ones after them; a narrower partial tile,
//! bundle or records file of the log stays when a wider one is written next to it. What a
//! reader starts from is written last: records before heads, heads before the index, the
//! log's tiles before its checkpoint.

use std::io::{BufRead as _, BufReader, BufWriter, Write as _};
use std::path::{Path, PathBuf};

use super::PublicKey;
use super::static_export::{
    ExportIndex, ExportSummary, INDEX_PATH, IndexedKey, LOG_CHECKPOINT_PATH, crate_path,
    export_error, head_path, key_dir, keys_on_disk, on_disk_head, prepare, read_regular,
    records_path, write_public,
};
use crate::Error;
use crate::time::Timestamp;

/// An export folder, locked for writing until dropped.
pub struct ExportWriter {
    dir: PathBuf,
    _lock: crate::lock::FolderLock,
    summary: ExportSummary,
}

impl std::fmt::Debug for ExportWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ExportWriter({})", self.dir.display())
    }
}

impl ExportWriter {
    /// Creates `dir` if needed and takes its lock: two exporters of one folder (two instances
    /// sharing a database and a disk) take turns.
    pub fn open(dir: &Path) -> Result<ExportWriter, Error> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        // The lock file is opened with `create`: through a planted symlink that would make a
        // file wherever it points.
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
        let lock = crate::lock::FolderLock::exclusive(dir)?;
        Ok(ExportWriter {
            dir: dir.to_owned(),
            _lock: lock,
            summary: ExportSummary::default(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn summary(&self) -> ExportSummary {
        self.summary
    }

    /// Counts into the summary what the caller exported without writing (kept keys, records).
    pub fn count(&mut self, keys: usize, records: usize) {
        self.summary.keys += keys;
        self.summary.records += records;
    }

    /// `(sequence, count)` of the head of `key` on disk, when one verifies there.
    pub fn key_on_disk(&self, key: &PublicKey) -> Option<(u64, u64)> {
        on_disk_head(&self.dir, key)
    }

    /// Starts a new `records.jsonl` for `key` that keeps the first `kept` lines of the one on
    /// disk. `None` when the file on disk does not hold that many complete lines (the caller
    /// then writes every record again, with `kept` 0).
    pub fn records_file(
        &mut self,
        key: &PublicKey,
        kept: u64,
    ) -> Result<Option<RecordsFile>, Error> {
        let rel = records_path(key);
        let path = prepare(&self.dir, &rel)?;
        let folder = path.parent().unwrap_or(&self.dir).to_owned();
        let tmp = tempfile::NamedTempFile::new_in(&folder).map_err(|e| Error::io(&folder, e))?;
        let mut out = BufWriter::new(tmp);
        if kept > 0 {
            // Read through the same checks as every other read of the folder: a planted link
            // or FIFO is not followed.
            if !super::static_export::is_regular(&self.dir, &rel) {
                return Ok(None);
            }
            let old = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
            let mut reader = BufReader::new(old);
            let mut line = Vec::new();
            for _ in 0..kept {
                line.clear();
                let n = reader
                    .read_until(b'\n', &mut line)
                    .map_err(|e| Error::io(&path, e))?;
                if n == 0 || line.last() != Some(&b'\n') {
                    return Ok(None);
                }
                out.write_all(&line).map_err(|e| Error::io(&path, e))?;
            }
        }
        Ok(Some(RecordsFile {
            out,
            path,
            lines: kept,
        }))
    }

    /// Writes `rel` unless it already holds `bytes`; whether it was written.
    pub fn write_file(&mut self, rel: &str, bytes: &[u8]) -> Result<bool, Error> {
        let written = write_if_changed(&self.dir, rel, bytes)?;
        self.summary.files_written += usize::from(written);
        Ok(written)
    }

    /// A key's signed head (JSON), after its records.
    pub fn write_head(&mut self, key: &PublicKey, head_json: &str) -> Result<bool, Error> {
        let text = format!("{}\n", head_json.trim_end());
        self.write_file(&head_path(key), text.as_bytes())
    }

    /// The file of every record about `name`. A name that is not a crate name never becomes a
    /// path (the registry validates them on publish; this guards the export on its own).
    pub fn write_crate(&mut self, name: &str, lines: &[&str]) -> Result<bool, Error> {
        let Ok(path) = crate_path(name) else {
            return Ok(false);
        };
        let mut text = String::new();
        for line in lines {
            if line.contains('\n') {
                return Err(export_error(
                    &self.dir,
                    "a stored record spans several lines",
                ));
            }
            text.push_str(line);
            text.push('\n');
        }
        self.summary.crates += 1;
        self.write_file(&path, text.as_bytes())
    }

    /// `v1/index.json`, listing every key on disk (also those kept from a newer export). It is
    /// written only when that list changed, so an unchanged export keeps its `ETag` and
    /// readers' conditional requests are answered 304.
    pub fn write_index(&mut self, generated: Timestamp) -> Result<bool, Error> {
        let mut listed = std::collections::BTreeMap::new();
        for key in keys_on_disk(&self.dir)? {
            let Some((sequence, count)) = on_disk_head(&self.dir, &key) else {
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
        let unchanged = read_regular(&self.dir, INDEX_PATH, super::static_export::MAX_INDEX_BYTES)
            .and_then(|b| super::static_export::parse_index(&b).ok())
            .is_some_and(|old| old.keys == listed);
        if unchanged {
            return Ok(false);
        }
        let index = ExportIndex {
            format: super::static_export::EXPORT_FORMAT,
            generated: generated.to_string(),
            keys: listed,
        };
        let mut bytes = serde_json::to_vec_pretty(&index)
            .map_err(|e| export_error(&self.dir, &format!("cannot encode the index: {e}")))?;
        bytes.push(b'\n');
        write_public(&prepare(&self.dir, INDEX_PATH)?, &bytes)?;
        self.summary.files_written += 1;
        Ok(true)
    }

    /// A tile, entry bundle or records file of the log (`rel` under the export, `tlog/…`).
    pub fn write_log_file(&mut self, rel: &str, bytes: &[u8]) -> Result<bool, Error> {
        let written = self.write_file(rel, bytes)?;
        self.summary.log_files_written += usize::from(written);
        Ok(written)
    }

    /// A batch of the log's files (`rel` under the export, `tlog/…`, with their bytes); those
    /// already on disk with these bytes are left alone. Each is written to a temporary file,
    /// then the file system is flushed once, the files renamed into place, and flushed again:
    /// one flush per batch instead of an fsync per file, since a log of millions of entries
    /// has millions of per-crate files. After a crash a name holds its whole file or nothing.
    pub fn write_log_files(&mut self, files: &[(String, Vec<u8>)]) -> Result<usize, Error> {
        let mut staged = Vec::new();
        for (rel, bytes) in files {
            let path = prepare(&self.dir, rel)?;
            let limit = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
            if read_regular(&self.dir, rel, limit).is_some_and(|old| old == *bytes) {
                continue;
            }
            staged.push((stage_public(&path, bytes)?, path));
        }
        if staged.is_empty() {
            return Ok(0);
        }
        flush_file_system(&self.dir, staged.iter().map(|(tmp, _)| tmp.as_ref()))?;
        let written = staged.len();
        let mut renamed = Vec::with_capacity(written);
        for (tmp, path) in staged {
            tmp.persist(&path).map_err(|e| Error::io(&path, e.error))?;
            renamed.push(path);
        }
        flush_file_system(&self.dir, renamed.iter().map(PathBuf::as_path))?;
        self.summary.files_written += written;
        self.summary.log_files_written += written;
        Ok(written)
    }

    /// The log's checkpoint of `size` entries, after every tile of that size. An exporter that
    /// is behind (a larger checkpoint is on disk) leaves the one on disk.
    pub fn write_log_checkpoint(
        &mut self,
        size: u64,
        from: u64,
        checkpoint: &str,
    ) -> Result<bool, Error> {
        self.summary.log_size = size;
        self.summary.log_from = from;
        let on_disk = read_regular(&self.dir, LOG_CHECKPOINT_PATH, 64 * 1024)
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|t| t.lines().nth(1).and_then(|l| l.parse::<u64>().ok()));
        if on_disk.is_some_and(|on_disk| on_disk > size) {
            return Ok(false);
        }
        self.write_log_file(LOG_CHECKPOINT_PATH, checkpoint.as_bytes())
    }
}

/// A key's `records.jsonl` being written (see [`ExportWriter::records_file`]).
pub struct RecordsFile {
    out: BufWriter<tempfile::NamedTempFile>,
    path: PathBuf,
    lines: u64,
}

impl std::fmt::Debug for RecordsFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RecordsFile({}, {} lines)",
            self.path.display(),
            self.lines
        )
    }
}

impl RecordsFile {
    /// Appends one signed record (a JSON line, exactly as signed).
    pub fn push(&mut self, line: &str) -> Result<(), Error> {
        if line.contains('\n') {
            return Err(Error::Store {
                path: self.path.clone(),
                message: "a stored record spans several lines".into(),
            });
        }
        self.out
            .write_all(line.as_bytes())
            .and_then(|()| self.out.write_all(b"\n"))
            .map_err(|e| Error::io(&self.path, e))?;
        self.lines += 1;
        Ok(())
    }

    /// The lines the file holds so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Puts the file in place, unless the one there already holds the same bytes.
    pub fn finish(self, writer: &mut ExportWriter) -> Result<bool, Error> {
        let path = self.path;
        let tmp = self
            .out
            .into_inner()
            .map_err(|e| Error::io(&path, e.into_error()))?;
        if same_bytes(tmp.path(), &path)? {
            return Ok(false);
        }
        tmp.as_file()
            .sync_all()
            .map_err(|e| Error::io(tmp.path(), e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))
                .map_err(|e| Error::io(tmp.path(), e))?;
        }
        tmp.persist(&path).map_err(|e| Error::io(&path, e.error))?;
        writer.summary.files_written += 1;
        Ok(true)
    }
}

/// Whether the regular file `old` holds exactly the bytes of `new` (read in blocks, never whole).
fn same_bytes(new: &Path, old: &Path) -> Result<bool, Error> {
    let Ok(meta) = std::fs::symlink_metadata(old) else {
        return Ok(false);
    };
    let new_len = std::fs::metadata(new).map_err(|e| Error::io(new, e))?.len();
    if !meta.is_file() || meta.len() != new_len {
        return Ok(false);
    }
    let open = |p: &Path| std::fs::File::open(p).map_err(|e| Error::io(p, e));
    let (mut a, mut b) = (BufReader::new(open(new)?), BufReader::new(open(old)?));
    let (mut x, mut y) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    loop {
        let n = read_full(&mut a, &mut x).map_err(|e| Error::io(new, e))?;
        let m = read_full(&mut b, &mut y).map_err(|e| Error::io(old, e))?;
        if n != m || x[..n] != y[..m] {
            return Ok(false);
        }
        if n == 0 {
            return Ok(true);
        }
    }
}

/// Fills `buf` as far as the reader goes.
fn read_full(r: &mut impl std::io::Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// `bytes` in a temporary file next to `path`, readable by everyone, not yet flushed.
fn stage_public(path: &Path, bytes: &[u8]) -> Result<tempfile::TempPath, Error> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(dir, e))?;
    tmp.write_all(bytes).map_err(|e| Error::io(tmp.path(), e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))
            .map_err(|e| Error::io(tmp.path(), e))?;
    }
    Ok(tmp.into_temp_path())
}

/// Makes everything written under `dir` durable: one `syncfs` on Unix, an fsync of each of
/// `paths` elsewhere.
fn flush_file_system<'a>(dir: &Path, paths: impl Iterator<Item = &'a Path>) -> Result<(), Error> {
    #[cfg(unix)]
    {
        let _ = paths;
        let handle = std::fs::File::open(dir).map_err(|e| Error::io(dir, e))?;
        rustix::fs::syncfs(&handle).map_err(|e| Error::io(dir, e.into()))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        for path in paths {
            std::fs::File::open(path)
                .and_then(|f| f.sync_all())
                .map_err(|e| Error::io(path, e))?;
        }
        Ok(())
    }
}

/// True when the file was written, false when it already held `bytes`.
fn write_if_changed(dir: &Path, rel: &str, bytes: &[u8]) -> Result<bool, Error> {
    let path = prepare(dir, rel)?;
    let limit = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    match read_regular(dir, rel, limit) {
        Some(old) if old == bytes => Ok(false),
        _ => write_public(&path, bytes).map(|()| true),
    }
}
