//! `diff NAME[@VERSION]`: the published crate against its repository.

use std::path::Path;
use std::process::ExitCode;

use audit_trust_core::audit_file::is_supported_repository_url;
use audit_trust_core::provenance::Verdict;
use audit_trust_core::provenance::crate_file::version_in_crate_file;

use super::exit_code;
use crate::error::CliError;
use crate::output::diff::{Detail, render_provenance};
use crate::output::diff_colour::colour_diff;
use crate::output::pager::write_paged;
use crate::output::write_json;
use crate::services::crate_source::{CrateSource, read_archive, read_crate_file};
use crate::services::provenance::{Published, provenance_report};
use crate::settings::{OutputFormat, Settings};

/// What `diff NAME[@VERSION]` was asked, resolved from its arguments.
pub struct ProvenanceRequest<'a> {
    pub name: &'a str,
    pub version: Option<&'a str>,
    /// `--repo`, checked and made absolute when it is a local path.
    pub repository: Option<String>,
    /// `--crate-file`.
    pub crate_file: Option<&'a Path>,
    /// `--stat`.
    pub stat: bool,
    /// Not `--no-pager`.
    pub pager: bool,
}

pub fn run(settings: &Settings, request: &ProvenanceRequest<'_>) -> Result<ExitCode, CliError> {
    let ProvenanceRequest {
        name,
        version,
        crate_file,
        stat,
        ..
    } = *request;
    let source = CrateSource::open(settings, version.is_none() && crate_file.is_none())?;

    let (version, archive, registry) = match crate_file {
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

    let report = provenance_report(
        &source,
        &Published {
            name,
            version: &version,
            archive: &archive,
            registry: &registry,
        },
        request.repository.clone(),
        &settings.progress(),
    )?;

    match settings.format {
        OutputFormat::Json => write_json(&report)?,
        OutputFormat::Human => write_paged(
            &colour_diff(
                &render_provenance(
                    &report,
                    &archive,
                    stat,
                    Detail::from_flags(settings.quiet, settings.verbose),
                    &settings.palette,
                ),
                &settings.palette,
            ),
            request.pager,
        )?,
    }
    Ok(exit_code(report.verdict == Verdict::Matches))
}

/// `--repo`: a URL, or a local path (made absolute). Anything else is a usage error.
pub fn repository_argument(repo: &str) -> Result<String, CliError> {
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
