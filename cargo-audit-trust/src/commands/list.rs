//! `list`: one row per package with its classification, filtered and sorted.

use std::process::ExitCode;

use audit_trust_core::report::{PackageReport, unsafe_total};

use crate::cli::{ListArgs, SortKey};
use crate::error::CliError;
use crate::project::{InventoryNeed, Project};
use crate::services::classify::analyze_inventory;
use crate::settings::Settings;

pub fn run(settings: &Settings, args: &ListArgs) -> Result<ExitCode, CliError> {
    let project = Project::open(settings, InventoryNeed::Required { targets: false })?;
    let report = analyze_inventory(&project, project.inventory()?, args.classify.micro_lines)?;
    let mut rows: Vec<&PackageReport> = report.packages.iter().filter(|p| keep(p, args)).collect();
    sort(&mut rows, args.sort);
    crate::output::list::write(settings, &rows)?;
    Ok(ExitCode::SUCCESS)
}

fn keep(p: &PackageReport, args: &ListArgs) -> bool {
    let yes = |v: Option<bool>| v == Some(true);
    (!args.micro || yes(p.micro))
        && (!args.uses_unsafe || yes(p.uses_unsafe))
        && (!args.leaf || p.leaf)
        && (!args.build_script || yes(p.build_script))
        && (!args.proc_macro || yes(p.proc_macro))
        && (!args.native || yes(p.native))
        && (!args.duplicate || p.duplicate)
        && (!args.direct || p.direct)
}

fn sort(rows: &mut [&PackageReport], key: SortKey) {
    // The report is already sorted by name and version; a stable sort keeps that as tie-break.
    match key {
        SortKey::Name => {}
        SortKey::Lines => rows.sort_by_key(|p| std::cmp::Reverse(p.code_lines.unwrap_or(0))),
        SortKey::Unsafe => {
            rows.sort_by_key(|p| std::cmp::Reverse(p.unsafe_usage.as_ref().map_or(0, unsafe_total)))
        }
        SortKey::Deps => rows.sort_by_key(|p| std::cmp::Reverse(p.dependencies.len())),
    }
}
