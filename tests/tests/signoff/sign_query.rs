//! `sign` and `query`.

use serde_json::Value;

use crate::world::{NOW, path_arg, world};

#[test]
fn sign_then_query_round_trip() {
    let w = world();
    let (key, public) = w.new_key("team.key");
    w.write_audit_file(&format!("{{ key = \"{public}\" }}"));
    let key = path_arg(&key);

    let out = w.ok(&[
        "sign",
        "leafy",
        "1.0.1",
        "--criteria",
        "reviewed",
        "--notes",
        "line one\nline two \u{1b}[31mred\u{202e}",
        "--key",
        key,
    ]);
    assert!(
        out.starts_with("Signed off (reviewed) leafy@1.0.1 as auditor `team`"),
        "{out}"
    );
    assert!(
        out.contains(w.leafy_checksum()),
        "the index checksum is signed: {out}"
    );
    w.ok(&[
        "sign",
        "leafy",
        "1.0.1",
        "--criteria",
        "safe-to-deploy",
        "--delta-from",
        "1.0.0",
        "--key",
        key,
    ]);
    w.ok(&[
        "sign",
        "leafy",
        "1.0.0",
        "--flag",
        "panics on empty input",
        "--key",
        key,
    ]);
    // Not a dependency of the workspace: still signable (the index is the authority).
    w.ok(&[
        "sign",
        "other",
        "0.1.0",
        "--criteria",
        "reviewed",
        "--key",
        key,
    ]);

    let file = w.store().join("crates/leafy.jsonl");
    let lines = std::fs::read_to_string(&file).expect("store file");
    assert_eq!(lines.lines().count(), 3, "{lines}");
    assert!(w.store().join(".gitignore").is_file());

    let q = w.query(&["leafy"]);
    let records = q["records"].as_array().expect("records");
    assert_eq!(records.len(), 3, "{q}");
    assert!(q["rejected"].as_array().is_some_and(Vec::is_empty), "{q}");
    // Semver order: the flag of 1.0.0, then 1.0.1's two sign-offs in the order they were made.
    assert_eq!(records[0]["kind"], "flag");
    assert_eq!(records[0]["reason"], "panics on empty input");
    let first = &records[1];
    assert_eq!(first["auditor"], "team");
    assert_eq!(first["covers"], true);
    assert_eq!(first["kind"], "sign-off");
    assert_eq!(first["criteria"], serde_json::json!(["reviewed"]));
    assert_eq!(first["checksum"], w.leafy_checksum());
    assert_eq!(first["created"], NOW);
    assert_eq!(records[2]["delta_from"], "1.0.0");
    let only_100 = w.query(&["leafy", "1.0.0"]);
    assert_eq!(only_100["records"].as_array().map(Vec::len), Some(1));

    // Human output escapes what could drive a terminal.
    let human = w.ok(&["query", "leafy"]);
    assert!(human.starts_with("leafy: 2 sign-offs, 1 flag"), "{human}");
    assert!(
        human.contains("notes: line one\\nline two \\u{1b}[31mred\\u{202e}"),
        "{human}"
    );
    assert!(!human.contains('\u{1b}') && !human.contains('\u{202e}'));
    assert!(human.contains("FLAGGED"), "{human}");
}

#[test]
fn altered_records_and_withheld_ones_do_not_count() {
    let w = world();
    let (key, public) = w.new_key("team.key");
    w.write_audit_file(&format!("{{ key = \"{public}\" }}"));
    let key = path_arg(&key);
    w.ok(&[
        "sign",
        "leafy",
        "1.0.1",
        "--criteria",
        "reviewed",
        "--key",
        key,
    ]);
    w.ok(&["sign", "leafy", "1.0.0", "--flag", "malware", "--key", key]);
    assert_eq!(
        w.query(&["leafy"])["records"].as_array().map(Vec::len),
        Some(2)
    );

    // Someone edits the flag into something milder: its signature no longer matches, and since
    // the head covers the original, the whole key's records stop counting.
    let file = w.store().join("crates/leafy.jsonl");
    let text = std::fs::read_to_string(&file).expect("read");
    std::fs::write(&file, text.replace("\"malware\"", "\"typo\"")).expect("write");
    let q = w.query_refused(&["leafy"]);
    assert_eq!(q["records"].as_array().map(Vec::len), Some(0), "{q}");
    let codes: Vec<&str> = q["rejected"]
        .as_array()
        .expect("rejected")
        .iter()
        .filter_map(|r| r["code"].as_str())
        .collect();
    assert!(codes.contains(&"bad-signature"), "{codes:?}");
    assert!(codes.contains(&"records-do-not-match-head"), "{codes:?}");

    // Deleting the flag line instead: withheld, caught by the head.
    let kept: String = text
        .lines()
        .filter(|l| !l.contains("malware"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&file, kept).expect("write");
    let q = w.query_refused(&["leafy"]);
    assert_eq!(q["records"].as_array().map(Vec::len), Some(0), "{q}");
    assert_eq!(q["rejected"][0]["code"], "records-do-not-match-head", "{q}");
    // And `sign` refuses to bless the deletion with a new head.
    let err = w.fails(&[
        "sign",
        "other",
        "0.1.0",
        "--criteria",
        "reviewed",
        "--key",
        key,
    ]);
    assert!(err.contains("records were removed"), "{err}");
}

#[test]
fn sign_refuses_what_would_not_verify() {
    let w = world();
    let (key, public) = w.new_key("team.key");
    let (bot_key, bot_public) = w.new_key("bot.key");
    let (stranger, _) = w.new_key("stranger.key");
    w.write_audit_file(&format!(
        "{{ key = \"{public}\" }}, {{ key = \"{bot_public}\", criteria = [\"source-matches\"] }}"
    ));
    let (key, bot_key, stranger) = (path_arg(&key), path_arg(&bot_key), path_arg(&stranger));

    let err = w.fails(&[
        "sign",
        "leafy",
        "1.0.1",
        "--criteria",
        "source-matches",
        "--key",
        key,
    ]);
    assert!(
        // leafy names no repository and none is pinned: nothing to compare with.
        err.contains("cannot sign source-matches"),
        "{err}"
    );
    let err = w.fails(&[
        "sign",
        "leafy",
        "1.0.1",
        "--criteria",
        "reviewed",
        "--key",
        bot_key,
    ]);
    assert!(err.contains("may not assert `reviewed`"), "{err}");
    let err = w.fails(&[
        "sign",
        "leafy",
        "1.0.1",
        "--criteria",
        "reviewed",
        "--key",
        stranger,
    ]);
    assert!(
        err.contains("no auditor in") && err.contains("pins the key"),
        "{err}"
    );
    let err = w.fails(&[
        "sign",
        "leafy",
        "9.9.9",
        "--criteria",
        "reviewed",
        "--key",
        key,
    ]);
    assert!(
        err.contains("the registry index lists no such version"),
        "{err}"
    );
    let err = w.fails(&[
        "sign",
        "../etc",
        "1.0.0",
        "--criteria",
        "reviewed",
        "--key",
        key,
    ]);
    assert!(err.contains("crate name"), "{err}");
    let err = w.fails(&[
        "sign",
        "leafy",
        "1.0.1",
        "--criteria",
        "Reviewed!",
        "--key",
        key,
    ]);
    assert!(err.contains("not a criterion name"), "{err}");

    // A pull request edits the lockfile's checksum: the index disagrees, nothing is signed.
    let lock = w.ws.lockfile();
    let forged = "1".repeat(64);
    w.ws.write_file("Cargo.lock", &lock.replace(w.leafy_checksum(), &forged));
    let err = w.fails(&[
        "sign",
        "leafy",
        "1.0.1",
        "--criteria",
        "reviewed",
        "--key",
        key,
    ]);
    assert!(err.contains("checksum mismatch for leafy@1.0.1"), "{err}");
    assert!(!w.store().join("crates/leafy.jsonl").exists());

    // The secret key may come from the environment instead of a file.
    w.ws.write_file("Cargo.lock", &lock);
    let secret = std::fs::read_to_string(key).expect("key file");
    let secret = secret.lines().last().expect("secret line");
    let out = w
        .cmd()
        .env("AUDIT_TRUST_SIGNING_KEY", secret)
        .args([
            "sign",
            "leafy",
            "1.0.1",
            "--criteria",
            "reviewed",
            "--format",
            "json",
        ])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["auditor"], "team");
    assert_eq!(json["head_sequence"], 1);

    // --offline works from the index entry and crate file cached by that run, and only then.
    w.ok(&[
        "sign",
        "leafy",
        "1.0.1",
        "--criteria",
        "c-offline",
        "--key",
        key,
        "--offline",
    ]);
    let err = w.fails(&[
        "sign",
        "other",
        "0.1.0",
        "--criteria",
        "reviewed",
        "--key",
        key,
        "--offline",
    ]);
    assert!(err.contains("--offline and no cached index entry"), "{err}");
}

#[test]
fn concurrent_sign_processes_lose_nothing() {
    let w = world();
    let (key, public) = w.new_key("team.key");
    w.write_audit_file(&format!("{{ key = \"{public}\" }}"));
    // Warm the crate cache once, so the processes contend on the store, not on downloads.
    w.ok(&[
        "sign",
        "other",
        "0.1.0",
        "--criteria",
        "reviewed",
        "--key",
        path_arg(&key),
    ]);
    let criteria = ["reviewed", "c-one", "c-two", "c-three", "c-four", "c-five"];
    let children: Vec<_> = criteria
        .iter()
        .map(|c| {
            w.cmd()
                .args([
                    "sign",
                    "leafy",
                    "1.0.1",
                    "--criteria",
                    c,
                    "--key",
                    path_arg(&key),
                    "-q",
                ])
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("start sign")
        })
        .collect();
    for mut child in children {
        assert!(child.wait().expect("wait").success());
    }
    let q = w.query(&["leafy"]);
    assert_eq!(
        q["records"].as_array().map(Vec::len),
        Some(criteria.len()),
        "{q}"
    );
    assert!(q["rejected"].as_array().is_some_and(Vec::is_empty), "{q}");
}

/// `query` lists versions in semver order (1.0.2 before 1.0.10), whatever order they were
/// signed in.
#[test]
fn query_lists_versions_in_semver_order() {
    let w = world();
    for version in ["1.0.2", "1.0.10"] {
        w.reg
            .publish_crate(&audit_trust_e2e::CrateSpec::new("leafy", version));
    }
    let (key, public) = w.new_key("team.key");
    w.write_audit_file(&format!("{{ key = \"{public}\" }}"));
    for version in ["1.0.10", "1.0.2", "1.0.1"] {
        w.ok(&[
            "sign",
            "leafy",
            version,
            "--criteria",
            "reviewed",
            "--key",
            path_arg(&key),
        ]);
    }
    let q = w.query(&["leafy"]);
    let versions: Vec<&str> = q["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter_map(|r| r["version"].as_str())
        .collect();
    assert_eq!(versions, ["1.0.1", "1.0.2", "1.0.10"], "{q}");
}
