//! The provenance verdict of a published crate against its repository (`diff` and the review
//! UI).

use audit_trust_core::SourceKind;
use audit_trust_core::names::validate_version;
use audit_trust_core::progress::Progress;
use audit_trust_core::provenance::previous::previous_claim;
use audit_trust_core::provenance::signed_off::signed_off_repository;
use audit_trust_core::provenance::{
    FetchLimits, GitCache, ProvenanceInput, ProvenanceReport, RepositoryChoice, check_provenance,
    claimed_repository,
};
use audit_trust_core::signoff::ProjectRecords;
use audit_trust_core::tarball::{CrateArchive, Limits};

use super::crate_source::CrateSource;
use super::evidence::verified_records;
use crate::error::CliError;
use crate::project::Project;

/// One published crate version, read.
pub struct Published<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub archive: &'a CrateArchive,
    pub registry: &'a SourceKind,
}

/// The provenance verdict of a published crate: the repository chosen by the rules (`pinned`,
/// else `[sources]`, else a signed-off one, else the claim, checked against the previous
/// version's claim), then the engine. Shared by `diff` and the review UI.
pub fn provenance_report(
    source: &CrateSource,
    published: &Published<'_>,
    pinned: Option<String>,
    progress: &dyn Progress,
) -> Result<ProvenanceReport, CliError> {
    let Published {
        name,
        version,
        archive,
        registry,
    } = *published;
    let project = source.project();
    let settings = &project.settings;
    let parsed = validate_version(version).map_err(|e| CliError::Usage(e.to_string()))?;
    let (mut choice, mut lookup_warnings) = trusted_repositories(project, name, &parsed, pinned)?;
    // The previous version's claim matters only when the claim is what would be used.
    if choice.pinned.is_none() && claimed_repository(archive).is_some() {
        choice.previous_claimed =
            match previous_claim(source.store(), name, &parsed, registry, &Limits::default()) {
                Ok(claim) => claim,
                Err(e) => {
                    lookup_warnings.push(format!(
                        "the repository named by the previous version could not be looked up, so a \
                     change of repository would go unnoticed: {e}"
                    ));
                    None
                }
            };
    }

    let cache = GitCache::new(
        &settings.cache_dir()?,
        FetchLimits::default(),
        settings.offline,
    );
    let rewrites = super::url_rewrites(project)?;
    let input = ProvenanceInput {
        name,
        version,
        archive,
        repositories: &choice,
    };
    let mut report = check_provenance(&input, &cache, &rewrites, progress)?;
    report.warnings.splice(0..0, lookup_warnings);
    Ok(report)
}

/// The repositories `name@version` may be trusted against, by core's rule
/// ([`RepositoryChoice::pinned_else_signed_off`]): `pinned` (`--repo`), else `[sources]` in
/// Cargo.audit, else the repository of the newest verified `source-matches` sign-off of an
/// earlier version by the auditors of Cargo.audit (local records only). Also returns warnings
/// for the report (records that failed verification).
pub fn trusted_repositories(
    project: &Project,
    name: &str,
    version: &semver::Version,
    pinned: Option<String>,
) -> Result<(RepositoryChoice, Vec<String>), CliError> {
    let pinned = pinned.or_else(|| project.audit_file.sources.get(name).cloned());
    let mut warnings = Vec::new();
    let choice = RepositoryChoice::pinned_else_signed_off(pinned, || {
        if project.paths.audit_file.is_none() {
            return Ok::<_, CliError>(None);
        }
        let records = verified_records(project, true)?;
        warnings.extend(rejected_warning(&records));
        Ok(signed_off_repository(&records, name, version))
    })?;
    Ok((choice, warnings))
}

/// [`trusted_repositories`] with the records already read (a pass over many packages reads
/// them once): `[sources]` in Cargo.audit, else the signed-off repository in `records`.
pub fn trusted_repositories_in(
    project: &Project,
    records: Option<&ProjectRecords>,
    name: &str,
    version: &semver::Version,
) -> RepositoryChoice {
    let pinned = project.audit_file.sources.get(name).cloned();
    RepositoryChoice::pinned_else_signed_off(pinned, || {
        Ok::<_, std::convert::Infallible>(
            records.and_then(|r| signed_off_repository(r, name, version)),
        )
    })
    .unwrap_or_else(|never| match never {})
}

/// The warning for records that failed verification, if any did.
pub fn rejected_warning(records: &ProjectRecords) -> Option<String> {
    (!records.rejected.is_empty()).then(|| {
        format!(
            "{} failed verification and were not used to choose the repository",
            crate::output::plural(
                records.rejected.len() as u64,
                "sign-off record",
                "sign-off records"
            )
        )
    })
}
