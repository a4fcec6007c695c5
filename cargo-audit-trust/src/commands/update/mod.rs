//! `update`: moves packages only to versions the project's auditors signed off. Plans with the
//! core's rules, applies each move with `cargo update -p NAME@OLD --precise NEW`, checks the
//! whole lockfile again after each (a precise update can pull in new transitive versions), and
//! undoes a move on its own when it brings in a package the gate blocks.

mod apply;

pub use apply::{MoveResult, Outcome};

use std::collections::{HashMap, HashSet};
use std::process::ExitCode;

use audit_trust_core::fetch::index::IndexVersion;
use audit_trust_core::gate::update_plan::{PlanInput, UpdatePlan, plan_updates};
use audit_trust_core::gate::{GateReport, Status, evaluate};
use audit_trust_core::inventory::PackageId;

use crate::cli::UpdateArgs;
use crate::error::CliError;
use crate::services::classify::analyze_inventory;
use crate::services::gate::GateContext;
use crate::settings::Settings;

/// Exit code when packages remain blocked after `update` (whether or not it caused them).
const EXIT_BLOCKED: u8 = 1;

pub fn run(settings: &Settings, args: &UpdateArgs) -> Result<ExitCode, CliError> {
    if settings.given_paths.lockfile.is_some() {
        return Err(CliError::Usage(
            "`update` runs cargo on the workspace: use --manifest-path (or none), not --lockfile"
                .into(),
        ));
    }
    let mut context = GateContext::gather(settings, args.advisory_db.as_deref())?;
    if !args.dry_run
        && let Some(e) = context.db_error.take()
    {
        // Without advisories the plan could walk into a vulnerable version: fail closed.
        return Err(CliError::Core(e));
    }
    check_packages(&context, &args.packages)?;
    let published = context.published_versions();
    let report = evaluate(&context.input());
    let mut plan = make_plan(&context, &report, &published)?;
    plan.retain_packages(&args.packages);
    if args.dry_run {
        // A dry run shows the plan; whether the lockfile passes is `check`'s answer.
        crate::output::update::plan(settings, &plan, args.dry_run, &context.notes)?;
        return Ok(ExitCode::SUCCESS);
    }
    let outcome = apply::apply(settings, &mut context, &plan, report)?;
    crate::output::update::outcome(settings, &plan, &outcome, &context.notes)?;
    Ok(if outcome.blocked.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_BLOCKED)
    })
}

/// `-p NAME` must name a package of the lockfile: a typo would otherwise update nothing and
/// look like success.
fn check_packages(context: &GateContext, names: &[String]) -> Result<(), CliError> {
    let unknown: Vec<&str> = names
        .iter()
        .filter(|n| !context.inventory.packages.iter().any(|p| &p.name == *n))
        .map(String::as_str)
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(CliError::Usage(format!(
            "-p/--package: no package named {} in the lockfile",
            unknown.join(", ")
        )))
    }
}

fn make_plan(
    context: &GateContext,
    report: &GateReport,
    published: &HashMap<String, Vec<IndexVersion>>,
) -> Result<UpdatePlan, CliError> {
    let inventory = &context.inventory;
    let blocked: HashMap<PackageId, Status> = report
        .packages
        .iter()
        .filter(|v| v.blocked)
        .map(|v| (v.id, v.status))
        .collect();
    // Micro packages stay put; which ones are micro comes from the classification (cached).
    let classified = analyze_inventory(&context.project, inventory, None)?;
    let micro: HashSet<PackageId> = classified
        .packages
        .iter()
        .filter(|p| p.micro == Some(true))
        .map(|p| p.id)
        .collect();
    Ok(plan_updates(
        &context.input(),
        &PlanInput {
            published,
            micro: &micro,
            blocked: &blocked,
        },
    ))
}
