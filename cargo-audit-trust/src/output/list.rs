//! `list`'s output: one row per package with its classification, or the rows as JSON.

use std::fmt::Write as _;

use audit_trust_core::report::{PackageReport, unsafe_total};

use super::{Palette, thousands, write_json, write_stdout};
use crate::error::CliError;
use crate::settings::{OutputFormat, Settings};

/// Writes the rows in the run's format.
pub fn write(settings: &Settings, rows: &[&PackageReport]) -> Result<(), CliError> {
    match settings.format {
        OutputFormat::Json => write_json(&rows),
        OutputFormat::Human => write_stdout(&render_human(rows, &settings.palette)),
    }
}

/// Short tags for the table, spelled out so meaning never rests on color.
fn tags(p: &PackageReport) -> String {
    let mut tags = Vec::new();
    let yes = |v: Option<bool>| v == Some(true);
    if p.direct {
        tags.push("direct");
    }
    if p.dev_only == Some(true) {
        tags.push("dev");
    }
    if p.leaf {
        tags.push("leaf");
    }
    if yes(p.micro) {
        tags.push("micro");
    }
    if yes(p.build_script) {
        tags.push("build-script");
    }
    if yes(p.proc_macro) {
        tags.push("proc-macro");
    }
    if yes(p.native) {
        tags.push("native");
    }
    if p.duplicate {
        tags.push("duplicate");
    }
    if p.unsafe_usage.as_ref().is_some_and(|u| u.forbids_unsafe) {
        tags.push("forbids-unsafe");
    }
    tags.join(" ")
}

/// One row per package: name, version, source, lines, unsafe items and tags.
pub fn render_human(rows: &[&PackageReport], palette: &Palette) -> String {
    let name_w = rows.iter().map(|p| p.name.len()).max().unwrap_or(4).max(4);
    let ver_w = rows
        .iter()
        .map(|p| p.version.to_string().len())
        .max()
        .unwrap_or(7)
        .max(7);
    let mut out = String::new();
    let header = format!(
        "{:<name_w$}  {:<ver_w$}  {:<9}  {:>9}  {:>6}  TAGS",
        "NAME", "VERSION", "SOURCE", "LINES", "UNSAFE"
    );
    let _ = writeln!(out, "{}", palette.paint(palette.bold, header.trim_end()));
    for p in rows {
        let lines = p.code_lines.map_or_else(|| "-".to_owned(), thousands);
        let unsafe_items = p
            .unsafe_usage
            .as_ref()
            .map_or_else(|| "-".to_owned(), |u| unsafe_total(u).to_string());
        let row = format!(
            "{:<name_w$}  {:<ver_w$}  {:<9}  {:>9}  {:>6}  {}",
            p.name,
            p.version,
            p.source,
            lines,
            unsafe_items,
            tags(p)
        );
        let _ = writeln!(out, "{}", row.trim_end());
    }
    let _ = writeln!(
        out,
        "{}",
        palette.paint(
            palette.dim,
            &super::plural(rows.len() as u64, "package", "packages")
        )
    );
    out
}
