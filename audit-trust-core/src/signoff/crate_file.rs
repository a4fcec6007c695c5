//! What `sign` binds a record to: the exact bytes of a crate file whose SHA-256 is the one the
//! registry index states. The lockfile's checksum is compared too, never trusted alone.

use super::record::{DeltaBase, RepositoryTrust, SourceEvidence, Subject};
use crate::Error;
use crate::fetch::{CrateStore, IndexVersion, sha256_hex};
use crate::inventory::SourceKind;
use crate::progress::Progress;
use crate::provenance::{
    GitCache, ProvenanceInput, ProvenanceReport, RepositoryChoice, RepositorySource, UrlRewrites,
    check_provenance, source_match,
};
use crate::tarball::{Limits, read_crate};

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

/// What the provenance engine is asked for a `source-matches` sign-off.
pub struct SourceMatchesRequest<'a> {
    pub krate: &'a VerifiedCrate,
    /// The trusted candidates ([`RepositoryChoice::pinned_else_signed_off`]). A claimed
    /// repository can never be evidence, so the previous version's claim is not consulted.
    pub repositories: RepositoryChoice,
    pub git: &'a GitCache,
    pub rewrites: &'a UrlRewrites,
    pub progress: &'a dyn Progress,
}

impl std::fmt::Debug for SourceMatchesRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceMatchesRequest")
            .field("subject", &self.krate.subject)
            .field("repositories", &self.repositories)
            .finish()
    }
}

/// The evidence for a `source-matches` sign-off: the provenance engine compares exactly the
/// bytes that are being signed with the repository, and only a `matches` against a **pinned**
/// or **signed-off** repository is evidence — a repository the crate merely claims never is.
/// Anything else is an error that names the verdict and its reason.
pub fn source_matches_evidence(
    request: &SourceMatchesRequest<'_>,
) -> Result<SourceEvidence, Error> {
    let name = request.krate.subject.name();
    let version = request.krate.subject.version().to_string();
    let spec = format!("{name}@{version}");
    let archive =
        read_crate(&request.krate.bytes, name, &version, &Limits::default()).map_err(|source| {
            Error::Tarball {
                package: spec.clone(),
                source,
            }
        })?;
    let choice = RepositoryChoice {
        // What the previous version claimed cannot change the outcome (see the field's doc).
        previous_claimed: None,
        ..request.repositories.clone()
    };
    let input = ProvenanceInput {
        name,
        version: &version,
        archive: &archive,
        repositories: &choice,
    };
    let report = check_provenance(&input, request.git, request.rewrites, request.progress)?;
    source_evidence_in(&report).map_err(|message| Error::Sign {
        package: spec,
        message: format!("cannot sign source-matches: {message}"),
    })
}

/// The `source-matches` evidence a provenance report holds: a match against a **pinned** or
/// **signed-off** repository. Otherwise why not, in a sentence (the verdict and its reason, or
/// that the repository was only claimed). `sign` and the registry's automatic auditor both
/// decide with this.
pub fn source_evidence_in(report: &ProvenanceReport) -> Result<SourceEvidence, String> {
    let found = source_match(report)?;
    let repository_trust = match found.repository_source {
        RepositorySource::Pinned => RepositoryTrust::Pinned,
        RepositorySource::SignedOff => RepositoryTrust::SignedOff,
        // `source_match` refuses claimed repositories; say so rather than trust it silently.
        RepositorySource::Claimed => {
            return Err("a claimed repository is never evidence for source-matches".into());
        }
    };
    Ok(SourceEvidence {
        repository: found.repository,
        commit: found.commit,
        git_ref: found.reference,
        repository_trust,
    })
}
