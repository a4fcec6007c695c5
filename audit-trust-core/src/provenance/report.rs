//! What a provenance check concludes. [`ProvenanceReport`] is the JSON output of `diff --format
//! json` as is, and what the review UI and the registry's automatic auditor read.

use std::fmt;

use serde::Serialize;

/// The answer to "is this tarball what the repository holds at the commit it names?".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every published file is in the repository at that commit, byte for byte (generated files
    /// aside, and the normalized `Cargo.toml` agrees with `Cargo.toml.orig`).
    Matches,
    /// At least one file is not what the repository has (the files say which and how).
    Differs,
    /// The question could not be answered; the reason says why.
    Unverifiable,
}

/// Why a check ended `unverifiable`. Its text (`Display`) is the report's `reason`, so people
/// read the same sentence; programs (the registry's retry rule) match the variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unverifiable {
    /// No repository can be trusted: none is named or pinned, or it moved since an earlier
    /// version (the sentence says which).
    NoTrustedRepository(String),
    /// The repository's URL is refused (a local path, a non-network scheme, …); `rewritten`
    /// when a URL rewrite rule produced it.
    RefusedUrl { reason: String, rewritten: bool },
    /// `.cargo_vcs_info.json` cannot be read.
    BadVcsInfo(String),
    /// The repository could not be fetched (network, host, timeout, size limit): the only
    /// reason that may go away by itself, so the only one worth retrying.
    RepositoryUnreachable(String),
    /// Neither `.cargo_vcs_info.json` nor a version tag names a commit.
    NoCommit { version: String, tags: Vec<String> },
    /// The commit is not reachable from a branch or tag (the sentence says which case).
    CommitNotPublished(String),
    /// The commit has no `Cargo.toml` for the package.
    NoPackageFolder { package: String, commit: String },
}

impl fmt::Display for Unverifiable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unverifiable::NoTrustedRepository(reason)
            | Unverifiable::BadVcsInfo(reason)
            | Unverifiable::CommitNotPublished(reason) => f.write_str(reason),
            Unverifiable::RefusedUrl { reason, rewritten } => {
                if *rewritten {
                    write!(f, "after URL rewriting: {reason}")
                } else {
                    f.write_str(reason)
                }
            }
            Unverifiable::RepositoryUnreachable(why) => {
                write!(f, "the repository is unreachable: {why}")
            }
            Unverifiable::NoCommit { version, tags } => write!(
                f,
                "the crate has no {} and the repository has no tag for version {version} \
                 (looked for {})",
                super::vcs_info::VCS_INFO_FILE,
                tags.join(", ")
            ),
            Unverifiable::NoPackageFolder { package, commit } => {
                write!(f, "no Cargo.toml for package {package} at commit {commit}")
            }
        }
    }
}

/// Where the repository that was used came from, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RepositorySource {
    /// `--repo` or `[sources]` in `Cargo.audit`: chosen by the user.
    Pinned,
    /// Recorded by a `source-matches` sign-off of an earlier version.
    SignedOff,
    /// Named by the tarball itself (`package.repository`): a claim by the publisher.
    Claimed,
}

/// How the commit was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitSource {
    /// `git.sha1` in `.cargo_vcs_info.json`, written by `cargo package`.
    VcsInfo,
    /// A tag named after the version (the tarball has no VCS info).
    Tag,
}

/// How the package's folder inside the repository was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FolderSource {
    /// `path_in_vcs` in `.cargo_vcs_info.json`.
    PathInVcs,
    /// The folder whose `Cargo.toml` names the package.
    ManifestSearch,
}

/// What one published file is, compared with the repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Same bytes as the repository's file (same git blob).
    Identical,
    /// Different content.
    Modified,
    /// Same text once line endings are made equal: still a difference, reported as such.
    LineEndings,
    /// No such file in the repository at that commit.
    OnlyInTarball,
    /// Written by `cargo package` (`.cargo_vcs_info.json`, normalized `Cargo.toml` that agrees
    /// with `Cargo.toml.orig`, `Cargo.lock` when the repository has none).
    Generated,
    /// The normalized `Cargo.toml` builds something `Cargo.toml.orig` does not describe.
    ManifestMismatch,
}

impl FileStatus {
    /// Whether this status makes the verdict `differs`.
    pub fn is_difference(self) -> bool {
        !matches!(self, FileStatus::Identical | FileStatus::Generated)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Identical => "identical",
            FileStatus::Modified => "modified",
            FileStatus::LineEndings => "line_endings",
            FileStatus::OnlyInTarball => "only_in_tarball",
            FileStatus::Generated => "generated",
            FileStatus::ManifestMismatch => "manifest_mismatch",
        }
    }
}

/// One published file and what the repository says about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileComparison {
    /// Path inside the crate (relative to `NAME-VERSION/`).
    pub path: String,
    pub status: FileStatus,
    /// The repository path it was compared with, when that is not simply `folder/path`
    /// (a symlink's target, a README from the workspace root, `Cargo.toml` for `Cargo.toml.orig`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository_path: Option<String>,
    /// Why the status is what it is, when that needs saying (manifest disagreements, a symlink
    /// leaving the repository, a file inside a submodule).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The repository's bytes, kept for differing files so renderers can show a diff.
    #[serde(skip)]
    pub repository_contents: Option<Vec<u8>>,
}

/// The result of checking one published crate against its repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProvenanceReport {
    pub name: String,
    pub version: String,
    pub verdict: Verdict,
    /// One sentence that explains the verdict.
    pub reason: String,
    /// Why the verdict is `unverifiable`, typed (its text is `reason`).
    #[serde(skip)]
    pub unverifiable: Option<Unverifiable>,
    /// The repository the check used (as chosen, before URL rewrites).
    pub repository: Option<String>,
    pub repository_source: Option<RepositorySource>,
    /// The URL actually fetched, when a rewrite rule changed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fetched_from: Option<String>,
    /// The repository the tarball names (`package.repository`), whether used or not.
    pub claimed_repository: Option<String>,
    pub commit: Option<String>,
    pub commit_source: Option<CommitSource>,
    /// The branch or tag of the repository from which the commit is reachable
    /// (`refs/heads/main`, `refs/tags/v1.2.3`).
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    /// The tag named after this version, if the repository has one.
    pub tag: Option<String>,
    /// The version's tag exists but points to another commit than the one used.
    pub tag_commit_mismatch: bool,
    /// `cargo package` recorded uncommitted changes (`--allow-dirty`).
    pub dirty: bool,
    pub path_in_vcs: Option<String>,
    /// The package's folder in the repository (`""` for the root).
    pub package_folder: Option<String>,
    pub package_folder_source: Option<FolderSource>,
    pub warnings: Vec<String>,
    /// What was fetched to reach the verdict, round by round (`-v`): the ref one commit deep,
    /// deeper history only when the commit is not at a tip.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fetch: Vec<String>,
    /// Every file of the tarball, sorted by path. Empty when the verdict was reached before any
    /// comparison (unverifiable).
    pub files: Vec<FileComparison>,
    /// Files under the package folder that the tarball does not have (include/exclude rules make
    /// this normal): only counted.
    pub only_in_repository: usize,
}

impl ProvenanceReport {
    /// A report with nothing established yet.
    pub fn new(name: &str, version: &str) -> ProvenanceReport {
        ProvenanceReport {
            name: name.to_owned(),
            version: version.to_owned(),
            verdict: Verdict::Unverifiable,
            reason: String::new(),
            unverifiable: None,
            repository: None,
            repository_source: None,
            fetched_from: None,
            claimed_repository: None,
            commit: None,
            commit_source: None,
            reference: None,
            tag: None,
            tag_commit_mismatch: false,
            dirty: false,
            path_in_vcs: None,
            package_folder: None,
            package_folder_source: None,
            warnings: Vec::new(),
            fetch: Vec::new(),
            files: Vec::new(),
            only_in_repository: 0,
        }
    }

    /// Ends the check as `unverifiable` for `why`.
    pub(crate) fn unverifiable(mut self, why: Unverifiable) -> ProvenanceReport {
        self.verdict = Verdict::Unverifiable;
        self.reason = why.to_string();
        self.unverifiable = Some(why);
        self
    }

    /// The files whose status makes the verdict `differs`.
    pub fn differing_files(&self) -> impl Iterator<Item = &FileComparison> {
        self.files.iter().filter(|f| f.status.is_difference())
    }

    /// A `differs` verdict in which every differing file differs only in line endings: the
    /// text is the repository's, the bytes are not (a crate packaged on Windows with
    /// `core.autocrlf`, say). Still a difference, but not one to alarm anybody with.
    pub fn line_endings_only(&self) -> bool {
        self.verdict == Verdict::Differs
            && self
                .differing_files()
                .all(|f| f.status == FileStatus::LineEndings)
            && self.differing_files().next().is_some()
    }

    /// How many files have `status`.
    pub fn count(&self, status: FileStatus) -> usize {
        self.files.iter().filter(|f| f.status == status).count()
    }
}
