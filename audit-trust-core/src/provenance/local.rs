//! Repositories on this machine (`/path` or `file://`) are read where they are, not copied.
//!
//! libgit2's local transport cannot fetch shallow (it fails on a depth) and copies the whole
//! history object by object, which for a large repository took minutes and hundreds of MB.
//! Nothing has to travel to compare one commit of a repository that is already on disk, so the
//! check opens it in place: its branches and tags are what it "advertises", its objects are read
//! directly, and the cache is not involved (nor needed offline). Local repositories are only
//! ever used when pinned by the user or an operator's rewrite rule (see
//! [`super::repository::refuse_url`]).

use std::path::{Path, PathBuf};

use git2::{Oid, Repository, RepositoryOpenFlags};

use super::git_cache::{FetchError, FetchedRepository};
use super::refs::RemoteRefs;

/// The folder of a local repository URL (`/srv/r.git`, `file:///srv/r.git`), or `None` for a
/// network URL.
pub fn local_path(url: &str) -> Option<PathBuf> {
    if url.starts_with('/') {
        return Some(PathBuf::from(url));
    }
    if url.starts_with("file://") {
        return url::Url::parse(url).ok()?.to_file_path().ok();
    }
    None
}

/// Opens the repository at `path` in place, with its own branches and tags as the advertised
/// refs (everything else under `refs/`, such as `refs/pull/*`, only to explain a failure).
pub fn open_in_place(path: &Path, url: &str) -> Result<FetchedRepository, FetchError> {
    let repo = Repository::open_ext(path, RepositoryOpenFlags::NO_SEARCH, &[] as &[&str])
        .map_err(|e| FetchError::Unreachable(format!("cannot open {url}: {}", e.message())))?;
    let refs = listed_refs(&repo, true).map_err(|e| {
        FetchError::Unreachable(format!("cannot read the refs of {url}: {}", e.message()))
    })?;
    Ok(FetchedRepository {
        repo,
        refs,
        offline: false,
        notes: vec![format!(
            "read {url} in place (a local repository is not copied)"
        )],
    })
}

/// The refs of `repo` as a remote would advertise them: `name → target`, plus `name^{}` with the
/// commit for a ref that peels to another object (annotated tags). `all` adds refs outside
/// `refs/heads/` and `refs/tags/`; the default branch is where `HEAD` points.
pub fn listed_refs(repo: &Repository, all: bool) -> Result<RemoteRefs, git2::Error> {
    let mut advertised: Vec<(String, Oid)> = Vec::new();
    let globs: &[&str] = if all {
        &["refs/*"]
    } else {
        &["refs/heads/*", "refs/tags/*"]
    };
    for glob in globs {
        for reference in repo.references_glob(glob)?.flatten() {
            let (Some(name), Some(oid)) = (reference.name(), reference.target()) else {
                continue;
            };
            advertised.push((name.to_owned(), oid));
            if let Ok(commit) = reference.peel_to_commit()
                && commit.id() != oid
            {
                advertised.push((format!("{name}^{{}}"), commit.id()));
            }
        }
    }
    let default = repo
        .find_reference("HEAD")
        .ok()
        .and_then(|head| head.symbolic_target().map(str::to_owned))
        .filter(|name| name.starts_with("refs/heads/"));
    Ok(RemoteRefs::from_advertisement(advertised, default))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_urls_are_paths() {
        assert_eq!(local_path("/srv/r.git"), Some(PathBuf::from("/srv/r.git")));
        assert_eq!(
            local_path("file:///srv/my%20r.git"),
            Some(PathBuf::from("/srv/my r.git"))
        );
        assert_eq!(local_path("https://example.com/r"), None);
        assert_eq!(local_path("git@example.com:o/r"), None);
        assert_eq!(local_path("file://host/r"), None);
    }
}
