//! The fetch itself, on a worker thread: connect, list what the remote advertises, then fetch
//! only as much as the reachability rule needs, in rounds that stop as soon as it is answered:
//!
//! 1. **one commit deep**: the branch or tag that points at the wanted commit (usually the
//!    version's tag), which alone settles reachability; else the default branch and the
//!    version's tags;
//! 2. **[`DEEPEN`] commits deep**, the same refs (a tag moved past the release);
//! 3. **[`DEEPEN`] commits deep**, every branch and the version's tags (a release branch);
//! 4. **the whole history** of every branch and tag, before the commit may be called
//!    unpublished.
//!
//! Everything is fetched through libgit2's smart protocol (https, ssh); a server without
//! shallow support gets full fetches instead. Fetching the commit by its id is not used: it
//! cannot prove the commit is on a branch, and servers that do not allow it (`git daemon`'s
//! default) fail the whole fetch.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::Sender;
use std::time::Instant;

use git2::{AutotagOption, Direction, ErrorClass, FetchOptions, Oid, Repository};

use super::git_cache::{
    FetchError, FetchLimits, FetchedRepository, Wanted, local_error, open_or_init,
};
use super::refs::{Reachability, RemoteRef, RemoteRefs, find_commit};
use super::remote_callbacks::{CallbackState, FetchEvent};
use crate::Error;

/// How many commits the second round fetches behind each tip.
pub const DEEPEN: i32 = 200;

/// libgit2's `GIT_FETCH_DEPTH_UNSHALLOW`: fetch what a shallow repository is missing.
const UNSHALLOW: i32 = i32::MAX;

/// Everything the worker thread owns.
pub(super) struct Job {
    pub dir: PathBuf,
    pub url: String,
    pub wanted: Wanted,
    pub limits: FetchLimits,
    pub deadline: Instant,
    pub cancel: Arc<AtomicBool>,
}

/// Why one attempt failed: the remote (a verdict), or our cache, which may be started over.
enum Failure {
    Fatal(FetchError),
    /// The cached repository is damaged (objects missing behind its refs, an unreadable pack):
    /// the attempt is repeated once on an empty cache.
    Damaged(String),
}

impl From<FetchError> for Failure {
    fn from(e: FetchError) -> Failure {
        Failure::Fatal(e)
    }
}

impl Job {
    pub fn run(&self, events: &Sender<FetchEvent>) -> Result<FetchedRepository, FetchError> {
        let state = CallbackState::new(
            self.deadline,
            self.limits.max_bytes,
            Arc::clone(&self.cancel),
            events.clone(),
        );
        match self.attempt(&state, Vec::new(), true) {
            Ok(fetched) => Ok(fetched),
            Err(Failure::Fatal(e)) => Err(e),
            Err(Failure::Damaged(why)) => {
                // An interrupted or damaged cache is not the remote's fault: fetch it again.
                std::fs::remove_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
                let note = format!("the cached copy was damaged ({why}); fetched it again");
                match self.attempt(&state, vec![note], false) {
                    Ok(fetched) => Ok(fetched),
                    Err(Failure::Fatal(e)) => Err(e),
                    // Our cache was new: what is missing there is what the server left out.
                    Err(Failure::Damaged(why)) => Err(FetchError::Unreachable(format!(
                        "fetching {} into an empty cache left it incomplete (the server sent \
                         less than it advertised): {why}",
                        self.url
                    ))),
                }
            }
        }
    }

    /// One fetch into the cache. `may_start_over`: a history with holes is reported as `Damaged` (so the
    /// caller starts over on an empty cache) instead of being returned.
    fn attempt(
        &self,
        state: &CallbackState,
        mut notes: Vec<String>,
        may_start_over: bool,
    ) -> Result<FetchedRepository, Failure> {
        let repo = open_or_init(&self.dir)?;
        if let Some(missing) = missing_ref_target(&repo) {
            return Err(Failure::Damaged(format!(
                "{missing} points to a missing object"
            )));
        }
        let refs = self.list(&repo, state)?;
        let rounds = Rounds::plan(&refs, &self.wanted);
        let target = rounds.target;
        let found = |repo: &Repository, refs: &RemoteRefs| match target {
            Some(commit) => matches!(
                find_commit(repo, refs, commit),
                Reachability::Reachable { .. }
            ),
            None => true,
        };

        // Round 1: one commit deep.
        let first: Vec<&RemoteRef> = rounds.first.iter().collect();
        let wanted_now: Vec<&RemoteRef> = first
            .iter()
            .copied()
            .filter(|r| !is_current(&repo, r))
            .collect();
        self.fetch(&repo, &wanted_now, 1, state, &mut notes)?;
        if wanted_now.is_empty() && !first.is_empty() {
            notes.push(format!(
                "{} already in the cache: nothing fetched",
                describe(&first)
            ));
        }
        let subset = refs.restricted_to(&first);
        if !found(&repo, &subset) {
            // Round 2: DEEPEN commits behind the same refs (a tag moved past the release).
            let mut done = false;
            if !first.is_empty() {
                notes.push(format!(
                    "the commit is not at the tip of {}: fetching {DEEPEN} commits of their history",
                    describe(&first)
                ));
                self.fetch(&repo, &first, DEEPEN, state, &mut notes)?;
                done = found(&repo, &subset);
            }
            // Round 3: DEEPEN commits behind every branch (a release branch).
            let second: Vec<&RemoteRef> = rounds.second.iter().collect();
            let more = second
                .iter()
                .any(|r| !first.iter().any(|f| f.name == r.name));
            if !done && more {
                notes.push(format!(
                    "the commit is not in that history: fetching {DEEPEN} commits of {}",
                    describe(&second)
                ));
                self.fetch(&repo, &second, DEEPEN, state, &mut notes)?;
                done = found(&repo, &refs.restricted_to(&second));
            }
            if !done {
                // Round 4: the whole history of every branch and tag.
                let all: Vec<&RemoteRef> = refs.branches.iter().chain(&refs.tags).collect();
                notes.push(format!(
                    "the commit is not in that history: fetching the whole history of {}",
                    describe(&all)
                ));
                let depth = if repo.is_shallow() { UNSHALLOW } else { 0 };
                self.fetch(&repo, &all, depth, state, &mut notes)?;
            }
        }
        // Not found, and commits missing behind the tips without a shallow edge to explain it:
        // an earlier fetch was cut or a server hid a shallow boundary. Fetching into this cache
        // cannot mend it (the tips are offered to the server as complete), so start over once;
        // if the server sends holes again, the verdict says its history is incomplete.
        if may_start_over && !found(&repo, &refs) {
            let tips = refs.in_search_order().into_iter().map(|r| r.target);
            if super::shallow::misses_commits(&repo, tips) {
                return Err(Failure::Damaged(
                    "commits are missing behind its branches and tags".into(),
                ));
            }
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
            notes,
        })
    }

    /// Connects and lists the advertised refs, within the refs limit.
    fn list(&self, repo: &Repository, state: &CallbackState) -> Result<RemoteRefs, Failure> {
        let remote_error = |e: git2::Error| state.explain(&self.url, e);
        let mut remote = repo.remote_anonymous(&self.url).map_err(remote_error)?;
        let connection = remote
            .connect_auth(Direction::Fetch, Some(state.callbacks()), None)
            .map_err(remote_error)?;
        let heads = connection.list().map_err(remote_error)?;
        if heads.len() > self.limits.max_refs {
            return Err(Failure::Fatal(FetchError::Unreachable(format!(
                "{} advertises {} refs, more than the limit of {}",
                self.url,
                heads.len(),
                self.limits.max_refs
            ))));
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
        Ok(RemoteRefs::from_advertisement(advertised, default))
    }

    /// Fetches `refs` (into refs of the same names) `depth` commits deep (0: whole history).
    /// A server without shallow support gets a full fetch, said in `notes`.
    fn fetch(
        &self,
        repo: &Repository,
        refs: &[&RemoteRef],
        depth: i32,
        state: &CallbackState,
        notes: &mut Vec<String>,
    ) -> Result<(), Failure> {
        if refs.is_empty() {
            return Ok(());
        }
        let refspecs: Vec<String> = refs.iter().map(|r| format!("+{0}:{0}", r.name)).collect();
        let result = fetch_refspecs(repo, &self.url, &refspecs, depth, state);
        state.end_round();
        match result {
            Ok(()) => {
                if depth == 1 {
                    notes.push(format!("fetched {} one commit deep", describe(refs)));
                }
                Ok(())
            }
            Err(e) if depth > 0 && e.message().contains("shallow") && !state.was_stopped() => {
                notes.push(format!(
                    "the server cannot fetch shallow ({}): fetching the whole history instead",
                    e.message().trim()
                ));
                let result = fetch_refspecs(repo, &self.url, &refspecs, 0, state);
                state.end_round();
                result.map_err(|e| self.failure(state, e))
            }
            Err(e) => Err(self.failure(state, e)),
        }
    }

    /// A failed fetch: our cache's fault (`Damaged`, retried once) or the remote's.
    fn failure(&self, state: &CallbackState, e: git2::Error) -> Failure {
        let local = matches!(
            e.class(),
            ErrorClass::Odb
                | ErrorClass::Object
                | ErrorClass::Reference
                | ErrorClass::Repository
                | ErrorClass::Index
                | ErrorClass::Filesystem
                | ErrorClass::Zlib
        );
        if local && !state.was_stopped() {
            Failure::Damaged(e.message().trim().to_owned())
        } else {
            Failure::Fatal(state.explain(&self.url, e))
        }
    }
}

/// The refs of each round, chosen from the advertisement and what is wanted.
struct Rounds {
    /// The commit reachability is about: the recorded one, else the version tag's.
    target: Option<Oid>,
    first: Vec<RemoteRef>,
    second: Vec<RemoteRef>,
}

impl Rounds {
    fn plan(refs: &RemoteRefs, wanted: &Wanted) -> Rounds {
        let version_tags: Vec<RemoteRef> = wanted
            .tags
            .iter()
            .filter_map(|t| refs.tag(t).cloned())
            .collect();
        let target = wanted
            .commit
            .or_else(|| version_tags.first().map(|t| t.target));
        let default_branch: Vec<RemoteRef> = refs
            .branches
            .iter()
            .filter(|b| Some(&b.name) == refs.default_branch.as_ref())
            .chain(
                refs.branches
                    .first()
                    .filter(|_| refs.default_branch.is_none()),
            )
            .take(1)
            .cloned()
            .collect();
        // A version tag (else any branch or tag) pointing exactly at the commit settles it.
        let exact = target.and_then(|commit| {
            version_tags
                .iter()
                .chain(refs.in_search_order())
                .find(|r| r.target == commit)
                .cloned()
        });
        let first = match (target, exact) {
            (_, Some(exact)) => vec![exact],
            (Some(_), None) => default_branch
                .iter()
                .chain(&version_tags)
                .cloned()
                .collect(),
            (None, None) => default_branch,
        };
        let second = refs.branches.iter().chain(&version_tags).cloned().collect();
        Rounds {
            target,
            first,
            second,
        }
    }
}

/// `tag v1.0.0`, `branch main and 2 more`.
fn describe(refs: &[&RemoteRef]) -> String {
    let names: Vec<String> = refs
        .iter()
        .take(2)
        .map(|r| super::refs::describe_ref(&r.name))
        .collect();
    match refs.len() {
        0 => "no branch or tag".into(),
        1 | 2 => names.join(" and "),
        n => format!("{}, {} and {} more", names[0], names[1], n - 2),
    }
}

/// True when the local ref already points where the remote's does and the object is here.
fn is_current(repo: &Repository, remote: &RemoteRef) -> bool {
    repo.refname_to_id(&remote.name).ok() == Some(remote.oid)
        && repo.find_commit(remote.target).is_ok()
}

/// A local branch or tag whose object is missing: the mark of an interrupted or damaged cache.
fn missing_ref_target(repo: &Repository) -> Option<String> {
    for glob in ["refs/heads/*", "refs/tags/*"] {
        let references = repo.references_glob(glob).ok()?;
        for reference in references.flatten() {
            if let Some(target) = reference.target()
                && repo.find_object(target, None).is_err()
            {
                return Some(reference.name().unwrap_or("a ref").to_owned());
            }
        }
    }
    None
}

fn fetch_refspecs(
    repo: &Repository,
    url: &str,
    refspecs: &[String],
    depth: i32,
    state: &CallbackState,
) -> Result<(), git2::Error> {
    let mut remote = repo.remote_anonymous(url)?;
    let mut options = FetchOptions::new();
    options
        .remote_callbacks(state.callbacks())
        // Tags come only from our refspecs: auto-following would fetch tags of any history.
        .download_tags(AutotagOption::None)
        .update_fetchhead(false)
        .depth(depth);
    remote.fetch(refspecs, Some(&mut options), None)
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
