//! A git dependency has no crate file: `sign` binds the record to the repository and the full
//! commit id the lockfile pins, and `check` counts it for exactly that commit.

use audit_trust_e2e::{GitRepo, status_of};
use serde_json::Value;

use crate::gate::advisory_db;
use crate::world::{path_arg, world};

#[test]
fn a_git_dependency_is_signed_by_commit_and_counts_for_that_commit_only() {
    let repo = GitRepo::init();
    repo.write(
        "Cargo.toml",
        "[package]\nname = \"gitdep\"\nversion = \"0.3.0\"\nedition = \"2021\"\n",
    );
    repo.write("src/lib.rs", "pub fn answer() -> u8 {\n    42\n}\n");
    let first = repo.commit_all("first");

    let w = world();
    w.ws.write_file(
        "Cargo.toml",
        &format!(
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [dependencies]\nleafy = \"=1.0.1\"\ngitdep = {{ git = \"{}\" }}\n",
            repo.url()
        ),
    );
    w.ws.generate_lockfile(&w.reg);
    let (key, public) = w.new_key("team.key");
    w.ws.write_file(
        "Cargo.audit",
        &format!(
            "[[auditor]]\nname = \"team\"\ncovers = [\"*\"]\n\
             records = {{ folder = \"supply-chain/sign-offs\" }}\nkeys = [{{ key = \"{public}\" }}]\n"
        ),
    );
    let key = path_arg(&key);
    let db = advisory_db(&w);
    let check = || -> (Option<i32>, Value) { w.check_json(&["--advisory-db", &db]) };
    let (_, report) = check();
    assert_eq!(status_of(&report, "gitdep"), "unaudited", "{report}");

    let refused = w.fails(&[
        "sign",
        "gitdep",
        "0.3.0",
        "--criteria",
        "source-matches",
        "--key",
        key,
    ]);
    assert!(refused.contains("git dependency"), "{refused}");
    let refused = w.fails(&[
        "sign",
        "gitdep",
        "0.3.0",
        "--criteria",
        "reviewed",
        "--delta-from",
        "0.2.0",
        "--key",
        key,
    ]);
    assert!(refused.contains("--delta-from"), "{refused}");

    let out = w.ok(&[
        "sign",
        "gitdep",
        "0.3.0",
        "--criteria",
        "reviewed",
        "--key",
        key,
        "--format",
        "json",
    ]);
    let signed: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        signed["checksum"], first,
        "the commit is what is signed: {signed}"
    );
    let stored = std::fs::read_to_string(w.store().join("crates/gitdep.jsonl")).expect("store");
    assert!(stored.contains(&first), "{stored}");
    assert!(
        stored.contains(&repo.url()),
        "the repository is in the record: {stored}"
    );

    let (_, report) = check();
    assert_eq!(status_of(&report, "gitdep"), "audited", "{report}");

    // A new commit is new code: the sign-off of the old one does not carry over.
    repo.write("src/lib.rs", "pub fn answer() -> u8 {\n    41\n}\n");
    let second = repo.commit_all("second");
    w.ws.run_cargo(&w.reg, &["update", "-p", "gitdep"]);
    assert!(w.ws.lockfile().contains(&second), "the lockfile moved");
    let (code, report) = check();
    assert_eq!(status_of(&report, "gitdep"), "unaudited", "{report}");
    assert_eq!(code, Some(1));
}
