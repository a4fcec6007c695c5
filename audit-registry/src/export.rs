//! `audit-registry export DIR` and its schedule in `serve --export-dir`: every key's head and
//! records written as static files (layout and write order in
//! [`audit_trust_core::signoff::static_export`]), so reads can be served by any web server, object
//! store or CDN and the registry itself only takes writes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use audit_trust_core::signoff::static_export::{
    ExportSummary, exported_file_exists, exported_log_checkpoint,
};
use audit_trust_core::signoff::static_writer::{ExportWriter, RecordsFile};
use audit_trust_core::signoff::{PublicKey, RecordId, SignedHead};
use audit_trust_core::time::Clock;
use audit_trust_core::tlog::{
    Checkpoint, Hash, LogEntry, NoteKey, SignedNote, TILE_HEIGHT, TILE_WIDTH, TlogError,
    entries_path, entry_bundle, records_path, tile_bytes, tile_path, tile_width, tiles_to_write,
};

use crate::db::log::StoredCheckpoint;
use crate::db::{Db, DbError, ExportRow};
use crate::export_crates::{export_index, index_on_disk, snapshot};
use crate::witness::collect::with_cosignature_lines;

/// Records read from the database at a time for a key's file: memory stays bounded by these
/// (a few MB), not by the size of the log.
const KEY_PAGE: u64 = 5_000;
/// Crates whose files are rebuilt from one query.
const CRATES_PER_READ: usize = 100;
/// Entry bundles (of 256 entries with their records) read and written at a time.
const BUNDLES_PER_READ: u64 = 64;
/// Hash tiles (8 KB each when full) built and written at a time.
const TILES_PER_WRITE: usize = 1_024;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("cannot write the export: {0}")]
    Write(#[from] audit_trust_core::Error),
    #[error("the export was interrupted: {0}")]
    Task(String),
    #[error("cannot build the log's tiles: {0}")]
    Tiles(#[from] TlogError),
}

/// Runs `f` on the writer on a blocking thread (file writes and syncs), handing it back.
async fn on_disk<T: Send + 'static>(
    mut writer: ExportWriter,
    f: impl FnOnce(&mut ExportWriter) -> Result<T, audit_trust_core::Error> + Send + 'static,
) -> Result<(ExportWriter, T), ExportError> {
    let (writer, result) = tokio::task::spawn_blocking(move || {
        let result = f(&mut writer);
        (writer, result)
    })
    .await
    .map_err(|e| ExportError::Task(e.to_string()))?;
    Ok((writer, result?))
}

/// Writes the export of everything `db` holds into `dir`, or brings the one there up to date
/// writing only what changed (`docs/registry-api.md`, "Static export"). Keys whose stored head
/// does not verify are left out (and logged): a reader would refuse them anyway.
///
/// Nothing is held whole: each key's records, each batch of crate files and each batch of the
/// log's tiles and bundles is read from the database and written before the next is read.
pub async fn export(db: &Db, dir: &Path, clock: &dyn Clock) -> Result<ExportSummary, ExportError> {
    let dir = dir.to_owned();
    let writer = tokio::task::spawn_blocking(move || ExportWriter::open(&dir))
        .await
        .map_err(|e| ExportError::Task(e.to_string()))??;
    let (writer, keys) = export_keys(db, writer).await?;
    // Heads after every records file: a head is never visible before the records it covers.
    let heads = keys.heads;
    let (writer, ()) = on_disk(writer, move |w| {
        for (key, json) in &heads {
            w.write_head(key, json)?;
        }
        Ok(())
    })
    .await?;
    // Crate files gather every key's records. When this exporter is behind for some key, the
    // ones on disk (written by the exporter ahead of it) are left as they are.
    let writer = if keys.behind {
        writer
    } else {
        export_crates(db, writer, &keys.bounds, keys.touched).await?
    };
    let now = clock.now();
    let (writer, _) = on_disk(writer, move |w| w.write_index(now)).await?;
    let writer = export_log(db, writer).await?;
    Ok(writer.summary())
}

/// What [`export_keys`] leaves for the crate files and the heads.
struct KeysExported {
    /// The signed heads to write, after every records file.
    heads: Vec<(PublicKey, String)>,
    /// By key as stored: the key and the last head sequence its records in the export reach.
    bounds: BTreeMap<String, (PublicKey, u64)>,
    /// Crate names (as stored) that got records in this run: their files are rebuilt.
    touched: BTreeSet<String>,
    /// A key has a newer head on disk than the database (another exporter was ahead).
    behind: bool,
}

/// Every key's `records.jsonl`, brought up to its current head. A key whose head on disk
/// verifies, is older, and covers as many records as the database holds up to it keeps those
/// lines and gets the new records after them; one whose head on disk is the current one is
/// left alone; any other is written whole.
async fn export_keys(
    db: &Db,
    mut writer: ExportWriter,
) -> Result<(ExportWriter, KeysExported), ExportError> {
    let mut out = KeysExported {
        heads: Vec::new(),
        bounds: BTreeMap::new(),
        touched: BTreeSet::new(),
        behind: false,
    };
    for (key_text, stored) in db.heads().await? {
        let (Ok(key), Ok(head)) = (
            PublicKey::parse(&key_text),
            SignedHead::from_json(&stored.body),
        ) else {
            tracing::warn!(key = %key_text, "stored head does not verify; key left out of the export");
            continue;
        };
        let (sequence, count) = (head.head().sequence, head.head().count);
        let kept = match writer.key_on_disk(&key) {
            // An exporter that read the database before another one published and exported
            // must not put an older head back: the key keeps what is on disk.
            Some((on_disk, _)) if on_disk > sequence => {
                out.behind = true;
                continue;
            }
            Some(on_disk) if on_disk == (sequence, count) => Some(on_disk),
            // The lines on disk are the ones the database has up to that head: keep them.
            Some((on_disk, lines)) if on_disk < sequence => {
                let stored = db.count_records_upto(&key_text, on_disk).await?;
                (stored == lines).then_some((on_disk, lines))
            }
            _ => None,
        };
        writer.count(1, usize::try_from(count).unwrap_or(usize::MAX));
        out.heads.push((key, stored.body));
        out.bounds.insert(key_text.clone(), (key, sequence));
        if kept.is_some() && kept == Some((sequence, count)) {
            continue;
        }
        let (w, file) = on_disk(writer, move |w| {
            let kept_lines = kept.map_or(0, |(_, lines)| lines);
            match w.records_file(&key, kept_lines)? {
                Some(file) => Ok((file, kept)),
                // The file on disk is shorter than its head says: write it whole.
                None => Ok((w.records_file(&key, 0)?.ok_or_else(no_file)?, None)),
            }
        })
        .await?;
        writer = w;
        let (mut file, kept) = file;
        let from = kept.map_or(0, |(on_disk, _)| on_disk);
        let mut cursor: Option<(u64, String)> = None;
        loop {
            let rows = db
                .export_records_page(
                    &key_text,
                    from,
                    sequence,
                    cursor.as_ref().map(|(s, id)| (*s, id.as_str())),
                    KEY_PAGE,
                )
                .await?;
            let Some(last) = rows.last() else { break };
            cursor = Some((last.head_sequence, last.id.clone()));
            out.touched
                .extend(rows.iter().map(|r| r.crate_name.clone()));
            file = push_rows(file, rows).await?;
        }
        if file.lines() != count {
            tracing::warn!(key = %key_text, lines = file.lines(), count, "a key's records do not add up to its head's count");
        }
        let (w, _) = on_disk(writer, move |w| file.finish(w)).await?;
        writer = w;
    }
    Ok((writer, out))
}

fn no_file() -> audit_trust_core::Error {
    audit_trust_core::Error::Store {
        path: PathBuf::from("records.jsonl"),
        message: "cannot start a records file".into(),
    }
}

async fn push_rows(
    mut file: RecordsFile,
    rows: Vec<ExportRow>,
) -> Result<RecordsFile, ExportError> {
    tokio::task::spawn_blocking(move || {
        for row in &rows {
            file.push(&row.body)?;
        }
        Ok::<_, audit_trust_core::Error>(file)
    })
    .await
    .map_err(|e| ExportError::Task(e.to_string()))?
    .map_err(ExportError::from)
}

/// Rebuilds the files of the crates in `touched`: every record about the crate of every key in
/// `bounds`, up to that key's head, by key then head then id.
async fn export_crates(
    db: &Db,
    mut writer: ExportWriter,
    bounds: &BTreeMap<String, (PublicKey, u64)>,
    touched: BTreeSet<String>,
) -> Result<ExportWriter, ExportError> {
    let names: Vec<String> = touched.into_iter().collect();
    for chunk in names.chunks(CRATES_PER_READ) {
        let mut crates: BTreeMap<String, Vec<(PublicKey, u64, String, String)>> = BTreeMap::new();
        for row in db.export_crate_rows(chunk).await? {
            let Some((key, bound)) = bounds.get(&row.public_key) else {
                continue;
            };
            if row.head_sequence > *bound {
                continue;
            }
            crates
                .entry(row.crate_name.to_ascii_lowercase())
                .or_default()
                .push((*key, row.head_sequence, row.id, row.body));
        }
        let (w, ()) = on_disk(writer, move |w| {
            for (name, mut rows) in crates {
                rows.sort_by(|a, b| (&a.0, a.1, &a.2).cmp(&(&b.0, b.1, &b.2)));
                let lines: Vec<&str> = rows.iter().map(|r| r.3.as_str()).collect();
                w.write_crate(&name, &lines)?;
            }
            Ok(())
        })
        .await?;
        writer = w;
    }
    Ok(writer)
}

/// The transparency log as C2SP tiles under `tlog/`: the hash tiles of every level, the entry
/// bundles and record lines, and the latest checkpoint (with its cosignatures), written last.
/// Only what the log added since the checkpoint already in `dir` is built: full tiles never
/// change, so the ones below that size are on disk already.
async fn export_log(db: &Db, mut writer: ExportWriter) -> Result<ExportWriter, ExportError> {
    // Nothing new since the checkpoint on disk (the database's latest, with every edge tile
    // there): no tile to write, so the tree is not needed, which a fresh process would build
    // from every entry of the log. Only the cosignatures may have changed.
    if let Some(StoredCheckpoint { size, note, .. }) = db.latest_checkpoint().await?
        && let Some(root) = SignedNote::parse(&note)
            .ok()
            .and_then(|n| Checkpoint::parse_body(&n.body).ok())
            .filter(|c| c.size == size)
            .map(|c| c.root)
        && exported_size(writer.dir(), db.log_key(), |at| {
            (at == size).then_some(root)
        }) == size
        && size > 0
        && index_on_disk(
            writer.dir(),
            exported_log_checkpoint(writer.dir()).as_deref(),
        ) == size
    {
        let checkpoint = with_cosignature_lines(&note, &db.cosignatures(size).await?);
        let (writer, _) = on_disk(writer, move |w| {
            w.write_log_checkpoint(size, size, &checkpoint)
        })
        .await?;
        return Ok(writer);
    }
    let index_from = index_on_disk(
        writer.dir(),
        exported_log_checkpoint(writer.dir()).as_deref(),
    );
    let (size, note, from, tiles, index) = {
        let mut log = db.log_state().await?;
        let Some(c) = log.checkpoint.as_ref() else {
            return Ok(writer);
        };
        let (size, note) = (c.size, c.note.clone());
        let from =
            exported_size(writer.dir(), db.log_key(), |at| log.tree.root_at(at).ok()).min(size);
        // The crate index as it is at this checkpoint: taken now, before appends move it.
        let index = snapshot(&mut log, size, index_from.min(from));
        (size, note, from, tiles_to_write(from, size), index)
    };
    // Hash tiles come from the tree in memory: it holds every complete subtree's hash. The
    // lock on it is taken per batch, so appends go on while the export writes.
    for batch in tiles.chunks(TILES_PER_WRITE) {
        let files = {
            let log = db.log_state().await?;
            batch
                .iter()
                .map(|&(level, index, width)| {
                    tile_bytes(&log.tree, level, index, width)
                        .map(|(path, bytes)| (format!("tlog/{path}"), bytes))
                })
                .collect::<Result<Vec<_>, _>>()?
        };
        writer = write_log_files(writer, files).await?;
    }
    // Bundles start at the one holding entry `from` (partial then, larger or full now).
    let start = from - from % TILE_WIDTH;
    let mut at = start;
    while at < size {
        let want = (size - at).min(BUNDLES_PER_READ * TILE_WIDTH);
        let stored = db.log_entries(at, want).await?;
        if stored.len() as u64 != want {
            return Err(DbError::Unavailable(format!(
                "the log has {} entries from {at}, its checkpoint {want}",
                stored.len(),
            ))
            .into());
        }
        let mut entries = Vec::with_capacity(stored.len());
        for (_, crate_name, ordinal, record_id, record) in stored {
            let record_id = RecordId::parse(&record_id)
                .map_err(|_| DbError::Unavailable("a log entry's record id is not hex".into()))?;
            let entry = LogEntry {
                crate_name,
                ordinal,
                record_id,
            };
            entries.push((entry, record));
        }
        let mut files = Vec::new();
        for (i, chunk) in entries.chunks(TILE_WIDTH as usize).enumerate() {
            let (index, width) = (at / TILE_WIDTH + i as u64, chunk.len() as u64);
            let bundle: Vec<LogEntry> = chunk.iter().map(|(e, _)| e.clone()).collect();
            let records: String = chunk.iter().map(|(_, r)| format!("{r}\n")).collect();
            files.push((
                format!("tlog/{}", entries_path(index, width)),
                entry_bundle(&bundle),
            ));
            files.push((
                format!("tlog/{}", records_path(index, width)),
                records.into_bytes(),
            ));
        }
        writer = write_log_files(writer, files).await?;
        at += want;
    }
    // The crate index and version trees before the checkpoint that signs them. Without them
    // (the log moved on before the export looked), no checkpoint is written this time: a
    // `--url` client must find the index of every checkpoint it reads.
    let Some(index) = index else {
        tracing::warn!(
            size,
            "the log moved past the checkpoint; exported next time"
        );
        return Ok(writer);
    };
    writer = export_index(db, writer, index).await?;
    let checkpoint = with_cosignature_lines(&note, &db.cosignatures(size).await?);
    let (writer, _) = on_disk(writer, move |w| {
        w.write_log_checkpoint(size, from, &checkpoint)
    })
    .await?;
    Ok(writer)
}

pub(crate) async fn write_log_files(
    writer: ExportWriter,
    files: Vec<(String, Vec<u8>)>,
) -> Result<ExportWriter, ExportError> {
    let (writer, _) = on_disk(writer, move |w| w.write_log_files(&files)).await?;
    Ok(writer)
}

/// The size of the log the export in `dir` already holds, when everything below it can be
/// trusted to be there: its checkpoint is signed by this log's key, has the root this tree has
/// at that size (not another history, say from a restored database), and the right-edge tile
/// of every level, bundle and records of that size are on disk (an export made before upper
/// levels were written has none above level 0). Otherwise 0: everything is written (files that
/// already hold the right bytes are left alone).
fn exported_size(dir: &Path, key: &NoteKey, root_at: impl Fn(u64) -> Option<Hash>) -> u64 {
    let Some(text) = exported_log_checkpoint(dir) else {
        return 0;
    };
    let Ok(note) = SignedNote::parse(&text) else {
        return 0;
    };
    let Ok(checkpoint) = Checkpoint::parse_body(&note.body) else {
        return 0;
    };
    let size = checkpoint.size;
    if checkpoint.origin != key.name
        || key.verify(&note).is_err()
        || root_at(size) != Some(checkpoint.root)
    {
        return 0;
    }
    let mut edge = Vec::new();
    let mut level = 0u32;
    while size.checked_shr(TILE_HEIGHT * level).unwrap_or(0) > 0 {
        let stored = size >> (TILE_HEIGHT * level);
        let index = (stored - 1) / TILE_WIDTH;
        let width = tile_width(size, level, index);
        let level_u8 = u8::try_from(level).unwrap_or(u8::MAX);
        edge.push(format!("tlog/{}", tile_path(level_u8, index, width)));
        if level == 0 {
            edge.push(format!("tlog/{}", entries_path(index, width)));
            edge.push(format!("tlog/{}", records_path(index, width)));
        }
        level += 1;
    }
    if edge.iter().all(|rel| exported_file_exists(dir, rel)) {
        size
    } else {
        0
    }
}

/// Re-exports into `dir` whenever something was published, checking at most every `interval`
/// (the generation counter moves with every publish, on any instance sharing the database).
/// Runs until the process ends; a failed export is logged and tried again next time.
pub async fn export_on_schedule(db: Db, dir: PathBuf, interval: Duration, clock: Arc<dyn Clock>) {
    let mut exported: Option<i64> = None;
    loop {
        match db.generation().await {
            Ok(generation) if exported != Some(generation) => {
                match export(&db, &dir, clock.as_ref()).await {
                    Ok(summary) => {
                        tracing::info!(
                            dir = %dir.display(),
                            generation,
                            keys = summary.keys,
                            records = summary.records,
                            files_written = summary.files_written,
                            "static export written"
                        );
                        exported = Some(generation);
                    }
                    Err(e) => {
                        tracing::error!(dir = %dir.display(), error = %e, "static export failed")
                    }
                }
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "static export: cannot read the generation"),
        }
        tokio::time::sleep(interval).await;
    }
}
