//! `licenses`' output: the summary, the micro cost, optional package and text lists, and the
//! findings (every value from a crate escaped); or the report as JSON.

use std::fmt::Write as _;

use audit_trust_core::license::report::{LicenseCount, LicenseReport, LicenseRow};

use super::escape::line;
use super::{Palette, plural, thousands, write_json, write_stdout};
use crate::error::CliError;
use crate::settings::{OutputFormat, Settings};

/// Which optional lists the human output shows.
#[derive(Debug, Clone, Copy)]
pub struct Sections {
    pub packages: bool,
    pub texts: bool,
}

/// Writes the report in the run's format.
pub fn write(
    settings: &Settings,
    report: &LicenseReport,
    sections: Sections,
) -> Result<(), CliError> {
    match settings.format {
        OutputFormat::Json => write_json(report),
        OutputFormat::Human => write_stdout(&render_human(report, sections, &settings.palette)),
    }
}

fn render_human(report: &LicenseReport, args: Sections, palette: &Palette) -> String {
    let mut out = String::new();
    let text_lines: u64 = report.texts.iter().map(|t| t.lines).sum();
    let _ = writeln!(
        out,
        "{}: {}, {}; {} to ship ({} lines); {} with findings",
        plural(
            report.packages as u64,
            "registry package",
            "registry packages"
        ),
        plural(report.by_license.len() as u64, "license", "licenses"),
        plural(
            report.by_expression.len() as u64,
            "expression",
            "expressions"
        ),
        plural(report.texts.len() as u64, "distinct text", "distinct texts"),
        thousands(text_lines),
        report.with_findings,
    );
    table(&mut out, palette, "LICENSE", &report.by_license);
    table(&mut out, palette, "EXPRESSION", &report.by_expression);
    let m = &report.micro_cost;
    let _ = writeln!(
        out,
        "\nMicro packages (under {} lines): {} ship {} lines of license text for {} lines of code; \
         {} have more license than code; {} lines of text are needed only by micro packages",
        report.micro_lines,
        m.micro_packages,
        thousands(m.micro_license_lines),
        thousands(m.micro_code_lines),
        m.license_longer_than_code.len(),
        thousands(m.micro_only_text_lines),
    );
    if args.packages {
        packages(&mut out, palette, &report.rows);
    }
    if args.texts {
        let _ = writeln!(out, "\n{}", palette.paint(palette.bold, "TEXTS"));
        for t in &report.texts {
            let _ = writeln!(
                out,
                "{} ({} lines, {}): {}",
                line(t.detected.as_deref().unwrap_or("unidentified")),
                t.lines,
                &t.digest[..12],
                t.packages.join(", ")
            );
        }
    }
    let with_findings: Vec<&LicenseRow> = report
        .rows
        .iter()
        .filter(|r| !r.findings.is_empty())
        .collect();
    if !with_findings.is_empty() {
        let _ = writeln!(out, "\n{}", palette.paint(palette.bold, "FINDINGS"));
        for row in with_findings {
            for f in &row.findings {
                let _ = writeln!(out, "{}: {}", row.spec(), line(&f.describe()));
            }
        }
    }
    out
}

fn table(out: &mut String, palette: &Palette, title: &str, counts: &[LicenseCount]) {
    let width = counts
        .iter()
        .map(|c| c.license.len())
        .chain([title.len()])
        .max()
        .unwrap_or(0);
    let _ = writeln!(
        out,
        "\n{}",
        palette.paint(palette.bold, &format!("{title:<width$}  PACKAGES"))
    );
    for c in counts {
        let _ = writeln!(out, "{:<width$}  {:>8}", line(&c.license), c.packages);
    }
}

fn packages(out: &mut String, palette: &Palette, rows: &[LicenseRow]) {
    let name_w = rows
        .iter()
        .map(|r| r.spec().len())
        .max()
        .unwrap_or(7)
        .max(7);
    let header = format!(
        "{:<name_w$}  {:>9}  {:>9}  EXPRESSION",
        "PACKAGE", "CODE", "LICENSE"
    );
    let _ = writeln!(out, "\n{}", palette.paint(palette.bold, &header));
    for r in rows {
        let expression = r
            .expression
            .as_deref()
            .or(r.declared.as_deref())
            .or(r.license_file.as_deref().map(|_| "(license-file)"))
            .unwrap_or("(none)");
        let code = r.code_lines.map_or_else(|| "-".to_owned(), thousands);
        let row = format!(
            "{:<name_w$}  {:>9}  {:>9}  {}",
            r.spec(),
            code,
            thousands(r.license_lines),
            line(expression)
        );
        let _ = writeln!(out, "{}", row.trim_end());
    }
}
