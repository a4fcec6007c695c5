//! Shallow histories: a cache fetched one commit deep (or a local clone made with `--depth`)
//! knows the commits at its edge but not their parents. A commit that is *found* on a branch is
//! found for good (parent links are part of the hashed commits), but a commit that is *not*
//! found may only be further back than what is here. [`history_is_cut`] tells the two apart.

use std::collections::HashSet;

use git2::{Oid, Repository};

/// The commits whose parents this repository does not have (its `shallow` file).
pub fn shallow_roots(repo: &Repository) -> HashSet<Oid> {
    std::fs::read_to_string(repo.path().join("shallow"))
        .map(|text| {
            text.lines()
                .filter_map(|line| Oid::from_str(line.trim()).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Whether the history behind `tips` (those present here) is incomplete: it reaches a shallow
/// edge or a missing object. When it is not, a commit absent from it is truly not on them.
pub fn history_is_cut(repo: &Repository, tips: impl IntoIterator<Item = Oid>) -> bool {
    let roots = shallow_roots(repo);
    let Ok(mut walk) = repo.revwalk() else {
        return true;
    };
    let mut pushed = false;
    for tip in tips {
        if repo.find_commit(tip).is_ok() {
            if walk.push(tip).is_err() {
                return true;
            }
            pushed = true;
        }
    }
    if !pushed {
        return false;
    }
    if roots.is_empty() {
        // Nothing is marked shallow: the history is complete unless an object is missing.
        return walk.any(|commit| commit.is_err());
    }
    walk.any(|commit| commit.map_or(true, |id| roots.contains(&id) && has_parents(repo, id)))
}

/// Whether the history behind `tips` (those present here) lacks a commit that is not behind a
/// shallow edge: a parent the repository should have and does not. Only a damaged cache or a
/// server that hid a shallow boundary (it sent tips without their history and said nothing)
/// leaves that; a later fetch cannot mend it, because the client offers those tips as complete.
pub fn misses_commits(repo: &Repository, tips: impl IntoIterator<Item = Oid>) -> bool {
    let Ok(mut walk) = repo.revwalk() else {
        return false;
    };
    for tip in tips {
        if repo.find_commit(tip).is_ok() && walk.push(tip).is_err() {
            return true;
        }
    }
    walk.any(|commit| commit.is_err())
}

/// Whether the commit as stored names a parent (the shallow file hides them from libgit2). A
/// root commit at the shallow edge cuts nothing.
fn has_parents(repo: &Repository, commit: Oid) -> bool {
    let Ok(odb) = repo.odb() else {
        return true;
    };
    let Ok(object) = odb.read(commit) else {
        return true;
    };
    let data = object.data();
    let header_end = data
        .windows(2)
        .position(|w| w == b"\n\n")
        .unwrap_or(data.len());
    data[..header_end]
        .split(|b| *b == b'\n')
        .any(|line| line.starts_with(b"parent "))
}
