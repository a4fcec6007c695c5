//! End to end: every command finds the project's files the same way (docs/guide.md, "Where the
//! tool looks for your files"), so a workspace member's folder gives the results of the root.

use std::path::Path;

use audit_trust_e2e::fixture::{Fixture, fixture, package};
use serde_json::Value;

fn json_in(f: &Fixture, cwd: &Path, cache: &Path, args: &[&str]) -> Value {
    let out = f.run_in(cwd, cache, &[], args);
    assert!(
        out.status.success(),
        "{args:?} in {}: {}",
        cwd.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

#[test]
fn a_member_folder_sees_the_workspace_lockfile_and_audit_file() {
    let f = fixture();
    let cache = tempfile::tempdir().expect("cache dir");
    // The audit file at the root sets the micro threshold: a member folder must read it too.
    f.ws.write_file("Cargo.audit", "[policy]\nmicro-lines = 4\n");
    let root = f.ws.path();
    let from_root = json_in(&f, root, cache.path(), &["list", "--format", "json"]);
    assert_eq!(package(&from_root, "leafy", "1.0.0")["micro"], false);
    for member in ["app", "app/src", "helper"] {
        let cwd = root.join(member);
        let list = json_in(&f, &cwd, cache.path(), &["list", "--format", "json"]);
        assert_eq!(list, from_root, "list in {member}");
        let stats = json_in(&f, &cwd, cache.path(), &["stats", "--format", "json"]);
        assert_eq!(stats["micro_lines"], 4, "stats in {member}: {stats}");
        assert_eq!(stats["packages"], 9, "stats in {member}");
    }
    // `diff` takes the version from the workspace's lockfile in a member folder too: the same
    // answer, whatever it is (offline, the crate may be missing from every cache).
    let diff = |cwd: &Path| {
        let out = f.run_in(
            cwd,
            cache.path(),
            &[],
            &["diff", "middle", "--format", "json", "--offline"],
        );
        (
            out.status.code(),
            out.stdout,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stdout, stderr) = diff(&root.join("app"));
    assert!(!stderr.contains("no Cargo.lock found"), "{stderr}");
    assert_eq!((code, stdout, stderr), diff(root));
}

#[test]
fn a_lockfile_alone_finds_the_audit_file_next_to_it() {
    let f = fixture();
    let cache = tempfile::tempdir().expect("cache dir");
    f.ws.write_file("Cargo.audit", "[policy]\nmicro-lines = 4\n");
    let elsewhere = tempfile::tempdir().expect("another folder");
    let stats = json_in(
        &f,
        elsewhere.path(),
        cache.path(),
        &["stats", "--format", "json", "--lockfile", &f.lockfile_arg()],
    );
    assert_eq!(stats["micro_lines"], 4, "{stats}");
    assert_eq!(stats["mode"], "lockfile");
}
