//! `prune`: removes the exemptions and advisory ignores that no longer match anything, editing
//! `Cargo.audit`'s text so everything else stays byte for byte.

use std::path::Path;
use std::process::ExitCode;

use audit_trust_core::Error;
use audit_trust_core::audit_file::prune::{EntryKind, UnusedEntry, remove_entries, unused_entries};
use serde::Serialize;

use crate::cli::PruneArgs;
use crate::error::CliError;
use crate::output::{write_json, write_stdout};
use crate::project::{InventoryNeed, Project};
use crate::services::audit_file_edit::{io_error, replace_file};
use crate::services::gate::open_advisory_db;
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

pub fn run(settings: &Settings, args: &PruneArgs) -> Result<ExitCode, CliError> {
    let project = Project::open(settings, InventoryNeed::Required { targets: false })?;
    let path = project.require_audit_file()?.to_path_buf();
    let inventory = project.inventory()?;
    let text = std::fs::read_to_string(&path).map_err(|e| io_error(&path, e))?;
    // Without a database the ignores cannot be judged: they are kept, and the output says so.
    let (db, unchecked) =
        match open_advisory_db(&project, args.advisory_db.as_deref(), &settings.progress()) {
            Ok(db) => (Some(db), None),
            Err(CliError::Core(e @ Error::AdvisoryDb { .. })) => (None, Some(e.to_string())),
            Err(other) => return Err(other),
        };
    let unused = unused_entries(&text, &project.audit_file, inventory, db.as_ref());
    if !args.dry_run && !unused.is_empty() {
        let edited = remove_entries(&text, &project.audit_file, &unused, &path)?;
        replace_file(&path, &edited)?;
    }
    match settings.format {
        OutputFormat::Json => write_json(&PruneJson {
            path: path.display().to_string(),
            dry_run: args.dry_run,
            removed: &unused,
            advisories_unchecked: unchecked,
        })?,
        OutputFormat::Human => {
            write_stdout(&render(&path, &unused, args.dry_run, unchecked.as_deref()))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn render(path: &Path, unused: &[UnusedEntry], dry_run: bool, unchecked: Option<&str>) -> String {
    let mut out = String::new();
    let verb = if dry_run { "would remove" } else { "removed" };
    if unused.is_empty() {
        out.push_str(&format!("{}: nothing to prune\n", path.display()));
    } else {
        out.push_str(&format!(
            "{}: {verb} {} entries\n",
            path.display(),
            unused.len()
        ));
        for entry in unused {
            let what = match entry.kind {
                EntryKind::Exemption => "exemption for",
                EntryKind::IgnoreAdvisory => "ignore of",
            };
            let why = match entry.kind {
                EntryKind::Exemption => "no package in Cargo.lock matches it",
                EntryKind::IgnoreAdvisory => "the advisory covers no package in Cargo.lock",
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
