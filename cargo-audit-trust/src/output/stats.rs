//! `stats`'s output: the one sentence that explains a dependency count, and the largest packages.

use std::fmt::Write as _;

use audit_trust_core::report::{InventoryReport, PackageReport, Stats};
use serde::Serialize;

use super::{Palette, plural, thousands, write_json, write_stdout};
use crate::error::CliError;
use crate::services::standing::Standing;
use crate::settings::{OutputFormat, Settings};
use audit_trust_core::gate::Backlog;

#[derive(Serialize)]
struct StatsJson<'a> {
    #[serde(flatten)]
    stats: &'a Stats,
    micro_lines: u64,
    mode: audit_trust_core::inventory::InventoryMode,
    largest: Vec<Largest<'a>>,
    /// With a `Cargo.audit`: where the evidence comes from, and the backlog in lines.
    #[serde(skip_serializing_if = "Option::is_none", flatten)]
    standing: Option<&'a Standing>,
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
    standing: Option<&Standing>,
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
            standing,
        }),
        OutputFormat::Human => {
            write_stdout(&render_human(report, largest, standing, &settings.palette))
        }
    }
}

/// "312 packages: 41 leaf, 88 micro (under 300 lines), …" and the largest packages.
pub fn render_human(
    report: &InventoryReport,
    largest: &[&PackageReport],
    standing: Option<&Standing>,
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
    if let Some(standing) = standing {
        if let Some(line) = super::check::evidence_line(&standing.evidence) {
            let _ = writeln!(out, "{line}");
        }
        let _ = writeln!(out, "{}", backlog_line(&standing.backlog));
    }
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

/// `backlog: 310 packages, 1,204,551 lines to review (310 exempted, 1,204,551 lines; 0 with no
/// evidence)`: what is left once imports and sign-offs are counted.
fn backlog_line(b: &Backlog) -> String {
    if b.packages == 0 {
        return "backlog: nothing left to review".to_owned();
    }
    let unknown = match b.size_unknown {
        0 => String::new(),
        n => format!(
            "; the size of {} is unknown",
            plural(n as u64, "package", "packages")
        ),
    };
    format!(
        "backlog: {}, {} lines of code to review ({} exempted, {} lines; {} with no evidence, {} lines){unknown}",
        plural(b.packages as u64, "package", "packages"),
        thousands(b.lines),
        thousands(b.exempted as u64),
        thousands(b.exempted_lines),
        thousands(b.none as u64),
        thousands(b.none_lines),
    )
}
