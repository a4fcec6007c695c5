//! The poll loop: every watched crate's index file is fetched by conditional request when its
//! poll is due; each new, non-yanked version becomes a job. The first poll of a crate files the
//! versions that already exist as `baseline` and queues only the newest, so watching a crate
//! with hundreds of releases audits its current one, then every later one. Versions a watch
//! request asked to backfill (a lockfile's) are queued whatever their age, also when they were
//! filed as `baseline` earlier.

use std::sync::Arc;
use std::time::Duration;

use super::index::{IndexAnswer, ListedVersion};
use super::{Worker, backoff, secs};
use crate::db::PollValidators;
use crate::metrics::Metrics;

/// Crates polled per round at most (the rest wait for the next round).
const POLLS_PER_ROUND: i64 = 100;
/// A failing index is asked again after at most this long.
const MAX_POLL_BACKOFF: Duration = Duration::from_secs(3600);

pub(super) async fn run(worker: Arc<Worker>) {
    loop {
        if let Err(e) = round(&worker).await {
            tracing::error!(error = %e, "index poll round");
        }
        tokio::time::sleep(Duration::from_secs(1).min(worker.config.poll_interval)).await;
    }
}

async fn round(worker: &Arc<Worker>) -> Result<(), crate::db::DbError> {
    let now = worker.now();
    for name in worker.db.polls_due(now, POLLS_PER_ROUND).await? {
        let until = now + secs(worker.config.poll_interval).max(1);
        if !worker.db.claim_poll(&name, now, until).await? {
            continue; // another instance took it
        }
        poll_one(worker, &name).await?;
    }
    Ok(())
}

async fn poll_one(worker: &Arc<Worker>, name: &str) -> Result<(), crate::db::DbError> {
    let Some(entry) = worker.db.watch_entry(name).await? else {
        return Ok(());
    };
    // First poll: nothing of this crate is known yet (not even a baseline).
    let first_poll = worker.db.jobs(Some(name), 1).await?.is_empty();
    // Versions to backfill need the whole file: a 304 lists none.
    let validators = if worker.db.backfill_versions(name).await?.is_empty() {
        PollValidators {
            etag: entry.etag.clone(),
            last_modified: entry.last_modified.clone(),
        }
    } else {
        PollValidators::default()
    };
    let answer = {
        let worker = Arc::clone(worker);
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || worker.index.fetch(&worker.http, &name, &validators))
            .await
            .unwrap_or_else(|e| Err(audit_trust_core::http::HttpError::Transport(e.to_string())))
    };
    let now = worker.now();
    let interval = secs(worker.config.poll_interval).max(1);
    Metrics::add(&worker.metrics.worker_polls, 1);
    match answer {
        Ok(IndexAnswer::Unchanged) => {
            let kept = PollValidators {
                etag: entry.etag,
                last_modified: entry.last_modified,
            };
            worker
                .db
                .poll_succeeded(name, &kept, now, now + interval)
                .await
        }
        Ok(IndexAnswer::Missing) => {
            worker
                .db
                .poll_succeeded(name, &PollValidators::default(), now, now + interval)
                .await
        }
        Ok(IndexAnswer::Changed {
            versions,
            validators,
        }) => {
            enqueue(worker, name, &versions, first_poll, now).await?;
            worker
                .db
                .poll_succeeded(name, &validators, now, now + interval)
                .await
        }
        Err(e) => {
            Metrics::add(&worker.metrics.worker_poll_failures, 1);
            let failures = entry.poll_failures + 1;
            let wait = backoff(worker.config.poll_interval, failures, MAX_POLL_BACKOFF);
            tracing::warn!(krate = %name, failures, error = %e, "index poll failed");
            worker
                .db
                .poll_failed(name, &e.to_string(), now, now + secs(wait).max(1))
                .await
        }
    }
}

/// Queues every non-yanked version not seen before; on the first poll, only the newest. The
/// versions waiting in the crate's backfill are queued too (yanked or not: a lockfile that
/// holds one still builds it), a `baseline` job of theirs included; then the backfill is
/// cleared, also of versions the index does not list.
async fn enqueue(
    worker: &Worker,
    name: &str,
    versions: &[ListedVersion],
    first_poll: bool,
    now: i64,
) -> Result<(), crate::db::DbError> {
    let backfill = worker.db.backfill_versions(name).await?;
    let newest = versions
        .iter()
        .filter(|v| !v.yanked)
        .filter_map(|v| semver::Version::parse(&v.version).ok().map(|s| (s, v)))
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, v)| v.version.clone());
    for v in versions {
        let wanted = backfill.contains(&v.version);
        if v.yanked && !wanted {
            continue;
        }
        let baseline = first_poll && !wanted && Some(&v.version) != newest.as_ref();
        let added = worker
            .db
            .enqueue_job(&v.name, &v.version, &v.checksum, now, baseline)
            .await?;
        let requeued = !added
            && wanted
            && worker
                .db
                .queue_baseline_job(&v.name, &v.version, now)
                .await?;
        if (added && !baseline) || requeued {
            tracing::info!(krate = %name, version = %v.version, backfill = wanted, "version queued");
        }
    }
    for version in &backfill {
        if !versions.iter().any(|v| &v.version == version) {
            tracing::warn!(krate = %name, %version, "backfill: the index does not list this version");
        }
        worker.db.clear_backfill(name, version).await?;
    }
    Ok(())
}
