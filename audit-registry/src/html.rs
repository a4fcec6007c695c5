//! The little HTML the dashboard needs, built by hand: every piece of text that comes from a
//! record, a subscriber or a report goes through [`escape`], and attributes are always quoted,
//! so record content (notes, names, file names, URLs: all attacker-controlled) is shown as text
//! and never parsed as markup. The page carries no script at all, and its Content-Security-Policy
//! forbids any, as a second wall.

use std::fmt::Write as _;

/// Text made safe for an HTML element's content or a double- or single-quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than line breaks and tabs have no business on a page.
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A table with a header row; every cell is already HTML (escape text before passing it).
#[derive(Debug, Default)]
pub struct Table {
    html: String,
    rows: usize,
}

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        let mut html = String::from("<table><thead><tr>");
        for h in headers {
            let _ = write!(html, "<th>{}</th>", escape(h));
        }
        html.push_str("</tr></thead><tbody>");
        Table { html, rows: 0 }
    }

    pub fn row(&mut self, cells: &[String]) {
        self.html.push_str("<tr>");
        for cell in cells {
            let _ = write!(self.html, "<td>{cell}</td>");
        }
        self.html.push_str("</tr>");
        self.rows += 1;
    }

    /// The table, or `empty` (plain text, escaped here) when it has no rows.
    pub fn finish(mut self, empty: &str) -> String {
        if self.rows == 0 {
            return format!("<p class=\"empty\">{}</p>", escape(empty));
        }
        self.html.push_str("</tbody></table>");
        self.html
    }
}

/// A page with a title (escaped) and a body (already HTML).
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>{body}</body></html>\n",
        escape(title)
    )
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}\
table{border-collapse:collapse;margin:.5em 0 1.5em;width:100%}\
th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}\
th{background:#f3f3f3}td:first-child{white-space:nowrap}td.text,pre{white-space:pre-wrap;word-break:break-word}\
code{font-size:.9em;word-break:break-all}.empty{color:#777}.flag{color:#a00}\
pre{background:#f7f7f7;padding:.5em;max-height:30em;overflow:auto}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_text_comes_out_as_text() {
        assert_eq!(
            escape("<script>document.title='pwned'</script>"),
            "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;"
        );
        assert_eq!(
            escape("<img src=x onerror=\"alert(1)\">"),
            "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"
        );
        assert_eq!(escape("a & b &amp;"), "a &amp; b &amp;amp;");
        assert_eq!(escape("line\nnext\ttab"), "line\nnext\ttab");
        assert_eq!(escape("bell\u{7}nul\0"), "bell\u{FFFD}nul\u{FFFD}");
        assert_eq!(escape("ünïcødé ✓"), "ünïcødé ✓");
    }

    #[test]
    fn tables_and_pages_escape_what_they_are_given_as_text() {
        let mut t = Table::new(&["<name>"]);
        assert!(t.html.contains("<th>&lt;name&gt;</th>"));
        t.row(&[escape("</td><script>")]);
        let html = t.finish("none");
        assert!(
            html.contains("<td>&lt;/td&gt;&lt;script&gt;</td>"),
            "{html}"
        );
        assert_eq!(
            Table::new(&["a"]).finish("<none>"),
            "<p class=\"empty\">&lt;none&gt;</p>"
        );
        let p = page("</title><script>", "");
        assert!(p.contains("<title>&lt;/title&gt;&lt;script&gt;</title>"));
    }
}
