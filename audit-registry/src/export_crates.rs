//! The crate index and version trees of the exported checkpoint as static files (layout in
//! [`audit_trust_core::tlog::static_crates`](audit_trust_core::tlog)), so a `--url` client
//! reads a lockfile's crates through the log's commitments without the registry's API.
//!
//! Every file is named by its hash and never changes, so only what is not on disk yet is
//! written: the manifest of the new index root, the runs of leaves that changed, and for each
//! crate whose version tree changed its leaf list and the entry lists (with records) of its
//! new leaves.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use audit_trust_core::signoff::RecordId;
use audit_trust_core::signoff::static_export::exported_file_exists;
use audit_trust_core::signoff::static_writer::ExportWriter;
use audit_trust_core::tlog::{
    Checkpoint, FiledLeaf, Hash, IndexLeaf, SignedNote, StaticVersionLeaf, crate_path, index_files,
    index_path, leaf_file, leaf_path, path_safe_name, run_path, version_leaf_digest,
};

use crate::db::log::LogState;
use crate::db::{Db, DbError};
use crate::export::{ExportError, write_log_files};

/// Crates whose version leaves are copied under one hold of the log's lock.
const CRATES_PER_LOCK: usize = 500;
/// Records read from the database at a time for leaf files.
const RECORDS_PER_READ: usize = 2_000;

/// The crate index at the checkpoint being exported, taken under the log's lock.
pub(crate) struct IndexSnapshot {
    size: u64,
    root: Hash,
    leaves: Vec<IndexLeaf>,
    /// Crates with entries since the exported checkpoint (`None`: every crate is checked).
    changed: Option<BTreeSet<String>>,
}

/// Takes the index of `log` when it is at the checkpoint of `size` (`None` when the state has
/// moved past it: the export then writes no checkpoint, and the next one catches up).
/// `from`: the size whose index files are already on disk (0: none known).
pub(crate) fn snapshot(log: &mut LogState, size: u64, from: u64) -> Option<IndexSnapshot> {
    if log.entries.len() as u64 != size {
        return None;
    }
    let changed = (from > 0).then(|| {
        log.entries
            .get(from as usize..)
            .unwrap_or_default()
            .iter()
            .map(|e| e.crate_name.clone())
            .collect()
    });
    Some(IndexSnapshot {
        size,
        root: log.index.root(),
        leaves: log.index.leaves(),
        changed,
    })
}

/// The size of the checkpoint on disk in `dir` when its index manifest is there too (its
/// crate files then are as well: they are written before it), else 0.
pub(crate) fn index_on_disk(dir: &Path, checkpoint_text: Option<&str>) -> u64 {
    let Some(checkpoint) = checkpoint_text
        .and_then(|t| SignedNote::parse(t).ok())
        .and_then(|n| Checkpoint::parse_body(&n.body).ok())
    else {
        return 0;
    };
    match checkpoint.crate_index() {
        Ok((_, root)) if exported_file_exists(dir, &index_path(&root)) => checkpoint.size,
        _ => 0,
    }
}

/// Writes the files of `snapshot` that are not on disk: leaf files, crate files, runs, and
/// the manifest last.
pub(crate) async fn export_index(
    db: &Db,
    mut writer: ExportWriter,
    snapshot: IndexSnapshot,
) -> Result<ExportWriter, ExportError> {
    let dir = writer.dir().to_owned();
    let stale: Vec<&IndexLeaf> = snapshot
        .leaves
        .iter()
        .filter(|l| path_safe_name(l.name()))
        .filter(|l| {
            snapshot
                .changed
                .as_ref()
                .is_none_or(|c| c.contains(l.name()))
        })
        .filter(|l| l.2 > 0)
        .filter(|l| {
            l.versions_root()
                .is_none_or(|r| !exported_file_exists(&dir, &crate_path(l.name(), &r)))
        })
        .collect();
    for batch in stale.chunks(CRATES_PER_LOCK) {
        let leaves: Vec<(String, Vec<FiledLeaf>)> = {
            let log = db.log_state().await?;
            batch
                .iter()
                .map(|l| {
                    let name = l.name().to_owned();
                    let leaves = log.index.version_leaves_at(&name, snapshot.size);
                    (name, leaves)
                })
                .collect()
        };
        writer = write_crates(db, writer, &dir, leaves, batch).await?;
    }
    let (manifest, runs) = index_files(&snapshot.leaves)?;
    let mut files = Vec::new();
    for (root, leaves) in runs {
        let path = run_path(&root);
        if !exported_file_exists(&dir, &path) {
            files.push((path, to_json(&leaves)?));
        }
    }
    files.push((index_path(&snapshot.root), to_json(&manifest)?));
    write_log_files(writer, files).await
}

/// The files of one batch of crates: each new leaf's entries with their records, then the
/// crate's leaf list, named by the version root its index leaf commits to.
async fn write_crates(
    db: &Db,
    mut writer: ExportWriter,
    dir: &Path,
    crates: Vec<(String, Vec<FiledLeaf>)>,
    index: &[&IndexLeaf],
) -> Result<ExportWriter, ExportError> {
    let mut files = Vec::new();
    let mut wanted: Vec<(String, Vec<(u64, RecordId)>)> = Vec::new();
    for ((name, leaves), indexed) in crates.iter().zip(index) {
        let mut listed = Vec::with_capacity(leaves.len());
        for (version, key, entries) in leaves {
            let digest = version_leaf_digest(entries);
            listed.push(StaticVersionLeaf(
                version.clone(),
                key.clone(),
                entries.len() as u64,
                audit_trust_core::signoff::hex(&digest),
            ));
            let path = leaf_path(name, &digest);
            if !exported_file_exists(dir, &path) {
                wanted.push((path, entries.clone()));
            }
        }
        let Some(root) = indexed.versions_root() else {
            continue;
        };
        files.push((crate_path(name, &root), to_json(&listed)?));
    }
    // Leaf files before the crate files that name them.
    for part in wanted.chunks(RECORDS_PER_READ / 4) {
        let ids: Vec<String> = part
            .iter()
            .flat_map(|(_, e)| e.iter().map(|(_, id)| id.to_string()))
            .collect();
        let mut bodies: BTreeMap<String, String> = BTreeMap::new();
        for ids in ids.chunks(RECORDS_PER_READ) {
            for row in db.records_by_id(ids).await? {
                bodies.insert(row.id, compact(&row.body));
            }
        }
        let mut leaf_files = Vec::with_capacity(part.len());
        for (path, entries) in part {
            let mut records = Vec::with_capacity(entries.len());
            for (_, id) in entries {
                let body = bodies.get(&id.to_string()).ok_or_else(|| {
                    DbError::Unavailable(format!("record {id} is in the log but not stored"))
                })?;
                records.push(body.as_str());
            }
            leaf_files.push((path.clone(), leaf_file(entries, &records)));
        }
        writer = write_log_files(writer, leaf_files).await?;
    }
    write_log_files(writer, files).await
}

/// A stored record on one line (bodies are stored as signed, normally one line already).
fn compact(body: &str) -> String {
    if !body.contains('\n') {
        return body.to_owned();
    }
    serde_json::from_str::<serde_json::Value>(body)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| body.replace('\n', " "))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, ExportError> {
    let mut bytes = serde_json::to_vec(value).map_err(|e| ExportError::Task(e.to_string()))?;
    bytes.push(b'\n');
    Ok(bytes)
}
