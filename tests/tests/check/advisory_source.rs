//! The advisory database as `check` finds it: fetched with git and dated by its commit, and
//! never a pass when it cannot be read.

use super::*;

/// Commits the test's advisory database into a git repository (standing in for RustSec's).
fn advisory_git_repo(dir: &Path) {
    advisory_db(dir, "2026-10-01");
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_DATE", "2026-10-20T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-10-20T00:00:00Z")
            .status()
            .expect("git");
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "crates"]);
    git(&[
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.com",
        "commit",
        "-q",
        "-m",
        "db",
    ]);
}

#[test]
fn the_database_is_fetched_with_git_and_dated_by_its_commit() {
    let upstream = tempfile::tempdir().expect("upstream");
    advisory_git_repo(upstream.path());
    let audit = format!(
        "{}[advisories]\ngit = \"file://{}\"\n",
        exemptions("2026-12-31"),
        upstream.path().display()
    );
    let s = setup(&audit);
    let lock = s.f.lockfile_arg();
    let out = s.f.run(
        s.cache.path(),
        &[
            "check",
            "--lockfile",
            &lock,
            "--now",
            TODAY,
            "--format",
            "json",
        ],
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(out.status.code(), Some(1), "middle's advisory blocks");
    assert_eq!(
        report["advisory_db"]["date"], "2026-10-20",
        "the commit date"
    );
    assert!(
        report["advisory_db"]["commit"]
            .as_str()
            .is_some_and(|c| c.len() == 40)
    );
    assert_eq!(verdict(&report, "middle", "0.2.0")["status"], "advisory");

    // Offline, the copy fetched before is used.
    let out = s.f.run(
        s.cache.path(),
        &[
            "check",
            "--lockfile",
            &lock,
            "--now",
            TODAY,
            "--offline",
            "--format",
            "json",
        ],
    );
    let offline: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        offline["advisory_db"]["commit"],
        report["advisory_db"]["commit"]
    );
}

#[test]
fn an_unreachable_database_is_reported_and_never_a_pass() {
    let s = setup(&format!(
        "{}[advisories]\ngit = \"file:///nonexistent/advisory-db\"\n",
        exemptions("2026-12-31")
    ));
    let lock = s.f.lockfile_arg();
    let out = s.f.run(
        s.cache.path(),
        &["check", "--lockfile", &lock, "--now", TODAY],
    );
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("check incomplete: advisories were not checked"),
        "{stdout}"
    );
    assert!(stdout.contains("ADVISORIES WERE NOT CHECKED"), "{stdout}");
    assert!(
        stdout.contains("--advisory-db"),
        "says what to do: {stdout}"
    );
}
