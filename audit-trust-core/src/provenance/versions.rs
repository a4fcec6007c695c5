//! The change between two published versions of a crate, file by file: what a reviewer reads
//! instead of the whole crate. Both sides come from the same safe tarball reader.

use std::collections::BTreeMap;

use serde::Serialize;

use super::text_diff::{LineChanges, line_changes};
use crate::tarball::{CrateArchive, CrateFile};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeStatus {
    Added,
    Removed,
    Modified,
}

/// One file that is not the same in both versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileChange {
    pub path: String,
    pub status: ChangeStatus,
    /// Binary or not UTF-8 on either side: no line counts.
    pub binary: bool,
    pub lines_added: usize,
    pub lines_removed: usize,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ChangeTotals {
    pub files_added: usize,
    pub files_removed: usize,
    pub files_modified: usize,
    pub files_unchanged: usize,
    pub lines_added: usize,
    pub lines_removed: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionDiff {
    pub name: String,
    pub old_version: String,
    pub new_version: String,
    /// Changed files, sorted by path.
    pub files: Vec<FileChange>,
    pub totals: ChangeTotals,
}

impl VersionDiff {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// Compares every file of `old` with the same path in `new`.
pub fn diff_versions(
    name: &str,
    old_version: &str,
    old: &CrateArchive,
    new_version: &str,
    new: &CrateArchive,
) -> VersionDiff {
    let mut paths: BTreeMap<&str, (Option<&CrateFile>, Option<&CrateFile>)> = BTreeMap::new();
    for file in old.files() {
        paths.entry(&file.path).or_default().0 = Some(file);
    }
    for file in new.files() {
        paths.entry(&file.path).or_default().1 = Some(file);
    }
    let mut totals = ChangeTotals::default();
    let mut files = Vec::new();
    for (path, sides) in paths {
        let (status, before, after): (ChangeStatus, &[u8], &[u8]) = match sides {
            (Some(a), Some(b)) if a.contents == b.contents => {
                totals.files_unchanged += 1;
                continue;
            }
            (Some(a), Some(b)) => (ChangeStatus::Modified, &a.contents, &b.contents),
            (None, Some(b)) => (ChangeStatus::Added, &[], &b.contents),
            (Some(a), None) => (ChangeStatus::Removed, &a.contents, &[]),
            (None, None) => continue,
        };
        let lines = line_changes(before, after);
        let LineChanges { added, removed } = lines.unwrap_or_default();
        match status {
            ChangeStatus::Added => totals.files_added += 1,
            ChangeStatus::Removed => totals.files_removed += 1,
            ChangeStatus::Modified => totals.files_modified += 1,
        }
        totals.lines_added += added;
        totals.lines_removed += removed;
        files.push(FileChange {
            path: path.to_owned(),
            status,
            binary: lines.is_none(),
            lines_added: added,
            lines_removed: removed,
        });
    }
    VersionDiff {
        name: name.to_owned(),
        old_version: old_version.to_owned(),
        new_version: new_version.to_owned(),
        files,
        totals,
    }
}
