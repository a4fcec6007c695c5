//! `prune`'s output: the entries removed from `Cargo.audit` (or that would be), with why.

use std::path::Path;

use audit_trust_core::audit_file::prune::{EntryKind, PruneReason, UnusedEntry};
use serde::Serialize;

use super::{write_json, write_stdout};
use crate::error::CliError;
use crate::settings::{OutputFormat, Settings};

#[derive(Serialize)]
struct PruneJson<'a> {
    path: String,
    dry_run: bool,
    removed: &'a [UnusedEntry],
    /// Why ignores were not judged, when the advisory database could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    advisories_unchecked: Option<String>,
}

/// Writes what `prune` did in the run's format. `unchecked`: why the advisory ignores were not
/// judged, when the advisory database could not be read.
pub fn write(
    settings: &Settings,
    path: &Path,
    unused: &[UnusedEntry],
    dry_run: bool,
    unchecked: Option<String>,
) -> Result<(), CliError> {
    match settings.format {
        OutputFormat::Json => write_json(&PruneJson {
            path: path.display().to_string(),
            dry_run,
            removed: unused,
            advisories_unchecked: unchecked,
        }),
        OutputFormat::Human => {
            write_stdout(&render_human(path, unused, dry_run, unchecked.as_deref()))
        }
    }
}

/// What was (or would be) removed and why, one line per entry.
pub fn render_human(
    path: &Path,
    unused: &[UnusedEntry],
    dry_run: bool,
    unchecked: Option<&str>,
) -> String {
    let mut out = String::new();
    let verb = if dry_run { "would remove" } else { "removed" };
    if unused.is_empty() {
        out.push_str(&format!("{}: nothing to prune\n", path.display()));
    } else {
        out.push_str(&format!(
            "{}: {verb} {}\n",
            path.display(),
            super::plural(unused.len() as u64, "entry", "entries")
        ));
        for entry in unused {
            let what = match entry.kind {
                EntryKind::Exemption => "exemption for",
                EntryKind::IgnoreAdvisory => "ignore of",
            };
            let why = match (entry.kind, entry.why) {
                (_, PruneReason::NotNeeded) => {
                    "its packages pass without it (signed off or imported)"
                }
                (EntryKind::Exemption, _) => "no package in Cargo.lock matches it",
                (EntryKind::IgnoreAdvisory, _) => "the advisory covers no package in Cargo.lock",
            };
            out.push_str(&format!(
                "  line {}: {what} {}: {why}\n",
                entry.line, entry.label
            ));
        }
    }
    if let Some(why) = unchecked {
        out.push_str(&format!(
            "note: advisory ignores were kept unjudged: the advisory database could not be read ({why})\n"
        ));
    }
    out
}
