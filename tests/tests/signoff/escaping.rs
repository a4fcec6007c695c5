//! A record's text is written by its auditor, who may be hostile: a flag whose reason carries
//! bidirectional overrides and a terminal escape is shown escaped by every output that quotes
//! it — SARIF (read by code-scanning viewers), `check`'s human report and `query`.

use serde_json::Value;

use crate::gate::advisory_db;
use crate::world::{path_arg, world};

const REASON: &str = "steals \u{202E}snekot\u{202C} \u{2066}tokens\u{2069}\u{1b}[2J";
const SHOWN: &str = "steals \\u{202e}snekot\\u{202c} \\u{2066}tokens\\u{2069}\\u{1b}[2J";
const RAW: [char; 5] = ['\u{202E}', '\u{202C}', '\u{2066}', '\u{2069}', '\u{1b}'];

#[test]
fn bidirectional_text_from_a_record_is_escaped_in_sarif_and_on_the_terminal() {
    let w = world();
    let (key, public) = w.new_key("team.key");
    w.write_audit_file(&format!("{{ key = \"{public}\" }}"));
    let key = path_arg(&key);
    let db = advisory_db(&w);
    w.ok(&["sign", "leafy", "1.0.1", "--flag", REASON, "--key", key]);

    let out = w
        .cmd()
        .args(["check", "--format", "sarif", "--advisory-db", &db])
        .output()
        .expect("run check");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).expect("UTF-8 SARIF");
    assert!(!text.contains(RAW), "raw characters in SARIF: {text}");
    let sarif: Value = serde_json::from_str(&text).expect("SARIF is JSON");
    let flagged = sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["ruleId"] == "flagged")
        .expect("a flagged result");
    let message = flagged["message"]["text"].as_str().expect("message text");
    assert!(message.ends_with(SHOWN), "{message}");
    assert_eq!(flagged["properties"]["details"]["reason"], SHOWN);

    let out = w
        .cmd()
        .args(["check", "--color", "never", "--advisory-db", &db])
        .output()
        .expect("run check");
    assert_eq!(out.status.code(), Some(1));
    let human = String::from_utf8(out.stdout).expect("UTF-8 report");
    assert!(human.contains(SHOWN), "{human}");
    assert!(
        !human.contains(RAW),
        "raw characters in the report: {human:?}"
    );

    let query = w.ok(&["query", "leafy"]);
    assert!(query.contains(SHOWN), "{query}");
    assert!(!query.contains(RAW), "raw characters in query: {query:?}");

    // JSON is data for programs: the reason is kept exactly as signed (serde escapes the
    // controls JSON requires).
    let out = w
        .cmd()
        .args(["check", "--format", "json", "--advisory-db", &db])
        .output()
        .expect("run check");
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let leafy = report["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == "leafy")
        .expect("leafy");
    assert_eq!(leafy["reasons"][0]["details"]["reason"], REASON, "{report}");
}
