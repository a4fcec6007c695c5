//! The versions a registry has published for a crate, from its sparse index: what `diff` needs
//! for versions that are not in the lockfile (`diff NAME OLD NEW`, the previous version's
//! repository). The checksum of such a version comes from the index, so the index is the trust
//! anchor there, as it is for cargo when it first locks a version.

use crates_index::SparseIndex;

use super::CrateStore;
use super::cargo_config::RegistryLocation;
use crate::Error;
use crate::inventory::{Package, SourceKind};

/// An index file is a few hundred bytes per version; this is far above any real crate.
const MAX_INDEX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// One published version, as the index lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedVersion {
    pub version: semver::Version,
    /// SHA-256 of the `.crate` file, lowercase hex.
    pub checksum: String,
    pub yanked: bool,
}

impl CrateStore {
    /// Every version of `name` the registry of `source` lists, sorted by version. Offline, the
    /// copy cached by an earlier run is used.
    pub fn published_versions(
        &self,
        name: &str,
        source: &SourceKind,
    ) -> Result<Vec<PublishedVersion>, Error> {
        crate::names::validate_crate_name(name).map_err(|e| Error::UnsupportedSource {
            package: name.to_owned(),
            message: e.to_string(),
        })?;
        let index_url = match self.location_of(source) {
            RegistryLocation::Sparse { index_url } => index_url,
            RegistryLocation::LocalRegistry { path } => {
                return Err(Error::UnsupportedSource {
                    package: name.to_owned(),
                    message: format!(
                        "the local registry {} has no index this tool reads",
                        path.display()
                    ),
                });
            }
            RegistryLocation::Unsupported { reason } => {
                return Err(Error::UnsupportedSource {
                    package: name.to_owned(),
                    message: reason,
                });
            }
        };
        let unreachable = |message: String| Error::RegistryUnreachable {
            package: name.to_owned(),
            registry: index_url.clone(),
            message,
        };
        let index = SparseIndex::with_path(self.options.cache_dir.join("index-home"), &index_url)
            .map_err(|e| unreachable(e.to_string()))?;
        let krate = if self.options.offline {
            index.crate_from_cache(name).map_err(|e| {
                unreachable(format!("--offline and the index entry is not cached: {e}"))
            })?
        } else {
            let request = index
                .make_cache_request(name)
                .and_then(|b| {
                    b.body(())
                        .map_err(|e| crates_index::Error::Url(e.to_string()))
                })
                .map_err(|e| unreachable(e.to_string()))?;
            let response = self
                .http
                .send(request, MAX_INDEX_FILE_BYTES)
                .map_err(|e| unreachable(e.to_string()))?;
            index
                .parse_cache_response(name, response, true)
                .map_err(|e| unreachable(format!("index entry: {e}")))?
                .ok_or_else(|| Error::UnsupportedSource {
                    package: name.to_owned(),
                    message: format!("the registry {index_url} has no crate of that name"),
                })?
        };
        let mut versions: Vec<PublishedVersion> = krate
            .versions()
            .iter()
            .filter_map(|v| {
                Some(PublishedVersion {
                    version: semver::Version::parse(v.version()).ok()?,
                    checksum: super::hex(v.checksum()),
                    yanked: v.is_yanked(),
                })
            })
            .collect();
        versions.sort_by(|a, b| a.version.cmp(&b.version));
        Ok(versions)
    }
}

/// A registry package for a version known from the index, so that [`CrateStore::ensure_all`]
/// and [`CrateStore::read_verified`] fetch and verify it like a locked one.
pub fn published_package(name: &str, published: &PublishedVersion, source: &SourceKind) -> Package {
    let source_id = match source {
        SourceKind::Registry { id, .. } => Some(id.clone()),
        _ => None,
    };
    Package {
        name: name.to_owned(),
        version: published.version.clone(),
        source: source.clone(),
        source_id,
        checksum: Some(published.checksum.clone()),
        dependencies: Vec::new(),
        direct: false,
        dev_only: None,
        workspace_member: false,
        // Not in the lockfile.
        lock_line: 0,
    }
}
