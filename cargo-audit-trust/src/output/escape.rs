//! The one place untrusted text is made safe to show. Text from crates, repositories, records,
//! advisories and registries (file and entry names, file contents, notes, reasons, URLs, and the
//! error messages that quote them) could otherwise carry a control character or an escape
//! sequence that redraws the terminal, hides lines or fakes output, or a bidirectional control
//! that reorders what is displayed ("Trojan Source"). Every such string goes through one of the
//! named [`Mode`]s before it is shown.
//!
//! An escape is written `\u{hex}` (newline, tab and carriage return as `\n`, `\t`, `\r`).
//! Backslashes are left as they are: the goal is that nothing invisible reaches the screen, not
//! a reversible encoding, and Windows paths and messages the core already escaped stay readable.

/// How a piece of untrusted text is going to be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One line of terminal output (a name, a path, a note, an error message): newlines, tabs
    /// and carriage returns are escaped too, so the text cannot fake a line of its own.
    TerminalLine,
    /// Several lines of terminal output (file contents, a diff): newlines and tabs are kept;
    /// a carriage return, which would let a line overwrite itself, is escaped.
    TerminalBlock,
    /// A cell of the review UI: one line, and a tab becomes four spaces (a cell grid has no
    /// tab stops).
    TerminalCell,
    /// Text inside a SARIF (JSON) document, which viewers such as code scanning render as
    /// lines: newlines and tabs are kept, everything else invisible is escaped. JSON encoding
    /// itself is serde's job.
    Document,
}

/// `text` as it is safe to show in `mode`.
pub fn escape(text: &str, mode: Mode) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match (c, mode) {
            ('\n' | '\t', Mode::TerminalBlock | Mode::Document) => out.push(c),
            ('\t', Mode::TerminalCell) => out.push_str("    "),
            ('\n', _) => out.push_str("\\n"),
            ('\t', _) => out.push_str("\\t"),
            ('\r', _) => out.push_str("\\r"),
            (c, _) if c.is_control() || is_invisible_layout(c) => {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            }
            (c, _) => out.push(c),
        }
    }
    out
}

/// [`Mode::TerminalLine`].
pub fn line(text: &str) -> String {
    escape(text, Mode::TerminalLine)
}

/// [`Mode::TerminalBlock`].
pub fn block(text: &str) -> String {
    escape(text, Mode::TerminalBlock)
}

/// [`Mode::TerminalCell`].
pub fn cell(text: &str) -> String {
    escape(text, Mode::TerminalCell)
}

/// Every string in `value` (keys included) escaped in [`Mode::Document`], so no field of a
/// SARIF document can carry a raw control or bidirectional character into a viewer.
pub fn document(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(escape(&s, Mode::Document)),
        Value::Array(items) => Value::Array(items.into_iter().map(document).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (escape(&k, Mode::Document), document(v)))
                .collect(),
        ),
        other => other,
    }
}

/// Characters that change how the text around them is laid out without showing themselves:
/// the bidirectional marks, embeddings, overrides and isolates, and the Unicode line and
/// paragraph separators (which some viewers break lines on).
fn is_invisible_layout(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

#[cfg(test)]
mod tests {
    use super::{Mode, block, cell, document, escape, line};

    const BIDI: [char; 13] = [
        '\u{061C}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}',
        '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{2028}',
    ];

    #[test]
    fn every_mode_escapes_controls_and_bidirectional_characters() {
        for mode in [
            Mode::TerminalLine,
            Mode::TerminalBlock,
            Mode::TerminalCell,
            Mode::Document,
        ] {
            assert_eq!(escape("fine: ✓ ünïcode", mode), "fine: ✓ ünïcode");
            assert_eq!(escape("\u{1b}[2J", mode), "\\u{1b}[2J");
            assert_eq!(escape("a\u{7}\u{7f}\u{9b}", mode), "a\\u{7}\\u{7f}\\u{9b}");
            assert_eq!(escape("x\r", mode), "x\\r");
            assert_eq!(escape("evil\u{202E}sr.txt", mode), "evil\\u{202e}sr.txt");
            for c in BIDI {
                let shown = escape(&format!("a{c}b"), mode);
                assert!(!shown.contains(c), "{mode:?} let {c:?} through");
                assert_eq!(shown, format!("a\\u{{{:x}}}b", u32::from(c)));
            }
        }
    }

    #[test]
    fn a_line_cannot_start_another_line() {
        assert_eq!(line("a\nb\tc\r\n"), "a\\nb\\tc\\r\\n");
        assert_eq!(line("C:\\temp\\x"), "C:\\temp\\x");
    }

    #[test]
    fn a_block_keeps_its_lines_and_tabs() {
        assert_eq!(block("a\tb\nc"), "a\tb\nc");
        assert_eq!(block("x\r\n"), "x\\r\n");
    }

    #[test]
    fn a_cell_is_one_line_with_spaces_for_tabs() {
        assert_eq!(cell("a\tb\nc"), "a    b\\nc");
    }

    #[test]
    fn a_document_is_escaped_in_every_string_and_key() {
        let value = serde_json::json!({
            "message": { "text": "flagged: \u{202E}txt.exe\nsecond line" },
            "list": ["\u{1b}[31m", 3, null],
            "k\u{2066}": true,
        });
        let shown = document(value).to_string();
        assert!(!shown.contains('\u{202E}') && !shown.contains('\u{2066}'));
        assert!(
            shown.contains("flagged: \\\\u{202e}txt.exe\\nsecond line"),
            "{shown}"
        );
        assert!(shown.contains("\\\\u{1b}[31m"), "{shown}");
        assert!(shown.contains("\"k\\\\u{2066}\":true"), "{shown}");
    }
}
