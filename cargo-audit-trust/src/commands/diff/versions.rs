//! `diff NAME OLD NEW`: what changed between two published versions.

use std::fmt::Write as _;
use std::process::ExitCode;

use audit_trust_core::provenance::diff_versions;
use audit_trust_core::provenance::text_diff::{not_text_note, unified_diff};
use audit_trust_core::provenance::versions::{ChangeStatus, VersionDiff};
use audit_trust_core::tarball::CrateArchive;

use super::exit_code;
use super::render::CONTEXT_LINES;
use crate::error::CliError;
use crate::output::diff_colour::colour_diff;
use crate::output::escape;
use crate::output::pager::write_paged;
use crate::output::{Palette, write_json};
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
                &render(&diff, &old_archive, &new_archive, stat, &settings.palette),
                &settings.palette,
            ),
            pager,
        )?,
    }
    Ok(exit_code(diff.is_empty()))
}

fn render(
    diff: &VersionDiff,
    old: &CrateArchive,
    new: &CrateArchive,
    stat: bool,
    palette: &Palette,
) -> String {
    let t = &diff.totals;
    let mut out = String::new();
    let heading = format!(
        "{} {} → {}: {} changed ({} added, {} removed, {} modified), +{} -{} lines; {} unchanged",
        diff.name,
        diff.old_version,
        diff.new_version,
        crate::output::plural(diff.files.len() as u64, "file", "files"),
        t.files_added,
        t.files_removed,
        t.files_modified,
        t.lines_added,
        t.lines_removed,
        t.files_unchanged
    );
    let _ = writeln!(out, "{}", palette.paint(palette.bold, &heading));
    let width = diff
        .files
        .iter()
        .map(|f| f.path.chars().count())
        .max()
        .unwrap_or(0);
    for file in &diff.files {
        let mark = match file.status {
            ChangeStatus::Added => "A",
            ChangeStatus::Removed => "D",
            ChangeStatus::Modified => "M",
        };
        let counts = if file.binary {
            "binary".to_owned()
        } else {
            format!("+{} -{}", file.lines_added, file.lines_removed)
        };
        let path = escape::line(&file.path);
        let _ = writeln!(out, "  {mark}  {path:<width$}  {counts}");
    }
    if stat {
        return out;
    }
    for file in &diff.files {
        let before = old
            .get(&file.path)
            .map(|f| f.contents.as_slice())
            .unwrap_or_default();
        let after = new
            .get(&file.path)
            .map(|f| f.contents.as_slice())
            .unwrap_or_default();
        let old_label = match file.status {
            ChangeStatus::Added => "/dev/null".to_owned(),
            _ => format!("{}/{}", diff.old_version, escape::line(&file.path)),
        };
        let new_label = match file.status {
            ChangeStatus::Removed => "/dev/null".to_owned(),
            _ => format!("{}/{}", diff.new_version, escape::line(&file.path)),
        };
        out.push('\n');
        match unified_diff(before, after, &old_label, &new_label, CONTEXT_LINES) {
            Some(text) => out.push_str(&escape::block(&text)),
            None => {
                let _ = writeln!(
                    out,
                    "=== {}: {}",
                    escape::line(&file.path),
                    not_text_note(before, after)
                );
            }
        }
    }
    out
}
