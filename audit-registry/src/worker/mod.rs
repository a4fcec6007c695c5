//! The automatic auditor: polls the sparse index for new versions of watched crates, and for
//! each one downloads the `.crate`, checks it against the index checksum, runs the provenance
//! engine and, when it matches a **pinned** or **signed-off** repository, signs `source-matches`
//! with the service's own key. Anything else is recorded with its full report; nothing is signed.
//!
//! Work is shared through the database (see [`crate::db::jobs`]): any number of instances may
//! run a worker; each job is done once. Network, git and hashing run on blocking threads; every
//! outbound connection passes the egress policy.

mod audit;
mod index;
mod poll;
pub mod risk;
mod sign;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use audit_trust_core::audit_file::{AuditFile, RiskPolicy};
use audit_trust_core::egress::EgressPolicy;
use audit_trust_core::http::HttpClient;
use audit_trust_core::provenance::UrlRewrites;
use audit_trust_core::signoff::SigningKey;
use audit_trust_core::time::Clock;

use crate::db::Db;
use crate::metrics::Metrics;

pub use audit::AuditOutcome;
pub use index::{IndexSource, parse_index_versions};
pub use sign::ensure_service_auditor;

/// How the worker runs; `audit-registry serve --worker` fills it from its flags.
#[derive(Clone)]
pub struct WorkerConfig {
    /// `sparse+https://…/` of the index to poll.
    pub index_url: String,
    pub policy: EgressPolicy,
    /// Operator-configured repository rewrites (`--git-rewrite`): may point at local mirrors.
    pub rewrites: UrlRewrites,
    pub signing_key: Arc<SigningKey>,
    pub poll_interval: Duration,
    pub lease: Duration,
    pub max_attempts: i64,
    /// Where fetched repositories are cached (one bare repository per URL).
    pub git_cache: PathBuf,
    /// What the risk signals of a release must not show for it to be signed (`[risk]` of
    /// `--risk-policy`, else the defaults of `docs/risk.md`).
    pub risk: RiskPolicy,
    /// Where crate files and index entries read for risk signals are cached.
    pub crate_cache: PathBuf,
    /// Time and size bounds of index requests and downloads.
    pub http_timeout: Duration,
    pub max_crate_bytes: u64,
    /// Git fetch bounds.
    pub git_timeout: Duration,
    pub git_max_bytes: u64,
    /// Days a signed head stays valid; heads are renewed when half of it is left.
    pub head_lifetime_days: i64,
    /// Test knob: wait this long after claiming a job before doing it (so a test can kill the
    /// process mid-job).
    pub hold_after_claim: Duration,
    /// Unique per process: leases name it.
    pub worker_id: String,
}

impl std::fmt::Debug for WorkerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerConfig")
            .field("index_url", &self.index_url)
            .field("worker_id", &self.worker_id)
            .field("key", &self.signing_key.public_key().to_string())
            .finish_non_exhaustive()
    }
}

/// The `[risk]` section of a `Cargo.audit`-format file, checked as `check` checks one (an
/// unknown key or signal is an error naming its line); no file: the defaults of `docs/risk.md`.
pub fn load_risk_policy(path: Option<&std::path::Path>) -> Result<RiskPolicy, String> {
    match path {
        None => Ok(RiskPolicy::default()),
        Some(path) => AuditFile::load(path)
            .map(|file| file.risk)
            .map_err(|e| format!("--risk-policy: {e}")),
    }
}

/// A worker id that no other process shares: pid and random bytes.
pub fn new_worker_id() -> String {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 6];
    let _ = ring::rand::SystemRandom::new().fill(&mut bytes);
    format!(
        "{}-{}",
        std::process::id(),
        audit_trust_core::signoff::hex(&bytes)
    )
}

/// Everything the loops share.
pub(crate) struct Worker {
    pub db: Db,
    pub config: WorkerConfig,
    pub clock: Arc<dyn Clock>,
    pub http: HttpClient,
    pub index: index::IndexSource,
    pub metrics: Arc<Metrics>,
}

/// Starts the poll loop and the job loop on the runtime; they run until the process ends.
/// Their counters go to `metrics` (the server's `/metrics`).
pub fn spawn(db: Db, config: WorkerConfig, clock: Arc<dyn Clock>, metrics: Arc<Metrics>) {
    let http = HttpClient::guarded(config.http_timeout, config.policy.clone());
    let index = index::IndexSource::new(&config.index_url);
    let worker = Arc::new(Worker {
        db,
        http,
        index,
        config,
        clock,
        metrics,
    });
    tracing::info!(worker = %worker.config.worker_id, index = %worker.config.index_url, "automatic auditor started");
    tokio::spawn(poll::run(Arc::clone(&worker)));
    tokio::spawn(audit::run(Arc::clone(&worker)));
    tokio::spawn(sign::renew_heads(worker));
}

impl Worker {
    pub(crate) fn now(&self) -> i64 {
        self.clock.now().0
    }
}

/// `base * 2^(n-1)`, capped: the wait before retry `n`.
pub(crate) fn backoff(base: Duration, n: i64, cap: Duration) -> Duration {
    let exponent = u32::try_from(n.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    base.saturating_mul(2u32.saturating_pow(exponent)).min(cap)
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use std::time::Duration;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let s = Duration::from_secs;
        assert_eq!(backoff(s(2), 1, s(60)), s(2));
        assert_eq!(backoff(s(2), 3, s(60)), s(8));
        assert_eq!(backoff(s(2), 30, s(60)), s(60));
    }
}
