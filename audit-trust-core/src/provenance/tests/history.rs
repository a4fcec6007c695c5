//! Which commit is used, and whether the repository's branches and tags contain it.

use super::*;
use crate::provenance::{CommitSource, FolderSource};

#[test]
fn a_release_from_a_side_branch_is_found_on_that_branch() {
    let f = Fixture::with_crate("side", "1.0.0");
    f.repo.checkout("release-1.x", true);
    f.repo
        .write("src/lib.rs", "pub fn answer() -> u32 {\n    43\n}\n");
    let release = f.repo.commit_all("fix on the release branch");
    let bytes = f.package();
    f.repo.checkout("main", false);
    f.repo.write("src/other.rs", "// main moves on\n");
    f.repo.commit_all("main moves on");

    let report = f.check("side", "1.0.0", &bytes);
    assert_verdict(&report, Verdict::Matches);
    assert_eq!(statuses(&report), clean_release());
    assert_eq!(report.commit.as_deref(), Some(release.as_str()));
    assert_eq!(report.reference.as_deref(), Some("refs/heads/release-1.x"));
}

#[test]
fn a_commit_only_on_a_pull_request_ref_is_unverifiable() {
    let f = Fixture::with_crate("forked", "1.0.0");
    f.repo.checkout("contributor", true);
    f.repo
        .write("src/lib.rs", "pub fn answer() -> u32 {\n    666\n}\n");
    let fork_commit = f.repo.commit_all("from a fork");
    let bytes = f.package();
    // What a forge does with a pull request: the commit is served under refs/pull/*, on no
    // branch or tag of the repository.
    f.repo
        .git(&["update-ref", "refs/pull/1/head", &fork_commit]);
    f.repo.checkout("main", false);
    f.repo.git(&["branch", "--quiet", "-D", "contributor"]);

    let report = f.check("forked", "1.0.0", &bytes);
    assert_verdict(&report, Verdict::Unverifiable);
    assert!(report.files.is_empty());
    assert_eq!(report.commit.as_deref(), Some(fork_commit.as_str()));
    assert_eq!(report.reference, None);
    assert!(
        report.reason.contains("is not on any branch or tag")
            && report.reason.contains("refs/pull/1/head"),
        "{}",
        report.reason
    );
}

#[test]
fn a_moved_tag_is_reported_and_the_recorded_commit_is_used() {
    let f = Fixture::with_crate("moved", "1.0.0");
    let released = f.repo.head();
    f.repo.annotated_tag("v1.0.0", &released);
    let bytes = f.package();
    f.repo
        .write("src/lib.rs", "pub fn answer() -> u32 {\n    0\n}\n");
    let later = f.repo.commit_all("later");
    f.repo.annotated_tag("v1.0.0", &later);

    let report = f.check("moved", "1.0.0", &bytes);
    assert_verdict(&report, Verdict::Matches);
    assert_eq!(statuses(&report), clean_release());
    assert_eq!(report.commit.as_deref(), Some(released.as_str()));
    assert_eq!(report.commit_source, Some(CommitSource::VcsInfo));
    assert_eq!(report.tag.as_deref(), Some("v1.0.0"));
    assert!(report.tag_commit_mismatch);
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("tag v1.0.0 points to commit")),
        "{:?}",
        report.warnings
    );
}

#[test]
fn a_tag_that_agrees_is_reported_without_warning() {
    let f = Fixture::with_crate("tagged", "0.2.0");
    f.repo.tag("tagged-v0.2.0", &f.repo.head());
    let report = f.check("tagged", "0.2.0", &f.package());
    assert_verdict(&report, Verdict::Matches);
    assert_eq!(report.tag.as_deref(), Some("tagged-v0.2.0"));
    assert!(!report.tag_commit_mismatch);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
}

/// Packages the repository's `HEAD` from an export that is not a git checkout, so cargo
/// records no VCS info (as for crates published from a tarball or before cargo recorded it).
fn package_without_vcs_info(f: &Fixture, folder: &str) -> Vec<u8> {
    let export = f.outside().join("export");
    let archive = f.outside().join("export.tar");
    f.repo.git(&[
        "archive",
        "--format=tar",
        "-o",
        &archive.display().to_string(),
        "HEAD",
    ]);
    std::fs::create_dir_all(&export).expect("mkdir");
    audit_trust_e2e::run_checked(
        std::process::Command::new("tar")
            .arg("-xf")
            .arg(&archive)
            .arg("-C")
            .arg(&export),
    );
    let manifest = export.join(folder).join("Cargo.toml");
    audit_trust_e2e::package_crate(&manifest, &[], &f.outside().join("out")).bytes
}

#[test]
fn without_vcs_info_the_version_tag_is_used_and_the_folder_searched() {
    let f = Fixture::empty();
    f.repo.write(
        "Cargo.toml",
        "[workspace]\nmembers = [\"lib\"]\nresolver = \"2\"\n",
    );
    f.write_crate("lib", "untracked", "3.1.4", "");
    let release = f.repo.commit_all("release");
    f.repo.tag("untracked@3.1.4", &release);
    let bytes = package_without_vcs_info(&f, "lib");
    f.repo
        .write("lib/src/lib.rs", "pub fn answer() -> u32 {\n    7\n}\n");
    f.repo.commit_all("later work");

    let report = f.check("untracked", "3.1.4", &bytes);
    assert_verdict(&report, Verdict::Matches);
    let expected: Vec<_> = clean_release()
        .into_iter()
        .filter(|(p, _)| *p != ".cargo_vcs_info.json")
        .collect();
    assert_eq!(statuses(&report), expected);
    assert_eq!(report.commit.as_deref(), Some(release.as_str()));
    assert_eq!(report.commit_source, Some(CommitSource::Tag));
    assert_eq!(report.tag.as_deref(), Some("untracked@3.1.4"));
    assert_eq!(
        report.reference.as_deref(),
        Some("refs/tags/untracked@3.1.4")
    );
    assert_eq!(report.path_in_vcs, None);
    assert_eq!(report.package_folder.as_deref(), Some("lib"));
    assert_eq!(
        report.package_folder_source,
        Some(FolderSource::ManifestSearch)
    );
}

#[test]
fn without_vcs_info_and_without_a_tag_it_is_unverifiable() {
    let f = Fixture::with_crate("lost", "1.0.0");
    let bytes = package_without_vcs_info(&f, "");
    let report = f.check("lost", "1.0.0", &bytes);
    assert_verdict(&report, Verdict::Unverifiable);
    assert!(report.files.is_empty());
    assert_eq!(report.commit, None);
    assert!(
        report.reason.contains("no .cargo_vcs_info.json")
            && report.reason.contains("v1.0.0, 1.0.0, lost-v1.0.0"),
        "{}",
        report.reason
    );
}
