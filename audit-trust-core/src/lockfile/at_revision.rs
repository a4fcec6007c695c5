//! The lockfile a change is compared with, read from a git revision of the repository that holds
//! the project's lockfile (pull-request mode, `check --base REV`). Read with libgit2 from the
//! object database: the work tree is not touched and no `git` program is needed.

use std::path::{Path, PathBuf};

use git2::{ObjectType, Repository};

use crate::Error;

/// A lockfile larger than this at a revision is refused (the biggest real ones are a few MB).
const MAX_LOCKFILE_BYTES: usize = 64 * 1024 * 1024;

/// The lockfile's text at `rev`, and a label naming it (`REV:path/to/Cargo.lock`) for messages.
/// `lockfile` is the project's lockfile on disk; its path inside the repository is the same at
/// `rev`.
pub fn lockfile_at_revision(lockfile: &Path, rev: &str) -> Result<(String, PathBuf), Error> {
    let (repo, inside) = open_repository(lockfile)?;
    let object = repo.revparse_single(rev).map_err(|e| {
        Error::BaseLockfile(format!(
            "`{}` is not a revision of the repository at {} ({}); name a commit, branch or tag, or the path of a lockfile",
            rev.escape_default(),
            workdir(&repo).display(),
            e.message()
        ))
    })?;
    let commit = object.peel_to_commit().map_err(|e| {
        Error::BaseLockfile(format!(
            "`{}` does not name a commit: {}",
            rev.escape_default(),
            e.message()
        ))
    })?;
    let label = PathBuf::from(format!("{rev}:{inside}"));
    let tree = commit
        .tree()
        .map_err(|e| Error::BaseLockfile(format!("{}: {}", label.display(), e.message())))?;
    let entry = tree.get_path(Path::new(&inside)).map_err(|_| {
        Error::BaseLockfile(format!(
            "{} does not exist: the revision has no lockfile at that path",
            label.display()
        ))
    })?;
    if entry.kind() != Some(ObjectType::Blob) {
        return Err(Error::BaseLockfile(format!(
            "{} is not a file",
            label.display()
        )));
    }
    let blob = entry
        .to_object(&repo)
        .and_then(|o| o.peel_to_blob())
        .map_err(|e| Error::BaseLockfile(format!("{}: {}", label.display(), e.message())))?;
    if blob.size() > MAX_LOCKFILE_BYTES {
        return Err(Error::BaseLockfile(format!(
            "{} is {} bytes, more than the {MAX_LOCKFILE_BYTES} a lockfile may be",
            label.display(),
            blob.size()
        )));
    }
    let text = std::str::from_utf8(blob.content())
        .map_err(|_| Error::BaseLockfile(format!("{} is not UTF-8 text", label.display())))?
        .to_owned();
    Ok((text, label))
}

/// The merge base of `HEAD` and `other` (such as `origin/main`) in the repository holding
/// `lockfile`, as a commit id: what a pull request into `other` changes.
pub fn merge_base(lockfile: &Path, other: &str) -> Result<String, Error> {
    let (repo, _) = open_repository(lockfile)?;
    let commit_of = |rev: &str| {
        repo.revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .map(|c| c.id())
            .map_err(|e| {
                Error::BaseLockfile(format!(
                    "`{}` is not a commit of the repository at {} ({}); fetch it first (actions/checkout with `fetch-depth: 0`) or pass --base",
                    rev.escape_default(),
                    workdir(&repo).display(),
                    e.message()
                ))
            })
    };
    let head = commit_of("HEAD")?;
    let base = commit_of(other)?;
    let found = repo.merge_base(head, base).map_err(|e| {
        Error::BaseLockfile(format!(
            "HEAD and `{}` have no common ancestor ({}); pass --base",
            other.escape_default(),
            e.message()
        ))
    })?;
    Ok(found.to_string())
}

/// The repository holding `lockfile`, and the lockfile's path inside it (`/`-separated).
fn open_repository(lockfile: &Path) -> Result<(Repository, String), Error> {
    let absolute = std::fs::canonicalize(lockfile).map_err(|e| Error::io(lockfile, e))?;
    let folder = absolute.parent().unwrap_or(Path::new("/"));
    let repo = Repository::discover(folder).map_err(|e| {
        Error::BaseLockfile(format!(
            "{} is not inside a git repository ({}); pass --base with the path of a lockfile instead",
            lockfile.display(),
            e.message()
        ))
    })?;
    let root = std::fs::canonicalize(workdir(&repo)).map_err(|e| Error::io(workdir(&repo), e))?;
    let inside = absolute.strip_prefix(&root).map_err(|_| {
        Error::BaseLockfile(format!(
            "{} is outside the work tree of its repository {}",
            lockfile.display(),
            root.display()
        ))
    })?;
    let inside = inside
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    Ok((repo, inside))
}

fn workdir(repo: &Repository) -> &Path {
    repo.workdir().unwrap_or_else(|| repo.path())
}
