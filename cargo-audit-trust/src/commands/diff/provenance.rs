//! `diff NAME[@VERSION]`: the published crate against its repository.

use std::process::ExitCode;

use audit_trust_core::SourceKind;
use audit_trust_core::audit_file::{AuditFile, is_supported_repository_url};
use audit_trust_core::names::validate_version;
use audit_trust_core::progress::Progress;
use audit_trust_core::provenance::crate_file::version_in_crate_file;
use audit_trust_core::provenance::previous::previous_claim;
use audit_trust_core::provenance::signed_off::signed_off_repository;
use audit_trust_core::provenance::{
    FetchLimits, GitCache, ProvenanceInput, ProvenanceReport, RepositoryChoice,
    SignedOffRepository, UrlRewrites, Verdict, check_provenance, claimed_repository,
};
use audit_trust_core::signoff::{HeadCache, verify_project_sources};
use audit_trust_core::tarball::{CrateArchive, Limits};

use super::exit_code;
use super::render::render_provenance;
use super::source::{CrateSource, read_archive, read_crate_file};
use crate::cli::{DiffArgs, Format, GlobalArgs};
use crate::context::{CliError, cache_dir};
use crate::output::progress::BarProgress;
use crate::output::{Palette, write_json, write_stdout};
use crate::project::now;

pub fn run(
    global: &GlobalArgs,
    args: &DiffArgs,
    name: &str,
    version: Option<&str>,
) -> Result<ExitCode, CliError> {
    let pinned_by_flag = args.repo.as_deref().map(repository_argument).transpose()?;
    let source = CrateSource::open(global, version.is_none() && args.crate_file.is_none())?;
    let audit_file = source.audit_file(global)?;

    let (version, archive, registry) = match &args.crate_file {
        Some(path) => {
            let bytes = read_crate_file(path)?;
            let version = match version {
                Some(v) => v.to_owned(),
                None => version_in_crate_file(&bytes, name).ok_or_else(|| {
                    CliError::Usage(format!(
                        "{} is not a .crate of {name}: give the version as {name}@VERSION",
                        path.display()
                    ))
                })?,
            };
            let archive = read_archive(&bytes, name, &version)?;
            (version, archive, source.registry(name))
        }
        None => {
            let version = match version {
                Some(v) => v.to_owned(),
                None => source.locked_version(name)?,
            };
            let package = source.package(name, &version)?;
            let (_, archive) = source.read(&package)?;
            (version, archive, package.source)
        }
    };

    let show_progress =
        !global.quiet && global.format == Format::Human && std::env::var_os("CI").is_none();
    let report = provenance_report(
        global,
        &source,
        &audit_file,
        &Published {
            name,
            version: &version,
            archive: &archive,
            registry: &registry,
        },
        pinned_by_flag,
        &BarProgress::new(show_progress),
    )?;

    match global.format {
        Format::Json => write_json(&report)?,
        // SARIF is refused for every command but `check` (see `commands::run`).
        Format::Human | Format::Sarif => write_stdout(&render_provenance(
            &report,
            &archive,
            args.stat,
            global.quiet,
            &Palette::new(global.color),
        ))?,
    }
    Ok(exit_code(report.verdict == Verdict::Matches))
}

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
    global: &GlobalArgs,
    source: &CrateSource,
    audit_file: &AuditFile,
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
    let pinned = pinned.or_else(|| audit_file.sources.get(name).cloned());
    let mut lookup_warnings = Vec::new();
    // The previous version's claim matters only when the claim is what would be used.
    let previous_claimed = if pinned.is_none() && claimed_repository(archive).is_some() {
        let parsed = validate_version(version).map_err(|e| CliError::Usage(e.to_string()))?;
        match previous_claim(source.store(), name, &parsed, registry, &Limits::default()) {
            Ok(claim) => claim,
            Err(e) => {
                lookup_warnings.push(format!(
                    "the repository named by the previous version could not be looked up, so a \
                     change of repository would go unnoticed: {e}"
                ));
                None
            }
        }
    } else {
        None
    };
    let signed_off = match &pinned {
        Some(_) => None,
        None => signed_off_from_records(global, source, name, version, &mut lookup_warnings)?,
    };
    let choice = RepositoryChoice {
        pinned,
        signed_off,
        previous_claimed,
    };

    let cache = GitCache::new(&cache_dir(global)?, FetchLimits::default(), global.offline);
    let rewrites = UrlRewrites::new(audit_file.url_rewrite.clone());
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

/// `--repo`: a URL, or a local path (made absolute). Anything else is a usage error.
fn repository_argument(repo: &str) -> Result<String, CliError> {
    let path = std::path::Path::new(repo);
    let looks_remote = repo.contains("://") || (repo.starts_with("git@") && repo.contains(':'));
    let url = if !looks_remote && path.exists() {
        std::path::absolute(path)
            .map_err(|e| CliError::Usage(format!("--repo {repo}: {e}")))?
            .display()
            .to_string()
    } else {
        repo.to_owned()
    };
    if !is_supported_repository_url(&url) {
        return Err(CliError::Usage(format!(
            "--repo `{}` is not a repository this tool fetches: use https://, ssh://, \
             git@host:path, file:// or a local path",
            url.escape_debug()
        )));
    }
    Ok(url)
}

/// The repository recorded by the newest verified `source-matches` sign-off of an earlier
/// version, from the auditors of Cargo.audit (none without a Cargo.audit).
fn signed_off_from_records(
    global: &GlobalArgs,
    source: &CrateSource,
    name: &str,
    version: &str,
    warnings: &mut Vec<String>,
) -> Result<Option<SignedOffRepository>, CliError> {
    let Some((audit_file, audit_dir)) = source.audit_file_and_dir(global)? else {
        return Ok(None);
    };
    let parsed = validate_version(version).map_err(|e| CliError::Usage(e.to_string()))?;
    let cache = HeadCache::new(&cache_dir(global)?);
    let records = verify_project_sources(&audit_file, &audit_dir, &cache, now(global)?, None)?;
    if !records.rejected.is_empty() {
        warnings.push(format!(
            "{} sign-off record(s) failed verification and were not used to choose the repository",
            records.rejected.len()
        ));
    }
    Ok(signed_off_repository(&records, name, &parsed))
}
