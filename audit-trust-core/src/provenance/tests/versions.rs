//! `diff NAME OLD NEW`: the change between two published versions.

use super::*;
use crate::provenance::diff_versions;
use crate::provenance::versions::{ChangeStatus, ChangeTotals, FileChange};

#[test]
fn two_releases_differ_by_their_files_and_lines() {
    let f = Fixture::with_crate("evolving", "1.0.0");
    let old = f.package();
    f.write_crate("", "evolving", "1.1.0", "");
    f.repo.write(
        "src/lib.rs",
        "//! A library.\npub fn answer() -> u32 {\n    42\n}\n\npub fn question() -> &'static str {\n    \"?\"\n}\n",
    );
    f.repo.write("src/extra.rs", "// new\n");
    f.repo.write("logo.png", [0u8, 1, 2, 3]);
    std::fs::remove_file(f.repo.path().join("README.md")).expect("rm");
    f.repo.commit_all("1.1.0");
    let new = f.package();

    let diff = diff_versions(
        "evolving",
        "1.0.0",
        &archive(&old, "evolving", "1.0.0"),
        "1.1.0",
        &archive(&new, "evolving", "1.1.0"),
    );
    let change = |path: &str, status, binary, lines_added, lines_removed| FileChange {
        path: path.into(),
        status,
        binary,
        lines_added,
        lines_removed,
    };
    let files: Vec<FileChange> = diff
        .files
        .iter()
        .filter(|f| !f.path.starts_with("Cargo.") && f.path != ".cargo_vcs_info.json")
        .cloned()
        .collect();
    assert_eq!(
        files,
        vec![
            change("README.md", ChangeStatus::Removed, false, 0, 3),
            change("logo.png", ChangeStatus::Added, true, 0, 0),
            change("src/extra.rs", ChangeStatus::Added, false, 1, 0),
            change("src/lib.rs", ChangeStatus::Modified, false, 4, 0),
        ]
    );
    // The manifests and the VCS info change with the version and the commit.
    let manifests: Vec<(&str, ChangeStatus)> = diff
        .files
        .iter()
        .filter(|f| f.path.starts_with("Cargo.") || f.path == ".cargo_vcs_info.json")
        .map(|f| (f.path.as_str(), f.status))
        .collect();
    assert_eq!(
        manifests,
        vec![
            (".cargo_vcs_info.json", ChangeStatus::Modified),
            ("Cargo.lock", ChangeStatus::Modified),
            ("Cargo.toml", ChangeStatus::Modified),
            ("Cargo.toml.orig", ChangeStatus::Modified),
        ]
    );
    let lines_added: usize = diff.files.iter().map(|f| f.lines_added).sum();
    let lines_removed: usize = diff.files.iter().map(|f| f.lines_removed).sum();
    assert_eq!(
        diff.totals,
        ChangeTotals {
            files_added: 2,
            files_removed: 1,
            files_modified: 5,
            files_unchanged: 0,
            lines_added,
            lines_removed,
        }
    );
    assert!(!diff.is_empty());
}

#[test]
fn the_same_release_twice_has_no_changes() {
    let f = Fixture::with_crate("stable", "1.0.0");
    let bytes = f.package();
    let a = archive(&bytes, "stable", "1.0.0");
    let diff = diff_versions("stable", "1.0.0", &a, "1.0.0", &a);
    assert!(diff.is_empty());
    assert_eq!(diff.totals.files_unchanged, a.files().len());
}
