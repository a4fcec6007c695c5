//! The job loop: claim a job, keep its lease alive while working, download and verify the
//! `.crate`, run the provenance engine, then sign or record. Failures that may pass (network,
//! an unreachable repository, the database) give the job back with a backoff; a verdict is
//! final.

use std::sync::Arc;
use std::time::Duration;

use audit_trust_core::egress::EgressPolicy;
use audit_trust_core::fetch::sha256_hex;
use audit_trust_core::http::HttpError;
use audit_trust_core::progress::NoProgress;
use audit_trust_core::provenance::repository::{Selection, fetch_url, select_repository};
use audit_trust_core::provenance::{
    FetchLimits, GitCache, ProvenanceInput, RepositoryChoice, Unverifiable, UrlRewrites, Verdict,
    check_provenance, claimed_repository,
};
use audit_trust_core::signoff::{SourceEvidence, source_evidence_in};
use audit_trust_core::tarball::{Limits, read_crate};
use serde_json::json;

use super::{Worker, backoff, secs, sign};
use crate::db::views::VersionFacts;
use crate::db::{ClaimedJob, DbError, Verification};
use crate::metrics::Metrics;
use crate::notify::{self, Event, EventKind};

/// Retries of a job wait at most this long.
const MAX_JOB_BACKOFF: Duration = Duration::from_secs(3600);
const FIRST_RETRY: Duration = Duration::from_secs(2);

/// What one audit concluded (a verdict; nothing transient).
#[derive(Debug, Clone)]
pub struct AuditOutcome {
    /// `matches`, `differs`, `unverifiable` or `checksum-mismatch`.
    pub verdict: String,
    pub reason: String,
    pub report: serde_json::Value,
    /// Present only for a match against a pinned or signed-off repository.
    pub evidence: Option<SourceEvidence>,
    /// Lines of code and risk facts of a `.crate` that could be read.
    pub facts: Option<VersionFacts>,
}

pub(super) async fn run(worker: Arc<Worker>) {
    loop {
        match step(&worker).await {
            Ok(true) => {}
            Ok(false) => tokio::time::sleep(Duration::from_millis(500)).await,
            Err(e) => {
                tracing::error!(error = %e, "job loop");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
}

/// Claims and does one job; false when there was none.
async fn step(worker: &Arc<Worker>) -> Result<bool, DbError> {
    let config = &worker.config;
    let id = config.worker_id.as_str();
    let now = worker.now();
    let lease = secs(config.lease).max(1);
    worker
        .db
        .fail_abandoned_jobs(now, config.max_attempts)
        .await?;
    let Some(job) = worker
        .db
        .claim_job(id, now, now + lease, config.max_attempts)
        .await?
    else {
        return Ok(false);
    };
    tracing::info!(krate = %job.crate_name, version = %job.version, attempt = job.attempt, "job claimed");
    if !config.hold_after_claim.is_zero() {
        tokio::time::sleep(config.hold_after_claim).await;
    }
    let heartbeat = tokio::spawn(keep_lease(Arc::clone(worker), job.clone()));
    let result = work(worker, &job).await;
    heartbeat.abort();
    let now = worker.now();
    match result {
        Ok(()) => {
            Metrics::add(&worker.metrics.worker_jobs_done, 1);
            if !worker.db.finish_job(&job, id, now).await? {
                tracing::warn!(krate = %job.crate_name, version = %job.version, "lease lost before the job was finished");
            }
        }
        Err(error) => {
            Metrics::add(&worker.metrics.worker_jobs_retried, 1);
            let wait = backoff(FIRST_RETRY, job.attempt, MAX_JOB_BACKOFF);
            tracing::warn!(krate = %job.crate_name, version = %job.version, attempt = job.attempt, %error, "job failed; retrying later");
            worker
                .db
                .retry_job(&job, id, &error, now + secs(wait), config.max_attempts)
                .await?;
        }
    }
    Ok(true)
}

/// Extends the lease every third of it while the job runs.
async fn keep_lease(worker: Arc<Worker>, job: ClaimedJob) {
    let lease = worker.config.lease;
    loop {
        tokio::time::sleep(lease / 3).await;
        let until = worker.now() + secs(lease).max(1);
        match worker
            .db
            .extend_lease(&job, &worker.config.worker_id, until)
            .await
        {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => tracing::warn!(error = %e, "extending a lease"),
        }
    }
}

/// Audits the job and stores what it found. `Err`: a failure that may pass (retry).
async fn work(worker: &Arc<Worker>, job: &ClaimedJob) -> Result<(), String> {
    let lower = job.crate_name.to_ascii_lowercase();
    let pinned = worker
        .db
        .watch_entry(&lower)
        .await
        .map_err(|e| e.to_string())?
        .and_then(|w| w.repository);
    let own = sign::own_records(worker, &job.crate_name, &job.version, &job.checksum)
        .await
        .map_err(|e| e.to_string())?;
    if own.already_signed {
        // A worker that died after signing but before finishing: nothing more to sign, and the
        // verification it may not have recorded is noted without replacing one it did.
        return worker
            .db
            .record_verification_if_absent(&Verification {
                crate_name: lower,
                version: job.version.clone(),
                checksum: job.checksum.clone(),
                verdict: "matches".into(),
                signed: true,
                reason: "signed by an earlier attempt whose worker stopped before finishing".into(),
                report: serde_json::Value::Null,
                checked: worker.now(),
                worker_id: worker.config.worker_id.clone(),
            })
            .await
            .map_err(|e| e.to_string());
    }
    // The watch entry's repository is the pinned one; the service's own earlier sign-offs
    // are the signed-off ones (already read above, so the lookup costs nothing here).
    let Ok(choice) = RepositoryChoice::pinned_else_signed_off(pinned, || {
        Ok::<_, std::convert::Infallible>(own.signed_off)
    });
    let last_attempt = job.attempt >= worker.config.max_attempts;
    let outcome = {
        let worker = Arc::clone(worker);
        let job = job.clone();
        tokio::task::spawn_blocking(move || audit(&worker, &job, &choice, last_attempt))
            .await
            .map_err(|e| format!("the audit stopped: {e}"))??
    };
    let signed = match outcome.evidence.clone() {
        Some(evidence) => {
            let stored = sign::sign_source_matches(
                worker,
                &job.crate_name,
                &job.version,
                &job.checksum,
                evidence,
            )
            .await?;
            if stored {
                Metrics::add(&worker.metrics.worker_signoffs, 1);
            }
            true
        }
        None => {
            Metrics::add(&worker.metrics.worker_not_signed, 1);
            false
        }
    };
    tracing::info!(krate = %job.crate_name, version = %job.version, verdict = %outcome.verdict, signed, "audited");
    let outcome_facts = outcome.facts;
    let verification = Verification {
        crate_name: lower,
        version: job.version.clone(),
        checksum: job.checksum.clone(),
        verdict: outcome.verdict,
        signed,
        reason: outcome.reason,
        report: outcome.report,
        checked: worker.now(),
        worker_id: worker.config.worker_id.clone(),
    };
    worker
        .db
        .record_verification(&verification)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(facts) = &outcome_facts {
        worker
            .db
            .record_version_facts(&verification.crate_name, &verification.version, facts)
            .await
            .map_err(|e| e.to_string())?;
    }
    if !signed {
        // For people to look at: subscribers and the dashboard hear of every version the
        // service did not sign. (A worker that dies right here leaves the job to be redone,
        // which may tell subscribers twice; the delivery ids differ, the content does not.)
        notify::emit(
            &worker.db,
            Event {
                kind: EventKind::VerificationFailed,
                crate_name: Some(verification.crate_name.clone()),
                record_id: None,
                data: json!({
                    "crate": verification.crate_name,
                    "version": verification.version,
                    "checksum": verification.checksum,
                    "verdict": verification.verdict,
                    "reason": verification.reason,
                    "report": verification.report,
                }),
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The blocking part: download, checksum, provenance.
fn audit(
    worker: &Worker,
    job: &ClaimedJob,
    choice: &RepositoryChoice,
    last_attempt: bool,
) -> Result<AuditOutcome, String> {
    let transient = |e: HttpError| e.to_string();
    let url = worker
        .index
        .download_url(&worker.http, &job.crate_name, &job.version, &job.checksum)
        .map_err(transient)?;
    let bytes = worker
        .http
        .get_ok(&url, worker.config.max_crate_bytes)
        .map_err(|e| format!("downloading {url}: {e}"))?;
    let actual = sha256_hex(&bytes);
    if actual != job.checksum {
        return Ok(AuditOutcome {
            verdict: "checksum-mismatch".into(),
            reason: format!(
                "the download from {url} has SHA-256 {actual}, the index says {}",
                job.checksum
            ),
            report: json!({ "url": url, "expected": job.checksum, "actual": actual }),
            evidence: None,
            facts: None,
        });
    }
    let archive = match read_crate(&bytes, &job.crate_name, &job.version, &Limits::default()) {
        Ok(archive) => archive,
        Err(e) => {
            return Ok(unverifiable(format!("the .crate cannot be read: {e}")));
        }
    };
    // What the dashboard shows of this version besides its provenance: its size in lines and
    // the facts risk signals are computed from (compared with the previous verified version).
    let facts = VersionFacts::read(&job.crate_name, &job.version, &archive, bytes.len());
    let mut outcome = audit_archive(worker, job, choice, last_attempt, &archive)?;
    outcome.facts = Some(facts);
    if let Some(risk) = super::risk::compute(worker, job, &bytes) {
        super::risk::apply(worker, &mut outcome, &risk);
    }
    Ok(outcome)
}

/// Provenance of a downloaded, readable `.crate`.
fn audit_archive(
    worker: &Worker,
    job: &ClaimedJob,
    choice: &RepositoryChoice,
    last_attempt: bool,
    archive: &audit_trust_core::tarball::CrateArchive,
) -> Result<AuditOutcome, String> {
    // Check where libgit2 would connect before it does.
    let claimed = claimed_repository(archive);
    if let Some(refused) = refuse_repository(
        &worker.config.policy,
        &worker.config.rewrites,
        choice,
        claimed.as_deref(),
    ) {
        return Ok(unverifiable(refused));
    }
    let cache = GitCache::new(
        &worker.config.git_cache,
        FetchLimits {
            timeout: worker.config.git_timeout,
            max_bytes: worker.config.git_max_bytes,
            ..FetchLimits::default()
        },
        false,
    );
    let input = ProvenanceInput {
        name: &job.crate_name,
        version: &job.version,
        archive,
        repositories: choice,
    };
    let report = check_provenance(&input, &cache, &worker.config.rewrites, &NoProgress)
        .map_err(|e| format!("the git cache failed: {e}"))?;
    // Only an unreachable repository may come back; every other unverifiable reason is a
    // property of the release and is recorded at once.
    if matches!(
        report.unverifiable,
        Some(Unverifiable::RepositoryUnreachable(_))
    ) && !last_attempt
    {
        return Err(report.reason);
    }
    let verdict = match report.verdict {
        Verdict::Matches => "matches",
        Verdict::Differs => "differs",
        _ => "unverifiable",
    };
    let (reason, evidence) = match source_evidence_in(&report) {
        Ok(evidence) => (report.reason.clone(), Some(evidence)),
        Err(why) => (why, None),
    };
    Ok(AuditOutcome {
        verdict: verdict.into(),
        reason,
        report: bounded_report(&report),
        evidence,
        facts: None,
    })
}

/// Stored reports stay below this size; past it only the differing files are kept.
const MAX_REPORT_BYTES: usize = 2 * 1024 * 1024;

/// The report as JSON; for a huge crate, only its differing files (the rest are counted).
fn bounded_report(report: &audit_trust_core::provenance::ProvenanceReport) -> serde_json::Value {
    let full = serde_json::to_value(report).unwrap_or(serde_json::Value::Null);
    if full.to_string().len() <= MAX_REPORT_BYTES {
        return full;
    }
    let mut smaller = report.clone();
    let total = smaller.files.len();
    smaller.files.retain(|f| f.status.is_difference());
    smaller.files.truncate(1000);
    let mut value = serde_json::to_value(&smaller).unwrap_or(serde_json::Value::Null);
    if let Some(object) = value.as_object_mut() {
        object.insert("files_omitted".into(), json!(total - smaller.files.len()));
    }
    value
}

fn unverifiable(reason: String) -> AuditOutcome {
    AuditOutcome {
        verdict: "unverifiable".into(),
        report: json!({ "verdict": "unverifiable", "reason": reason }),
        reason,
        evidence: None,
        facts: None,
    }
}

/// Why the repository the engine would fetch may not be reached, if it may not. Local paths are
/// reachable only through an operator's `--git-rewrite`; network URLs pass the egress policy.
fn refuse_repository(
    policy: &EgressPolicy,
    rewrites: &UrlRewrites,
    choice: &RepositoryChoice,
    claimed: Option<&str>,
) -> Option<String> {
    let url = match select_repository(choice, claimed) {
        Selection::Use { repository, .. } => repository.url,
        // The engine stops before fetching anything.
        Selection::Unverifiable { .. } => return None,
    };
    let canonical = fetch_url(&url);
    let (target, rewritten) = match rewrites.apply(&canonical) {
        Some(target) => (target, true),
        None => (canonical, false),
    };
    let local = target.starts_with("file://") || target.starts_with('/');
    if local {
        return (!rewritten).then(|| {
            format!("`{url}` is a local path; the service reaches local repositories only through --git-rewrite")
        });
    }
    policy
        .check_url(&target)
        .err()
        .map(|e| format!("the repository {target} may not be fetched: {e}"))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn pinned(url: &str) -> RepositoryChoice {
        RepositoryChoice {
            pinned: Some(url.into()),
            ..RepositoryChoice::default()
        }
    }

    #[test]
    fn repositories_on_internal_addresses_are_refused_before_git_connects() {
        let policy = EgressPolicy::public_only();
        let none = UrlRewrites::default();
        for url in [
            "https://127.0.0.1/o/r",
            "https://localhost/o/r",
            "https://169.254.169.254/latest",
            "https://10.0.0.7/o/r",
            "https://[::1]/o/r",
            "http://example.com/o/r",
        ] {
            let refused = refuse_repository(&policy, &none, &pinned(url), None);
            assert!(refused.is_some(), "{url} was allowed");
        }
        // A claimed repository is checked the same way before the engine would fetch it.
        let claimed = refuse_repository(
            &policy,
            &none,
            &RepositoryChoice::default(),
            Some("https://192.168.1.1/o/r"),
        );
        assert!(claimed.is_some_and(|r| r.contains("private")));
        // A local path only through the operator's rewrite; a mirror host is allowed.
        assert!(refuse_repository(&policy, &none, &pinned("/srv/git/r"), None).is_some());
        let rewrites = UrlRewrites::new(BTreeMap::from([(
            "https://git.example/".to_owned(),
            "file:///srv/git/".to_owned(),
        )]));
        assert_eq!(
            refuse_repository(&policy, &rewrites, &pinned("https://git.example/o/r"), None),
            None
        );
        let mirrored = EgressPolicy::public_only().with_mirrors(["127.0.0.1:8443"]);
        assert_eq!(
            refuse_repository(
                &mirrored,
                &none,
                &pinned("https://127.0.0.1:8443/o/r"),
                None
            ),
            None
        );
    }
}
