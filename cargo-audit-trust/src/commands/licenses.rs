//! `licenses`: what every registry package declares and ships, the distinct texts attribution
//! needs, and what micro-dependencies cost in license text; `--notice FILE` writes them.

use std::fmt::Write as _;
use std::process::ExitCode;

use audit_trust_core::fetch::write_atomically;
use audit_trust_core::license::PackageLicense;
use audit_trust_core::license::report::{LicenseReport, LicenseRow, license_rows, notice_file};

use crate::cli::LicensesArgs;
use crate::error::CliError;
use crate::output::escape::{Mode, escape, line};
use crate::output::{Palette, plural, thousands, write_json, write_stdout};
use crate::project::{InventoryNeed, Project};
use crate::services::classify::analyze_inventory;
use crate::services::licenses::read_licenses;
use crate::settings::{OutputFormat, Settings};

pub fn run(settings: &Settings, args: &LicensesArgs) -> Result<ExitCode, CliError> {
    let project = Project::open(settings, InventoryNeed::Required { targets: false })?;
    let inventory = project.inventory()?;
    let sizes = analyze_inventory(&project, inventory, args.classify.micro_lines)?;
    let licenses = read_licenses(&project, inventory)?;
    let rows: Vec<LicenseRow> = license_rows(inventory, &licenses, &sizes)
        .into_iter()
        .filter(|row| keep(row, args))
        .collect();
    let inventories: Vec<&PackageLicense> = licenses.iter().flatten().collect();
    let report = LicenseReport::build(rows, &inventories, sizes.micro_lines);
    if let Some(path) = &args.notice {
        let text = escape(&notice_file(&report), Mode::Document);
        write_atomically(path, text.as_bytes(), true)?;
        if settings.verbose {
            eprintln!(
                "note: wrote {} ({} distinct texts)",
                path.display(),
                report.texts.len()
            );
        }
    }
    match settings.format {
        OutputFormat::Json => write_json(&report)?,
        OutputFormat::Human => write_stdout(&render_human(&report, args, &settings.palette))?,
    }
    Ok(ExitCode::SUCCESS)
}

fn keep(row: &LicenseRow, args: &LicensesArgs) -> bool {
    (!args.micro || row.micro == Some(true))
        && (!args.direct || row.direct)
        && (!args.no_dev || row.dev_only != Some(true))
        && (!args.findings || !row.findings.is_empty())
        && (!args.longer_than_code || row.license_longer_than_code())
        && (args.license.is_empty()
            || args.license.iter().any(|wanted| {
                row.licenses
                    .iter()
                    .any(|l| audit_trust_core::license::same_license(wanted, l))
            }))
}

fn render_human(report: &LicenseReport, args: &LicensesArgs, palette: &Palette) -> String {
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

fn table(
    out: &mut String,
    palette: &Palette,
    title: &str,
    counts: &[audit_trust_core::license::report::LicenseCount],
) {
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
