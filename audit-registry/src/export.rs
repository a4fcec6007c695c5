//! `audit-registry export DIR` and its schedule in `serve --export-dir`: every key's head and
//! records written as static files (layout and write order in
//! [`audit_trust_core::signoff::static_export`]), so reads can be served by any web server, object
//! store or CDN and the registry itself only takes writes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use audit_trust_core::signoff::static_export::{
    ExportRecord, ExportSummary, KeyExport, LogExport, write_export_with_log,
};
use audit_trust_core::signoff::{PublicKey, RecordId, SignedHead};
use audit_trust_core::time::Clock;
use audit_trust_core::tlog::{
    Hash, LogEntry, TILE_WIDTH, entries_path, entry_bundle, hash_tile, records_path, tile_path,
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
    let log = log_export(db).await?;
    let dir = dir.to_owned();
    let now = clock.now();
    tokio::task::spawn_blocking(move || write_export_with_log(&dir, &logs, now, log.as_ref()))
        .await
        .map_err(|e| ExportError::Task(e.to_string()))?
        .map_err(ExportError::from)
}

/// The transparency log as C2SP tiles under `tlog/`: for every entry up to the latest
/// checkpoint, the level-0 hash tiles, entry bundles and record lines, and that checkpoint
/// (with its cosignatures).
async fn log_export(db: &Db) -> Result<Option<LogExport>, ExportError> {
    let (size, note) = {
        let log = db.log_state().await?;
        match log.checkpoint.as_ref() {
            Some(c) => (c.size, c.note.clone()),
            None => return Ok(None),
        }
    };
    let checkpoint = with_cosignature_lines(&note, &db.cosignatures(size).await?);
    let mut entries = Vec::new();
    for (_, crate_name, ordinal, record_id, record) in db.log_entries(0, size).await? {
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
        let (index, width) = (i as u64, chunk.len() as u64);
        let hashes: Vec<Hash> = chunk.iter().map(|(e, _)| e.leaf_hash()).collect();
        let bundle: Vec<LogEntry> = chunk.iter().map(|(e, _)| e.clone()).collect();
        let records: String = chunk.iter().map(|(_, r)| format!("{r}\n")).collect();
        files.push((
            format!("tlog/{}", tile_path(0, index, width)),
            hash_tile(&hashes),
        ));
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
    }))
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
