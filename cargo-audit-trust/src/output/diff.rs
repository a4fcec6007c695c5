//! Human output of `diff` (against the repository, and between two versions). Every piece of text that comes from a crate or a repository goes
//! through the block or line escaping of `output::escape` before it is written.

use std::fmt::Write as _;

use audit_trust_core::provenance::text_diff::{line_changes, not_text_note, unified_diff};
use audit_trust_core::provenance::versions::{ChangeStatus, VersionDiff};
use audit_trust_core::provenance::{
    CommitSource, FileComparison, FileStatus, FolderSource, ProvenanceReport, RepositorySource,
    Unverifiable, Verdict, refs::describe_ref,
};
use audit_trust_core::tarball::CrateArchive;

use super::Palette;
use super::escape;

/// Lines of context around each change in a unified diff.
pub const CONTEXT_LINES: usize = 3;

/// How much of the report's context is shown around the verdict and the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// `-q`: the verdict, its reason, warnings and the files.
    Quiet,
    /// Also the repository, commit, tag, folder and counts.
    Normal,
    /// `-v`: also what was fetched, round by round, so a deeper fetch is never silent.
    Verbose,
}

impl Detail {
    pub fn from_flags(quiet: bool, verbose: bool) -> Detail {
        match (quiet, verbose) {
            (true, _) => Detail::Quiet,
            (false, true) => Detail::Verbose,
            (false, false) => Detail::Normal,
        }
    }
}

pub fn render_provenance(
    report: &ProvenanceReport,
    archive: &CrateArchive,
    stat: bool,
    detail: Detail,
    palette: &Palette,
) -> String {
    let mut out = String::new();
    let verdict = match report.verdict {
        Verdict::Matches => "matches",
        Verdict::Differs if report.line_endings_only() => "DIFFERS (line endings only)",
        Verdict::Differs => "DIFFERS",
        Verdict::Unverifiable => "UNVERIFIABLE",
    };
    let heading = format!(
        "{} {}: {verdict}",
        escape::line(&report.name),
        escape::line(&report.version)
    );
    let _ = writeln!(out, "{}", palette.paint(palette.bold, &heading));
    let _ = writeln!(out, "  {}", escape::line(&report.reason));
    if matches!(
        report.unverifiable,
        Some(Unverifiable::RepositoryUnreachable(_))
    ) {
        let _ = writeln!(
            out,
            "  hint: `--repo PATH` compares with a local clone or mirror; `[url-rewrite]` in \
             Cargo.audit or in your own config.toml fetches from a mirror (see docs/cargo-audit.md)"
        );
    }
    if detail != Detail::Quiet {
        summary(&mut out, report);
    }
    if detail == Detail::Verbose {
        fetch_rounds(&mut out, report);
    }
    for warning in &report.warnings {
        let _ = writeln!(out, "warning: {}", escape::line(warning));
    }
    let differing: Vec<&FileComparison> = report.differing_files().collect();
    if differing.is_empty() {
        return out;
    }
    let _ = writeln!(out, "\nFiles that differ:");
    let width = differing
        .iter()
        .map(|f| f.status.as_str().len())
        .max()
        .unwrap_or(0);
    for file in &differing {
        let counts = if stat {
            stat_of(file, archive)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "  {:<width$}  {}{counts}",
            file.status.as_str(),
            escape::line(&file.path)
        );
        if let Some(note) = &file.note {
            let _ = writeln!(out, "  {:<width$}    {}", "", escape::line(note));
        }
    }
    if !stat {
        for file in differing {
            out.push('\n');
            out.push_str(&file_diff(file, archive));
        }
    }
    out
}

fn summary(out: &mut String, report: &ProvenanceReport) {
    let mut field = |label: &str, value: String| {
        let _ = writeln!(out, "  {label:<11} {}", escape::line(&value));
    };
    if let Some(repository) = &report.repository {
        let source = match report.repository_source {
            Some(RepositorySource::Pinned) => "pinned",
            Some(RepositorySource::SignedOff) => "signed off",
            Some(RepositorySource::Claimed) => "claimed by the crate",
            None => "",
        };
        let via = report
            .fetched_from
            .as_deref()
            .map(|f| format!(", fetched from {f}"))
            .unwrap_or_default();
        field("repository", format!("{repository} ({source}{via})"));
    }
    if let Some(commit) = &report.commit {
        let how = match report.commit_source {
            Some(CommitSource::VcsInfo) => "from .cargo_vcs_info.json",
            Some(CommitSource::Tag) => "from the version tag",
            None => "",
        };
        let on = report
            .reference
            .as_deref()
            .map(|r| format!(", on {}", describe_ref(r)))
            .unwrap_or_default();
        let dirty = if report.dirty { ", dirty" } else { "" };
        field("commit", format!("{commit} ({how}{on}{dirty})"));
    }
    if let Some(tag) = &report.tag {
        let mismatch = if report.tag_commit_mismatch {
            " (points to another commit)"
        } else {
            ""
        };
        field("tag", format!("{tag}{mismatch}"));
    }
    if let Some(folder) = &report.package_folder {
        let how = match report.package_folder_source {
            Some(FolderSource::PathInVcs) => "from path_in_vcs",
            Some(FolderSource::ManifestSearch) => "found by its Cargo.toml",
            None => "",
        };
        let shown = if folder.is_empty() {
            "(repository root)"
        } else {
            folder
        };
        field("package", format!("{shown} ({how})"));
    }
    if !report.files.is_empty() {
        let differ = report.differing_files().count();
        field(
            "files",
            format!(
                "{} identical, {} generated, {differ} differ; {} only in the repository",
                report.count(FileStatus::Identical),
                report.count(FileStatus::Generated),
                report.only_in_repository
            ),
        );
    }
}

/// `-v`: the fetch rounds in the order they ran (the ref fetched one commit deep, each deeper
/// round and why, a server without shallow support, a repaired cache), or how the repository
/// was read when nothing was fetched.
fn fetch_rounds(out: &mut String, report: &ProvenanceReport) {
    let mut label = "fetch";
    for note in &report.fetch {
        let _ = writeln!(out, "  {label:<11} {}", escape::line(note));
        label = "";
    }
}

/// ` (+3 -1)`, or a note for content that is not text.
fn stat_of(file: &FileComparison, archive: &CrateArchive) -> String {
    let published = archive
        .get(&file.path)
        .map(|f| f.contents.as_slice())
        .unwrap_or_default();
    let theirs = file.repository_contents.as_deref().unwrap_or_default();
    match file.status {
        FileStatus::ManifestMismatch => String::new(),
        _ => match line_changes(theirs, published) {
            Some(c) => format!(" (+{} -{})", c.added, c.removed),
            None => " (binary)".to_owned(),
        },
    }
}

/// The unified diff of one file (repository → published), or a note when there is none to show.
fn file_diff(file: &FileComparison, archive: &CrateArchive) -> String {
    let published = archive
        .get(&file.path)
        .map(|f| f.contents.as_slice())
        .unwrap_or_default();
    let repository_path = file.repository_path.as_deref().unwrap_or(&file.path);
    let header = format!(
        "=== {} ({})\n",
        escape::line(&file.path),
        file.status.as_str()
    );
    let body = match file.status {
        FileStatus::ManifestMismatch => {
            "the normalized Cargo.toml does not build what Cargo.toml.orig describes (see above)\n"
                .to_owned()
        }
        FileStatus::LineEndings => {
            "the same text with other line endings (CRLF vs LF): every line differs\n".to_owned()
        }
        FileStatus::Modified | FileStatus::OnlyInTarball => {
            let theirs = file.repository_contents.as_deref().unwrap_or_default();
            let old_label = match file.status {
                FileStatus::OnlyInTarball => "/dev/null".to_owned(),
                _ => format!("repository/{}", escape::line(repository_path)),
            };
            match unified_diff(
                theirs,
                published,
                &old_label,
                &format!("published/{}", escape::line(&file.path)),
                CONTEXT_LINES,
            ) {
                Some(diff) => escape::block(&diff),
                None => format!("{}\n", not_text_note(theirs, published)),
            }
        }
        FileStatus::Identical | FileStatus::Generated => String::new(),
    };
    header + &body
}

/// `diff NAME OLD NEW`: the changed files with their line counts, then (unless `stat`) each
/// file's unified diff.
pub fn render_versions(
    diff: &VersionDiff,
    old: &CrateArchive,
    new: &CrateArchive,
    stat: bool,
    palette: &Palette,
) -> String {
    let t = &diff.totals;
    let mut out = String::new();
    let heading = format!(
        "{} {} → {}: {} changed ({} added, {} removed, {} modified), +{} -{} lines; {} unchanged",
        diff.name,
        diff.old_version,
        diff.new_version,
        super::plural(diff.files.len() as u64, "file", "files"),
        t.files_added,
        t.files_removed,
        t.files_modified,
        t.lines_added,
        t.lines_removed,
        t.files_unchanged
    );
    let _ = writeln!(out, "{}", palette.paint(palette.bold, &heading));
    let width = diff
        .files
        .iter()
        .map(|f| f.path.chars().count())
        .max()
        .unwrap_or(0);
    for file in &diff.files {
        let mark = match file.status {
            ChangeStatus::Added => "A",
            ChangeStatus::Removed => "D",
            ChangeStatus::Modified => "M",
        };
        let counts = if file.binary {
            "binary".to_owned()
        } else {
            format!("+{} -{}", file.lines_added, file.lines_removed)
        };
        let path = escape::line(&file.path);
        let _ = writeln!(out, "  {mark}  {path:<width$}  {counts}");
    }
    if stat {
        return out;
    }
    for file in &diff.files {
        let before = old
            .get(&file.path)
            .map(|f| f.contents.as_slice())
            .unwrap_or_default();
        let after = new
            .get(&file.path)
            .map(|f| f.contents.as_slice())
            .unwrap_or_default();
        let old_label = match file.status {
            ChangeStatus::Added => "/dev/null".to_owned(),
            _ => format!("{}/{}", diff.old_version, escape::line(&file.path)),
        };
        let new_label = match file.status {
            ChangeStatus::Removed => "/dev/null".to_owned(),
            _ => format!("{}/{}", diff.new_version, escape::line(&file.path)),
        };
        out.push('\n');
        match unified_diff(before, after, &old_label, &new_label, CONTEXT_LINES) {
            Some(text) => out.push_str(&escape::block(&text)),
            None => {
                let _ = writeln!(
                    out,
                    "=== {}: {}",
                    escape::line(&file.path),
                    not_text_note(before, after)
                );
            }
        }
    }
    out
}
