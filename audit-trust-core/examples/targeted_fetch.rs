//! The targeted git fetch on its own, for `bench/cold_git.py`: fetches what the provenance check
//! of `NAME@VERSION` at `COMMIT` needs from `URL` into `CACHE_DIR`, then prints what was fetched
//! and whether the commit is on a branch or tag. `diff` cannot be pointed at a loopback
//! `git://` server (the URL rules refuse it), so the benchmark measures the fetch this way over
//! the network protocol, and `diff` itself over a local path.
//!
//! Usage: targeted_fetch URL NAME VERSION COMMIT CACHE_DIR

use std::path::PathBuf;
use std::process::ExitCode;

use audit_trust_core::progress::NoProgress;
use audit_trust_core::provenance::git_cache::{FetchLimits, GitCache, Wanted};
use audit_trust_core::provenance::refs::{Reachability, find_commit};
use audit_trust_core::provenance::version_tags;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, name, version, commit, cache_dir] = args.as_slice() else {
        eprintln!("usage: targeted_fetch URL NAME VERSION COMMIT CACHE_DIR");
        return ExitCode::from(2);
    };
    let Ok(commit) = git2::Oid::from_str(commit) else {
        eprintln!("not a commit id: {commit}");
        return ExitCode::from(2);
    };
    let cache = GitCache::new(&PathBuf::from(cache_dir), FetchLimits::default(), false);
    let wanted = Wanted {
        commit: Some(commit),
        tags: version_tags(name, version),
    };
    let fetched = match cache.fetch(url, &wanted, &NoProgress) {
        Ok(fetched) => fetched,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    for note in &fetched.notes {
        println!("{note}");
    }
    match find_commit(&fetched.repo, &fetched.refs, commit) {
        Reachability::Reachable { reference } => {
            println!("commit {commit} is on {reference}");
            ExitCode::SUCCESS
        }
        other => {
            println!("commit {commit}: {other:?}");
            ExitCode::from(1)
        }
    }
}
