//! Text from crates and repositories (file names, file contents, URLs, notes) is untrusted: a
//! control character or an escape sequence in it could redraw the terminal, hide lines or fake
//! output. Everything untrusted goes through [`terminal_safe`] before it is printed.

/// `text` with control characters (except newline and tab) and Unicode bidirectional controls
/// shown as escapes, e.g. ESC as `\u{1b}` and a carriage return as `\r`.
pub fn terminal_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\t' => out.push(c),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || is_bidi_control(c) => {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out
}

/// Characters that reorder how text is displayed ("Trojan Source").
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::terminal_safe;

    #[test]
    fn escapes_what_could_drive_a_terminal() {
        assert_eq!(terminal_safe("a\tb\nc"), "a\tb\nc");
        assert_eq!(terminal_safe("\u{1b}[2J"), "\\u{1b}[2J");
        assert_eq!(terminal_safe("x\r\n"), "x\\r\n");
        assert_eq!(terminal_safe("evil\u{202E}sr.txt"), "evil\\u{202e}sr.txt");
        assert_eq!(terminal_safe("\u{7f}\u{9b}"), "\\u{7f}\\u{9b}");
    }
}
