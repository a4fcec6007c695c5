//! Provenance: is a published `.crate` what its git repository holds at the commit it names?
//! And what changed between two published versions?
//!
//! The engine takes the tarball and the repository candidates as values and returns a
//! [`ProvenanceReport`]; it never prints. What a repository or a commit is claimed to be is
//! checked, not trusted: see [`repository`] for which repository counts, [`refs`] for which
//! commits count, and [`compare`] for how files are compared. `docs/provenance.md` explains every
//! rule for users.

pub mod compare;
pub mod crate_file;
mod fetch_worker;
pub mod git_cache;
mod local;
pub mod manifest_check;
pub mod manifest_deps;
pub mod previous;
pub mod refs;
mod remote_callbacks;
pub mod report;
pub mod repository;
mod shallow;
pub mod signed_off;
pub mod signing;
pub mod sweep;
pub mod text_diff;
pub mod tree;
pub mod vcs_info;
pub mod versions;

#[cfg(test)]
mod tests;

pub use git_cache::{FetchLimits, GitCache};
pub use report::{
    CommitSource, FileComparison, FileStatus, FolderSource, ProvenanceReport, RepositorySource,
    Unverifiable, Verdict,
};
pub use repository::{PreviousClaim, RepositoryChoice, SignedOffRepository, UrlRewrites};
pub use signing::{SourceMatch, source_match};
pub use versions::{VersionDiff, diff_versions};

use git2::Oid;

use crate::Error;
use crate::progress::Progress;
use crate::tarball::CrateArchive;
use git_cache::{FetchError, Wanted};
use refs::{Reachability, describe_ref, find_commit};
use repository::{Selection, fetch_url, refuse_url, select_repository};
use tree::CommitTree;
use vcs_info::{VCS_INFO_FILE, VcsInfo, parse_vcs_info};

/// One crate to check.
#[derive(Debug, Clone, Copy)]
pub struct ProvenanceInput<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub archive: &'a CrateArchive,
    pub repositories: &'a RepositoryChoice,
}

/// Checks `input` against its repository. Everything about the repository (unreachable, commit
/// missing, history rewritten) is a verdict; only a failing cache is an error.
pub fn check_provenance(
    input: &ProvenanceInput<'_>,
    cache: &GitCache,
    rewrites: &UrlRewrites,
    progress: &dyn Progress,
) -> Result<ProvenanceReport, Error> {
    let mut report = ProvenanceReport::new(input.name, input.version);
    report.claimed_repository = claimed_repository(input.archive);

    let repository =
        match select_repository(input.repositories, report.claimed_repository.as_deref()) {
            Selection::Use {
                repository,
                warnings,
            } => {
                report.warnings.extend(warnings);
                repository
            }
            Selection::Unverifiable { repository, reason } => {
                report.repository = repository.as_ref().map(|r| r.url.clone());
                report.repository_source = repository.map(|r| r.source);
                return Ok(report.unverifiable(Unverifiable::NoTrustedRepository(reason)));
            }
        };
    report.repository = Some(repository.url.clone());
    report.repository_source = Some(repository.source);
    // Forge web URLs (also `http://` ones, upgraded to https) become the repository's URL first.
    let canonical = fetch_url(&repository.url);
    if let Some(reason) = refuse_url(&canonical, repository.source) {
        return Ok(report.unverifiable(Unverifiable::RefusedUrl {
            reason,
            rewritten: false,
        }));
    }
    let fetched_from = rewrites.apply(&canonical).unwrap_or(canonical);
    if let Some(reason) = refuse_url(&fetched_from, RepositorySource::Pinned) {
        return Ok(report.unverifiable(Unverifiable::RefusedUrl {
            reason,
            rewritten: true,
        }));
    }
    if fetched_from != repository.url {
        report.fetched_from = Some(fetched_from.clone());
    }
    verify_at(report, input, &fetched_from, cache, progress)
}

/// The check against the repository at `fetched_from`, once the URL has been chosen and passed
/// the URL rules: fetch what the verdict needs, find the commit, compare the files.
fn verify_at(
    mut report: ProvenanceReport,
    input: &ProvenanceInput<'_>,
    fetched_from: &str,
    cache: &GitCache,
    progress: &dyn Progress,
) -> Result<ProvenanceReport, Error> {
    let repository_url = report.repository.clone().unwrap_or_default();
    let vcs = match input
        .archive
        .get(VCS_INFO_FILE)
        .map(|f| parse_vcs_info(&f.contents))
    {
        Some(Ok(info)) => Some(info),
        Some(Err(reason)) => return Ok(report.unverifiable(Unverifiable::BadVcsInfo(reason))),
        None => None,
    };
    if let Some(info) = &vcs {
        report.dirty = info.dirty;
        report.path_in_vcs = info.path_in_vcs.clone();
    }
    let tags = version_tags(input.name, input.version);
    let wanted = Wanted {
        commit: vcs.as_ref().and_then(|v| Oid::from_str(&v.sha1).ok()),
        tags: tags.clone(),
    };
    let fetched = match cache.fetch(fetched_from, &wanted, progress) {
        Ok(fetched) => fetched,
        Err(FetchError::Unreachable(why)) => {
            return Ok(report.unverifiable(Unverifiable::RepositoryUnreachable(why)));
        }
        Err(FetchError::Cache(e)) => return Err(e),
    };
    report.fetch = fetched.notes.clone();
    if fetched.offline {
        report
            .warnings
            .push("--offline: branches and tags are as of the last fetch".into());
    }

    let version_tag = tags
        .iter()
        .find_map(|t| fetched.refs.tag(t).map(|r| (t, r.target)));
    report.tag = version_tag.map(|(name, _)| name.clone());
    let commit = match (&wanted.commit, version_tag) {
        (Some(commit), tag) => {
            report.commit_source = Some(CommitSource::VcsInfo);
            if let Some((name, target)) = tag
                && target != *commit
            {
                report.tag_commit_mismatch = true;
                report.warnings.push(format!(
                    "tag {name} points to commit {}, not to the commit in {VCS_INFO_FILE}",
                    short(&target.to_string())
                ));
            }
            *commit
        }
        (None, Some((_, target))) => {
            report.commit_source = Some(CommitSource::Tag);
            target
        }
        (None, None) => {
            return Ok(report.unverifiable(Unverifiable::NoCommit {
                version: input.version.to_owned(),
                tags,
            }));
        }
    };
    report.commit = Some(commit.to_string());
    let reachability = find_commit(&fetched.repo, &fetched.refs, commit);
    if let Some(why) = unanswered(&fetched, &reachability, commit, fetched_from) {
        return Ok(report.unverifiable(Unverifiable::RepositoryUnreachable(why)));
    }
    match reachability {
        Reachability::Reachable { reference } => report.reference = Some(reference),
        Reachability::NotFound { pull_ref } => {
            return Ok(
                report.unverifiable(Unverifiable::CommitNotPublished(format!(
                    "commit {} is not on any branch or tag of {repository_url}{}",
                    short(&commit.to_string()),
                    pull_ref_hint(pull_ref)
                ))),
            );
        }
        Reachability::NotOnBranchOrTag { pull_ref } => {
            return Ok(
                report.unverifiable(Unverifiable::CommitNotPublished(format!(
                    "commit {} exists but is not on any branch or tag of {repository_url}{}",
                    short(&commit.to_string()),
                    pull_ref_hint(pull_ref)
                ))),
            );
        }
    }

    let tree = match CommitTree::new(&fetched.repo, commit) {
        Ok(tree) => tree,
        // The commit is here but its tree is not: a remote that sent an incomplete pack.
        Err(e) => {
            return Ok(
                report.unverifiable(Unverifiable::RepositoryUnreachable(format!(
                    "the files of commit {} cannot be read from {fetched_from}: {}",
                    short(&commit.to_string()),
                    e.message().trim()
                ))),
            );
        }
    };
    let Some(folder) = package_folder(&mut report, vcs.as_ref(), &tree, input.name) else {
        return Ok(report.unverifiable(Unverifiable::NoPackageFolder {
            package: input.name.to_owned(),
            commit: short(&commit.to_string()).to_owned(),
        }));
    };
    let comparison = compare::compare_files(input.archive, &tree, &folder);
    report.package_folder = Some(folder);
    report.files = comparison.files;
    report.only_in_repository = comparison.only_in_repository;
    report.warnings.extend(comparison.warnings);
    conclude(&mut report);
    Ok(report)
}

/// Tag names that may mark `version`, in the order they are tried.
pub fn version_tags(name: &str, version: &str) -> Vec<String> {
    vec![
        format!("v{version}"),
        version.to_owned(),
        format!("{name}-v{version}"),
        format!("{name}-{version}"),
        format!("{name}/v{version}"),
        format!("{name}@{version}"),
    ]
}

/// `package.repository` of the published (normalized) `Cargo.toml`.
pub fn claimed_repository(archive: &CrateArchive) -> Option<String> {
    let text = std::str::from_utf8(&archive.get("Cargo.toml")?.contents).ok()?;
    let table: toml::Table = text.parse().ok()?;
    let url = table.get("package")?.get("repository")?.as_str()?.trim();
    (!url.is_empty()).then(|| url.to_owned())
}

/// The package's folder: `path_in_vcs`, else the shallowest folder whose `Cargo.toml` names it.
fn package_folder(
    report: &mut ProvenanceReport,
    vcs: Option<&VcsInfo>,
    tree: &CommitTree<'_>,
    name: &str,
) -> Option<String> {
    if let Some(folder) = vcs.and_then(|v| v.path_in_vcs.clone()) {
        report.package_folder_source = Some(FolderSource::PathInVcs);
        if !tree.has_folder(&folder) {
            report.warnings.push(format!(
                "path_in_vcs `{folder}` is not a folder at this commit"
            ));
        }
        return Some(folder);
    }
    let folders = tree.package_folders(name);
    let first = folders.first()?.clone();
    report.package_folder_source = Some(FolderSource::ManifestSearch);
    if folders.len() > 1 {
        report.warnings.push(format!(
            "{} folders have a Cargo.toml for {name}; using the shallowest, `{first}`",
            folders.len()
        ));
    }
    Some(first)
}

/// Sets the verdict and its reason from the compared files.
fn conclude(report: &mut ProvenanceReport) {
    let commit = report.commit.as_deref().map(short).unwrap_or_default();
    let on = report
        .reference
        .as_deref()
        .map(describe_ref)
        .unwrap_or_default();
    let differing: Vec<String> = report
        .differing_files()
        .map(|f| format!("{} ({})", f.path, f.status.as_str()))
        .collect();
    if differing.is_empty() {
        report.verdict = Verdict::Matches;
        report.reason = format!(
            "all {} files match commit {commit} ({on})",
            report.files.len()
        );
        if report.dirty {
            report.warnings.push(
                "the crate was packaged from a checkout with uncommitted changes \
                 (`cargo package --allow-dirty`), though every file matches the commit"
                    .into(),
            );
        }
    } else {
        report.verdict = Verdict::Differs;
        if report.line_endings_only() {
            report.reason = format!(
                "line endings only: {} of {} files differ from commit {commit} ({on}) in their \
                 line endings (CRLF against LF) and in nothing else; every other file matches",
                differing.len(),
                report.files.len()
            );
            return;
        }
        const SHOWN: usize = 5;
        let more = differing.len().saturating_sub(SHOWN);
        report.reason = format!(
            "{} of {} files differ from commit {commit} ({on}): {}{}",
            differing.len(),
            report.files.len(),
            differing[..differing.len().min(SHOWN)].join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
    }
}

/// Why a commit that was not found on a branch or tag may still be on one, if it may: the
/// remote advertised a ref at it but did not send it, or the history read is cut short (a
/// shallow cache read offline, a shallow local clone, a server that left the history shallow).
/// `None` when the negative answer is final.
fn unanswered(
    fetched: &git_cache::FetchedRepository,
    reachability: &Reachability,
    commit: Oid,
    url: &str,
) -> Option<String> {
    if matches!(reachability, Reachability::Reachable { .. }) {
        return None;
    }
    let advertised = fetched
        .refs
        .in_search_order()
        .into_iter()
        .find(|r| r.target == commit);
    if let Some(reference) = advertised
        && fetched.repo.find_commit(commit).is_err()
    {
        return Some(format!(
            "{url} advertises {} at commit {} but did not send that commit",
            describe_ref(&reference.name),
            short(&commit.to_string())
        ));
    }
    let tips = fetched.refs.in_search_order().into_iter().map(|r| r.target);
    if !shallow::history_is_cut(&fetched.repo, tips) {
        return None;
    }
    Some(if fetched.offline {
        format!(
            "--offline: the cached history of {url} is incomplete (it was fetched shallow), so \
             commit {} may be further back; run once without --offline",
            short(&commit.to_string())
        )
    } else if local::local_path(url).is_some() {
        format!(
            "{url} is a shallow clone: commit {} may be further back than its history; use a \
             full clone",
            short(&commit.to_string())
        )
    } else {
        format!(
            "{url} sent an incomplete history (cut short or with missing commits) even when \
             asked for all of it, so whether commit {} is on a branch or tag cannot be told",
            short(&commit.to_string())
        )
    })
}

fn pull_ref_hint(pull_ref: Option<String>) -> String {
    match pull_ref {
        Some(name) => format!(
            "; it is only on `{name}`, a ref that anyone can create by opening a pull request"
        ),
        None => String::new(),
    }
}

/// The first 12 hex digits of a commit id.
pub fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}
