//! Colour for `diff`'s human report: added lines green, removed lines red, hunk headers cyan.
//! Applied to the rendered (already escaped) text line by line, so colour codes only ever wrap
//! whole lines and never come from a crate's content. With colours off the text is unchanged.

use super::Palette;

/// `text` (a rendered diff report) with its diff lines coloured by `palette`.
pub fn colour_diff(text: &str, palette: &Palette) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        let style = if body.starts_with("+++ ") || body.starts_with("--- ") {
            Some(palette.bold)
        } else if body.starts_with("@@") {
            Some(palette.hunk)
        } else if body.starts_with('+') {
            Some(palette.added)
        } else if body.starts_with('-') {
            Some(palette.removed)
        } else {
            None
        };
        match style {
            Some(style) if !body.is_empty() => out.push_str(&palette.paint(style, body)),
            _ => out.push_str(body),
        }
        out.push_str(end);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::colour_diff;
    use crate::cli::ColorChoice;
    use crate::output::Palette;

    const DIFF: &str = "popular 1.0.0 → 1.1.0\n--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,2 +1,3 @@\n fn a() {}\n-fn b() {}\n+fn c() {}\n";

    #[test]
    fn colours_only_diff_lines_and_only_when_on() {
        assert_eq!(colour_diff(DIFF, &Palette::new(ColorChoice::Never)), DIFF);
        let coloured = colour_diff(DIFF, &Palette::new(ColorChoice::Always));
        assert!(
            coloured.contains("\u{1b}[32m+fn c() {}\u{1b}[0m\n"),
            "{coloured:?}"
        );
        assert!(
            coloured.contains("\u{1b}[31m-fn b() {}\u{1b}[0m\n"),
            "{coloured:?}"
        );
        assert!(
            coloured.contains("\u{1b}[36m@@ -1,2 +1,3 @@"),
            "{coloured:?}"
        );
        assert!(
            coloured.contains("\n fn a() {}\n"),
            "context lines stay plain"
        );
        assert!(coloured.starts_with("popular 1.0.0"), "{coloured:?}");
    }
}
