//! The license pipeline: cached answers first, then crate files (downloaded in parallel where
//! missing) read with the same safe reader as classification.

use super::{LicenseCache, PackageLicense, inspect_crate};
use crate::fetch::CrateStore;
use crate::inventory::{Inventory, PackageId};
use crate::parallel::map_until_error;
use crate::progress::Progress;
use crate::tarball::{Limits, read_crate};
use crate::{Error, Package};

/// What one run had to do (for `-v`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LicenseWork {
    pub cached: usize,
    pub inspected: usize,
    pub downloaded: usize,
}

/// The license inventory of every registry package, indexed like `inventory.packages` (`None`
/// for workspace, path and git packages).
pub fn collect_licenses(
    inventory: &Inventory,
    store: &CrateStore,
    cache: &LicenseCache,
    jobs: usize,
    limits: &Limits,
    progress: &dyn Progress,
) -> Result<(Vec<Option<PackageLicense>>, LicenseWork), Error> {
    let mut licenses: Vec<Option<PackageLicense>> = vec![None; inventory.packages.len()];
    let mut misses: Vec<PackageId> = Vec::new();
    let mut work = LicenseWork::default();
    for (id, package) in inventory.packages.iter().enumerate() {
        if !package.source.is_registry() {
            continue;
        }
        match package.checksum.as_deref().and_then(|c| cache.get(c)) {
            Some(hit) => {
                work.cached += 1;
                licenses[id] = Some(hit);
            }
            None => misses.push(id),
        }
    }
    if misses.is_empty() {
        return Ok((licenses, work));
    }
    work.inspected = misses.len();
    let missing: Vec<&Package> = misses.iter().map(|&id| &inventory.packages[id]).collect();
    work.downloaded = store.ensure_all(&missing, progress)?;
    progress.begin("Reading licenses", misses.len() as u64);
    let computed = map_until_error(&misses, jobs.clamp(1, 64), |&id| {
        let license = inspect_one(&inventory.packages[id], store, cache, limits)?;
        progress.advance(1);
        Ok(license)
    });
    progress.finish();
    for (id, license) in misses.iter().zip(computed?) {
        licenses[*id] = Some(license);
    }
    Ok((licenses, work))
}

fn inspect_one(
    package: &Package,
    store: &CrateStore,
    cache: &LicenseCache,
    limits: &Limits,
) -> Result<PackageLicense, Error> {
    let bytes = store.read_verified(package)?;
    let version = package.version.to_string();
    let archive =
        read_crate(&bytes, &package.name, &version, limits).map_err(|source| Error::Tarball {
            package: package.spec(),
            source,
        })?;
    let license = inspect_crate(
        archive
            .files()
            .iter()
            .map(|f| (f.path.as_str(), f.contents.as_slice())),
    )
    .map_err(|source| Error::Classify {
        package: package.spec(),
        source,
    })?;
    if let Some(checksum) = &package.checksum {
        cache.put(checksum, &license)?;
    }
    Ok(license)
}
