//! End to end: the review ranked by risk, in a real terminal (tmux), on the arrayref hijack
//! replayed on a loopback registry (the world of `tests/risk.rs`, from `audit_trust_e2e::hijack`).
//! After the lure (`cargo update -p arrayref --precise 0.3.10`) the queue lists the denied
//! packages first, the details pane shows their signals with the evidence and the repository's
//! tag page, and the diff of the look-alike opens on its build script. Without tmux the test
//! says it was skipped.

use audit_trust_e2e::binary_path;
use audit_trust_e2e::hijack::{
    ARRAYREF_REPOSITORY, HIJACK_NOW, Hijack, hijack, hijack_audit_file, lure,
};
use audit_trust_e2e::tmux::{Tmux, review_script, shell_quote, tmux_installed};

/// A public key nobody holds: the review only reads, nothing is signed here.
const KEY: &str = "ed25519:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// The rows of the queue pane (left of the first `││`), in screen order.
fn queue_rows(screen: &str) -> Vec<String> {
    screen
        .lines()
        .filter_map(|l| l.split("││").next())
        .map(|l| l.trim_start_matches('│').trim_end().to_owned())
        .collect()
}

#[test]
fn review_lists_the_hijacked_release_first_with_its_signals_and_opens_on_the_build_script() {
    if !tmux_installed() {
        eprintln!(
            "SKIPPED review_lists_the_hijacked…: tmux is not installed (apt-get install tmux)"
        );
        return;
    }
    let Hijack { reg, ws } = hijack();
    lure(&reg, &ws);
    ws.write_file("Cargo.audit", &hijack_audit_file(KEY));
    let cache = tempfile::tempdir().expect("cache");
    let home = tempfile::tempdir().expect("home");
    let db = tempfile::tempdir().expect("db");
    std::fs::create_dir_all(db.path().join("crates")).expect("empty advisory db");

    let command = [
        binary_path("cargo-audit-trust").display().to_string(),
        "--cache-dir".into(),
        cache.path().display().to_string(),
        "review".into(),
        "--lockfile".into(),
        ws.lockfile_path().display().to_string(),
        "--advisory-db".into(),
        db.path().display().to_string(),
        "--now".into(),
        HIJACK_NOW.into(),
        "--quiet".into(),
    ]
    .iter()
    .map(|a| shell_quote(a))
    .collect::<Vec<_>>()
    .join(" ");
    let script = home.path().join("review.sh");
    review_script(&script, ws.path(), home.path(), reg.cargo_home(), &command);
    let tmux = Tmux::start("review-risk", &script, 120, 45);

    // The queue: the denied group first, the look-alike (the smaller of the two) selected.
    let screen = tmux.wait_for("== risk: deny");
    let rows = queue_rows(&screen);
    let first_group = rows.iter().position(|r| r.starts_with("== risk:"));
    assert_eq!(
        first_group.and_then(|i| rows.get(i)).map(String::as_str),
        Some("== risk: deny"),
        "{screen}"
    );
    let position = |row: &str| rows.iter().position(|r| r.starts_with(row));
    let squat = position(">!proc-macro1 0.1.0");
    let release = position(" !arrayref 0.3.10");
    let quiet = rows
        .iter()
        .position(|r| r.starts_with("== risk:") && r != "== risk: deny");
    assert!(
        squat.is_some() && release.is_some() && squat < release && release < quiet,
        "the two denied packages first:\n{screen}"
    );
    // Its signals, with the evidence: the real spawn at its line, not the comment or string.
    assert!(screen.contains("signals (deny):"), "{screen}");
    assert!(
        screen.contains("DENY build-script-spawns (high)"),
        "{screen}"
    );
    assert!(
        screen.contains("proc-macro1@0.1.0 build.rs:8: Command::new"),
        "{screen}"
    );
    assert!(!screen.contains("build.rs:4"), "{screen}");
    assert!(
        screen.contains("link: none (the manifest names no repository)"),
        "{screen}"
    );

    // Its diff opens on the build script (no repository: every file is shown whole).
    tmux.keys(&["d"]);
    let screen = tmux.wait_for("=== build.rs");
    assert!(screen.contains(">*read build.rs"), "{screen}");
    assert!(screen.contains("Command::new(\"sh\")"), "{screen}");

    // The release: the look-alike dependency and the crate it resembles, and where to read it.
    tmux.keys(&["q"]);
    tmux.wait_for("signals (deny):");
    tmux.keys(&["j"]);
    let screen = tmux.wait_for(">!arrayref 0.3.10");
    assert!(screen.contains("DENY typosquat (high)"), "{screen}");
    assert!(
        screen.contains("arrayref@0.3.10: proc-macro1, proc-macro2"),
        "{screen}"
    );
    // On a line of its own, so it can be copied.
    let tag_page = format!("││tag page: {ARRAYREF_REPOSITORY}/releases/tag/v0.3.10 ");
    assert!(screen.contains(&tag_page), "{screen}");
    assert!(
        screen.contains("(no commit recorded: the tag v0.3.10 is assumed)"),
        "{screen}"
    );

    tmux.keys(&["q"]);
    tmux.wait_for_exit();
}
