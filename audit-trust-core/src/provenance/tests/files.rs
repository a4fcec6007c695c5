//! What each published file is compared with, and the status it gets.

use super::*;
use crate::provenance::{CommitSource, FolderSource, RepositorySource};

#[test]
fn a_clean_release_matches() {
    let f = Fixture::with_crate("clean", "1.0.0");
    let report = f.check("clean", "1.0.0", &f.package());
    assert_verdict(&report, Verdict::Matches);
    assert_eq!(statuses(&report), clean_release());
    assert_eq!(report.commit.as_deref(), Some(f.repo.head().as_str()));
    assert_eq!(report.commit_source, Some(CommitSource::VcsInfo));
    assert_eq!(report.reference.as_deref(), Some("refs/heads/main"));
    assert_eq!(report.repository_source, Some(RepositorySource::Pinned));
    assert_eq!(report.path_in_vcs.as_deref(), Some(""));
    assert_eq!(report.package_folder_source, Some(FolderSource::PathInVcs));
    assert!(!report.dirty && !report.tag_commit_mismatch);
    assert_eq!(report.tag, None);
    assert_eq!(report.only_in_repository, 0);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert!(
        report.reason.starts_with("all 6 files match commit"),
        "{}",
        report.reason
    );
}

#[test]
fn a_file_added_to_the_tarball_is_only_in_tarball() {
    let f = Fixture::with_crate("added", "1.0.0");
    let bytes = rebuild(&f.package(), |files| {
        files.insert(
            "added-1.0.0/src/backdoor.rs".into(),
            b"pub fn x() {}\n".to_vec(),
        );
    });
    let report = f.check("added", "1.0.0", &bytes);
    assert_verdict(&report, Verdict::Differs);
    let mut expected = clean_release();
    expected.push(("src/backdoor.rs", FileStatus::OnlyInTarball));
    expected.sort();
    assert_eq!(statuses(&report), expected);
    assert!(
        report.reason.contains("src/backdoor.rs (only_in_tarball)"),
        "{}",
        report.reason
    );
}

#[test]
fn a_changed_file_is_modified_and_keeps_the_repository_bytes() {
    let f = Fixture::with_crate("changed", "1.0.0");
    let bytes = rebuild(&f.package(), |files| {
        files.insert(
            "changed-1.0.0/src/lib.rs".into(),
            b"pub fn answer() -> u32 {\n    std::process::abort()\n}\n".to_vec(),
        );
    });
    let report = f.check("changed", "1.0.0", &bytes);
    assert_verdict(&report, Verdict::Differs);
    let expected: Vec<_> = clean_release()
        .into_iter()
        .map(|(p, s)| {
            (
                p,
                if p == "src/lib.rs" {
                    FileStatus::Modified
                } else {
                    s
                },
            )
        })
        .collect();
    assert_eq!(statuses(&report), expected);
    let lib = report
        .files
        .iter()
        .find(|f| f.path == "src/lib.rs")
        .expect("listed");
    assert_eq!(
        lib.repository_contents.as_deref(),
        Some(&f.repo.read("src/lib.rs")[..])
    );
}

#[test]
fn a_file_converted_to_crlf_is_line_endings_and_differs() {
    let f = Fixture::with_crate("crlf", "1.0.0");
    let crlf = String::from_utf8(f.repo.read("src/lib.rs"))
        .expect("utf-8")
        .replace('\n', "\r\n");
    let bytes = rebuild(&f.package(), |files| {
        files.insert("crlf-1.0.0/src/lib.rs".into(), crlf.into_bytes());
    });
    let report = f.check("crlf", "1.0.0", &bytes);
    assert_verdict(&report, Verdict::Differs);
    let expected: Vec<_> = clean_release()
        .into_iter()
        .map(|(p, s)| {
            (
                p,
                if p == "src/lib.rs" {
                    FileStatus::LineEndings
                } else {
                    s
                },
            )
        })
        .collect();
    assert_eq!(statuses(&report), expected);
    // The headline tells the truth: the text matches, only the line endings do not.
    assert!(report.line_endings_only());
    assert!(
        report.reason.starts_with("line endings only: 1 of "),
        "{}",
        report.reason
    );
}

#[test]
fn a_build_script_added_to_the_normalized_manifest_is_a_manifest_mismatch() {
    let f = Fixture::empty();
    f.write_crate("", "sneaky", "1.0.0", "");
    // A file that is published anyway, so the only change is the manifest naming it.
    f.repo.write("tools/gen.rs", "fn main() {}\n");
    f.repo.commit_all("release");
    let bytes = rebuild(&f.package(), |files| {
        let manifest = files
            .get_mut("sneaky-1.0.0/Cargo.toml")
            .expect("Cargo.toml");
        let text = String::from_utf8(manifest.clone()).expect("utf-8");
        assert!(text.contains("build = false"), "{text}");
        *manifest = text
            .replace("build = false", "build = \"tools/gen.rs\"")
            .into_bytes();
    });
    let report = f.check("sneaky", "1.0.0", &bytes);
    assert_verdict(&report, Verdict::Differs);
    let mut expected = clean_release();
    expected[2].1 = FileStatus::ManifestMismatch;
    expected.push(("tools/gen.rs", FileStatus::Identical));
    assert_eq!(statuses(&report), expected);
    let note = report.files[2].note.as_deref().unwrap_or_default();
    assert!(
        note.contains("build script") && note.contains("tools/gen.rs"),
        "{note}"
    );
}

#[test]
fn a_workspace_member_is_found_through_path_in_vcs() {
    let f = Fixture::empty();
    f.repo.write(
        "Cargo.toml",
        "[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n\n\
         [workspace.package]\nversion = \"0.4.0\"\nedition = \"2021\"\n",
    );
    f.write_crate("crates/member", "member", "0.4.0", "");
    f.write_crate("crates/other", "other", "0.1.0", "");
    f.repo.commit_all("workspace");
    let report = f.check(
        "member",
        "0.4.0",
        &f.package_at("crates/member/Cargo.toml", &[]),
    );
    assert_verdict(&report, Verdict::Matches);
    assert_eq!(statuses(&report), clean_release());
    assert_eq!(report.path_in_vcs.as_deref(), Some("crates/member"));
    assert_eq!(report.package_folder.as_deref(), Some("crates/member"));
    assert_eq!(report.package_folder_source, Some(FolderSource::PathInVcs));
    let orig = &report.files[3];
    assert_eq!(
        orig.repository_path.as_deref(),
        Some("crates/member/Cargo.toml")
    );
}

#[test]
fn a_readme_that_is_a_symlink_in_git_counts_as_its_target() {
    let f = Fixture::empty();
    f.write_crate("", "linked", "1.0.0", "readme = \"README.md\"\n");
    f.repo.write("docs/intro.md", "# Linked\n");
    f.repo.symlink("README.md", "docs/intro.md");
    f.repo.commit_all("release");
    let report = f.check("linked", "1.0.0", &f.package());
    assert_verdict(&report, Verdict::Matches);
    let mut expected = clean_release();
    expected.push(("docs/intro.md", FileStatus::Identical));
    expected.sort();
    assert_eq!(statuses(&report), expected);
    let readme = report
        .files
        .iter()
        .find(|f| f.path == "README.md")
        .expect("listed");
    assert_eq!(readme.repository_path.as_deref(), Some("docs/intro.md"));
}

#[test]
fn a_symlink_pointing_outside_the_repository_is_never_followed() {
    let f = Fixture::empty();
    f.write_crate("", "escape", "1.0.0", "");
    let outside = f.outside().join("secret.txt");
    std::fs::write(&outside, "not in the repository\n").expect("write");
    f.repo.symlink("secret.txt", &outside.display().to_string());
    f.repo.commit_all("release");
    let report = f.check("escape", "1.0.0", &f.package());
    assert_verdict(&report, Verdict::Differs);
    let mut expected = clean_release();
    expected.push(("secret.txt", FileStatus::OnlyInTarball));
    expected.sort();
    assert_eq!(statuses(&report), expected);
    let secret = report
        .files
        .iter()
        .find(|f| f.path == "secret.txt")
        .expect("listed");
    let note = secret.note.as_deref().unwrap_or_default();
    assert!(note.contains("outside the repository"), "{note}");
}

#[test]
fn a_readme_and_license_from_the_workspace_root_count_as_those_files() {
    let f = Fixture::empty();
    f.repo.write(
        "Cargo.toml",
        "[workspace]\nmembers = [\"crates/m\"]\nresolver = \"2\"\n\n\
         [workspace.package]\nreadme = \"README.md\"\n",
    );
    f.repo.write("README.md", "# The project\n");
    f.repo
        .write("LICENSE-MIT", "Permission is hereby granted\n");
    f.write_crate(
        "crates/m",
        "m",
        "2.0.0",
        "readme.workspace = true\nlicense-file = \"../../LICENSE-MIT\"\n",
    );
    f.repo.commit_all("release");
    let report = f.check("m", "2.0.0", &f.package_at("crates/m/Cargo.toml", &[]));
    assert_verdict(&report, Verdict::Matches);
    let mut expected = clean_release();
    expected.push(("LICENSE-MIT", FileStatus::Identical));
    expected.sort();
    assert_eq!(statuses(&report), expected);
    let path_of = |p: &str| {
        report
            .files
            .iter()
            .find(|f| f.path == p)
            .and_then(|f| f.repository_path.clone())
    };
    assert_eq!(path_of("README.md").as_deref(), Some("README.md"));
    assert_eq!(path_of("LICENSE-MIT").as_deref(), Some("LICENSE-MIT"));
}

#[test]
fn a_dirty_publish_that_matches_is_matches_with_a_warning() {
    let f = Fixture::with_crate("dirty", "1.0.0");
    // A mode change makes the checkout dirty for cargo while every byte stays the same.
    let lib = f.repo.path().join("src/lib.rs");
    let mut permissions = std::fs::metadata(&lib).expect("stat").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&lib, permissions).expect("chmod");
    let report = f.check(
        "dirty",
        "1.0.0",
        &f.package_at("Cargo.toml", &["--allow-dirty"]),
    );
    assert_verdict(&report, Verdict::Matches);
    assert!(report.dirty);
    assert_eq!(statuses(&report), clean_release());
    assert!(
        report.warnings.iter().any(|w| w.contains("--allow-dirty")),
        "{:?}",
        report.warnings
    );
}

#[test]
fn a_dirty_publish_with_uncommitted_changes_differs() {
    let f = Fixture::with_crate("dirtier", "1.0.0");
    f.repo
        .write("src/lib.rs", "pub fn answer() -> u32 {\n    41\n}\n");
    let report = f.check(
        "dirtier",
        "1.0.0",
        &f.package_at("Cargo.toml", &["--allow-dirty"]),
    );
    assert_verdict(&report, Verdict::Differs);
    assert!(report.dirty);
    let expected: Vec<_> = clean_release()
        .into_iter()
        .map(|(p, s)| {
            (
                p,
                if p == "src/lib.rs" {
                    FileStatus::Modified
                } else {
                    s
                },
            )
        })
        .collect();
    assert_eq!(statuses(&report), expected);
}

#[test]
fn binary_and_non_utf8_content_is_compared_without_trouble() {
    let f = Fixture::empty();
    f.write_crate("", "blobby", "1.0.0", "");
    f.repo.write("data/table.bin", [0u8, 159, 146, 150, 0, 1]);
    f.repo.write("data/latin1.txt", b"caf\xe9\n");
    f.repo.commit_all("release");
    let bytes = rebuild(&f.package(), |files| {
        files.insert("blobby-1.0.0/data/table.bin".into(), vec![0, 1, 2, 3]);
    });
    let report = f.check("blobby", "1.0.0", &bytes);
    assert_verdict(&report, Verdict::Differs);
    let mut expected = clean_release();
    expected.push(("data/latin1.txt", FileStatus::Identical));
    expected.push(("data/table.bin", FileStatus::Modified));
    expected.sort();
    assert_eq!(statuses(&report), expected);
}

#[test]
fn files_only_in_the_repository_are_counted() {
    let f = Fixture::empty();
    f.write_crate("", "partial", "1.0.0", "exclude = [\"notes/*\"]\n");
    f.repo.write("notes/a.md", "a\n");
    f.repo.write("notes/b.md", "b\n");
    f.repo.commit_all("release");
    let report = f.check("partial", "1.0.0", &f.package());
    assert_verdict(&report, Verdict::Matches);
    assert_eq!(statuses(&report), clean_release());
    assert_eq!(report.only_in_repository, 2);
}

#[test]
fn a_license_file_outside_the_repository_is_never_followed() {
    let f = Fixture::empty();
    // Beside the repository's folder, so `../NAME` from the root climbs out of the repository.
    let parent = f.repo.path().parent().expect("a parent folder");
    let name = format!(
        "audit-trust-outside-{}-{}.txt",
        std::process::id(),
        f.repo
            .path()
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("x")
    );
    let outside = parent.join(&name);
    std::fs::write(&outside, "a license nobody committed\n").expect("write");
    f.write_crate(
        "",
        "climber",
        "1.0.0",
        &format!("license-file = \"../{name}\"\n"),
    );
    f.repo.commit_all("release");
    let bytes = f.package();
    std::fs::remove_file(&outside).expect("clean up");

    let report = f.check("climber", "1.0.0", &bytes);
    assert_verdict(&report, Verdict::Differs);
    let mut expected = clean_release();
    expected.push((name.as_str(), FileStatus::OnlyInTarball));
    expected.sort();
    assert_eq!(statuses(&report), expected);
    let license = report
        .files
        .iter()
        .find(|f| f.path == name)
        .expect("listed");
    let note = license.note.as_deref().unwrap_or_default();
    assert!(note.contains("points outside the repository"), "{note}");
}

/// `cargo package` writes Cargo.lock from the package's own resolve: a workspace root's
/// lockfile comes out pruned (clap 4.6.5 and rand 0.10.0 on crates.io), never copied. The
/// repository's lockfile is compared for `identical`, and any other is `generated`.
#[test]
fn a_cargo_lock_that_cargo_rewrote_is_generated() {
    let f = Fixture::with_crate("locked", "1.0.0");
    let packaged = f.package();
    let lock = crate_files(&packaged)
        .remove("locked-1.0.0/Cargo.lock")
        .expect("cargo package writes a Cargo.lock");
    f.repo.write("Cargo.lock", &lock);
    f.repo.commit_all("commit the lockfile");
    let same = f.package();
    let report = f.check("locked", "1.0.0", &same);
    assert_verdict(&report, Verdict::Matches);
    let mut expected = clean_release();
    expected[1] = ("Cargo.lock", FileStatus::Identical);
    assert_eq!(statuses(&report), expected);

    // The workspace's lockfile in the repository has more packages than the published one.
    let mut workspace_lock = String::from_utf8_lossy(&lock).into_owned();
    workspace_lock.push_str("\n[[package]]\nname = \"sibling\"\nversion = \"0.1.0\"\n");
    f.repo.write("Cargo.lock", workspace_lock);
    let commit = f.repo.commit_all("a workspace sibling in the lockfile");
    let bytes = rebuild(&same, |files| {
        let info = format!(
            "{{\n  \"git\": {{\n    \"sha1\": \"{commit}\"\n  }},\n  \"path_in_vcs\": \"\"\n}}"
        );
        files.insert(
            "locked-1.0.0/.cargo_vcs_info.json".into(),
            info.into_bytes(),
        );
    });
    let report = f.check("locked", "1.0.0", &bytes);
    assert_verdict(&report, Verdict::Matches);
    assert_eq!(statuses(&report), clean_release());
    let note = report.files[1].note.as_deref().unwrap_or_default();
    assert!(note.contains("from the package's own resolve"), "{note}");
}
