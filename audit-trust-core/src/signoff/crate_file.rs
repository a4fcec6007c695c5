//! What `sign` binds a record to: the exact bytes of a crate file whose SHA-256 is the one the
//! registry index states. The lockfile's checksum is compared too, never trusted alone.

use super::record::{DeltaBase, SourceEvidence, Subject};
use crate::Error;
use crate::fetch::{CrateStore, IndexVersion, sha256_hex};
use crate::inventory::SourceKind;
use crate::progress::Progress;

/// A crate version whose file was read and checked against the index.
#[derive(Debug)]
pub struct VerifiedCrate {
    pub subject: Subject,
    /// The bytes that were hashed; what a reviewer is shown and the provenance engine compares.
    pub bytes: Vec<u8>,
    pub yanked: bool,
    /// All versions of the crate in the index (for delta bases).
    pub index_versions: Vec<IndexVersion>,
}

/// Looks `name@version` up in the index of `source`, refuses a lockfile checksum that differs
/// from it, and reads (downloading if needed) the crate file verified against the index.
pub fn verified_crate(
    store: &CrateStore,
    name: &str,
    version: &semver::Version,
    source: &SourceKind,
    lockfile_checksum: Option<&str>,
    progress: &dyn Progress,
) -> Result<VerifiedCrate, Error> {
    let spec = format!("{name}@{version}");
    let index_versions = store.index_versions(name, source)?;
    let listed = index_versions
        .iter()
        .find(|v| &v.version == version)
        .ok_or_else(|| Error::Sign {
            package: spec.clone(),
            message: "the registry index lists no such version".into(),
        })?;
    if let Some(locked) = lockfile_checksum
        && locked != listed.checksum
    {
        return Err(Error::ChecksumMismatch {
            package: spec,
            expected: locked.to_owned(),
            actual: listed.checksum.clone(),
            origin: "the registry index".into(),
        });
    }
    let package = crate::fetch::package_of(name, listed, source);
    store.ensure_all(&[&package], progress)?;
    let bytes = store.read_verified(&package)?;
    // `read_verified` already compared; hash again what is signed, so the record can only ever
    // name the bytes in hand.
    let checksum = sha256_hex(&bytes);
    if checksum != listed.checksum {
        return Err(Error::ChecksumMismatch {
            package: spec,
            expected: listed.checksum.clone(),
            actual: checksum,
            origin: "the crate file".into(),
        });
    }
    Ok(VerifiedCrate {
        subject: Subject::Crate {
            name: name.to_owned(),
            version: version.clone(),
            checksum,
        },
        bytes,
        yanked: listed.yanked,
        index_versions: index_versions.clone(),
    })
}

impl VerifiedCrate {
    /// The delta base `old`, with its checksum from the same index entry.
    pub fn delta_base(&self, old: &semver::Version) -> Result<DeltaBase, Error> {
        let listed = self
            .index_versions
            .iter()
            .find(|v| &v.version == old)
            .ok_or_else(|| Error::Sign {
                package: format!("{}@{old}", self.subject.name()),
                message: "the delta base is not a version the registry index lists".into(),
            })?;
        Ok(DeltaBase {
            version: old.clone(),
            checksum: listed.checksum.clone(),
        })
    }
}

/// What the provenance engine (issue 3) is asked for a `source-matches` sign-off.
#[derive(Debug)]
pub struct SourceMatchesRequest<'a> {
    pub krate: &'a VerifiedCrate,
    /// The repository pinned for this crate in `Cargo.audit` `[sources]`, if any.
    pub pinned_repository: Option<&'a str>,
}

/// The evidence for a `source-matches` sign-off. This is where the provenance engine plugs in:
/// it must compare exactly `request.krate.bytes` with the repository, and return evidence only
/// for the verdict `matches` against a `pinned` or `signed-off` repository; anything else is an
/// error that names the verdict. Until it exists, `source-matches` cannot be signed.
pub fn source_matches_evidence(
    request: &SourceMatchesRequest<'_>,
) -> Result<SourceEvidence, Error> {
    Err(Error::Sign {
        package: format!(
            "{}@{}",
            request.krate.subject.name(),
            request.krate.subject.version()
        ),
        message: "`--criteria source-matches` is not available yet: it needs the provenance \
                  engine, which this build does not have. Sign `reviewed` (or a custom \
                  criterion) instead."
            .into(),
    })
}
