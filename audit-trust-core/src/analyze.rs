//! The classification pipeline: cached answers first, then crate files (downloaded in parallel
//! where missing), then both cores classify what is left.

use crate::cache::ClassificationCache;
use crate::classify::{Classification, classify_files};
use crate::fetch::CrateStore;
use crate::inventory::{Inventory, PackageId};
use crate::parallel::map_until_error;
use crate::progress::Progress;
use crate::report::{InventoryReport, WorkSummary};
use crate::tarball::{Limits, read_crate};
use crate::{Error, Package};

/// Packages with fewer lines of library/binary code than this are "micro" by default.
pub const DEFAULT_MICRO_LINES: u64 = 300;

#[derive(Debug, Clone)]
pub struct AnalyzeOptions {
    pub micro_lines: u64,
    /// Worker threads for classification.
    pub jobs: usize,
    pub limits: Limits,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            micro_lines: DEFAULT_MICRO_LINES,
            jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
            limits: Limits::default(),
        }
    }
}

/// Classifies every registry package of the inventory and returns the report `stats` and `list`
/// render.
pub fn analyze(
    inventory: &Inventory,
    store: &CrateStore,
    cache: &ClassificationCache,
    options: &AnalyzeOptions,
    progress: &dyn Progress,
) -> Result<InventoryReport, Error> {
    let mut classifications: Vec<Option<Classification>> = vec![None; inventory.packages.len()];
    let mut misses: Vec<PackageId> = Vec::new();
    for (id, package) in inventory.packages.iter().enumerate() {
        if !package.source.is_registry() {
            continue;
        }
        match package.checksum.as_deref().and_then(|c| cache.get(c)) {
            Some(hit) => classifications[id] = Some(hit),
            None => misses.push(id),
        }
    }
    let mut work = WorkSummary {
        cached: inventory
            .packages
            .iter()
            .filter(|p| p.source.is_registry())
            .count()
            - misses.len(),
        classified: misses.len(),
        downloaded: 0,
    };
    if !misses.is_empty() {
        let missing: Vec<&Package> = misses.iter().map(|&id| &inventory.packages[id]).collect();
        work.downloaded = store.ensure_all(&missing, progress)?;
        let computed = classify_in_parallel(inventory, &misses, store, cache, options, progress)?;
        for (id, classification) in misses.iter().zip(computed) {
            classifications[*id] = Some(classification);
        }
    }
    let mut report = InventoryReport::build(inventory, &classifications, options.micro_lines);
    report.work = work;
    Ok(report)
}

fn classify_in_parallel(
    inventory: &Inventory,
    ids: &[PackageId],
    store: &CrateStore,
    cache: &ClassificationCache,
    options: &AnalyzeOptions,
    progress: &dyn Progress,
) -> Result<Vec<Classification>, Error> {
    progress.begin("Classifying", ids.len() as u64);
    let result = map_until_error(ids, options.jobs.clamp(1, 64), |&id| {
        let c = classify_one(&inventory.packages[id], store, cache, options)?;
        progress.advance(1);
        Ok(c)
    });
    progress.finish();
    result
}

fn classify_one(
    package: &Package,
    store: &CrateStore,
    cache: &ClassificationCache,
    options: &AnalyzeOptions,
) -> Result<Classification, Error> {
    let bytes = store.read_verified(package)?;
    let version = package.version.to_string();
    let archive =
        read_crate(&bytes, &package.name, &version, &options.limits).map_err(|source| {
            Error::Tarball {
                package: package.spec(),
                source,
            }
        })?;
    let classification = classify_files(
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
        cache.put(checksum, &classification)?;
    }
    Ok(classification)
}
