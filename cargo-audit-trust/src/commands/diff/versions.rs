//! `diff NAME OLD NEW`: what changed between two published versions.

use std::process::ExitCode;

use audit_trust_core::provenance::diff_versions;

use super::exit_code;
use crate::error::CliError;
use crate::output::diff::render_versions;
use crate::output::diff_colour::colour_diff;
use crate::output::pager::write_paged;
use crate::output::write_json;
use crate::services::crate_source::CrateSource;
use crate::settings::{OutputFormat, Settings};

pub fn run(
    settings: &Settings,
    name: &str,
    old: &str,
    new: &str,
    stat: bool,
    pager: bool,
) -> Result<ExitCode, CliError> {
    let source = CrateSource::open(settings, false)?;
    let (_, old_archive) = source.read(&source.package(name, old)?)?;
    let (_, new_archive) = source.read(&source.package(name, new)?)?;
    let diff = diff_versions(name, old, &old_archive, new, &new_archive);
    match settings.format {
        OutputFormat::Json => write_json(&diff)?,
        OutputFormat::Human => write_paged(
            &colour_diff(
                &render_versions(&diff, &old_archive, &new_archive, stat, &settings.palette),
                &settings.palette,
            ),
            pager,
        )?,
    }
    Ok(exit_code(diff.is_empty()))
}
