//! End to end: `review` in a real terminal. The real binary runs inside tmux (send-keys,
//! capture-pane) on the standard fixture: open, go to a package, open its diff, read its code,
//! sign it off, quit — and then `check` passes for that package. Without tmux the test says it
//! was skipped.

use std::path::Path;

use audit_trust_e2e::binary_path;
use audit_trust_e2e::fixture::fixture;
use audit_trust_e2e::tmux::{Tmux, review_script, shell_quote, tmux_installed};

const TODAY: &str = "2026-11-01T12:00:00Z";

fn advisory_db(dir: &Path) {
    let folder = dir.join("crates").join("middle");
    std::fs::create_dir_all(&folder).expect("mkdir");
    std::fs::write(
        folder.join("RUSTSEC-2026-0100.md"),
        "```toml\n[advisory]\nid = \"RUSTSEC-2026-0100\"\npackage = \"middle\"\ndate = \"2026-10-01\"\n\n\
         [versions]\npatched = [\">= 0.3.0\"]\n```\n\n# middle is broken\n\nText.\n",
    )
    .expect("write advisory");
}

#[test]
fn review_in_tmux_signs_off_a_package_and_check_then_passes() {
    if !tmux_installed() {
        eprintln!("SKIPPED review_in_tmux…: tmux is not installed (apt-get install tmux)");
        return;
    }
    let f = fixture();
    let cache = tempfile::tempdir().expect("cache");
    let home = tempfile::tempdir().expect("home");
    let db = tempfile::tempdir().expect("db");
    advisory_db(db.path());
    let key = home.path().join("key");
    let key_arg = key.display().to_string();
    let env = [("HOME", home.path().to_str().expect("utf-8"))];
    let out = f.run_with_env(cache.path(), &env, &["key", "new", "--out", &key_arg]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let exemptions: String = [
        "leafy@1.0.0",
        "middle@0.2.0",
        "cc@1.0.0",
        "nativelib@0.1.0",
        "macros@0.1.0",
        "devonly@0.1.0",
    ]
    .iter()
    .map(|p| {
        format!("[[exemption]]\npackage = \"{p}\"\nreason = \"fixture\"\nexpires = 2026-12-31\n\n")
    })
    .collect();
    f.ws.write_file(
        "Cargo.audit",
        &format!(
            "[[auditor]]\nname = \"team\"\ncovers = [\"*\"]\nrecords = {{ folder = \"sign-offs\" }}\n\
             keys = [{{ key = \"{public}\" }}]\n\n{exemptions}\
             [[ignore-advisory]]\nid = \"RUSTSEC-2026-0100\"\nreason = \"r\"\nexpires = 2026-12-31\n"
        ),
    );
    let lockfile = f.lockfile_arg();
    let dbs = db.path().display().to_string();
    let check = || {
        let out = f.run(
            cache.path(),
            &[
                "check",
                "--lockfile",
                &lockfile,
                "--advisory-db",
                &dbs,
                "--now",
                TODAY,
                "--format",
                "json",
            ],
        );
        let report: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("check --format json");
        let leafy = report["packages"]
            .as_array()
            .and_then(|p| {
                p.iter()
                    .find(|p| p["name"] == "leafy" && p["version"] == "2.0.0")
            })
            .map(|p| p["status"].clone());
        (out.status.code(), leafy)
    };
    assert_eq!(check(), (Some(1), Some("unaudited".into())));

    // A clean environment for the terminal: the registry's CARGO_HOME, the temporary HOME.
    let script = home.path().join("review.sh");
    let command = [
        binary_path("cargo-audit-trust").display().to_string(),
        "--cache-dir".into(),
        cache.path().display().to_string(),
        "review".into(),
        "--lockfile".into(),
        lockfile.clone(),
        "--advisory-db".into(),
        dbs.clone(),
        "--now".into(),
        TODAY.into(),
        "--key".into(),
        key_arg.clone(),
        "--quiet".into(),
    ]
    .iter()
    .map(|a| shell_quote(a))
    .collect::<Vec<_>>()
    .join(" ");
    review_script(
        &script,
        f.ws.path(),
        home.path(),
        f.reg.cargo_home(),
        &command,
    );
    let tmux = Tmux::start("review", &script, 80, 24);

    // Open: the queue, with the one blocked package first.
    let screen = tmux.wait_for("1 blocked");
    assert!(screen.contains("!leafy 2.0.0"), "{screen}");
    // Go to the package by searching for it.
    tmux.keys(&["/", "leafy", "Enter"]);
    let screen = tmux.wait_for("/leafy");
    assert!(screen.contains(">!leafy 2.0.0"), "{screen}");
    // Its diff against git (the fixture's crates name no repository: unverifiable, files listed).
    tmux.keys(&["d"]);
    let screen = tmux.wait_for("Files (");
    assert!(screen.contains("src/lib.rs"), "{screen}");
    // Its code, read file by file: the tree, line numbers, the viewed marks.
    tmux.keys(&["c"]);
    let screen = tmux.wait_for("Files (read 1/4)");
    assert!(screen.contains("leafy 2.0.0: src/lib.rs"), "{screen}");
    assert!(screen.contains(">[x]   lib.rs"), "{screen}");
    assert!(screen.contains("│1 "), "line numbers:\n{screen}");
    tmux.keys(&["n", "n", "n"]);
    tmux.wait_for("Files (read 4/4)");
    // Sign it off: the form says how much was read, then the confirmation, the result.
    tmux.keys(&["s"]);
    let screen = tmux.wait_for("what did you check?");
    assert!(screen.contains("read 4 of 4 files"), "{screen}");
    tmux.keys(&["Enter"]);
    tmux.wait_for("y: sign with your key");
    tmux.keys(&["y"]);
    tmux.wait_for("Signed off (reviewed) leafy@2.0.0 as auditor `team`");
    // Quit: back from the code, then out.
    // The project is re-checked in the background: nothing blocks any more.
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("0 blocked");
    assert!(!screen.contains("!leafy 2.0.0"), "{screen}");
    tmux.keys(&["q"]);
    tmux.wait_for_exit();

    assert_eq!(check(), (Some(0), Some("audited".into())));
}

#[test]
fn review_refuses_to_run_without_a_terminal_and_says_what_to_use() {
    let f = fixture();
    let cache = tempfile::tempdir().expect("cache");
    let lockfile = f.lockfile_arg();
    // The test harness captures stdout: no terminal.
    let out = f.run(cache.path(), &["review", "--lockfile", &lockfile]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("needs a terminal"), "{stderr}");
    let out = f.run(
        cache.path(),
        &["review", "--lockfile", &lockfile, "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(2));
}
