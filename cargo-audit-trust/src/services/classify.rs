//! Classification of the inventory's packages (`stats`, `list`, and the sizes `suggest`,
//! `update` and `review` plan by).

use audit_trust_core::Inventory;
use audit_trust_core::analyze::{AnalyzeOptions, DEFAULT_MICRO_LINES, analyze};
use audit_trust_core::cache::ClassificationCache;
use audit_trust_core::report::InventoryReport;

use crate::error::CliError;
use crate::project::Project;

/// Classifies `inventory`'s packages, downloading what no cache has. `micro_lines`:
/// `--micro-lines`, else `[policy] micro-lines`, else the default.
pub fn analyze_inventory(
    project: &Project,
    inventory: &Inventory,
    micro_lines: Option<u64>,
) -> Result<InventoryReport, CliError> {
    let settings = &project.settings;
    let cache_dir = settings.cache_dir()?;
    let store = super::crate_store(project)?;
    let cache = ClassificationCache::new(&cache_dir);
    let options = AnalyzeOptions {
        micro_lines: micro_lines
            .or(project.audit_file.policy.micro_lines)
            .unwrap_or(DEFAULT_MICRO_LINES),
        ..AnalyzeOptions::default()
    };
    let report = analyze(inventory, &store, &cache, &options, &settings.progress())?;
    if settings.verbose {
        let w = &report.work;
        eprintln!(
            "note: {} from the classification cache, {} classified from crate files ({} downloaded); \
             cache folder {}",
            crate::output::plural(w.cached as u64, "package", "packages"),
            w.classified,
            w.downloaded,
            cache_dir.display()
        );
    }
    Ok(report)
}
