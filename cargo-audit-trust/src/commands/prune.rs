//! `prune`: removes the exemptions and advisory ignores that no longer match anything, and the
//! exemptions that sign-offs made unnecessary, editing `Cargo.audit`'s text so everything else
//! stays byte for byte.

use std::process::ExitCode;

use audit_trust_core::Error;
use audit_trust_core::audit_file::prune::{remove_entries, unneeded_exemptions, unused_entries};

use crate::cli::PruneArgs;
use crate::error::CliError;
use crate::services::audit_file_edit::{io_error, replace_file};
use crate::services::gate::GateContext;
use crate::settings::Settings;

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
    crate::output::prune::write(settings, &path, &unused, args.dry_run, unchecked)?;
    Ok(ExitCode::SUCCESS)
}
