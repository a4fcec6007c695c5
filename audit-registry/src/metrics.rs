//! Counters for Prometheus (`GET /metrics`, text format 0.0.4). Plain atomics: a handful of
//! numbers needs no metrics framework.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Metrics {
    pub requests: AtomicU64,
    pub client_errors: AtomicU64,
    pub server_errors: AtomicU64,
    pub rate_limited: AtomicU64,
    pub publishes: AtomicU64,
    pub records_stored: AtomicU64,
    pub syncs: AtomicU64,
    pub crate_reads: AtomicU64,
    pub crate_queries: AtomicU64,
    /// Batch answers built rather than served from the cache of whole answers.
    pub crate_query_builds: AtomicU64,
    /// Connection and body limits (`serve`'s `--max-connections`, `--max-buffered-body-bytes`…).
    pub connections_shed: AtomicU64,
    pub connections_refused: AtomicU64,
    pub bodies_refused_busy: AtomicU64,
    /// The automatic auditor (zero when `--worker` is off).
    pub worker_polls: AtomicU64,
    pub worker_poll_failures: AtomicU64,
    pub worker_jobs_done: AtomicU64,
    pub worker_jobs_retried: AtomicU64,
    pub worker_signoffs: AtomicU64,
    pub worker_not_signed: AtomicU64,
}

impl Metrics {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        for (name, help, counter) in [
            (
                "audit_registry_requests_total",
                "HTTP requests answered",
                &self.requests,
            ),
            (
                "audit_registry_client_errors_total",
                "requests answered with a 4xx",
                &self.client_errors,
            ),
            (
                "audit_registry_server_errors_total",
                "requests answered with a 5xx",
                &self.server_errors,
            ),
            (
                "audit_registry_rate_limited_total",
                "requests refused by the rate limit",
                &self.rate_limited,
            ),
            (
                "audit_registry_publishes_total",
                "successful publishes",
                &self.publishes,
            ),
            (
                "audit_registry_records_stored_total",
                "records newly stored",
                &self.records_stored,
            ),
            (
                "audit_registry_syncs_total",
                "successful sync requests",
                &self.syncs,
            ),
            (
                "audit_registry_crate_reads_total",
                "single-crate reads answered",
                &self.crate_reads,
            ),
            (
                "audit_registry_crate_queries_total",
                "crate batch queries answered",
                &self.crate_queries,
            ),
            (
                "audit_registry_crate_query_builds_total",
                "crate batch answers built (the others came from the answer cache)",
                &self.crate_query_builds,
            ),
            (
                "audit_registry_connections_shed_total",
                "connections over --max-connections, answered 503 (except /health)",
                &self.connections_shed,
            ),
            (
                "audit_registry_connections_refused_total",
                "connections closed at once with a 503 (per-client cap, or no room left)",
                &self.connections_refused,
            ),
            (
                "audit_registry_bodies_refused_busy_total",
                "request bodies refused because --max-buffered-body-bytes was in use",
                &self.bodies_refused_busy,
            ),
            (
                "audit_registry_worker_polls_total",
                "index polls of watched crates",
                &self.worker_polls,
            ),
            (
                "audit_registry_worker_poll_failures_total",
                "index polls that failed",
                &self.worker_poll_failures,
            ),
            (
                "audit_registry_worker_jobs_done_total",
                "audit jobs finished by this instance",
                &self.worker_jobs_done,
            ),
            (
                "audit_registry_worker_jobs_retried_total",
                "audit jobs given back for a later attempt (or failed)",
                &self.worker_jobs_retried,
            ),
            (
                "audit_registry_worker_signoffs_total",
                "source-matches sign-offs signed by the service",
                &self.worker_signoffs,
            ),
            (
                "audit_registry_worker_not_signed_total",
                "audited versions recorded without a sign-off",
                &self.worker_not_signed,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                counter.load(Ordering::Relaxed)
            );
        }
        out
    }
}
