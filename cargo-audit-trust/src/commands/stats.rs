//! `stats`: the one sentence that explains a dependency count, and the largest packages.

use std::process::ExitCode;

use audit_trust_core::report::{InventoryReport, PackageReport};

use crate::cli::StatsArgs;
use crate::error::CliError;
use crate::project::{InventoryNeed, Project};
use crate::services::classify::analyze_inventory;
use crate::services::standing::standing;
use crate::settings::Settings;

pub fn run(settings: &Settings, args: &StatsArgs) -> Result<ExitCode, CliError> {
    let project = Project::open(settings, InventoryNeed::Required { targets: false })?;
    let report = analyze_inventory(&project, project.inventory()?, args.classify.micro_lines)?;
    let standing = standing(&project, project.inventory()?, &report)?;
    let largest = largest(&report, args.top);
    crate::output::stats::write(settings, &report, &largest, standing.as_ref())?;
    Ok(ExitCode::SUCCESS)
}

fn largest(report: &InventoryReport, top: usize) -> Vec<&PackageReport> {
    let mut classified: Vec<&PackageReport> = report
        .packages
        .iter()
        .filter(|p| p.code_lines.is_some())
        .collect();
    classified.sort_by(|a, b| {
        b.code_lines
            .cmp(&a.code_lines)
            .then_with(|| a.name.cmp(&b.name))
    });
    classified.truncate(top);
    classified
}
