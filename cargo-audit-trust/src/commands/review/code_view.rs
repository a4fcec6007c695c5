//! The crate's code as a reviewer reads it: every published file, as a sorted tree, each file
//! with line numbers and its riskiest lines marked. Like the diffs, a file's lines are made only
//! when it is first shown, so a crate with thousands of files opens at once.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use audit_trust_core::provenance::text_diff::{Content, content};

use super::highlight::{Risk, risky_lines};
use crate::output::{escape, thousands};

/// One published file, as the worker read it from the verified crate store.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeFile {
    /// Terminal-safe path.
    pub path: String,
    pub contents: Arc<Vec<u8>>,
    /// A build script of the package (its process, network and environment calls are marked).
    pub build_script: bool,
    /// Lines of text; 0 for a binary file.
    pub lines: usize,
    /// Against the newest audited version: `new` or `mod`; `None` when unchanged or no base.
    pub changed: Option<&'static str>,
}

/// A crate's files as the worker delivers them.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedCode {
    pub name: String,
    pub version: String,
    /// The newest audited version the `changed` marks compare with.
    pub base: Option<String>,
    /// Sorted by path.
    pub files: Vec<CodeFile>,
}

impl LoadedCode {
    /// Total lines of text in the crate: what "read N of M lines" counts against.
    pub fn total_lines(&self) -> usize {
        self.files.iter().map(|f| f.lines).sum()
    }
}

/// Lines of a text file, counted the way they are shown (a last line without `\n` counts).
pub fn count_lines(bytes: &[u8]) -> usize {
    match content(bytes) {
        Content::Text(text) => text.split_terminator('\n').count(),
        Content::Binary | Content::NotUtf8 => 0,
    }
}

/// One numbered line of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeLine {
    pub number: usize,
    /// Terminal-safe text.
    pub text: String,
    pub risk: Option<Risk>,
}

/// A file as shown: its lines, or a note that replaces them (binary, not UTF-8).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShownFile {
    pub note: Option<String>,
    pub lines: Vec<CodeLine>,
}

/// A row of the file tree: a folder heading or a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeRow {
    pub depth: usize,
    pub label: String,
    /// The file's index; `None` for a folder.
    pub file: Option<usize>,
}

/// The code screen: which file, how far scrolled, and the files shown so far.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeView {
    pub code: LoadedCode,
    pub file: usize,
    pub scroll: usize,
    shown: HashMap<usize, ShownFile>,
}

impl CodeView {
    /// Opens on the library root when there is one (where reading usually starts), else the
    /// first file.
    pub fn new(code: LoadedCode) -> CodeView {
        let file = code
            .files
            .iter()
            .position(|f| f.path == "src/lib.rs")
            .unwrap_or(0);
        let mut view = CodeView {
            code,
            file,
            scroll: 0,
            shown: HashMap::new(),
        };
        view.show_current();
        view
    }

    pub fn current(&self) -> Option<&CodeFile> {
        self.code.files.get(self.file)
    }

    pub fn shown(&self) -> Option<&ShownFile> {
        self.shown.get(&self.file)
    }

    pub fn select_file(&mut self, index: usize) {
        if index < self.code.files.len() {
            self.file = index;
            self.scroll = 0;
            self.show_current();
        }
    }

    /// The next (or previous) file whose index `wanted` accepts, wrapping around; stays put
    /// when none does.
    pub fn jump(&mut self, forward: bool, wanted: impl Fn(usize) -> bool) {
        let count = self.code.files.len();
        for step in 1..count {
            let index = if forward {
                (self.file + step) % count
            } else {
                (self.file + count - step) % count
            };
            if wanted(index) {
                self.select_file(index);
                return;
            }
        }
    }

    pub fn scroll_by(&mut self, delta: isize, page: usize) {
        let length = self.shown().map_or(0, |s| s.lines.len());
        let max = length.saturating_sub(page.max(1));
        self.scroll = self.scroll.saturating_add_signed(delta).min(max);
    }

    /// The lines of the current file a page of `page` rows has shown, counted from the top:
    /// what "read" means for the read count.
    pub fn lines_seen(&self, page: usize) -> usize {
        let length = self.current().map_or(0, |f| f.lines);
        (self.scroll + page).min(length)
    }

    /// Folder headings and files, in path order, folders indented by depth.
    pub fn tree(&self) -> Vec<TreeRow> {
        let mut rows = Vec::new();
        let mut open: Vec<&str> = Vec::new();
        for (index, file) in self.code.files.iter().enumerate() {
            let mut parts: Vec<&str> = file.path.split('/').collect();
            let name = parts.pop().unwrap_or_default();
            let common = open.iter().zip(&parts).take_while(|(a, b)| a == b).count();
            open.truncate(common);
            for (depth, folder) in parts.iter().enumerate().skip(common) {
                rows.push(TreeRow {
                    depth,
                    label: format!("{folder}/"),
                    file: None,
                });
                open.push(folder);
            }
            rows.push(TreeRow {
                depth: parts.len(),
                label: name.to_owned(),
                file: Some(index),
            });
        }
        rows
    }

    fn show_current(&mut self) {
        if self.shown.contains_key(&self.file) {
            return;
        }
        if let Some(file) = self.code.files.get(self.file) {
            self.shown.insert(self.file, show_file(file));
        }
    }
}

fn show_file(file: &CodeFile) -> ShownFile {
    let size = thousands(u64::try_from(file.contents.len()).unwrap_or(u64::MAX));
    let text = match content(&file.contents) {
        Content::Text(text) => text,
        Content::Binary => {
            return ShownFile {
                note: Some(format!("binary file, {size} bytes: not shown")),
                lines: Vec::new(),
            };
        }
        Content::NotUtf8 => {
            return ShownFile {
                note: Some(format!(
                    "not UTF-8 text (so not Rust source), {size} bytes: not shown"
                )),
                lines: Vec::new(),
            };
        }
    };
    let risks: BTreeMap<usize, Risk> = if file.path.ends_with(".rs") {
        risky_lines(&file.contents, file.build_script)
    } else {
        BTreeMap::new()
    };
    let lines = text
        .split_terminator('\n')
        .enumerate()
        .map(|(i, line)| CodeLine {
            number: i + 1,
            // Split on `\n` only: a `\r` stays in the line and is shown escaped, never hidden.
            text: escape::cell(line),
            risk: risks.get(&(i + 1)).copied(),
        })
        .collect();
    ShownFile { note: None, lines }
}

/// How much of one crate the reviewer has seen in the code screen.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reading {
    pub files: usize,
    pub lines: usize,
    /// Viewed files by index, with the lines of each seen so far.
    pub seen: BTreeMap<usize, usize>,
}

impl Reading {
    pub fn of(code: &LoadedCode) -> Reading {
        Reading {
            files: code.files.len(),
            lines: code.total_lines(),
            seen: BTreeMap::new(),
        }
    }

    pub fn viewed(&self, file: usize) -> bool {
        self.seen.contains_key(&file)
    }

    pub fn record(&mut self, file: usize, lines: usize) {
        let seen = self.seen.entry(file).or_insert(0);
        *seen = (*seen).max(lines);
    }

    pub fn complete(&self) -> bool {
        self.seen.len() >= self.files
    }

    /// "read 12 of 15 files, 1,840 of 2,010 lines".
    pub fn summary(&self) -> String {
        let lines: usize = self.seen.values().sum();
        let n = |v: usize| thousands(u64::try_from(v).unwrap_or(u64::MAX));
        let of = |v: usize, one: &str, many: &str| {
            crate::output::plural(u64::try_from(v).unwrap_or(u64::MAX), one, many)
        };
        format!(
            "read {} of {}, {} of {}",
            n(self.seen.len()),
            of(self.files, "file", "files"),
            n(lines),
            of(self.lines, "line", "lines")
        )
    }
}
