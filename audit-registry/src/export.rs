//! `audit-registry export DIR` and its schedule in `serve --export-dir`: every key's head and
//! records written as static files (layout and write order in
//! [`audit_trust_core::signoff::static_export`]), so reads can be served by any web server, object
//! store or CDN and the registry itself only takes writes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use audit_trust_core::signoff::static_export::{
    ExportRecord, ExportSummary, KeyExport, write_export,
};
use audit_trust_core::signoff::{PublicKey, SignedHead};
use audit_trust_core::time::Clock;

use crate::db::{Db, DbError};

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
    let dir = dir.to_owned();
    let now = clock.now();
    tokio::task::spawn_blocking(move || write_export(&dir, &logs, now))
        .await
        .map_err(|e| ExportError::Task(e.to_string()))?
        .map_err(ExportError::from)
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
