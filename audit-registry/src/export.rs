//! `audit-registry export DIR` and its schedule in `serve --export-dir`: every key's head and
//! records written as static files (layout and write order in
//! [`audit_trust_core::signoff::static_export`]), so reads can be served by any web server, object
//! store or CDN and the registry itself only takes writes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use audit_trust_core::signoff::static_export::{
    ExportRecord, ExportSummary, KeyExport, LogExport, exported_file_exists,
    exported_log_checkpoint, write_export_with_log,
};
use audit_trust_core::signoff::{PublicKey, RecordId, SignedHead};
use audit_trust_core::time::Clock;
use audit_trust_core::tlog::{
    Checkpoint, LogEntry, MemoryTree, NoteKey, SignedNote, TILE_HEIGHT, TILE_WIDTH, TlogError,
    entries_path, entry_bundle, records_path, tile_path, tile_width, tiles_between,
};

use crate::db::{Db, DbError};
use crate::witness::collect::with_cosignature_lines;

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

/// Writes the export of everything `db` holds into `dir`. Keys whose stored head does not
/// verify are left out (and logged): a reader would refuse them anyway.
pub async fn export(db: &Db, dir: &Path, clock: &dyn Clock) -> Result<ExportSummary, ExportError> {
    let mut logs: BTreeMap<PublicKey, KeyExport> = BTreeMap::new();
    for (key_text, stored) in db.heads().await? {
        let (Ok(key), Ok(head)) = (
            PublicKey::parse(&key_text),
            SignedHead::from_json(&stored.body),
        ) else {
            tracing::warn!(key = %key_text, "stored head does not verify; key left out of the export");
            continue;
        };
        // The head first, then its records: a publish committing in between adds records of a
        // later head, which the sequence bound leaves out.
        let records = db.export_records(&key_text, head.head().sequence).await?;
        logs.insert(
            key,
            KeyExport {
                head_json: stored.body,
                sequence: head.head().sequence,
                count: head.head().count,
                records: records
                    .into_iter()
                    .map(|(crate_name, line)| ExportRecord { crate_name, line })
                    .collect(),
            },
        );
    }
    let log = log_export(db, dir).await?;
    let dir = dir.to_owned();
    let now = clock.now();
    tokio::task::spawn_blocking(move || write_export_with_log(&dir, &logs, now, log.as_ref()))
        .await
        .map_err(|e| ExportError::Task(e.to_string()))?
        .map_err(ExportError::from)
}

/// The transparency log as C2SP tiles under `tlog/`: the hash tiles of every level, the entry
/// bundles and record lines, and the latest checkpoint (with its cosignatures). Only what the
/// log added since the checkpoint already in `dir` is built: full tiles never change, so the
/// ones below that size are on disk already.
async fn log_export(db: &Db, dir: &Path) -> Result<Option<LogExport>, ExportError> {
    let (size, note, from, mut files) = {
        let log = db.log_state().await?;
        let Some(c) = log.checkpoint.as_ref() else {
            return Ok(None);
        };
        let size = c.size;
        let from = exported_size(dir, db.log_key(), &log.tree).min(size);
        // Hash tiles come from the tree in memory: it holds every complete subtree's hash.
        let tiles = tiles_between(&log.tree, from, size)?;
        (size, c.note.clone(), from, tiles)
    };
    let checkpoint = with_cosignature_lines(&note, &db.cosignatures(size).await?);
    for file in &mut files {
        file.0 = format!("tlog/{}", file.0);
    }
    // Bundles start at the one holding entry `from` (partial then, larger or full now).
    let start = from - from % TILE_WIDTH;
    let stored = if from < size {
        db.log_entries(start, size - start).await?
    } else {
        Vec::new()
    };
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
    if from < size && entries.len() as u64 != size - start {
        return Err(DbError::Unavailable(format!(
            "the log has {} entries from {start}, its checkpoint {}",
            entries.len(),
            size - start
        ))
        .into());
    }
    for (i, chunk) in entries.chunks(TILE_WIDTH as usize).enumerate() {
        let (index, width) = (start / TILE_WIDTH + i as u64, chunk.len() as u64);
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
    Ok(Some(LogExport {
        files,
        checkpoint,
        size,
        from,
    }))
}

/// The size of the log the export in `dir` already holds, when everything below it can be
/// trusted to be there: its checkpoint is signed by this log's key, has the root this tree has
/// at that size (not another history, say from a restored database), and the right-edge tile
/// of every level, bundle and records of that size are on disk (an export made before upper
/// levels were written has none above level 0). Otherwise 0: everything is written (files that
/// already hold the right bytes are left alone).
fn exported_size(dir: &Path, key: &NoteKey, tree: &MemoryTree) -> u64 {
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
        || tree.root_at(size).ok() != Some(checkpoint.root)
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
