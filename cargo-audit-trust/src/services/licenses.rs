//! License inventories of the inventory's packages (`licenses`, `sbom`, and `check` when
//! `Cargo.audit` has a `[licenses]` policy).

use audit_trust_core::Inventory;
use audit_trust_core::analyze::AnalyzeOptions;
use audit_trust_core::license::{LicenseCache, PackageLicense, collect_licenses};

use super::gate::GateContext;
use crate::error::CliError;
use crate::project::Project;

/// Each registry package's license inventory, indexed like `inventory.packages`; from the
/// license cache, else from the crate files (downloaded where no cache has them).
pub fn read_licenses(
    project: &Project,
    inventory: &Inventory,
) -> Result<Vec<Option<PackageLicense>>, CliError> {
    let settings = &project.settings;
    let cache_dir = settings.cache_dir()?;
    let store = super::crate_store(project)?;
    let options = AnalyzeOptions::default();
    let (licenses, work) = collect_licenses(
        inventory,
        &store,
        &LicenseCache::new(&cache_dir),
        options.jobs,
        &options.limits,
        &settings.progress(),
    )?;
    if settings.verbose {
        eprintln!(
            "note: {} from the license cache, {} read from crate files ({} downloaded)",
            crate::output::plural(work.cached as u64, "package", "packages"),
            work.inspected,
            work.downloaded,
        );
    }
    Ok(licenses)
}

/// Reads the licenses the gate judges, when the project has a `[licenses]` policy.
pub fn for_gate(context: &mut GateContext) -> Result<(), CliError> {
    if context.project.audit_file.licenses.is_none() {
        return Ok(());
    }
    context.licenses = Some(read_licenses(&context.project, &context.inventory)?);
    Ok(())
}
