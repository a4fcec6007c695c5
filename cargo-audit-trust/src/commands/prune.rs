//! `prune`: removes the exemptions and advisory ignores that no longer match anything, and the
//! exemptions that sign-offs made unnecessary, editing `Cargo.audit`'s text so everything else
//! stays byte for byte.

use std::path::Path;
use std::process::ExitCode;

use audit_trust_core::Error;
use audit_trust_core::audit_file::prune::{
    EntryKind, PruneReason, UnusedEntry, remove_entries, unneeded_exemptions, unused_entries,
};
use serde::Serialize;

use crate::cli::PruneArgs;
use crate::error::CliError;
use crate::output::{write_json, write_stdout};
use crate::services::audit_file_edit::{io_error, replace_file};
use crate::services::gate::GateContext;
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
    // The gate's inputs: whether an exemption is still needed is the gate's own judgement.
    let context = GateContext::gather(settings, args.advisory_db.as_deref())?;
    let project = &context.project;
    let path = project.require_audit_file()?.to_path_buf();
    let text = std::fs::read_to_string(&path).map_err(|e| io_error(&path, e))?;
    // Without a database the ignores cannot be judged: they are kept, and the output says so.
    // Exemptions are still judged: without advisories, fewer packages are blocked, never more,
    // and an exemption never waived an advisory anyway.
    let unchecked = context.db_error.as_ref().map(Error::to_string);
    let mut unused = unused_entries(
        &text,
        &project.audit_file,
        &context.inventory,
        context.db.as_ref(),
    );
    let input = context.input();
    for entry in unneeded_exemptions(&text, &input) {
        if !unused.iter().any(|u| u.line == entry.line) {
            unused.push(entry);
        }
    }
    unused.sort_by_key(|e| e.line);
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
            "{}: {verb} {}\n",
            path.display(),
            crate::output::plural(unused.len() as u64, "entry", "entries")
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
