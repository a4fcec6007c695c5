//! The automatic auditor's risk rule: the signals of `docs/risk.md` for each release it audits,
//! computed by the core exactly as `check` computes them (the release against the newest
//! earlier version its index lists that is not yanked), judged by the worker's `[risk]` policy
//! (`--risk-policy`, defaults as in `docs/risk.md`). A release with a denied signal is never
//! signed `source-matches`, whatever its provenance: the verification says which signal stopped
//! it, and its report carries every signal with its evidence.

use audit_trust_core::fetch::{CrateStore, StoreOptions};
use audit_trust_core::risk::PackageRisk;
use audit_trust_core::risk::release::{Denied, Release, denied, release_package, release_risk};
use serde_json::json;

use super::Worker;
use super::audit::AuditOutcome;
use crate::db::ClaimedJob;

/// Requests in flight at most while one release's signals are read.
const RISK_REQUESTS: usize = 4;

/// The signals of the job's release (`bytes`: its verified `.crate`, kept so it is not
/// downloaded again). `None` when the job's version is not semver (the index never lists one).
pub(super) fn compute(worker: &Worker, job: &ClaimedJob, bytes: &[u8]) -> Option<PackageRisk> {
    let version = semver::Version::parse(&job.version).ok()?;
    let release = Release {
        index_url: &worker.config.index_url,
        name: &job.crate_name,
        version: &version,
        checksum: &job.checksum,
    };
    let cache = &worker.config.crate_cache;
    let options = StoreOptions {
        // An empty cargo home: no cargo configuration of the machine changes what is read.
        cargo_home: cache.join("cargo-home"),
        cache_dir: cache.clone(),
        offline: false,
        jobs: RISK_REQUESTS,
        max_crate_bytes: worker.config.max_crate_bytes,
    };
    let store = match CrateStore::new(options, cache, worker.http.clone()) {
        Ok(store) => store,
        Err(e) => {
            return Some(not_computed(job, version, format!("the crate cache: {e}")));
        }
    };
    if let Err(e) = store.keep_verified(&release_package(&release), bytes) {
        tracing::warn!(krate = %job.crate_name, version = %job.version, error = %e, "keeping the crate file");
    }
    let now = worker.clock.now();
    Some(release_risk(
        &store,
        &release,
        &worker.config.risk,
        now,
        Some(cache),
    ))
}

fn not_computed(job: &ClaimedJob, version: semver::Version, why: String) -> PackageRisk {
    PackageRisk {
        name: job.crate_name.clone(),
        version,
        base: None,
        base_from: "none",
        signals: Vec::new(),
        not_computed: vec![audit_trust_core::risk::NotComputed {
            signals: audit_trust_core::risk::SignalCode::ALL.to_vec(),
            why,
        }],
    }
}

/// Applies the worker's policy to an outcome: the signals go into its report (`risk`), and a
/// denied one withdraws the evidence it would have signed with, saying why.
pub(super) fn apply(worker: &Worker, outcome: &mut AuditOutcome, risk: &PackageRisk) {
    let today = worker.clock.now().date();
    let denied = denied(&worker.config.risk, risk, today);
    if let Some(report) = outcome.report.as_object_mut() {
        report.insert("risk".into(), risk_json(risk, &denied));
    } else {
        outcome.report =
            json!({ "report": outcome.report.take(), "risk": risk_json(risk, &denied) });
    }
    if denied.is_empty() {
        return;
    }
    let why = stopped_by(risk, &denied);
    if outcome.evidence.take().is_some() {
        outcome.reason = format!("not signed: {why} (its source matches: {})", outcome.reason);
    } else {
        outcome.reason = format!("{}; also {why}", outcome.reason);
    }
}

/// The signals and what the policy denied, as the report and `query` carry them.
pub fn risk_json(risk: &PackageRisk, denied: &Denied) -> serde_json::Value {
    json!({
        "base": risk.base.as_ref().map(ToString::to_string),
        "base-from": risk.base_from,
        "signals": risk.signals,
        "not-computed": risk.not_computed,
        "denied": denied,
    })
}

/// One sentence naming each denied signal and what it found.
fn stopped_by(risk: &PackageRisk, denied: &Denied) -> String {
    let mut parts: Vec<String> = risk
        .signals
        .iter()
        .filter(|s| denied.signals.contains(&s.code))
        .map(|s| format!("[{}] {}", s.code, s.message))
        .collect();
    if !denied.not_computed.is_empty() {
        parts.push(format!(
            "not computed ({}), and `not-computed = \"deny\"`",
            denied
                .not_computed
                .iter()
                .map(|c| c.code())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    format!("the worker's [risk] policy denies {}", parts.join("; "))
}
