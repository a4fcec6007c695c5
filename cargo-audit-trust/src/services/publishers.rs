//! `import refresh`'s publisher lookups: for each crates.io package of the lockfile that a
//! `trusted` or `wildcard-audits` entry of an imported set names, who published that version,
//! from the registry's web API (cached, one request a second), pinned in the lock so `check`
//! judges those entries offline.

use std::collections::BTreeSet;

use audit_trust_core::http::HttpClient;
use audit_trust_core::imports::publishers::{CRATES_IO_INTERVAL, PublisherLookup};
use audit_trust_core::imports::{self, ImportLock};
use audit_trust_core::{Package, SourceKind};

use super::crate_store;
use super::imports::RefreshReport;
use crate::error::CliError;
use crate::project::Project;

/// Adds the publishers the sets need to `lock` (already-pinned ones are kept), recording in
/// `report` what was learned and what could not be.
pub fn learn(
    project: &Project,
    lock: &mut ImportLock,
    report: &mut RefreshReport,
) -> Result<(), CliError> {
    let Some(inventory) = project.inventory.as_ref() else {
        return Ok(());
    };
    // The sets pinned now (one not refreshed yet and never pinned is left for its own refresh).
    let mut sets = Vec::new();
    for import in &project.audit_file.imports {
        if let Ok(text) = ImportLock::pinned(Some(lock), import) {
            sets.push((
                import,
                imports::parse_set(import, text, "Cargo.audit.lock")?,
            ));
        }
    }
    let mut needed: BTreeSet<(String, semver::Version)> = BTreeSet::new();
    let mut packages: Vec<&Package> = Vec::new();
    for p in &inventory.packages {
        if !matches!(
            p.source,
            SourceKind::Registry {
                crates_io: true,
                ..
            }
        ) {
            continue;
        }
        let named = sets.iter().any(|(import, set)| {
            import.covers(&p.name)
                && (set.trusted.contains_key(&p.name) || set.wildcard.contains_key(&p.name))
        });
        let pinned = lock
            .publishers
            .iter()
            .any(|x| x.name == p.name && x.version == p.version.to_string());
        if named && !pinned && needed.insert((p.name.clone(), p.version.clone())) {
            packages.push(p);
        }
    }
    if packages.is_empty() {
        return Ok(());
    }
    if project.settings.offline {
        report.publishers_unknown.extend(
            packages
                .iter()
                .map(|p| format!("{}: --offline, not looked up", p.spec())),
        );
        return Ok(());
    }
    let store = crate_store(project)?;
    let api = match store.registry_api(packages[0]) {
        Ok(Some(api)) => api,
        Ok(None) => {
            report.publishers_unknown.extend(
                packages
                    .iter()
                    .map(|p| format!("{}: the registry's config.json names no web API", p.spec())),
            );
            return Ok(());
        }
        Err(e) => {
            report
                .publishers_unknown
                .extend(packages.iter().map(|p| format!("{}: {e}", p.spec())));
            return Ok(());
        }
    };
    let http = HttpClient::default();
    let cache_dir = project.settings.cache_dir()?;
    let mut lookup = PublisherLookup::new(&http, &api, &cache_dir, CRATES_IO_INTERVAL);
    for p in packages {
        match lookup.lookup(&p.name, &p.version) {
            Ok(Some(found)) => {
                report.publishers_learned.push(p.spec());
                lock.publishers.push(found);
            }
            Ok(None) => report.publishers_unknown.push(format!(
                "{}: the registry's API does not list this version",
                p.spec()
            )),
            Err(e) => report
                .publishers_unknown
                .push(format!("{}: lookup failed: {e}", p.spec())),
        }
    }
    Ok(())
}
