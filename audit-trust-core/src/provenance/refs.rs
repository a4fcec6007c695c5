//! The branches and tags a remote advertises, and which of them contain a commit.
//!
//! Reachability counts only refs *as advertised by the remote in this run* (or, offline, as last
//! fetched): a commit that is merely present in the object store, or only on a pull-request ref
//! (forks' commits are served that way), is not part of the repository's history.

use git2::{Oid, Repository};

/// One advertised ref.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRef {
    /// Full name: `refs/heads/main`, `refs/tags/v1.0.0`.
    pub name: String,
    /// What the ref points to as advertised (an annotated tag's own object).
    pub oid: Oid,
    /// The commit it names: `oid`, or for an annotated tag the commit it is peeled to.
    pub target: Oid,
}

/// What a remote advertises, sorted by name within each group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoteRefs {
    pub branches: Vec<RemoteRef>,
    pub tags: Vec<RemoteRef>,
    /// Everything else (`refs/pull/*`, `refs/merge-requests/*`, …): never counted, only used to
    /// explain where a commit that is on no branch or tag comes from.
    pub other: Vec<RemoteRef>,
    /// `refs/heads/<name>` that the remote's `HEAD` points to.
    pub default_branch: Option<String>,
}

impl RemoteRefs {
    /// Sorts the advertisement (`name`, `oid`, peeled `^{}` entries included) into groups.
    pub fn from_advertisement(
        heads: impl IntoIterator<Item = (String, Oid)>,
        default_branch: Option<String>,
    ) -> RemoteRefs {
        let mut refs = RemoteRefs {
            default_branch,
            ..RemoteRefs::default()
        };
        let mut peeled = Vec::new();
        for (name, oid) in heads {
            if let Some(tag) = name.strip_suffix("^{}") {
                peeled.push((tag.to_owned(), oid));
            } else {
                let group = if name.starts_with("refs/heads/") {
                    &mut refs.branches
                } else if name.starts_with("refs/tags/") {
                    &mut refs.tags
                } else if name.starts_with("refs/") {
                    &mut refs.other
                } else {
                    continue;
                };
                group.push(RemoteRef {
                    name,
                    oid,
                    target: oid,
                });
            }
        }
        // An annotated tag is advertised twice: the tag object, then `name^{}` with its commit.
        for (name, commit) in peeled {
            if let Some(tag) = refs.tags.iter_mut().find(|t| t.name == name) {
                tag.target = commit;
            }
        }
        for group in [&mut refs.branches, &mut refs.tags, &mut refs.other] {
            group.sort_by(|a, b| a.name.cmp(&b.name));
        }
        refs
    }

    /// The tag with this short name (`v1.2.3`), if advertised.
    pub fn tag(&self, short_name: &str) -> Option<&RemoteRef> {
        let full = format!("refs/tags/{short_name}");
        self.tags.iter().find(|t| t.name == full)
    }

    /// Branches and tags in the order they are tried when looking for a commit: the default
    /// branch, the other branches, then tags.
    pub fn in_search_order(&self) -> Vec<&RemoteRef> {
        let default = self.default_branch.as_deref();
        let mut out: Vec<&RemoteRef> = self
            .branches
            .iter()
            .filter(|b| Some(b.name.as_str()) == default)
            .collect();
        out.extend(
            self.branches
                .iter()
                .filter(|b| Some(b.name.as_str()) != default),
        );
        out.extend(self.tags.iter());
        out
    }

    /// The same advertisement with only the branches and tags in `kept` (other refs and the
    /// default branch stay): what one fetch round brought in.
    pub fn restricted_to(&self, kept: &[&RemoteRef]) -> RemoteRefs {
        let keep = |r: &&RemoteRef| kept.iter().any(|k| k.name == r.name);
        RemoteRefs {
            branches: self.branches.iter().filter(keep).cloned().collect(),
            tags: self.tags.iter().filter(keep).cloned().collect(),
            other: self.other.clone(),
            default_branch: self.default_branch.clone(),
        }
    }

    pub fn len(&self) -> usize {
        self.branches.len() + self.tags.len() + self.other.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where a commit was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reachability {
    /// On this branch or tag (the first found in [`RemoteRefs::in_search_order`]; a ref that
    /// points exactly at the commit is preferred).
    Reachable { reference: String },
    /// The object exists here but no advertised branch or tag leads to it.
    NotOnBranchOrTag { pull_ref: Option<String> },
    /// The commit is not in the repository's history at all.
    NotFound { pull_ref: Option<String> },
}

/// Looks for `commit` in the history of the advertised branches and tags whose tips are present.
pub fn find_commit(repo: &Repository, refs: &RemoteRefs, commit: Oid) -> Reachability {
    // A non-branch ref pointing exactly at the commit explains a failure ("only on a PR ref").
    let pull_ref = refs
        .other
        .iter()
        .find(|r| r.target == commit)
        .map(|r| r.name.clone());
    let candidates = refs.in_search_order();
    // Checked first: a remote may advertise a ref at the commit and not send it.
    if repo.find_commit(commit).is_err() {
        return Reachability::NotFound { pull_ref };
    }
    if let Some(exact) = candidates.iter().find(|r| r.target == commit) {
        return Reachability::Reachable {
            reference: exact.name.clone(),
        };
    }
    for candidate in candidates {
        // Tips that were not fetched (an earlier phase found the commit, or the tag names a tree)
        // are skipped: they cannot be walked.
        if repo.find_commit(candidate.target).is_err() {
            continue;
        }
        if repo
            .graph_descendant_of(candidate.target, commit)
            .unwrap_or(false)
        {
            return Reachability::Reachable {
                reference: candidate.name.clone(),
            };
        }
    }
    Reachability::NotOnBranchOrTag { pull_ref }
}

/// `refs/heads/main` → `branch main`; `refs/tags/v1` → `tag v1`.
pub fn describe_ref(name: &str) -> String {
    if let Some(branch) = name.strip_prefix("refs/heads/") {
        format!("branch {branch}")
    } else if let Some(tag) = name.strip_prefix("refs/tags/") {
        format!("tag {tag}")
    } else {
        name.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(n: u8) -> Oid {
        Oid::from_bytes(&[n; 20]).expect("20 bytes")
    }

    #[test]
    fn advertisement_is_grouped_and_tags_peeled() {
        let refs = RemoteRefs::from_advertisement(
            [
                ("HEAD".to_owned(), oid(1)),
                ("refs/heads/main".to_owned(), oid(1)),
                ("refs/heads/dev".to_owned(), oid(2)),
                ("refs/tags/v1".to_owned(), oid(3)),
                ("refs/tags/v1^{}".to_owned(), oid(1)),
                ("refs/tags/light".to_owned(), oid(2)),
                ("refs/pull/7/head".to_owned(), oid(4)),
            ],
            Some("refs/heads/main".into()),
        );
        assert_eq!(refs.branches.len(), 2);
        assert_eq!(refs.tag("v1").map(|t| t.target), Some(oid(1)));
        assert_eq!(refs.tag("light").map(|t| t.target), Some(oid(2)));
        assert_eq!(refs.other.len(), 1);
        let order: Vec<&str> = refs
            .in_search_order()
            .iter()
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(
            order,
            [
                "refs/heads/main",
                "refs/heads/dev",
                "refs/tags/light",
                "refs/tags/v1"
            ]
        );
    }
}
