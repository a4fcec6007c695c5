//! A cache of bare repositories, one per remote URL, under `<cache-dir>/git/`. Later runs fetch
//! into the same repository, so the cache grows by what each check needs and nothing more.
//!
//! Fetches are targeted (see [`super::fetch_worker`]): first the ref that points at the wanted
//! commit, one commit deep; deeper history only when the reachability rule needs it. Only
//! `refs/heads/*` and `refs/tags/*` are fetched, never `refs/pull/*`, and the local refs are
//! pruned to what the remote advertises, so the cache mirrors the remote's branches and tags.
//! A fetch is bounded in time and in bytes received over all its rounds: it runs on a worker
//! thread, and a fetch that exceeds either bound is abandoned (the worker's transfer callback
//! stops it at the next packet) and reported as unreachable. Local repositories are not cached
//! at all: they are read in place ([`super::local`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use git2::{Oid, Repository};

use super::fetch_worker::Job;
use super::refs::RemoteRefs;
use super::remote_callbacks::FetchEvent;
use crate::Error;
use crate::progress::Progress;

/// Bounds on one repository fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchLimits {
    /// Wall time for connecting, listing refs and fetching, all phases together.
    pub timeout: Duration,
    /// Bytes received over all phases.
    pub max_bytes: u64,
    /// Refs advertised by the remote.
    pub max_refs: usize,
}

impl Default for FetchLimits {
    /// Room for large real repositories (rust-lang/rust is far above these, crates' repositories
    /// far below) while a hostile remote cannot hold a run or a disk forever.
    fn default() -> Self {
        FetchLimits {
            timeout: Duration::from_secs(600),
            max_bytes: 2 * 1024 * 1024 * 1024,
            max_refs: 200_000,
        }
    }
}

/// What the check needs from the remote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wanted {
    /// The commit recorded in the tarball, if any.
    pub commit: Option<Oid>,
    /// Short tag names that may mark the version (`v1.2.3`, …), in order of preference.
    pub tags: Vec<String>,
}

/// A cached repository after the fetch, with the refs the remote advertised.
pub struct FetchedRepository {
    pub repo: Repository,
    pub refs: RemoteRefs,
    /// Nothing was fetched (`--offline`): refs are as of the last fetch.
    pub offline: bool,
    /// What was fetched, round by round, in words (`-v` and the JSON report show them).
    pub notes: Vec<String>,
}

impl std::fmt::Debug for FetchedRepository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FetchedRepository")
            .field("path", &self.repo.path())
            .field("refs", &self.refs)
            .field("offline", &self.offline)
            .field("notes", &self.notes)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The remote could not be reached or refused us: a verdict (`unverifiable`), not an error.
    #[error("{0}")]
    Unreachable(String),
    /// Our own cache is unusable (permissions, disk): an error.
    #[error(transparent)]
    Cache(#[from] Error),
}

#[derive(Debug, Clone)]
pub struct GitCache {
    root: PathBuf,
    limits: FetchLimits,
    offline: bool,
}

impl GitCache {
    /// Repositories live in `cache_dir/git/`. `offline` uses what is cached and fetches nothing.
    pub fn new(cache_dir: &Path, limits: FetchLimits, offline: bool) -> GitCache {
        GitCache {
            root: cache_dir.join("git"),
            limits,
            offline,
        }
    }

    /// The bare repository for `url`: a hash of the URL (so any URL is a safe folder name) and a
    /// readable hint of the repository's name.
    pub fn repository_dir(&self, url: &str) -> PathBuf {
        let digest = crate::fetch::sha256_hex(url.as_bytes());
        let hint: String = url
            .trim_end_matches('/')
            .trim_end_matches(".git")
            .rsplit(['/', ':'])
            .next()
            .unwrap_or("")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .take(32)
            .collect();
        self.root.join(format!("{}-{hint}", &digest[..16]))
    }

    /// Fetches what `wanted` needs from `url` into the cache (or, offline, opens the cache).
    pub fn fetch(
        &self,
        url: &str,
        wanted: &Wanted,
        progress: &dyn Progress,
    ) -> Result<FetchedRepository, FetchError> {
        if let Some(path) = super::local::local_path(url) {
            return super::local::open_in_place(&path, url);
        }
        let dir = self.repository_dir(url);
        if self.offline {
            return open_offline(&dir, url);
        }
        std::fs::create_dir_all(&self.root).map_err(|e| Error::io(&self.root, e))?;
        let (tx, rx) = mpsc::channel();
        let cancel = Arc::new(AtomicBool::new(false));
        let deadline = Instant::now() + self.limits.timeout;
        let job = Job {
            dir,
            url: url.to_owned(),
            wanted: wanted.clone(),
            limits: self.limits,
            deadline,
            cancel: Arc::clone(&cancel),
        };
        // Detached on purpose: when the deadline passes we return, and the worker stops itself at
        // its next callback (a connection that never answers ends with the OS's TCP timeout).
        std::thread::Builder::new()
            .name("git-fetch".into())
            .spawn(move || {
                let result = job.run(&tx);
                let _ = tx.send(FetchEvent::Done(Box::new(result)));
            })
            .map_err(|e| Error::io(&self.root, e))?;
        let mut shown = ShownProgress::default();
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(remaining) {
                Ok(FetchEvent::Progress { received, total }) => {
                    shown.update(progress, received, total)
                }
                Ok(FetchEvent::Done(result)) => {
                    shown.finish(progress);
                    return *result;
                }
                Err(RecvTimeoutError::Timeout) => {
                    cancel.store(true, Ordering::Relaxed);
                    shown.finish(progress);
                    return Err(FetchError::Unreachable(format!(
                        "fetching {url} took longer than {} s",
                        self.limits.timeout.as_secs()
                    )));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    shown.finish(progress);
                    return Err(FetchError::Unreachable(format!(
                        "fetching {url} stopped unexpectedly"
                    )));
                }
            }
        }
    }
}

/// Forwards object counts to a [`Progress`], restarting the bar when a new phase begins.
#[derive(Default)]
struct ShownProgress {
    total: u64,
    shown: u64,
}

impl ShownProgress {
    fn update(&mut self, progress: &dyn Progress, received: u64, total: u64) {
        if total != self.total {
            self.finish(progress);
            self.total = total;
            progress.begin("Fetching", total);
        }
        if received > self.shown {
            progress.advance(received - self.shown);
            self.shown = received;
        }
    }

    fn finish(&mut self, progress: &dyn Progress) {
        if self.total != 0 {
            progress.finish();
        }
        *self = ShownProgress::default();
    }
}

pub(super) fn open_or_init(dir: &Path) -> Result<Repository, FetchError> {
    if dir.exists() {
        if let Ok(repo) = Repository::open_bare(dir) {
            return Ok(repo);
        }
        // A damaged cache entry (interrupted first clone): start it again.
        std::fs::remove_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let mut options = git2::RepositoryInitOptions::new();
    options.bare(true).mkpath(true);
    Repository::init_opts(dir, &options).map_err(|e| local_error(dir, e))
}

fn open_offline(dir: &Path, url: &str) -> Result<FetchedRepository, FetchError> {
    let repo = Repository::open_bare(dir).map_err(|_| {
        FetchError::Unreachable(format!(
            "--offline: {url} has never been fetched into the cache; run once without --offline"
        ))
    })?;
    let refs = super::local::listed_refs(&repo, false).map_err(|e| local_error(dir, e))?;
    Ok(FetchedRepository {
        repo,
        refs,
        offline: true,
        notes: vec!["--offline: nothing fetched, the cache as last fetched".into()],
    })
}

pub(super) fn local_error(dir: &Path, e: git2::Error) -> FetchError {
    FetchError::Cache(Error::io(
        dir,
        std::io::Error::other(e.message().to_owned()),
    ))
}
