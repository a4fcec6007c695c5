//! Measures the automatic auditor's job queue alone: enqueues JOBS jobs, then WORKERS tasks claim
//! and finish them as fast as they can against one database. Prints one JSON object: jobs per
//! second, and how many were claimed twice (must be 0).
//!
//! queue_load DB_URL JOBS WORKERS   (DB_URL: sqlite://PATH or postgres://… with a fresh schema)

#![allow(clippy::print_stderr)]

use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use audit_registry::db::Db;

const SUM: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, jobs, workers] = args.as_slice() else {
        eprintln!("usage: queue_load DB_URL JOBS WORKERS");
        return ExitCode::from(2);
    };
    let (Ok(jobs), Ok(workers)) = (jobs.parse::<usize>(), workers.parse::<usize>()) else {
        eprintln!("JOBS and WORKERS are numbers");
        return ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(url, jobs, workers.max(1))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}

async fn run(url: &str, jobs: usize, workers: usize) -> Result<(), String> {
    let db = Arc::new(Db::connect(url).await.map_err(|e| e.to_string())?);
    for i in 0..jobs {
        db.enqueue_job("load", &format!("1.0.{i}"), SUM, 100, false)
            .await
            .map_err(|e| e.to_string())?;
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..workers {
        let db = Arc::clone(&db);
        tasks.push(tokio::spawn(async move {
            let id = format!("w{w}");
            let mut done = Vec::new();
            loop {
                match db.claim_job(&id, 100, 1_000_000, 5).await {
                    Ok(Some(job)) => {
                        if db.finish_job(&job, &id, 101).await.unwrap_or(false) {
                            done.push(job.version);
                        }
                    }
                    Ok(None) => return done,
                    Err(_) => tokio::task::yield_now().await,
                }
            }
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.map_err(|e| e.to_string())?);
    }
    let seconds = started.elapsed().as_secs_f64();
    let distinct: HashSet<&String> = all.iter().collect();
    println!(
        "{}",
        serde_json::json!({
            "jobs": jobs,
            "workers": workers,
            "finished": all.len(),
            "claimed_twice": all.len() - distinct.len(),
            "seconds": seconds,
            "jobs_per_second": all.len() as f64 / seconds,
        })
    );
    Ok(())
}
