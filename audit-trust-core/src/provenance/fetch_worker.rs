//! The fetch itself, on a worker thread: connect, list what the remote advertises, fetch the
//! default branch and the version's tags, and everything else only when the commit is not there.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::Sender;
use std::time::Instant;

use git2::{AutotagOption, Direction, FetchOptions, Oid, Repository};

use super::git_cache::{
    FetchError, FetchLimits, FetchedRepository, Wanted, local_error, open_or_init,
};
use super::refs::{Reachability, RemoteRef, RemoteRefs, find_commit};
use super::remote_callbacks::{CallbackState, FetchEvent};

/// Everything the worker thread owns.
pub(super) struct Job {
    pub dir: PathBuf,
    pub url: String,
    pub wanted: Wanted,
    pub limits: FetchLimits,
    pub deadline: Instant,
    pub cancel: Arc<AtomicBool>,
}

impl Job {
    pub fn run(&self, events: &Sender<FetchEvent>) -> Result<FetchedRepository, FetchError> {
        let state = CallbackState::new(
            self.deadline,
            self.limits.max_bytes,
            Arc::clone(&self.cancel),
            events.clone(),
        );
        let remote_error = |e: git2::Error| state.explain(&self.url, e);
        let repo = open_or_init(&self.dir)?;
        let refs = {
            let mut remote = repo.remote_anonymous(&self.url).map_err(remote_error)?;
            let connection = remote
                .connect_auth(Direction::Fetch, Some(state.callbacks()), None)
                .map_err(remote_error)?;
            let heads = connection.list().map_err(remote_error)?;
            if heads.len() > self.limits.max_refs {
                return Err(FetchError::Unreachable(format!(
                    "{} advertises {} refs, more than the limit of {}",
                    self.url,
                    heads.len(),
                    self.limits.max_refs
                )));
            }
            let advertised: Vec<(String, Oid)> = heads
                .iter()
                .map(|h| (h.name().to_owned(), h.oid()))
                .collect();
            let default = connection
                .default_branch()
                .ok()
                .and_then(|b| b.as_str().map(str::to_owned))
                .filter(|b| b.starts_with("refs/heads/"));
            RemoteRefs::from_advertisement(advertised, default)
        };

        // Phase 1: the default branch and the version's tags; usually the commit is there.
        let first = RemoteRefs {
            branches: refs
                .branches
                .iter()
                .filter(|b| Some(&b.name) == refs.default_branch.as_ref())
                .cloned()
                .collect(),
            tags: (self.wanted.tags.iter())
                .filter_map(|t| refs.tag(t).cloned())
                .collect(),
            other: Vec::new(),
            default_branch: refs.default_branch.clone(),
        };
        let explicit: Vec<String> = first
            .in_search_order()
            .into_iter()
            .filter(|r| !is_current(&repo, r))
            .map(|r| format!("+{0}:{0}", r.name))
            .collect();
        fetch(&repo, &self.url, &explicit, &state)?;
        let target = self
            .wanted
            .commit
            .or_else(|| first.tags.first().map(|t| t.target));
        let found = match target {
            Some(commit) => matches!(
                find_commit(&repo, &first, commit),
                Reachability::Reachable { .. }
            ),
            None => true,
        };
        // Phase 2: every branch and tag, before giving up.
        if !found {
            let everything = [
                "+refs/heads/*:refs/heads/*".to_owned(),
                "+refs/tags/*:refs/tags/*".to_owned(),
            ];
            fetch(&repo, &self.url, &everything, &state)?;
        }
        prune(&repo, &refs).map_err(|e| local_error(&self.dir, e))?;
        if let Some(default) = &refs.default_branch
            && repo.refname_to_id(default).is_ok()
        {
            let _ = repo.set_head(default);
        }
        Ok(FetchedRepository {
            repo,
            refs,
            offline: false,
        })
    }
}

/// True when the local ref already points where the remote's does (nothing to fetch).
fn is_current(repo: &Repository, remote: &RemoteRef) -> bool {
    repo.refname_to_id(&remote.name).ok() == Some(remote.oid)
}

fn fetch(
    repo: &Repository,
    url: &str,
    refspecs: &[String],
    state: &CallbackState,
) -> Result<(), FetchError> {
    if refspecs.is_empty() {
        return Ok(());
    }
    let mut remote = repo
        .remote_anonymous(url)
        .map_err(|e| state.explain(url, e))?;
    let mut options = FetchOptions::new();
    options
        .remote_callbacks(state.callbacks())
        // Tags come only from our refspecs: auto-following would fetch tags of any history.
        .download_tags(AutotagOption::None)
        .update_fetchhead(false);
    remote
        .fetch(refspecs, Some(&mut options), None)
        .map_err(|e| state.explain(url, e))
}

/// Deletes local branches and tags the remote no longer advertises, so a commit that was removed
/// from the remote's history is not found through a stale ref on a later, offline run.
fn prune(repo: &Repository, refs: &RemoteRefs) -> Result<(), git2::Error> {
    let advertised: std::collections::HashSet<&str> = refs
        .branches
        .iter()
        .chain(&refs.tags)
        .map(|r| r.name.as_str())
        .collect();
    for glob in ["refs/heads/*", "refs/tags/*"] {
        let mut stale = Vec::new();
        for reference in repo.references_glob(glob)? {
            let reference = reference?;
            if let Some(name) = reference.name()
                && !advertised.contains(name)
            {
                stale.push(name.to_owned());
            }
        }
        for name in stale {
            repo.find_reference(&name)?.delete()?;
        }
    }
    Ok(())
}
