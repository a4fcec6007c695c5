//! A loaded diff (tarball vs git, or version vs version) and the lines shown for it. The
//! unified diff of a file is computed only when that file is first shown, so a crate with
//! thousands of files opens at once and a long file costs nothing until it is looked at.

use std::collections::HashMap;
use std::sync::Arc;

use audit_trust_core::provenance::text_diff::{not_text_note, unified_diff};

use crate::output::diff::CONTEXT_LINES;
use crate::output::escape;

/// Which comparison a diff is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffKind {
    /// The published tarball against its git repository.
    Provenance,
    /// The change from the newest audited version.
    Delta,
}

/// One file of a diff with both sides' bytes (shared, not copied, between the worker and the
/// state).
#[derive(Debug, Clone, PartialEq)]
pub struct DiffFile {
    /// Terminal-safe path.
    pub path: String,
    /// `modified`, `only_in_tarball`, `A`/`D`/`M`… as a word.
    pub status: String,
    /// Whether the file is a change at all (identical and generated files are listed, not diffed).
    pub changed: bool,
    pub old: Arc<Vec<u8>>,
    pub new: Arc<Vec<u8>>,
    pub old_label: String,
    pub new_label: String,
    /// An explanation that replaces the diff (line endings, manifest mismatch).
    pub note: Option<String>,
}

/// A diff as the worker delivers it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedDiff {
    pub kind: DiffKind,
    pub name: String,
    pub version: String,
    /// "leafy 2.0.0: DIFFERS", "leafy 1.0.0 → 2.0.0: 2 files changed": terminal-safe.
    pub title: String,
    /// Verdict, reason, repository, release link…: terminal-safe lines.
    pub summary: Vec<String>,
    pub files: Vec<DiffFile>,
}

/// A diff on screen: which file, how far scrolled, and the files rendered so far.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffView {
    pub diff: LoadedDiff,
    pub file: usize,
    pub scroll: usize,
    rendered: HashMap<usize, Vec<String>>,
}

impl DiffView {
    /// Opens on the first changed file (the summary when nothing changed).
    pub fn new(diff: LoadedDiff) -> DiffView {
        let file = diff.files.iter().position(|f| f.changed).unwrap_or(0);
        let mut view = DiffView {
            diff,
            file,
            scroll: 0,
            rendered: HashMap::new(),
        };
        view.render_current();
        view
    }

    /// The lines of the current file (the summary first when the diff has no files).
    pub fn lines(&self) -> &[String] {
        self.rendered.get(&self.file).map_or(&[], Vec::as_slice)
    }

    /// How many files have been rendered: lazy loading made visible to tests.
    #[cfg(test)]
    pub fn rendered_files(&self) -> usize {
        self.rendered.len()
    }

    pub fn select_file(&mut self, index: usize) {
        if index < self.diff.files.len() {
            self.file = index;
            self.scroll = 0;
            self.render_current();
        }
    }

    /// The next (or previous) changed file, wrapping around.
    pub fn jump(&mut self, forward: bool) {
        let count = self.diff.files.len();
        if count == 0 {
            return;
        }
        for step in 1..=count {
            let index = if forward {
                (self.file + step) % count
            } else {
                (self.file + count - step % count) % count
            };
            if self.diff.files.get(index).is_some_and(|f| f.changed) {
                self.select_file(index);
                return;
            }
        }
    }

    pub fn scroll_by(&mut self, delta: isize, page: usize) {
        let max = self.lines().len().saturating_sub(page.max(1));
        self.scroll = self.scroll.saturating_add_signed(delta).min(max);
    }

    fn render_current(&mut self) {
        if self.rendered.contains_key(&self.file) {
            return;
        }
        let lines = match self.diff.files.get(self.file) {
            None => self.diff.summary.clone(),
            Some(file) => render_file(file),
        };
        self.rendered.insert(self.file, lines);
    }
}

fn render_file(file: &DiffFile) -> Vec<String> {
    let mut lines = vec![format!("=== {} ({})", file.path, file.status)];
    if let Some(note) = &file.note {
        lines.push(note.clone());
        return lines;
    }
    if !file.changed {
        lines.push(format!(
            "no change to show: {} (c shows the code)",
            file.status
        ));
        return lines;
    }
    match unified_diff(
        &file.old,
        &file.new,
        &file.old_label,
        &file.new_label,
        CONTEXT_LINES,
    ) {
        // Split on `\n` only: a `\r` stays in the line and is shown escaped, never hidden.
        Some(text) => lines.extend(text.split_terminator('\n').map(escape::cell)),
        None => lines.push(not_text_note(&file.old, &file.new)),
    }
    lines
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{DiffFile, DiffKind, DiffView, LoadedDiff};

    #[test]
    fn file_contents_cannot_drive_the_terminal() {
        let file = DiffFile {
            path: "src/lib.rs".into(),
            status: "modified".into(),
            changed: true,
            old: Arc::new(b"a\n".to_vec()),
            new: Arc::new(b"a\n\x1b[2J\tb\r\n".to_vec()),
            old_label: "old".into(),
            new_label: "new".into(),
            note: None,
        };
        let view = DiffView::new(LoadedDiff {
            kind: DiffKind::Delta,
            name: "x".into(),
            version: "1.0.0".into(),
            title: "t".into(),
            summary: Vec::new(),
            files: vec![file],
        });
        let added: Vec<&String> = view
            .lines()
            .iter()
            .filter(|l| l.starts_with("+\\"))
            .collect();
        assert_eq!(added, ["+\\u{1b}[2J    b\\r"]);
        assert!(
            view.lines()
                .iter()
                .all(|l| !l.chars().any(char::is_control))
        );
    }
}
