//! Risk signals for `check`: computed before the gate evaluates, only for registry packages
//! that are not signed off for their exact version (a signed-off version passes whatever its
//! signals, so its files are not even read), through the same crate cache as every download.

use std::time::Duration;

use audit_trust_core::Inventory;
use audit_trust_core::gate::change::introduced_ids;
use audit_trust_core::gate::{Status, evaluate};
use audit_trust_core::risk::cargo_age::cargo_min_publish_age;
use audit_trust_core::risk::gather::{GatherInput, gather};
use audit_trust_core::risk::{SignalCode, Thresholds};
use audit_trust_core::tarball::Limits;

use super::gate::GateContext;
use crate::error::CliError;
use crate::settings::cargo_home;

/// Computes the signals into `context.risk`. A `[risk]` that allows every signal computes
/// nothing. Cargo's `min-publish-age` (config or environment) that does not parse is a
/// configuration error (exit 2).
///
/// With a `base` lockfile (pull-request mode) only the package versions the change brings in
/// are candidates, each compared with the base lockfile's version of its crate when it had one.
pub fn compute(context: &mut GateContext, base: Option<&Inventory>) -> Result<(), CliError> {
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
    let candidates: Vec<usize> = context
        .inventory
        .packages
        .iter()
        .enumerate()
        .filter(|(_, p)| p.source.is_registry())
        .filter(|(id, _)| introduced.as_ref().is_none_or(|ids| ids.contains(id)))
        .filter(|(_, p)| {
            before.packages.iter().any(|v| {
                v.name == p.name
                    && v.version == p.version
                    && !matches!(v.status, Status::Audited | Status::OtherPlatform)
            })
        })
        .map(|(id, _)| id)
        .collect();
    let max_age = context.project.audit_file.policy.index_max_age_minutes() * 60;
    let settings = &context.project.settings;
    let cache_dir = settings.cache_dir()?;
    let report = gather(&GatherInput {
        store: &context.store,
        inventory: &context.inventory,
        index: &context.index,
        candidates: &candidates,
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
    context.risk = Some(report);
    Ok(())
}
