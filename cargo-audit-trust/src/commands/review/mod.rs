//! `review`: the interactive review. The queue is exactly what `check` blocks or what has no
//! sign-off yet; the evidence (classification, sign-offs, provenance, deltas) is one key away
//! and a sign-off two keys away. Shape: [`app`] holds the state and `update` changes it,
//! [`view`] draws it, [`worker`] does the slow work, [`terminal`] connects them.

pub mod app;
mod code_screen;
pub mod code_view;
pub mod diff_view;
pub mod file_order;
mod highlight;
mod input;
pub mod link;
mod overlay;
pub mod queue;
pub mod signals;
mod terminal;
#[cfg(test)]
mod tests;
pub mod view;
pub mod worker;

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::process::ExitCode;

use audit_trust_core::PackageId;
use audit_trust_core::gate::next_step::next_step;
use audit_trust_core::gate::{Status, evaluate};

use crate::cli::ReviewArgs;
use crate::error::CliError;
use crate::services::classify::analyze_inventory;
use crate::services::gate::GateContext;
use crate::services::risk::SignalScope;
use crate::settings::{OutputFormat, Settings};

use crate::output::escape;
use app::App;
use queue::{QueueInput, build_queue};
use signals::RunSignals;
use worker::describe;

pub fn run(settings: &Settings, args: &ReviewArgs) -> Result<ExitCode, CliError> {
    if settings.format != OutputFormat::Human {
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
        settings: settings.silent(),
        key: args.key.key.clone(),
        advisory_db: args.advisory_db.clone(),
    };
    terminal::run(context, &mut app)?;
    match app.fatal {
        Some(error) => Err(CliError::Usage(error)),
        // 128 + SIGINT, as a shell reports a command stopped with Ctrl-C: a script that runs
        // `review` must not take an interruption for a finished review.
        None if app.interrupted => Ok(ExitCode::from(130)),
        None => Ok(ExitCode::SUCCESS),
    }
}

/// The queue as `check` sees the project now: gathered, classified and built. Runs on the
/// worker, at the start and again after every sign-off.
pub fn load_queue(
    settings: &Settings,
    advisory_db: Option<&std::path::Path>,
) -> Result<app::QueueLoaded, CliError> {
    // `settings` are silent here, so gathering draws no progress bars over the UI.
    let mut context = GateContext::gather(settings, advisory_db)?;
    // The same signals as `check`, so the queue is ranked and blocked exactly as `check`
    // decides. Without them the queue still works: every package says they were not computed.
    let risk_failure = match crate::services::risk::compute(&mut context, None, SignalScope::All) {
        Ok(()) if context.risk.is_none() => {
            Some("[risk] in Cargo.audit allows every signal".to_owned())
        }
        Ok(()) => None,
        Err(e) => Some(describe(&e)),
    };
    let input = context.input();
    let mut report = evaluate(&input);
    // A package admitted only by an exemption waits for a review too: its step is the one
    // `suggest` lists, from the same function as `check`'s.
    for v in report
        .packages
        .iter_mut()
        .filter(|v| v.status == Status::Exempted && v.next_step.is_none())
    {
        let id = context
            .inventory
            .packages
            .iter()
            .position(|p| p.name == v.name && p.version == v.version);
        v.next_step = id.and_then(|id| next_step(&input, id, Status::Exempted));
    }
    // The amount of code is what a reviewer plans by; without it the queue still works.
    let mut run_notes = report.notes.clone();
    let classified = match analyze_inventory(&context.project, &context.inventory, None) {
        Ok(report) => report.packages,
        Err(e) => {
            run_notes.push(format!("the amount of code is unknown: {}", describe(&e)));
            Vec::new()
        }
    };
    // The repository links, from the crate files the signals already brought into the store.
    let links: HashMap<PackageId, Vec<String>> = report
        .packages
        .iter()
        .filter(|v| queue::is_queued(v))
        .filter_map(|v| {
            let p = context.inventory.packages.get(v.id)?;
            p.source
                .is_registry()
                .then(|| (v.id, link::package_link(&context.store, p)))
        })
        .collect();
    let signals = match (&context.risk, &risk_failure) {
        (Some(report), None) => RunSignals::Computed(report),
        (_, why) => RunSignals::NotComputed(why.as_deref().unwrap_or("not computed")),
    };
    let entries = build_queue(&QueueInput {
        report: &report,
        classified: &classified,
        audit_file: &context.project.audit_file,
        evidence: &context.evidence.accepted,
        rejected: &context.evidence.rejected,
        signals,
        links: &links,
    });
    Ok(app::QueueLoaded {
        entries,
        notes: run_notes.iter().map(|n| escape::cell(n)).collect(),
        advisories_unchecked: context.db_error.is_some(),
    })
}
