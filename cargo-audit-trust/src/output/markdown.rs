//! `check --format markdown`: a summary that fits a pull-request comment. With a base lockfile
//! the blocked packages are split into those the change brings in and those already present;
//! the lockfile's changes follow in a folded list. Every text from the report is escaped for
//! Markdown (and HTML, which comments render), and long lists are cut so the comment stays
//! well under GitHub's 65,536 characters.

use std::fmt::Write as _;

use audit_trust_core::gate::{GateReport, Severity, Verdict};

use super::escape;

/// Rows shown per table; the rest are counted.
const MAX_ROWS: usize = 50;

pub fn render_markdown(report: &GateReport, stale_fails: bool) -> String {
    let mut out = String::new();
    let s = &report.summary;
    let verdict = if s.blocked == 0 && !stale_fails && report.advisory_db.is_some() {
        "passed"
    } else {
        "failed"
    };
    let _ = writeln!(
        out,
        "### cargo audit-trust check {verdict}\n\n{} packages, {} blocked, {} warnings.",
        s.packages, s.blocked, s.warnings
    );
    if report.advisory_db.is_none() {
        out.push_str("\n**Advisories were not checked** (see the notes of the full report).\n");
    } else if stale_fails {
        out.push_str("\n**The advisory database is stale.**\n");
    }
    let blocked: Vec<&Verdict> = report.packages.iter().filter(|v| v.blocked).collect();
    let warned: Vec<&Verdict> = report
        .packages
        .iter()
        .filter(|v| !v.blocked && v.reasons.iter().any(|r| r.severity == Severity::Warn))
        .collect();
    match &report.change {
        Some(change) => {
            let _ = writeln!(
                out,
                "\nCompared with `{}`: {} crates changed.",
                code_text(&change.base),
                change.changes.len()
            );
            let introduced = |v: &&&Verdict| v.introduced == Some(true);
            let (new_blocked, old_blocked): (Vec<&Verdict>, Vec<&Verdict>) =
                blocked.iter().partition(introduced);
            let (new_warned, old_warned): (Vec<&Verdict>, Vec<&Verdict>) =
                warned.iter().partition(introduced);
            section(
                &mut out,
                "Introduced by this change",
                &new_blocked,
                &new_warned,
            );
            section(&mut out, "Already present", &old_blocked, &old_warned);
            if !change.changes.is_empty() {
                let _ = writeln!(
                    out,
                    "\n<details><summary>Changes to Cargo.lock ({})</summary>\n",
                    change.changes.len()
                );
                for c in change.changes.iter().take(MAX_ROWS) {
                    let list = |vs: &[semver::Version]| {
                        vs.iter()
                            .map(|v| v.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    let what = match (c.from.is_empty(), c.to.is_empty()) {
                        (true, _) => format!("added {}", list(&c.to)),
                        (_, true) => format!("removed {}", list(&c.from)),
                        _ => format!("{} → {}", list(&c.from), list(&c.to)),
                    };
                    let _ = writeln!(out, "- `{}` {}", code_text(&c.name), cell(&what));
                }
                more(&mut out, change.changes.len());
                out.push_str("\n</details>\n");
            }
        }
        None => section(&mut out, "Findings", &blocked, &warned),
    }
    out
}

/// One heading with a table of blocked packages and one of warnings (each omitted if empty).
fn section(out: &mut String, title: &str, blocked: &[&Verdict], warned: &[&Verdict]) {
    let _ = writeln!(
        out,
        "\n#### {title}: {} blocked, {} with warnings\n",
        blocked.len(),
        warned.len()
    );
    for (rows, severity) in [(blocked, Severity::Deny), (warned, Severity::Warn)] {
        if rows.is_empty() {
            continue;
        }
        let header = if severity == Severity::Deny {
            "Blocked"
        } else {
            "Warning"
        };
        let _ = writeln!(out, "| {header} | Status | Why |\n|---|---|---|");
        for v in rows.iter().take(MAX_ROWS) {
            let why: Vec<String> = v
                .reasons
                .iter()
                .filter(|r| r.severity == severity)
                .map(|r| format!("{}: {}", r.code, cell(&r.message)))
                .collect();
            let _ = writeln!(
                out,
                "| `{}@{}` | {} | {} |",
                code_text(&v.name),
                code_text(&v.version.to_string()),
                v.status.as_str(),
                why.join("<br>")
            );
        }
        more(out, rows.len());
        out.push('\n');
    }
}

fn more(out: &mut String, total: usize) {
    if total > MAX_ROWS {
        let _ = writeln!(
            out,
            "\n…and {} more (see the full report).",
            total - MAX_ROWS
        );
    }
}

/// Text for a table cell: one line, Markdown and HTML neutralised, bounded.
fn cell(text: &str) -> String {
    let line = escape::line(text);
    let mut out = String::with_capacity(line.len());
    for (i, c) in line.chars().enumerate() {
        if i >= 500 {
            out.push('…');
            break;
        }
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' | '~' | '@' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Text inside a code span: backticks and line breaks cannot end it early.
fn code_text(text: &str) -> String {
    escape::line(text).replace('`', "'").replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_cannot_break_the_table_or_inject_html() {
        let text = cell("a | b <img src=x> [link](http://x) `code` @someone\nnext");
        assert!(!text.contains("<img"));
        assert!(!text.contains(" | "));
        assert!(text.contains("\\[link\\]"));
        assert!(text.contains("\\@someone"));
        assert!(!text.contains('\n'));
    }
}
