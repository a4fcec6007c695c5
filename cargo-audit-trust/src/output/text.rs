//! Text from records (notes, reasons, names) is written by others: shown with control
//! characters and bidirectional overrides escaped, so it cannot move the cursor, recolour the
//! terminal or reorder what is displayed around it.

/// `text` safe to print on a terminal; newlines and tabs become `\n` and `\t`.
pub fn escape_untrusted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let bidi = matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}');
        if c.is_control() || bidi {
            out.extend(c.escape_default());
        } else if c == '\\' {
            out.push_str("\\\\");
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape_untrusted;

    #[test]
    fn escapes_what_could_drive_a_terminal() {
        assert_eq!(escape_untrusted("fine: ✓"), "fine: ✓");
        assert_eq!(escape_untrusted("a\nb\tc"), "a\\nb\\tc");
        assert_eq!(escape_untrusted("\u{1b}[31mred"), "\\u{1b}[31mred");
        assert_eq!(escape_untrusted("x\u{202E}y"), "x\\u{202e}y");
        assert_eq!(escape_untrusted("back\\slash"), "back\\\\slash");
        assert_eq!(escape_untrusted("\u{7f}\u{9b}"), "\\u{7f}\\u{9b}");
    }
}
