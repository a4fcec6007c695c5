//! The automatic auditor's job queue on real SQLite and PostgreSQL (when
//! `AUDIT_REGISTRY_TEST_POSTGRES` is set): enqueuing is idempotent, concurrent claims never hand
//! out a job twice, only the lease holder finishes a job, an expired lease is claimed again,
//! and retries back off until the last attempt fails the job.

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;

use audit_registry::Limits;
use audit_registry::db::Db;
use support::backends;

const SUM: &str = "0000000000000000000000000000000000000000000000000000000000000000";

async fn dbs() -> Vec<(&'static str, Db, support::Registry)> {
    backends(Limits::default())
        .await
        .into_iter()
        .map(|(name, reg)| (name, reg.state.db.clone(), reg))
        .collect()
}

#[tokio::test]
async fn enqueueing_is_idempotent_and_baselines_are_never_claimed() {
    for (backend, db, _reg) in dbs().await {
        assert!(
            db.enqueue_job("Foo", "1.0.0", SUM, 100, false)
                .await
                .expect("enqueue")
        );
        assert!(
            !db.enqueue_job("foo", "1.0.0", SUM, 100, false)
                .await
                .expect("again"),
            "{backend}"
        );
        assert!(
            db.enqueue_job("foo", "0.9.0", SUM, 100, true)
                .await
                .expect("baseline")
        );
        let job = db
            .claim_job("w1", 100, 160, 5)
            .await
            .expect("claim")
            .expect("a job");
        assert_eq!(
            (job.crate_name.as_str(), job.version.as_str(), job.attempt),
            ("Foo", "1.0.0", 1),
            "{backend}"
        );
        assert!(
            db.claim_job("w2", 100, 160, 5)
                .await
                .expect("claim")
                .is_none(),
            "{backend}: baseline claimed"
        );
        let listed = db.jobs(Some("foo"), 10).await.expect("jobs");
        assert_eq!(listed.len(), 2, "{backend}");
    }
}

#[tokio::test]
async fn concurrent_claims_hand_out_each_job_once() {
    for (backend, db, _reg) in dbs().await {
        for i in 0..30 {
            db.enqueue_job("many", &format!("1.0.{i}"), SUM, 100, false)
                .await
                .expect("enqueue");
        }
        let db = Arc::new(db);
        let mut tasks = Vec::new();
        for w in 0..6 {
            let db = Arc::clone(&db);
            tasks.push(tokio::spawn(async move {
                let mut got = Vec::new();
                let worker = format!("w{w}");
                loop {
                    match db.claim_job(&worker, 100, 1000, 5).await {
                        Ok(Some(job)) => {
                            assert!(db.finish_job(&job, &worker, 101).await.expect("finish"));
                            got.push(job.version);
                        }
                        Ok(None) => break,
                        // SQLite may report a busy database under contention: try again.
                        Err(e) => {
                            assert!(
                                e.to_string().contains("locked") || e.to_string().contains("busy"),
                                "{e}"
                            );
                        }
                    }
                }
                got
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.expect("task"));
        }
        let distinct: BTreeSet<&String> = all.iter().collect();
        assert_eq!(all.len(), 30, "{backend}: every job once: {all:?}");
        assert_eq!(distinct.len(), 30, "{backend}");
    }
}

#[tokio::test]
async fn only_the_lease_holder_finishes_and_an_expired_lease_is_claimed_again() {
    for (backend, db, _reg) in dbs().await {
        db.enqueue_job("leased", "1.0.0", SUM, 100, false)
            .await
            .expect("enqueue");
        let first = db
            .claim_job("w1", 100, 110, 5)
            .await
            .expect("claim")
            .expect("job");
        assert!(
            !db.finish_job(&first, "w2", 105).await.expect("finish"),
            "{backend}: not w2's"
        );
        // Still leased: nobody else gets it.
        assert!(
            db.claim_job("w2", 105, 115, 5)
                .await
                .expect("claim")
                .is_none(),
            "{backend}"
        );
        // w1 dies; after the lease, w2 claims it as attempt 2.
        let second = db
            .claim_job("w2", 110, 120, 5)
            .await
            .expect("claim")
            .expect("again");
        assert_eq!(second.attempt, 2, "{backend}");
        assert!(
            !db.finish_job(&first, "w1", 111).await.expect("late finish"),
            "{backend}: the dead lease"
        );
        assert!(
            db.extend_lease(&second, "w2", 130).await.expect("extend"),
            "{backend}"
        );
        assert!(
            db.claim_job("w3", 125, 135, 5)
                .await
                .expect("claim")
                .is_none(),
            "{backend}: extended"
        );
        assert!(
            db.finish_job(&second, "w2", 126).await.expect("finish"),
            "{backend}"
        );
        let jobs = db.jobs(Some("leased"), 10).await.expect("jobs");
        assert_eq!(jobs[0].state, "done", "{backend}");
        assert!(
            db.claim_job("w3", 1000, 1010, 5)
                .await
                .expect("claim")
                .is_none(),
            "{backend}: done stays done"
        );
    }
}

#[tokio::test]
async fn retries_back_off_and_the_last_attempt_fails_the_job() {
    for (backend, db, _reg) in dbs().await {
        db.enqueue_job("flaky", "1.0.0", SUM, 100, false)
            .await
            .expect("enqueue");
        let job = db
            .claim_job("w1", 100, 200, 2)
            .await
            .expect("claim")
            .expect("job");
        assert!(
            db.retry_job(&job, "w1", "index unreachable", 150, 2)
                .await
                .expect("retry")
        );
        assert!(
            db.claim_job("w1", 149, 250, 2)
                .await
                .expect("claim")
                .is_none(),
            "{backend}: too early"
        );
        let job = db
            .claim_job("w1", 150, 250, 2)
            .await
            .expect("claim")
            .expect("retried");
        assert_eq!(job.attempt, 2, "{backend}");
        assert!(
            db.retry_job(&job, "w1", "still unreachable", 300, 2)
                .await
                .expect("retry")
        );
        let jobs = db.jobs(Some("flaky"), 10).await.expect("jobs");
        assert_eq!(jobs[0].state, "failed", "{backend}");
        assert_eq!(
            jobs[0].last_error.as_deref(),
            Some("still unreachable"),
            "{backend}"
        );
        assert!(
            db.claim_job("w1", 1000, 1100, 2)
                .await
                .expect("claim")
                .is_none(),
            "{backend}"
        );

        // A worker that dies on the last attempt: the job fails once the lease is over.
        db.enqueue_job("dies", "1.0.0", SUM, 100, false)
            .await
            .expect("enqueue");
        let _ = db
            .claim_job("w1", 100, 110, 1)
            .await
            .expect("claim")
            .expect("job");
        assert_eq!(
            db.fail_abandoned_jobs(109, 1).await.expect("sweep"),
            0,
            "{backend}"
        );
        assert_eq!(
            db.fail_abandoned_jobs(110, 1).await.expect("sweep"),
            1,
            "{backend}"
        );
    }
}

#[tokio::test]
async fn a_backfill_queues_baseline_versions_and_leaves_audited_ones_alone() {
    for (backend, db, _reg) in dbs().await {
        db.watch("bf", None, "tests", "2026-01-01T00:00:00Z", 100)
            .await
            .expect("watch");
        // As a first poll files them: 1.0.0 queued (the newest), 0.8.0 and 0.9.0 baseline.
        for (version, baseline) in [("0.8.0", true), ("0.9.0", true), ("1.0.0", false)] {
            db.enqueue_job("bf", version, SUM, 100, baseline)
                .await
                .expect("enqueue");
        }
        let versions = ["0.9.0".to_owned(), "1.0.0".to_owned()];
        assert_eq!(
            db.request_backfill("bf", &versions, 200)
                .await
                .expect("request"),
            2,
            "{backend}"
        );
        assert_eq!(
            db.request_backfill("bf", &versions, 201)
                .await
                .expect("again"),
            0,
            "{backend}: asked already"
        );
        // The next poll is due now and unconditional.
        let entry = db.watch_entry("bf").await.expect("entry").expect("watched");
        assert_eq!((entry.etag, entry.last_modified), (None, None), "{backend}");
        assert_eq!(
            db.polls_due(201, 10).await.expect("due"),
            ["bf"],
            "{backend}"
        );
        assert_eq!(
            db.backfill_versions("bf").await.expect("pending"),
            versions,
            "{backend}"
        );
        // What the poll does with them: a baseline job is queued; a queued one stays as it is.
        assert!(
            db.queue_baseline_job("bf", "0.9.0", 200)
                .await
                .expect("queue")
        );
        assert!(
            !db.queue_baseline_job("bf", "1.0.0", 200)
                .await
                .expect("not baseline"),
            "{backend}"
        );
        for version in &versions {
            db.clear_backfill("bf", version).await.expect("clear");
        }
        assert!(db.backfill_versions("bf").await.expect("none").is_empty());
        let states: BTreeSet<(String, String)> = db
            .jobs(Some("bf"), 10)
            .await
            .expect("jobs")
            .into_iter()
            .map(|j| (j.version, j.state))
            .collect();
        let expected: BTreeSet<(String, String)> = [
            ("0.8.0", "baseline"),
            ("0.9.0", "queued"),
            ("1.0.0", "queued"),
        ]
        .iter()
        .map(|(v, s)| ((*v).to_owned(), (*s).to_owned()))
        .collect();
        assert_eq!(states, expected, "{backend}");
        // Both are claimed now; the baseline 0.8.0 never is.
        let mut claimed = BTreeSet::new();
        while let Some(job) = db.claim_job("w", 300, 360, 5).await.expect("claim") {
            claimed.insert(job.version);
        }
        assert_eq!(
            claimed,
            BTreeSet::from(["0.9.0".to_owned(), "1.0.0".to_owned()]),
            "{backend}"
        );
    }
}
