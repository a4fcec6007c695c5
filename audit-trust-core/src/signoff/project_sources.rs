//! All the records a project trusts: every auditor of `Cargo.audit` whose records are in a local
//! folder, each folder read once and verified for the auditors that share it. Registry and URL
//! sources are listed as not read yet (the registry is a later step).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::head_cache::HeadCache;
use super::source::{AcceptedRecord, RejectedItem, verify_source};
use super::store::LocalStore;
use crate::Error;
use crate::audit_file::{AuditFile, Auditor, RecordLocation};
use crate::time::Timestamp;

#[derive(Debug, Default)]
pub struct ProjectRecords {
    pub accepted: Vec<AcceptedRecord>,
    pub rejected: Vec<RejectedItem>,
    /// `(auditor, location)` of sources this version cannot read.
    pub unread: Vec<(String, String)>,
}

/// Reads and verifies the local folders of `audit_file` (relative to `audit_dir`).
pub fn verify_project_sources(
    audit_file: &AuditFile,
    audit_dir: &Path,
    cache: &HeadCache,
    now: Timestamp,
) -> Result<ProjectRecords, Error> {
    let mut out = ProjectRecords::default();
    let mut folders: BTreeMap<PathBuf, Vec<&Auditor>> = BTreeMap::new();
    for auditor in &audit_file.auditors {
        match &auditor.records {
            RecordLocation::Folder(_) => {
                let folder = auditor.records.folder(audit_dir).unwrap_or_default();
                // One folder reached by two spellings is still one source.
                let folder = std::fs::canonicalize(&folder).unwrap_or(folder);
                folders.entry(folder).or_default().push(auditor);
            }
            RecordLocation::Registry(url) | RecordLocation::Url(url) => {
                out.unread.push((auditor.name.clone(), url.clone()));
            }
        }
    }
    for (folder, auditors) in folders {
        let contents = LocalStore::new(&folder).read()?;
        let source_id = format!("folder:{}", folder.display());
        let verified = verify_source(contents, &folder, &auditors, &source_id, cache, now)?;
        out.accepted.extend(verified.accepted);
        out.rejected.extend(verified.rejected);
    }
    Ok(out)
}
