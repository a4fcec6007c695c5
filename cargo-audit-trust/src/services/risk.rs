//! Risk signals for `check`: computed before the gate evaluates, only for registry packages
//! that are not signed off for their exact version (a signed-off version passes whatever its
//! signals, so its files are not even read), through the same crate cache as every download.

use std::time::Duration;

use audit_trust_core::Inventory;
use audit_trust_core::gate::change::introduced_ids;
use audit_trust_core::gate::{Status, evaluate};
use audit_trust_core::risk::cargo_age::cargo_min_publish_age;
use audit_trust_core::risk::gather::{GatherInput, gather};
use audit_trust_core::risk::{SignalCode, Skipped, Thresholds};
use audit_trust_core::tarball::Limits;

use super::gate::GateContext;
use crate::error::CliError;
use crate::settings::cargo_home;

/// Which packages `check` computes signals for (`--signals`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SignalScope {
    /// Where they can change the verdict: packages that would pass without them (exempted, or
    /// findings set to warn). A package already blocked is assessed only when its crate files
    /// were read anyway. In pull-request mode every version the change brings in is assessed.
    Needed,
    /// Every registry package not signed off for its exact version.
    All,
}

/// Computes the signals into `context.risk`. A `[risk]` that allows every signal computes
/// nothing. Cargo's `min-publish-age` (config or environment) that does not parse is a
/// configuration error (exit 2).
///
/// With a `base` lockfile (pull-request mode) only the package versions the change brings in
/// are candidates, each compared with the base lockfile's version of its crate when it had one.
pub fn compute(
    context: &mut GateContext,
    base: Option<&Inventory>,
    scope: SignalScope,
) -> Result<(), CliError> {
    let policy = &context.project.audit_file.risk;
    let all_allowed = SignalCode::ALL
        .iter()
        .all(|c| policy.action(*c) == audit_trust_core::audit_file::RiskAction::Allow);
    if all_allowed {
        return Ok(());
    }
    let env: Vec<(&str, Option<String>)> = [
        "CARGO_REGISTRY_GLOBAL_MIN_PUBLISH_AGE",
        "CARGO_REGISTRY_MIN_PUBLISH_AGE",
    ]
    .into_iter()
    .map(|k| (k, std::env::var(k).ok()))
    .collect();
    let cargo_age = cargo_min_publish_age(&context.project.root(), &cargo_home()?, &env)
        .map_err(|e| CliError::Usage(format!("cargo's min-publish-age: {e}")))?;
    // The packages the gate would not pass as signed off: evaluated once without signals.
    let before = evaluate(&context.input());
    let introduced = base.map(|b| introduced_ids(&context.inventory, b));
    let mut candidates: Vec<usize> = Vec::new();
    let mut already_blocked: Vec<usize> = Vec::new();
    let mut not_introduced: Vec<usize> = Vec::new();
    for (id, p) in context.inventory.packages.iter().enumerate() {
        if !p.source.is_registry() {
            continue;
        }
        let Some(verdict) = before
            .packages
            .iter()
            .find(|v| v.name == p.name && v.version == p.version)
        else {
            continue;
        };
        if matches!(verdict.status, Status::Audited | Status::OtherPlatform) {
            continue;
        }
        if introduced.as_ref().is_some_and(|ids| !ids.contains(&id)) {
            not_introduced.push(id);
        } else if verdict.blocked && scope == SignalScope::Needed && introduced.is_none() {
            // Signals add reasons and never lift a block: on a cold cache, downloading this
            // version and its base would cost a lockfile's worth of crate files for detail
            // only (docs/risk.md, "What is compared"). A change's few new versions are all
            // judged: that is what a reviewer of the change reads.
            already_blocked.push(id);
        } else {
            candidates.push(id);
        }
    }
    let max_age = context.project.audit_file.policy.index_max_age_minutes() * 60;
    let settings = &context.project.settings;
    let cache_dir = settings.cache_dir()?;
    let report = gather(&GatherInput {
        store: &context.store,
        inventory: &context.inventory,
        index: &context.index,
        candidates: &candidates,
        if_read: &already_blocked,
        base_lockfile: base,
        resolve_unlocked: false,
        now: context.now,
        thresholds: Thresholds::from_policy(policy, cargo_age),
        blob_bytes: policy.blob_bytes(),
        index_max_age: Duration::from_secs(max_age),
        limits: Limits::default(),
        cache_dir: Some(&cache_dir),
        progress: &settings.progress(),
    });
    let mut report = report;
    let packages = &context.inventory.packages;
    let mut skipped_blocked = 0;
    for (ids, why) in [
        (&already_blocked, Skipped::AlreadyBlocked),
        (&not_introduced, Skipped::NotIntroduced),
    ] {
        for p in ids.iter().filter_map(|&id| packages.get(id)) {
            if report.get(&p.name, &p.version).is_none() {
                report.skip(&p.name, &p.version, why);
                skipped_blocked += usize::from(why == Skipped::AlreadyBlocked);
            }
        }
    }
    if skipped_blocked > 0 {
        context.notes.push(format!(
            "risk signals not computed for {skipped_blocked} {} already blocked for another \
             reason (they cannot change the verdict); `check --signals all` computes them",
            if skipped_blocked == 1 {
                "package"
            } else {
                "packages"
            }
        ));
    }
    context.risk = Some(report);
    Ok(())
}
