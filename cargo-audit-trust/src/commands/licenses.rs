//! `licenses`: what every registry package declares and ships, the distinct texts attribution
//! needs, and what micro-dependencies cost in license text; `--notice FILE` writes them.

use std::process::ExitCode;

use audit_trust_core::fetch::write_atomically;
use audit_trust_core::license::PackageLicense;
use audit_trust_core::license::report::{LicenseReport, LicenseRow, license_rows, notice_file};

use crate::cli::LicensesArgs;
use crate::error::CliError;
use crate::output::escape::{Mode, escape};
use crate::project::{InventoryNeed, Project};
use crate::services::classify::analyze_inventory;
use crate::services::licenses::read_licenses;
use crate::settings::Settings;

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
    let sections = crate::output::licenses::Sections {
        packages: args.packages,
        texts: args.texts,
    };
    crate::output::licenses::write(settings, &report, sections)?;
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
