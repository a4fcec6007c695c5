//! Provenance scenarios on real git repositories made in temp dirs and real tarballs from
//! `cargo package`, varied the way a publisher (honest or not) varies them. Every verdict and
//! every file status is asserted. No git is faked.

mod fetch;
mod files;
mod history;
mod hostile;
mod trust;
mod versions;

use std::collections::BTreeMap;
use std::path::Path;

use audit_trust_e2e::{GitRepo, build_crate, crate_files, package_crate};
use tempfile::TempDir;

use super::{
    FetchLimits, FileStatus, GitCache, ProvenanceInput, ProvenanceReport, RepositoryChoice,
    UrlRewrites, Verdict, check_provenance,
};
use crate::progress::NoProgress;
use crate::tarball::{CrateArchive, Limits, read_crate};

/// A repository, a place for `cargo package` output and a git cache.
pub(super) struct Fixture {
    pub repo: GitRepo,
    out: TempDir,
    cache: TempDir,
}

impl Fixture {
    /// An empty repository.
    pub fn empty() -> Fixture {
        Fixture {
            repo: GitRepo::init(),
            out: tempfile::tempdir().expect("temp dir"),
            cache: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A repository with one package `name@version` at its root, committed on `main`.
    pub fn with_crate(name: &str, version: &str) -> Fixture {
        let fixture = Fixture::empty();
        fixture.write_crate("", name, version, "");
        fixture.repo.commit_all("first release");
        fixture
    }

    /// Writes a package (manifest, `src/lib.rs`, README) into `folder` without committing.
    pub fn write_crate(&self, folder: &str, name: &str, version: &str, extra_manifest: &str) {
        let at = |path: &str| {
            if folder.is_empty() {
                path.to_owned()
            } else {
                format!("{folder}/{path}")
            }
        };
        self.repo.write(
            &at("Cargo.toml"),
            format!(
                "[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\n\
                 description = \"test crate\"\nlicense = \"MIT\"\n{extra_manifest}"
            ),
        );
        self.repo.write(
            &at("src/lib.rs"),
            "//! A library.\npub fn answer() -> u32 {\n    42\n}\n",
        );
        if !extra_manifest.contains("readme") {
            self.repo
                .write(&at("README.md"), "# A crate\n\nIt answers.\n");
        }
    }

    /// `cargo package` of the root package.
    pub fn package(&self) -> Vec<u8> {
        self.package_at("Cargo.toml", &[])
    }

    /// `cargo package [extra]` of the package whose manifest is `manifest` (repository-relative).
    pub fn package_at(&self, manifest: &str, extra: &[&str]) -> Vec<u8> {
        package_crate(&self.repo.path().join(manifest), extra, self.out.path()).bytes
    }

    /// A folder outside the repository, for files that must not be in it.
    pub fn outside(&self) -> &Path {
        self.out.path()
    }

    pub fn cache(&self) -> GitCache {
        GitCache::new(self.cache.path(), FetchLimits::default(), false)
    }

    /// Checks against this repository, pinned by path.
    pub fn check(&self, name: &str, version: &str, bytes: &[u8]) -> ProvenanceReport {
        let choice = RepositoryChoice {
            pinned: Some(self.repo.path().display().to_string()),
            ..RepositoryChoice::default()
        };
        self.check_with(name, version, bytes, &choice, &UrlRewrites::default())
    }

    pub fn check_with(
        &self,
        name: &str,
        version: &str,
        bytes: &[u8],
        choice: &RepositoryChoice,
        rewrites: &UrlRewrites,
    ) -> ProvenanceReport {
        check_in(&self.cache(), name, version, bytes, choice, rewrites)
    }
}

pub(super) fn check_in(
    cache: &GitCache,
    name: &str,
    version: &str,
    bytes: &[u8],
    choice: &RepositoryChoice,
    rewrites: &UrlRewrites,
) -> ProvenanceReport {
    let archive = archive(bytes, name, version);
    let input = ProvenanceInput {
        name,
        version,
        archive: &archive,
        repositories: choice,
    };
    check_provenance(&input, cache, rewrites, &NoProgress).expect("the check runs")
}

pub(super) fn archive(bytes: &[u8], name: &str, version: &str) -> CrateArchive {
    read_crate(bytes, name, version, &Limits::default()).expect("a valid .crate")
}

/// `(path, status)` of every file, for asserting all statuses at once.
pub(super) fn statuses(report: &ProvenanceReport) -> Vec<(&str, FileStatus)> {
    report
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.status))
        .collect()
}

/// The statuses of a clean single-package release made by [`Fixture::with_crate`].
pub(super) fn clean_release() -> Vec<(&'static str, FileStatus)> {
    vec![
        (".cargo_vcs_info.json", FileStatus::Generated),
        ("Cargo.lock", FileStatus::Generated),
        ("Cargo.toml", FileStatus::Generated),
        ("Cargo.toml.orig", FileStatus::Identical),
        ("README.md", FileStatus::Identical),
        ("src/lib.rs", FileStatus::Identical),
    ]
}

/// Rebuilds a `.crate` after `edit` changes its files (keys are `name-version/path`).
pub(super) fn rebuild(bytes: &[u8], edit: impl FnOnce(&mut BTreeMap<String, Vec<u8>>)) -> Vec<u8> {
    let mut files = crate_files(bytes);
    edit(&mut files);
    build_crate(&files)
}

pub(super) fn assert_verdict(report: &ProvenanceReport, verdict: Verdict) {
    assert_eq!(
        report.verdict, verdict,
        "reason: {}\nwarnings: {:?}\nfiles: {:?}",
        report.reason, report.warnings, report.files
    );
}
