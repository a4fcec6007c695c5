//! The automatic auditor's job queue and its results. One job per crate version (unique, so
//! every instance may enqueue what its poll found without making duplicates). A worker claims a
//! job with a lease; only the holder of the current lease (worker id and attempt number) can
//! finish it, and a job whose worker died is claimed again once the lease has expired.
//!
//! Claiming is one atomic step on each engine: PostgreSQL locks the chosen row with
//! `FOR UPDATE SKIP LOCKED` (instances never wait for, or take, each other's row); SQLite has a
//! single writer, so one `UPDATE … WHERE key = (SELECT …) RETURNING` statement is atomic.

use sqlx::Row as _;

use super::watch::truncate;
use super::{Db, DbError};

pub(super) const SCHEMA: &[&str] = &[
    // `job_key` is `name@version`: a portable primary key (no auto-increment differences).
    "CREATE TABLE IF NOT EXISTS jobs (
        job_key TEXT PRIMARY KEY,
        crate_name TEXT NOT NULL,
        version TEXT NOT NULL,
        checksum TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts BIGINT NOT NULL,
        next_attempt_at BIGINT NOT NULL,
        lease_until BIGINT NOT NULL,
        worker_id TEXT,
        last_error TEXT,
        created BIGINT NOT NULL,
        finished BIGINT
    )",
    "CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, next_attempt_at)",
    "CREATE TABLE IF NOT EXISTS verifications (
        crate_name TEXT NOT NULL,
        version TEXT NOT NULL,
        checksum TEXT NOT NULL,
        verdict TEXT NOT NULL,
        signed BIGINT NOT NULL,
        reason TEXT NOT NULL,
        report TEXT NOT NULL,
        checked BIGINT NOT NULL,
        worker_id TEXT NOT NULL,
        PRIMARY KEY (crate_name, version)
    )",
];

/// Job states as stored.
pub mod state {
    /// Waiting for `next_attempt_at`.
    pub const QUEUED: &str = "queued";
    /// Claimed; `lease_until` says until when.
    pub const RUNNING: &str = "running";
    pub const DONE: &str = "done";
    /// Gave up after the last attempt; `last_error` says why.
    pub const FAILED: &str = "failed";
    /// Versions that existed when a crate was first polled: known, never audited.
    pub const BASELINE: &str = "baseline";
}

/// A claimed job. `attempt` is part of the lease: a later claim of the same job has another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    pub key: String,
    pub crate_name: String,
    pub version: String,
    pub checksum: String,
    pub attempt: i64,
}

/// A job as listed for people.
#[derive(Debug, Clone, serde::Serialize)]
pub struct JobRow {
    pub crate_name: String,
    pub version: String,
    pub checksum: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub lease_until: i64,
    pub worker_id: Option<String>,
    pub last_error: Option<String>,
    /// When it was queued (unix seconds).
    pub created: i64,
}

/// One verification result, with the provenance report (JSON) it came from.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Verification {
    pub crate_name: String,
    pub version: String,
    pub checksum: String,
    /// `matches`, `differs`, `unverifiable`, or `checksum-mismatch` (download ≠ index).
    pub verdict: String,
    /// Whether the service signed `source-matches` for it.
    pub signed: bool,
    pub reason: String,
    pub report: serde_json::Value,
    pub checked: i64,
    pub worker_id: String,
}

/// The condition of a claimable job, with `now` and the attempt limit as parameters `$a`, `$b`.
fn job_row(r: &sqlx::any::AnyRow) -> Result<JobRow, DbError> {
    Ok(JobRow {
        crate_name: r.try_get(0)?,
        version: r.try_get(1)?,
        checksum: r.try_get(2)?,
        state: r.try_get(3)?,
        attempts: r.try_get(4)?,
        next_attempt_at: r.try_get(5)?,
        lease_until: r.try_get(6)?,
        worker_id: r.try_get(7)?,
        last_error: r.try_get(8)?,
        created: r.try_get(9)?,
    })
}

fn claimable(now: u8, max_attempts: u8) -> String {
    format!(
        "((state = 'queued' AND next_attempt_at <= ${now}) \
         OR (state = 'running' AND lease_until <= ${now})) AND attempts < ${max_attempts}"
    )
}

impl Db {
    /// Ids of every record stored for `key` (the service signs heads over them).
    pub async fn record_ids(
        &self,
        key: &audit_trust_core::signoff::PublicKey,
    ) -> Result<Vec<String>, DbError> {
        let rows = sqlx::query("SELECT id FROM records WHERE public_key = $1")
            .bind(key.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>(0)?))
            .collect()
    }

    /// Extends the lease of a job still held by `worker` on this attempt.
    pub async fn extend_lease(
        &self,
        job: &ClaimedJob,
        worker: &str,
        until: i64,
    ) -> Result<bool, DbError> {
        let moved = sqlx::query(
            "UPDATE jobs SET lease_until = $1 \
             WHERE job_key = $2 AND worker_id = $3 AND attempts = $4 AND state = 'running'",
        )
        .bind(until)
        .bind(&job.key)
        .bind(worker)
        .bind(job.attempt)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(moved == 1)
    }

    /// Queues `name@version` (`name` as the index spells it) unless a job for it exists (in any state). `baseline` files it as
    /// known but not to be audited. Returns whether a job was added.
    pub async fn enqueue_job(
        &self,
        name: &str,
        version: &str,
        checksum: &str,
        now: i64,
        baseline: bool,
    ) -> Result<bool, DbError> {
        let state = if baseline {
            state::BASELINE
        } else {
            state::QUEUED
        };
        let added = sqlx::query(
            "INSERT INTO jobs (job_key, crate_name, version, checksum, state, attempts, \
             next_attempt_at, lease_until, created) VALUES ($1, $2, $3, $4, $5, 0, $6, 0, $6) \
             ON CONFLICT (job_key) DO NOTHING",
        )
        .bind(format!("{}@{version}", name.to_ascii_lowercase()))
        .bind(name)
        .bind(version)
        .bind(checksum)
        .bind(state)
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(added == 1)
    }

    /// Turns the `baseline` job of `name@version` into a queued one (a backfill asked for it).
    /// Jobs in any other state are left alone: queued, running, done and failed ones already
    /// are, or were, audited. Returns whether it moved.
    pub async fn queue_baseline_job(
        &self,
        name: &str,
        version: &str,
        now: i64,
    ) -> Result<bool, DbError> {
        let moved = sqlx::query(
            "UPDATE jobs SET state = 'queued', next_attempt_at = $1 \
             WHERE job_key = $2 AND state = 'baseline'",
        )
        .bind(now)
        .bind(format!("{}@{version}", name.to_ascii_lowercase()))
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(moved == 1)
    }

    /// Claims the oldest claimable job for `worker` until `lease_until`: a queued job whose time
    /// has come, or a running one whose lease expired (its worker died), with attempts left.
    pub async fn claim_job(
        &self,
        worker: &str,
        now: i64,
        lease_until: i64,
        max_attempts: i64,
    ) -> Result<Option<ClaimedJob>, DbError> {
        const RETURNING: &str = "RETURNING job_key, crate_name, version, checksum, attempts";
        const SET: &str = "UPDATE jobs SET state = 'running', attempts = attempts + 1, \
                           lease_until = $1, worker_id = $2";
        let row = if self.postgres {
            let mut tx = self.pool.begin().await?;
            let picked = sqlx::query(&format!(
                "SELECT job_key FROM jobs WHERE {} ORDER BY next_attempt_at, job_key \
                 LIMIT 1 FOR UPDATE SKIP LOCKED",
                claimable(1, 2)
            ))
            .bind(now)
            .bind(max_attempts)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(picked) = picked else {
                return Ok(None);
            };
            let key: String = picked.try_get(0)?;
            let row = sqlx::query(&format!("{SET} WHERE job_key = $3 {RETURNING}"))
                .bind(lease_until)
                .bind(worker)
                .bind(&key)
                .fetch_optional(&mut *tx)
                .await?;
            tx.commit().await?;
            row
        } else {
            sqlx::query(&format!(
                "{SET} WHERE job_key = (SELECT job_key FROM jobs WHERE {} \
                 ORDER BY next_attempt_at, job_key LIMIT 1) {RETURNING}",
                claimable(3, 4)
            ))
            .bind(lease_until)
            .bind(worker)
            .bind(now)
            .bind(max_attempts)
            .fetch_optional(&self.pool)
            .await?
        };
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(ClaimedJob {
            key: row.try_get(0)?,
            crate_name: row.try_get(1)?,
            version: row.try_get(2)?,
            checksum: row.try_get(3)?,
            attempt: row.try_get(4)?,
        }))
    }

    /// Marks the job done, if `worker` still holds this attempt's lease. Returns whether it did
    /// (false: the lease was lost and another worker owns the job now).
    pub async fn finish_job(
        &self,
        job: &ClaimedJob,
        worker: &str,
        now: i64,
    ) -> Result<bool, DbError> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'done', finished = $1, lease_until = 0, last_error = NULL \
             WHERE job_key = $2 AND worker_id = $3 AND attempts = $4 AND state = 'running'",
        )
        .bind(now)
        .bind(&job.key)
        .bind(worker)
        .bind(job.attempt)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(done == 1)
    }

    /// Gives the job back after a failure that may pass: queued again at `retry_at`, or
    /// `failed` when this was the last attempt. Only by the lease holder.
    pub async fn retry_job(
        &self,
        job: &ClaimedJob,
        worker: &str,
        error: &str,
        retry_at: i64,
        max_attempts: i64,
    ) -> Result<bool, DbError> {
        let next_state = if job.attempt >= max_attempts {
            state::FAILED
        } else {
            state::QUEUED
        };
        let moved = sqlx::query(
            "UPDATE jobs SET state = $1, next_attempt_at = $2, lease_until = 0, last_error = $3 \
             WHERE job_key = $4 AND worker_id = $5 AND attempts = $6 AND state = 'running'",
        )
        .bind(next_state)
        .bind(retry_at)
        .bind(truncate(error, 2000))
        .bind(&job.key)
        .bind(worker)
        .bind(job.attempt)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(moved == 1)
    }

    /// Jobs whose worker died on their last attempt become `failed` (nobody may claim them).
    pub async fn fail_abandoned_jobs(&self, now: i64, max_attempts: i64) -> Result<u64, DbError> {
        Ok(sqlx::query(
            "UPDATE jobs SET state = 'failed', last_error = 'the worker stopped during the last \
             attempt' WHERE state = 'running' AND lease_until <= $1 AND attempts >= $2",
        )
        .bind(now)
        .bind(max_attempts)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Jobs, newest first, optionally of one crate (lowercase name); at most `limit`.
    pub async fn jobs(&self, name: Option<&str>, limit: i64) -> Result<Vec<JobRow>, DbError> {
        let sql = "SELECT crate_name, version, checksum, state, attempts, next_attempt_at, \
                   lease_until, worker_id, last_error, created FROM jobs";
        let rows = match name {
            Some(name) => {
                sqlx::query(&format!(
                    "{sql} WHERE lower(crate_name) = $1 ORDER BY created DESC, job_key LIMIT $2"
                ))
                .bind(name)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(&format!("{sql} ORDER BY created DESC, job_key LIMIT $1"))
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(job_row).collect()
    }

    /// Jobs not finished (queued, running, failed), newest first; at most `limit`.
    pub async fn pending_jobs(&self, limit: i64) -> Result<Vec<JobRow>, DbError> {
        let rows = sqlx::query(
            "SELECT crate_name, version, checksum, state, attempts, next_attempt_at, \
             lease_until, worker_id, last_error, created FROM jobs \
             WHERE state IN ('queued', 'running', 'failed') ORDER BY created DESC, job_key \
             LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(job_row).collect()
    }

    /// Stores (or replaces) the verification of a crate version.
    pub async fn record_verification(&self, v: &Verification) -> Result<(), DbError> {
        self.insert_verification(
            v,
            "ON CONFLICT (crate_name, version) DO UPDATE SET checksum = $3, verdict = $4, \
             signed = $5, reason = $6, report = $7, checked = $8, worker_id = $9",
        )
        .await
    }

    /// Stores the verification unless the version has one.
    pub async fn record_verification_if_absent(&self, v: &Verification) -> Result<(), DbError> {
        self.insert_verification(v, "ON CONFLICT (crate_name, version) DO NOTHING")
            .await
    }

    async fn insert_verification(
        &self,
        v: &Verification,
        on_conflict: &str,
    ) -> Result<(), DbError> {
        sqlx::query(&format!(
            "INSERT INTO verifications (crate_name, version, checksum, verdict, signed, reason, \
             report, checked, worker_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) {on_conflict}"
        ))
        .bind(&v.crate_name)
        .bind(&v.version)
        .bind(&v.checksum)
        .bind(&v.verdict)
        .bind(i64::from(v.signed))
        .bind(truncate(&v.reason, 4000))
        .bind(v.report.to_string())
        .bind(v.checked)
        .bind(&v.worker_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The verifications of a crate, newest first.
    pub async fn verifications(&self, name: &str) -> Result<Vec<Verification>, DbError> {
        let rows = sqlx::query(
            "SELECT crate_name, version, checksum, verdict, signed, reason, report, checked, \
             worker_id FROM verifications WHERE crate_name = $1 ORDER BY checked DESC, version",
        )
        .bind(name)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let report: String = r.try_get(6)?;
                Ok(Verification {
                    crate_name: r.try_get(0)?,
                    version: r.try_get(1)?,
                    checksum: r.try_get(2)?,
                    verdict: r.try_get(3)?,
                    signed: r.try_get::<i64, _>(4)? != 0,
                    reason: r.try_get(5)?,
                    report: serde_json::from_str(&report).unwrap_or(serde_json::Value::Null),
                    checked: r.try_get(7)?,
                    worker_id: r.try_get(8)?,
                })
            })
            .collect()
    }
}
