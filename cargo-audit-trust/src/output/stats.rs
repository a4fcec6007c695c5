//! `stats`'s output: the one sentence that explains a dependency count, and the largest packages.

use std::fmt::Write as _;

use audit_trust_core::report::{InventoryReport, PackageReport, Stats};
use serde::Serialize;

use super::{Palette, thousands, write_json, write_stdout};
use crate::error::CliError;
use crate::settings::{OutputFormat, Settings};

#[derive(Serialize)]
struct StatsJson<'a> {
    #[serde(flatten)]
    stats: &'a Stats,
    micro_lines: u64,
    mode: audit_trust_core::inventory::InventoryMode,
    largest: Vec<Largest<'a>>,
}

#[derive(Serialize)]
struct Largest<'a> {
    name: &'a str,
    version: &'a semver::Version,
    code_lines: u64,
}

/// Writes the summary and the `largest` packages in the run's format.
pub fn write(
    settings: &Settings,
    report: &InventoryReport,
    largest: &[&PackageReport],
) -> Result<(), CliError> {
    match settings.format {
        OutputFormat::Json => write_json(&StatsJson {
            stats: &report.stats,
            micro_lines: report.micro_lines,
            mode: report.mode,
            largest: largest
                .iter()
                .map(|p| Largest {
                    name: &p.name,
                    version: &p.version,
                    code_lines: p.code_lines.unwrap_or(0),
                })
                .collect(),
        }),
        OutputFormat::Human => write_stdout(&render_human(report, largest, &settings.palette)),
    }
}

/// "312 packages: 41 leaf, 88 micro (under 300 lines), …" and the largest packages.
pub fn render_human(
    report: &InventoryReport,
    largest: &[&PackageReport],
    palette: &Palette,
) -> String {
    let s = &report.stats;
    let mut out = String::new();
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let sentence = format!(
        "{}: {} leaf, {} micro (under {} lines), {} {}, {} {}, {}, {} native, {} in several versions",
        plural(s.packages, "package", "packages"),
        s.leaf,
        s.micro,
        report.micro_lines,
        s.uses_unsafe,
        if s.uses_unsafe == 1 {
            "uses unsafe"
        } else {
            "use unsafe"
        },
        s.build_scripts,
        if s.build_scripts == 1 {
            "runs a build script"
        } else {
            "run build scripts"
        },
        plural(s.proc_macros, "proc-macro", "proc-macros"),
        s.native,
        plural(s.duplicate_names, "name", "names"),
    );
    let _ = writeln!(out, "{}", palette.paint(palette.bold, &sentence));
    let _ = writeln!(
        out,
        "{}",
        palette.paint(
            palette.dim,
            &format!(
                "  {} from registries, {} workspace/path, {} git; {} distinct names; {} lines of library code in registry packages",
                s.registry_packages,
                s.workspace_packages,
                s.git_packages,
                s.names,
                thousands(s.code_lines)
            )
        )
    );
    if !largest.is_empty() {
        let _ = writeln!(out, "\nLargest packages by lines of code:");
        let width = largest
            .iter()
            .map(|p| p.name.len() + p.version.to_string().len() + 1)
            .max()
            .unwrap_or(0);
        for p in largest {
            let spec = format!("{}@{}", p.name, p.version);
            let _ = writeln!(
                out,
                "  {spec:<width$}  {:>10}",
                thousands(p.code_lines.unwrap_or(0))
            );
        }
    }
    out
}
