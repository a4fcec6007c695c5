//! `revoke` and `refresh-head`.

use serde_json::Value;

use crate::world::{path_arg, world};

#[test]
fn revoke_withdraws_and_refresh_head_renews() {
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
        "--key",
        key,
        "--format",
        "json",
    ]);
    let id = serde_json::from_str::<Value>(&out).expect("JSON")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let out = w.ok(&[
        "revoke",
        &id,
        "--reason",
        "signed the wrong version",
        "--key",
        key,
    ]);
    assert!(
        out.starts_with(&format!("Revoked {id} as auditor `team`")),
        "{out}"
    );
    // The revocation is stored next to the record it withdraws.
    let file = std::fs::read_to_string(w.store().join("crates/leafy.jsonl")).expect("read");
    assert_eq!(file.lines().count(), 2);
    let q = w.query(&["leafy"]);
    assert_eq!(q["records"].as_array().map(Vec::len), Some(0), "{q}");
    // A revocation is history, not a failure: listed apart, never as "did not verify".
    assert_eq!(q["revoked"][0]["id"], id.as_str(), "{q}");
    assert_eq!(q["rejected"].as_array().map(Vec::len), Some(0), "{q}");
    let human = w.ok(&["query", "leafy"]);
    assert!(
        human.contains("Revoked by their auditor") && !human.contains("did not verify"),
        "{human}"
    );
    let err = w.fails(&["revoke", &"0".repeat(64), "--reason", "x", "--key", key]);
    assert!(
        err.contains("no record") && err.contains("to revoke"),
        "{err}"
    );
    // Revoking it again is refused, also when named by a prefix of its id.
    let err = w.fails(&["revoke", &id[..10], "--reason", "again", "--key", key]);
    assert!(err.contains("already revoked"), "{err}");
    let err = w.fails(&["revoke", &id[..5], "--reason", "x", "--key", key]);
    assert!(err.contains("at least 8"), "{err}");

    // Heads last a year; a day after that, nothing counts until the auditor signs a fresh one.
    w.ok(&[
        "sign",
        "other",
        "0.1.0",
        "--criteria",
        "reviewed",
        "--key",
        key,
    ]);
    let later = "2026-06-02T12:00:00Z";
    let query_later = || {
        let out = w
            .cmd_at(later)
            .args(["query", "other", "--format", "json"])
            .output()
            .expect("run");
        serde_json::from_slice::<Value>(&out.stdout).expect("JSON")
    };
    let q = query_later();
    assert_eq!(q["records"].as_array().map(Vec::len), Some(0), "{q}");
    assert_eq!(q["rejected"][0]["code"], "head-expired", "{q}");
    let out = w
        .cmd_at(later)
        .args(["refresh-head", "--key", key])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("head #4 of") && text.contains("covers 3 records"),
        "{text}"
    );
    assert_eq!(query_later()["records"].as_array().map(Vec::len), Some(1));
}
