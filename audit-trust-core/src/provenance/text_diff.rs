//! Line diffs between two versions of a file (with `similar`). Content that is binary or not
//! UTF-8 is never diffed as text: callers show a note instead. The output is raw text; escaping
//! control characters for a terminal is the renderer's job.

use std::time::Duration;

use similar::{Algorithm, ChangeTag, TextDiff};

/// Beyond this, a diff settles for a coarser (still correct) result instead of running on.
const DIFF_TIMEOUT: Duration = Duration::from_secs(5);

/// Bytes inspected for NUL when deciding whether content is binary (git does the same).
const BINARY_SNIFF_BYTES: usize = 8000;

/// Text, or why it is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content<'a> {
    Text(&'a str),
    Binary,
    NotUtf8,
}

pub fn content(bytes: &[u8]) -> Content<'_> {
    if bytes[..bytes.len().min(BINARY_SNIFF_BYTES)].contains(&0) {
        return Content::Binary;
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Content::Text(text),
        Err(_) => Content::NotUtf8,
    }
}

/// Lines added and removed going from `old` to `new`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct LineChanges {
    pub added: usize,
    pub removed: usize,
}

/// `None` when either side is not text.
pub fn line_changes(old: &[u8], new: &[u8]) -> Option<LineChanges> {
    let (Content::Text(old), Content::Text(new)) = (content(old), content(new)) else {
        return None;
    };
    let diff = line_diff(old, new);
    let mut changes = LineChanges::default();
    for change in diff.iter_all_changes() {
        match change.tag() {
            ChangeTag::Insert => changes.added += 1,
            ChangeTag::Delete => changes.removed += 1,
            ChangeTag::Equal => {}
        }
    }
    Some(changes)
}

/// A unified diff with `context` lines around each change, headed `--- old_label` and
/// `+++ new_label`; `None` when either side is not text.
pub fn unified_diff(
    old: &[u8],
    new: &[u8],
    old_label: &str,
    new_label: &str,
    context: usize,
) -> Option<String> {
    let (Content::Text(old), Content::Text(new)) = (content(old), content(new)) else {
        return None;
    };
    let diff = line_diff(old, new);
    Some(
        diff.unified_diff()
            .context_radius(context)
            .missing_newline_hint(true)
            .header(old_label, new_label)
            .to_string(),
    )
}

fn line_diff<'a>(old: &'a str, new: &'a str) -> TextDiff<'a, 'a, 'a, str> {
    TextDiff::configure()
        .algorithm(Algorithm::Myers)
        .timeout(DIFF_TIMEOUT)
        .diff_lines(old, new)
}

/// Why a file cannot be shown as a diff, for a note.
pub fn not_text_note(old: &[u8], new: &[u8]) -> String {
    let kind = |bytes: &[u8]| match content(bytes) {
        Content::Text(_) => "text",
        Content::Binary => "binary",
        Content::NotUtf8 => "not UTF-8",
    };
    format!(
        "not shown as text ({} bytes, {}; {} bytes, {})",
        old.len(),
        kind(old),
        new.len(),
        kind(new)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_unified_output() {
        let changes = line_changes(b"a\nb\nc\n", b"a\nB\nc\nd\n").expect("text");
        assert_eq!(
            changes,
            LineChanges {
                added: 2,
                removed: 1
            }
        );
        let diff = unified_diff(b"a\nb\n", b"a\nc\n", "old/x", "new/x", 3).expect("text");
        assert!(diff.starts_with("--- old/x\n+++ new/x\n@@"), "{diff}");
        assert!(diff.contains("-b\n+c\n"), "{diff}");
    }

    #[test]
    fn binary_and_invalid_utf8_are_not_diffed() {
        assert_eq!(content(b"\x00\x01"), Content::Binary);
        assert_eq!(content(b"caf\xe9"), Content::NotUtf8);
        assert_eq!(line_changes(b"x\n", b"\xff\xfe"), None);
        assert_eq!(unified_diff(b"\x00", b"x", "a", "b", 3), None);
        assert!(not_text_note(b"\x00", b"x").contains("binary"));
    }
}
