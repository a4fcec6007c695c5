//! What `sign` binds a record to: the exact bytes of a crate file whose SHA-256 is the one the
//! registry index states. The lockfile's checksum is compared too, never trusted alone.

use super::record::{DeltaBase, RepositoryTrust, SourceEvidence, Subject};
use crate::Error;
use crate::fetch::{CrateStore, IndexVersion, sha256_hex};
use crate::inventory::SourceKind;
use crate::progress::Progress;
use crate::provenance::previous::previous_claim;
use crate::provenance::signing::source_match;
use crate::provenance::{
    GitCache, ProvenanceInput, RepositoryChoice, RepositorySource, SignedOffRepository,
    UrlRewrites, check_provenance,
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
    /// Where the crate comes from (for the previous version's claim).
    pub source: &'a SourceKind,
    /// The repository pinned for this crate in `Cargo.audit` `[sources]`, if any.
    pub pinned_repository: Option<&'a str>,
    /// The repository the newest `source-matches` sign-off of an earlier version recorded.
    pub signed_off: Option<SignedOffRepository>,
    pub store: &'a CrateStore,
    pub git: &'a GitCache,
    pub rewrites: &'a UrlRewrites,
    pub progress: &'a dyn Progress,
}

/// The evidence for a `source-matches` sign-off: the provenance engine compares exactly the
/// bytes that were hashed (`krate.bytes`) with the repository, and only a `matches` against a
/// pinned or signed-off repository is evidence ([`source_match`]); anything else is an error
/// that names the verdict and its reason.
pub fn source_matches_evidence(
    request: &SourceMatchesRequest<'_>,
) -> Result<SourceEvidence, Error> {
    let krate = request.krate;
    let (name, version) = (krate.subject.name(), krate.subject.version());
    let spec = format!("{name}@{version}");
    let version_text = version.to_string();
    let archive =
        read_crate(&krate.bytes, name, &version_text, &Limits::default()).map_err(|source| {
            Error::Tarball {
                package: spec.clone(),
                source,
            }
        })?;
    let pinned = request.pinned_repository.map(str::to_owned);
    // The previous version's claim only matters when the claim is what would be used; a
    // registry that cannot be asked leaves it unknown, which the engine treats with suspicion.
    let previous_claimed = if pinned.is_none() && request.signed_off.is_none() {
        previous_claim(
            request.store,
            name,
            version,
            request.source,
            &Limits::default(),
        )
        .ok()
        .flatten()
    } else {
        None
    };
    let choice = RepositoryChoice {
        pinned,
        signed_off: request.signed_off.clone(),
        previous_claimed,
    };
    let input = ProvenanceInput {
        name,
        version: &version_text,
        archive: &archive,
        repositories: &choice,
    };
    let report = check_provenance(&input, request.git, request.rewrites, request.progress)?;
    let evidence = source_match(&report).map_err(|message| Error::Sign {
        package: spec.clone(),
        message: format!("not signing source-matches: {message}"),
    })?;
    let repository_trust = match evidence.repository_source {
        RepositorySource::Pinned => RepositoryTrust::Pinned,
        RepositorySource::SignedOff => RepositoryTrust::SignedOff,
        // `source_match` never returns a claimed repository; refuse rather than trust one.
        RepositorySource::Claimed => {
            return Err(Error::Sign {
                package: spec,
                message: "the repository is only claimed by the crate".into(),
            });
        }
    };
    Ok(SourceEvidence {
        repository: evidence.repository,
        commit: evidence.commit,
        git_ref: evidence.reference,
        repository_trust,
    })
}
