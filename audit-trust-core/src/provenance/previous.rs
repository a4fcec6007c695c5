//! The repository the previous published version named: the baseline that makes a changed claim
//! visible. It is read from that version's own tarball (downloaded through the crate store and
//! verified against the index checksum), not from the registry's web API: the tarball is what was
//! published, and the same code path reads both versions.

use super::repository::PreviousClaim;
use crate::Error;
use crate::fetch::{CrateStore, package_of};
use crate::inventory::SourceKind;
use crate::progress::NoProgress;
use crate::tarball::{Limits, read_crate};

/// The newest version before `version` that is not yanked (a yanked release is one its
/// maintainers withdrew, so it is no baseline), and the repository its tarball names.
/// `Ok(None)` when there is no earlier version.
pub fn previous_claim(
    store: &CrateStore,
    name: &str,
    version: &semver::Version,
    source: &SourceKind,
    limits: &Limits,
) -> Result<Option<PreviousClaim>, Error> {
    let versions = store.index_versions(name, source)?;
    let Some(previous) = versions
        .iter()
        .rev()
        .find(|v| !v.yanked && v.version < *version)
    else {
        return Ok(None);
    };
    let package = package_of(name, previous, source);
    store.ensure_all(&[&package], &NoProgress)?;
    let bytes = store.read_verified(&package)?;
    let archive =
        read_crate(&bytes, name, &previous.version.to_string(), limits).map_err(|source| {
            Error::Tarball {
                package: package.spec(),
                source,
            }
        })?;
    Ok(Some(PreviousClaim {
        version: previous.version.to_string(),
        url: super::claimed_repository(&archive),
    }))
}
