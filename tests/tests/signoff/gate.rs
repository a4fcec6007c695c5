//! `check` reads the local sign-off store: a sign-off admits a package, a flag blocks it, a
//! revocation withdraws the flag, and an altered store counts for nothing (fail closed).

use audit_trust_e2e::status_of;
use serde_json::Value;

use crate::world::{World, path_arg, world};

pub fn advisory_db(w: &World) -> String {
    let dir = w.home.path().join("advisory-db/crates/unrelated");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join("RUSTSEC-2025-0001.md"),
        "```toml\n[advisory]\nid = \"RUSTSEC-2025-0001\"\npackage = \"unrelated\"\ndate = \"2025-05-01\"\n\n\
         [versions]\npatched = [\">= 1.0.0\"]\n```\n\n# Unrelated\n\nText.\n",
    )
    .expect("write advisory");
    w.home.path().join("advisory-db").display().to_string()
}

/// `check --format json`: the exit code and the status of leafy@1.0.1.
fn check(w: &World, db: &str) -> (Option<i32>, String, Value) {
    let (code, report) = w.check_json(&["--advisory-db", db]);
    (code, status_of(&report, "leafy"), report)
}

#[test]
fn check_counts_verified_sign_offs_and_flags_from_the_local_store() {
    let w = world();
    let (key, public) = w.new_key("team.key");
    w.write_audit_file(&format!("{{ key = \"{public}\" }}"));
    let key = path_arg(&key);
    let db = advisory_db(&w);

    let (code, status, _) = check(&w, &db);
    assert_eq!((code, status.as_str()), (Some(1), "unaudited"));

    w.ok(&[
        "sign",
        "leafy",
        "1.0.1",
        "--criteria",
        "reviewed",
        "--key",
        key,
    ]);
    let (code, status, report) = check(&w, &db);
    assert_eq!((code, status.as_str()), (Some(0), "audited"), "{report}");

    let out = w.ok(&[
        "sign",
        "leafy",
        "1.0.1",
        "--flag",
        "steals tokens",
        "--key",
        key,
        "--format",
        "json",
    ]);
    let flag_id = serde_json::from_str::<Value>(&out).expect("JSON")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (code, status, _) = check(&w, &db);
    assert_eq!((code, status.as_str()), (Some(1), "flagged"));

    w.ok(&["revoke", &flag_id, "--reason", "false alarm", "--key", key]);
    let (code, status, _) = check(&w, &db);
    assert_eq!((code, status.as_str()), (Some(0), "audited"));

    // A record of the team's that does not verify, among records it does: ignored, and the
    // report says why.
    let other = w.store().join("crates/other.jsonl");
    let text = std::fs::read_to_string(file_of(&w, "leafy")).expect("read");
    let forged = text
        .lines()
        .next()
        .expect("a record")
        .replace("\"leafy\"", "\"other\"");
    std::fs::write(&other, format!("{forged}\n")).expect("write");
    // And a flag that does not verify, added to leafy's file: the report calls it out.
    let flag_line = text
        .lines()
        .find(|l| l.contains("steals tokens"))
        .expect("the flag")
        .replace("steals tokens", "steals tokens and keys");
    let leafy_file = file_of(&w, "leafy");
    std::fs::write(&leafy_file, format!("{text}{flag_line}\n")).expect("write");
    let (code, status, report) = check(&w, &db);
    assert_eq!((code, status.as_str()), (Some(0), "audited"), "{report}");
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("ignored a record of auditor") && notes.contains("for other"),
        "{notes}"
    );
    assert!(
        notes.contains("for leafy@1.0.1: POSSIBLE WITHHELD FLAG"),
        "{notes}"
    );
    std::fs::remove_file(&other).expect("remove");
    std::fs::write(&leafy_file, &text).expect("restore");

    // An edited store (the revocation's reason changed) cannot be verified as a whole: it may
    // hide a flag, so the gate stops instead of deciding.
    let file = file_of(&w, "leafy");
    let text = std::fs::read_to_string(&file).expect("read");
    std::fs::write(&file, text.replace("false alarm", "false alarm!")).expect("write");
    let out = w
        .cmd()
        .args(["check", "--format", "json", "--advisory-db", &db])
        .output()
        .expect("run check");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "no report from a gate that cannot decide"
    );
    assert!(
        stderr.contains("auditor `team`") && stderr.contains("[records-do-not-match-head]"),
        "{stderr}"
    );
}

fn file_of(w: &World, name: &str) -> std::path::PathBuf {
    w.store().join(format!("crates/{name}.jsonl"))
}
