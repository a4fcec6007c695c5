//! The advisory database fetched with git: the default branch of the configured repository
//! (RustSec's by default) is fetched into the bare-repository cache provenance uses (bounded in
//! time and size), and its `crates/` tree is written out once per commit, so `rustsec` reads a
//! plain folder and the report can give the commit's date.

use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid, Repository, TreeWalkMode, TreeWalkResult};

use super::AdvisoryDatabase;
use crate::Error;
use crate::progress::Progress;
use crate::provenance::git_cache::{FetchError, GitCache, Wanted};
use crate::time::{Date, Timestamp};

/// Where RustSec publishes its database; `[advisories] git` overrides it.
pub const DEFAULT_ADVISORY_DB_URL: &str = "https://github.com/rustsec/advisory-db";

/// One advisory file is a few KB; anything this big is not one.
const MAX_ADVISORY_BYTES: usize = 1024 * 1024;

/// Fetches (or, offline, reuses) the database at `url` and opens the default branch's newest
/// commit. The database's date is that commit's date.
pub fn fetch_advisory_db(
    url: &str,
    git: &GitCache,
    cache_dir: &Path,
    progress: &dyn Progress,
) -> Result<AdvisoryDatabase, Error> {
    let unreachable = |message: String| Error::AdvisoryDb {
        path: PathBuf::from(url),
        message: format!("{message} (pass `--advisory-db PATH` to use a local copy)"),
    };
    let fetched = git
        .fetch(url, &Wanted::default(), progress)
        .map_err(|e| match e {
            FetchError::Unreachable(m) => unreachable(m),
            FetchError::Cache(e) => e,
        })?;
    let branch = fetched
        .refs
        .default_branch
        .as_ref()
        .and_then(|name| fetched.refs.branches.iter().find(|b| &b.name == name))
        .or_else(|| fetched.refs.branches.first())
        .ok_or_else(|| unreachable(format!("{url} has no branch")))?;
    let commit_id = branch.target;
    let folder = cache_dir
        .join("advisory-db")
        .join(&crate::fetch::sha256_hex(url.as_bytes())[..16])
        .join(commit_id.to_string());
    if !folder.join("crates").is_dir() {
        export_crates_tree(&fetched.repo, commit_id, &folder).map_err(&unreachable)?;
    }
    let commit = fetched
        .repo
        .find_commit(commit_id)
        .map_err(|e| unreachable(e.message().to_owned()))?;
    let mut db = AdvisoryDatabase::open(&folder)?;
    db.date = Some(Timestamp(commit.time().seconds()).date());
    db.commit = Some(commit_id.to_string());
    db.source = url.to_owned();
    Ok(db)
}

/// The date of the checked-out commit when `folder` is a git working copy (such as the one
/// cargo-audit keeps); `None` otherwise.
pub fn working_copy_commit(folder: &Path) -> Option<(String, Date)> {
    let repo = Repository::open(folder).ok()?;
    let commit = repo.head().ok()?.peel_to_commit().ok()?;
    Some((
        commit.id().to_string(),
        Timestamp(commit.time().seconds()).date(),
    ))
}

/// Writes `crates/**` of the commit's tree into `target` through a temporary folder renamed into
/// place, so a half-written database is never read. Only plain files with safe names are
/// written; nothing outside `target` can be reached.
fn export_crates_tree(repo: &Repository, commit: Oid, target: &Path) -> Result<(), String> {
    let parent = target.parent().ok_or("no parent folder")?;
    std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    let staging = tempfile::tempdir_in(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    let tree = repo
        .find_commit(commit)
        .and_then(|c| c.tree())
        .map_err(|e| e.message().to_owned())?;
    let crates = tree
        .get_path(Path::new("crates"))
        .and_then(|entry| entry.to_object(repo))
        .and_then(|object| object.peel_to_tree())
        .map_err(|_| {
            "the repository has no `crates/` folder: not an advisory database".to_owned()
        })?;
    let mut failure: Option<String> = None;
    crates
        .walk(TreeWalkMode::PreOrder, |dir, entry| {
            let name = entry.name().unwrap_or("");
            let safe = |s: &str| {
                !s.is_empty()
                    && s != "."
                    && s != ".."
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            };
            if entry.kind() != Some(ObjectType::Blob) {
                return TreeWalkResult::Ok;
            }
            let dir_ok = dir
                .trim_end_matches('/')
                .split('/')
                .filter(|s| !s.is_empty())
                .all(safe);
            if !safe(name) || !dir_ok || entry.filemode() == 0o120000 {
                return TreeWalkResult::Ok;
            }
            let written = repo
                .find_blob(entry.id())
                .map_err(|e| e.message().to_owned())
                .and_then(|blob| {
                    if blob.content().len() > MAX_ADVISORY_BYTES {
                        return Err(format!(
                            "crates/{dir}{name} is larger than an advisory can be"
                        ));
                    }
                    let folder = staging.path().join("crates").join(dir);
                    std::fs::create_dir_all(&folder).map_err(|e| e.to_string())?;
                    std::fs::write(folder.join(name), blob.content()).map_err(|e| e.to_string())
                });
            match written {
                Ok(()) => TreeWalkResult::Ok,
                Err(e) => {
                    failure = Some(e);
                    TreeWalkResult::Abort
                }
            }
        })
        .map_err(|e| e.message().to_owned())?;
    if let Some(e) = failure {
        return Err(e);
    }
    let staged = staging.keep();
    std::fs::rename(&staged, target).map_err(|e| {
        let _ = std::fs::remove_dir_all(&staged);
        format!("{}: {e}", target.display())
    })
}
