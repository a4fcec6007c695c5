//! `review`: the interactive review. The queue is exactly what `check` blocks or what has no
//! sign-off yet; the evidence (classification, sign-offs, provenance, deltas) is one key away
//! and a sign-off two keys away. Shape: [`app`] holds the state and `update` changes it,
//! [`view`] draws it, [`worker`] does the slow work, [`terminal`] connects them.

pub mod app;
pub mod diff_view;
mod input;
mod overlay;
pub mod queue;
mod terminal;
#[cfg(test)]
mod tests;
pub mod view;
pub mod worker;

use std::io::IsTerminal as _;
use std::process::ExitCode;

use crate::cli::{ClassifyArgs, Format, GlobalArgs, ReviewArgs};
use audit_trust_core::gate::evaluate;

use crate::context::{CliError, analyze_inventory};
use crate::gate_context::GateContext;

use crate::output::escape;
use app::App;
use queue::{QueueInput, build_queue};
use worker::describe;

pub fn run(global: &GlobalArgs, args: &ReviewArgs) -> Result<ExitCode, CliError> {
    if global.format != Format::Human {
        return Err(CliError::Usage(
            "`review` is interactive; for machine-readable output use `check --format json`".into(),
        ));
    }
    if !std::io::stdout().is_terminal() {
        return Err(CliError::Usage(
            "`review` needs a terminal; in scripts use `check` or `suggest`".into(),
        ));
    }
    let mut app = App::loading((80, 24));
    app.registry = args.registry.clone();
    let context = worker::WorkerContext {
        // Nothing may print while the UI owns the terminal: no progress bars, no notes.
        global: GlobalArgs {
            quiet: true,
            verbose: 0,
            ..global.clone()
        },
        key: args.key.key.clone(),
        advisory_db: args.advisory_db.clone(),
    };
    terminal::run(context, &mut app)?;
    match app.fatal {
        Some(error) => Err(CliError::Usage(error)),
        None => Ok(ExitCode::SUCCESS),
    }
}

/// The queue as `check` sees the project now: gathered, classified and built. Runs on the
/// worker, at the start and again after every sign-off.
pub fn load_queue(
    global: &GlobalArgs,
    advisory_db: Option<&std::path::Path>,
) -> Result<app::QueueLoaded, CliError> {
    // `global` is quiet here, so gathering draws no progress bars over the UI.
    let context = GateContext::gather(global, advisory_db)?;
    let report = evaluate(&context.input());
    // The amount of code is what a reviewer plans by; without it the queue still works.
    let mut run_notes = report.notes.clone();
    let classified = match analyze_inventory(
        global,
        &ClassifyArgs { micro_lines: None },
        &context.project,
    ) {
        Ok(report) => report.packages,
        Err(e) => {
            run_notes.push(format!("the amount of code is unknown: {}", describe(&e)));
            Vec::new()
        }
    };
    let entries = build_queue(&QueueInput {
        report: &report,
        classified: &classified,
        audit_file: &context.project.audit_file,
        evidence: &context.evidence.accepted,
        rejected: &context.evidence.rejected,
    });
    Ok(app::QueueLoaded {
        entries,
        notes: run_notes.iter().map(|n| escape::cell(n)).collect(),
        advisories_unchecked: context.db_error.is_some(),
    })
}
