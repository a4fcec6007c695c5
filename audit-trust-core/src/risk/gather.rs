//! Gathers what [`assess`] needs for some packages of a lockfile: their crate files and their
//! bases' (through the crate store: cached, downloaded in parallel, verified against the index
//! checksum), the crate files of dependencies they newly bring in, and index entries. Never
//! fails as a whole: what cannot be read makes its signals "not computed".

use std::collections::HashMap;
use std::time::Duration;

use super::assess::{Base, RiskContext, Thresholds, assess};
use super::facts::crate_facts;
use super::facts_cache::FactsCache;
use super::{CrateFacts, RiskReport};
use crate::fetch::index_report::IndexReport;
use crate::fetch::{CrateStore, IndexVersion, package_of};
use crate::inventory::{Inventory, Package, PackageId};
use crate::progress::Progress;
use crate::tarball::{Limits, read_crate};
use crate::time::Timestamp;

pub struct GatherInput<'a> {
    pub store: &'a CrateStore,
    pub inventory: &'a Inventory,
    pub index: &'a IndexReport,
    /// The packages to compute signals for (registry packages not signed off).
    pub candidates: &'a [PackageId],
    /// Packages assessed only when this run read their crate files anyway (as a dependency a
    /// candidate newly brings in, with its own base): free detail, never a download of its own.
    pub if_read: &'a [PackageId],
    /// The lockfile a change is compared with, when there is one: its version of a crate is
    /// the base; otherwise the previous version in the index is.
    pub base_lockfile: Option<&'a Inventory>,
    /// What to do with a new dependency the lockfile does not hold. `false` (a project's
    /// lockfile: it is not built here, on another platform or optional): only its index entry
    /// is judged. `true` (a release audited on its own, with no lockfile): it is read at the
    /// newest version its index lists that is not yanked, as a fresh resolution would lock it.
    pub resolve_unlocked: bool,
    pub now: Timestamp,
    pub thresholds: Thresholds,
    pub blob_bytes: u64,
    /// How long a cached index entry of a dependency outside the lockfile is used.
    pub index_max_age: Duration,
    pub limits: Limits,
    /// Where the facts of crate files already read are kept (our cache folder), if anywhere.
    pub cache_dir: Option<&'a std::path::Path>,
    pub progress: &'a dyn Progress,
}

/// The base of `version` among a crate's published versions: the newest earlier version that
/// is not yanked (a withdrawn release is no baseline), else the newest earlier one at all,
/// else none (the first version).
pub fn choose_base(versions: &[&IndexVersion], version: &semver::Version) -> Base {
    let earlier = |yanked_ok: bool| {
        versions
            .iter()
            .filter(|v| v.version < *version && (yanked_ok || !v.yanked))
            .max_by(|a, b| a.version.cmp(&b.version))
    };
    match earlier(false).or_else(|| earlier(true)) {
        Some(v) => Base::Version {
            version: v.version.clone(),
            from: "index",
        },
        None => Base::First,
    }
}

pub fn gather(input: &GatherInput<'_>) -> RiskReport {
    let mut ctx = RiskContext {
        now: Some(input.now),
        thresholds: Some(input.thresholds),
        ..RiskContext::default()
    };
    let packages = &input.inventory.packages;
    ctx.lockfile = packages
        .iter()
        .filter(|p| p.source.is_registry())
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect();
    // Round one: the candidates and their bases.
    let mut wanted: Vec<Package> = Vec::new();
    for &id in input.candidates {
        let Some(p) = packages.get(id) else { continue };
        add_with_base(input, &mut ctx, p, &mut wanted);
    }
    read_all(input, &mut ctx, &wanted);
    // Round two: the dependencies they newly bring in that the lockfile has, and their bases.
    let mut second: Vec<Package> = Vec::new();
    for &id in input.candidates {
        let Some(p) = packages.get(id) else { continue };
        for dep in new_dependencies(&ctx, p) {
            let locked = packages
                .iter()
                .filter(|q| q.source.is_registry())
                .find(|q| {
                    super::build_scan::normalize(&q.name) == super::build_scan::normalize(&dep)
                });
            match locked {
                Some(q) if !ctx.facts.contains_key(&q.spec()) => {
                    add_with_base(input, &mut ctx, q, &mut second);
                }
                Some(_) => {}
                None if input.resolve_unlocked => {
                    resolve_unlocked(input, &mut ctx, &dep, p, &mut second);
                }
                None => {
                    // Not built here (optional, another platform): only its index is judged.
                    if !ctx.index.contains_key(&dep) {
                        let entry = input
                            .store
                            .index_versions_within(&dep, &p.source, input.index_max_age)
                            .map(|(v, _)| v)
                            .map_err(|e| e.to_string());
                        ctx.index.insert(dep.clone(), entry);
                    }
                }
            }
        }
    }
    second.retain(|q| !ctx.facts.contains_key(&q.spec()));
    read_all(input, &mut ctx, &second);
    let mut report = RiskReport::default();
    for &id in input.candidates {
        if let Some(p) = packages.get(id) {
            report.insert(assess(&ctx, &p.name, &p.version));
        }
    }
    for &id in input.if_read {
        let Some(p) = packages.get(id) else { continue };
        // Queued with its base by round two (`bases` has it) and read: assessing costs nothing.
        if matches!(ctx.facts.get(&p.spec()), Some(Ok(_))) && ctx.bases.contains_key(&p.spec()) {
            report.insert(assess(&ctx, &p.name, &p.version));
        }
    }
    report
}

/// Names of the dependencies `p` has and its base had not (empty when either was not read).
fn new_dependencies(ctx: &RiskContext, p: &Package) -> Vec<String> {
    let Some(Ok(facts)) = ctx.facts.get(&p.spec()) else {
        return Vec::new();
    };
    let base = match ctx.bases.get(&p.spec()) {
        Some(Base::Version { version, .. }) => {
            match ctx.facts.get(&format!("{}@{version}", p.name)) {
                Some(Ok(b)) => Some(b),
                _ => return Vec::new(),
            }
        }
        Some(Base::First) => None,
        _ => return Vec::new(),
    };
    let had: Vec<String> = base
        .map(|b| {
            b.dependencies
                .keys()
                .map(|d| super::build_scan::normalize(d))
                .collect()
        })
        .unwrap_or_default();
    facts
        .dependencies
        .keys()
        .filter(|d| !had.contains(&super::build_scan::normalize(d)))
        .cloned()
        .collect()
}

/// Reads the index entry of `dep`, a new dependency of `of` the lockfile does not hold, and
/// queues its newest version that is not yanked (and that version's base) as if it were
/// locked. An entry that cannot be read leaves only its index signals "not computed".
fn resolve_unlocked(
    input: &GatherInput<'_>,
    ctx: &mut RiskContext,
    dep: &str,
    of: &Package,
    wanted: &mut Vec<Package>,
) {
    let listed = match input
        .store
        .index_versions_within(dep, &of.source, input.index_max_age)
    {
        Ok((listed, _)) => listed,
        Err(e) => {
            ctx.index.insert(dep.to_owned(), Err(e.to_string()));
            return;
        }
    };
    let newest = listed
        .iter()
        .filter(|v| !v.yanked)
        .max_by(|a, b| a.version.cmp(&b.version));
    let Some(newest) = newest else {
        ctx.index.insert(dep.to_owned(), Ok(listed));
        return;
    };
    let package = package_of(dep, newest, &of.source);
    ctx.lockfile
        .push((package.name.clone(), package.version.clone()));
    let refs: Vec<&IndexVersion> = listed.iter().collect();
    record_base(input, ctx, &package, &refs, wanted);
}

/// Records `p`'s index entry and base, and queues `p` and its base for reading.
fn add_with_base(
    input: &GatherInput<'_>,
    ctx: &mut RiskContext,
    p: &Package,
    wanted: &mut Vec<Package>,
) {
    let listed: Vec<&IndexVersion> = input.index.versions(p);
    if listed.is_empty() {
        let why = if input.index.has_entry(p) {
            "the index lists no versions of it".to_owned()
        } else {
            "its index entry was not read".to_owned()
        };
        ctx.index.insert(p.name.clone(), Err(why.clone()));
        ctx.bases.insert(p.spec(), Base::Unknown(why));
        wanted.push(p.clone());
        return;
    }
    record_base(input, ctx, p, &listed, wanted);
}

/// Records `p`'s index entry (`listed`, not empty) and base, and queues both for reading.
fn record_base(
    input: &GatherInput<'_>,
    ctx: &mut RiskContext,
    p: &Package,
    listed: &[&IndexVersion],
    wanted: &mut Vec<Package>,
) {
    ctx.index.insert(
        p.name.clone(),
        Ok(listed.iter().map(|v| (*v).clone()).collect()),
    );
    let from_lockfile = input.base_lockfile.and_then(|base| {
        base.packages
            .iter()
            .filter(|q| q.name == p.name && q.source_id == p.source_id && q.version != p.version)
            .max_by(|a, b| a.version.cmp(&b.version))
    });
    let base = match from_lockfile {
        Some(q) => Base::Version {
            version: q.version.clone(),
            from: "lockfile",
        },
        None => choose_base(listed, &p.version),
    };
    if let Base::Version { version, .. } = &base
        && let Some(listed) = listed.iter().find(|v| &v.version == version)
    {
        wanted.push(package_of(&p.name, listed, &p.source));
    }
    ctx.bases.insert(p.spec(), base);
    wanted.push(p.clone());
}

/// Downloads what no cache has (in parallel; on a failure, one by one to find which), then
/// reads the facts of every package.
fn read_all(input: &GatherInput<'_>, ctx: &mut RiskContext, wanted: &[Package]) {
    let cache = input
        .cache_dir
        .map(|d| FactsCache::new(d, input.blob_bytes));
    let mut unique: Vec<&Package> = Vec::new();
    for p in wanted {
        if ctx.facts.contains_key(&p.spec()) || unique.iter().any(|q| q.spec() == p.spec()) {
            continue;
        }
        let cached = match (&cache, p.checksum.as_deref()) {
            (Some(cache), Some(sum)) => cache.get(sum).filter(|f| f.spec == p.spec()),
            _ => None,
        };
        match cached {
            Some(facts) => {
                ctx.facts.insert(p.spec(), Ok(facts));
            }
            None => unique.push(p),
        }
    }
    let mut failed: HashMap<String, String> = HashMap::new();
    if input.store.ensure_all(&unique, input.progress).is_err() {
        for p in &unique {
            if let Err(e) = input.store.ensure_all(&[p], input.progress) {
                failed.insert(p.spec(), e.to_string());
            }
        }
    }
    let read: Vec<(String, Result<CrateFacts, String>)> = crate::parallel::map_until_error(
        &unique,
        std::thread::available_parallelism().map_or(2, |n| n.get()),
        |p| {
            let facts = match failed.get(&p.spec()) {
                Some(why) => Err(why.clone()),
                None => read_facts(input, p),
            };
            // Only facts read from a verified crate file are kept; a refusal is computed again.
            if let (Some(cache), Ok(f), Some(sum)) = (&cache, &facts, p.checksum.as_deref()) {
                let _ = cache.put(sum, f);
            }
            Ok::<_, std::convert::Infallible>((p.spec(), facts))
        },
    )
    .unwrap_or_default();
    ctx.facts.extend(read);
}

fn read_facts(input: &GatherInput<'_>, p: &Package) -> Result<CrateFacts, String> {
    let bytes = input.store.read_verified(p).map_err(|e| e.to_string())?;
    let archive = read_crate(&bytes, &p.name, &p.version.to_string(), &input.limits)
        .map_err(|e| format!("its crate file was refused: {e}"))?;
    crate_facts(&p.spec(), &archive, input.blob_bytes)
}
