//! `trusted` and `wildcard-audits` entries need each version's publisher. The registry's web API
//! is faked here: the loopback registry's `config.json` names an `api`, and the test serves
//! `/api/v1/crates/leafy/versions` in crates.io's shape. It stands in for crates.io's API, which
//! the tests must never reach.

use serde_json::json;

use crate::world;

const WILDCARD: &str = "[[wildcard-audits.leafy]]\nwho = \"Alice\"\ncriteria = \"safe-to-deploy\"\n\
                        user-id = 42\nstart = \"2024-01-01\"\nend = \"2025-12-31\"\n";

fn serve_api(w: &crate::World, user_id: u64, created_at: &str) {
    let base = w.reg.base_url();
    let server = w.reg.server();
    server.put(
        "/index/config.json",
        json!({ "dl": format!("{base}/dl/{{crate}}/{{version}}/download"), "api": base })
            .to_string(),
    );
    server.put(
        "/api/v1/crates/leafy/versions",
        json!({
            "versions": [
                { "num": "1.0.1", "created_at": created_at,
                  "published_by": { "id": user_id, "login": "alice", "name": "Alice" } },
                { "num": "1.0.0", "created_at": "2024-02-01T00:00:00.000000+00:00",
                  "published_by": null,
                  "trustpub_data": { "provider": "github", "repository": "org/leafy" } }
            ],
            "meta": { "total": 2, "next_page": null }
        })
        .to_string(),
    );
}

#[test]
fn wildcard_entries_vouch_for_versions_their_publisher_published_in_time() {
    let w = world();
    w.write_audit_file("");
    w.serve_set(WILDCARD);
    serve_api(&w, 42, "2025-03-01T10:00:00.000000+00:00");
    let out = w.ok(&["import", "refresh"]);
    assert!(out.contains("publishers learned: 1 (leafy@1.0.1)"), "{out}");
    assert_eq!(w.reg.request_count("/api/v1/crates/leafy/versions"), 1);
    let lock = std::fs::read_to_string(w.lock_path()).expect("lock");
    assert!(
        lock.contains("[[publisher]]") && lock.contains("user-id = 42"),
        "{lock}"
    );
    let (code, leafy) = w.leafy();
    assert_eq!(
        (code, leafy["status"].as_str()),
        (Some(0), Some("audited")),
        "{leafy}"
    );

    // Judged offline from the lock: a refresh of the set keeps the pinned publisher, and the
    // API is not asked again.
    w.ok(&["import", "refresh"]);
    assert_eq!(w.reg.request_count("/api/v1/crates/leafy/versions"), 1);
}

#[test]
fn another_publisher_or_a_failed_lookup_vouches_for_nothing() {
    let w = world();
    w.write_audit_file("");
    w.serve_set(WILDCARD);
    serve_api(&w, 7, "2025-03-01T10:00:00.000000+00:00");
    w.ok(&["import", "refresh"]);
    let (code, leafy) = w.leafy();
    assert_eq!(
        (code, leafy["status"].as_str()),
        (Some(1), Some("unaudited")),
        "{leafy}"
    );

    // No API answer: the lookup fails, the refresh says so, and nothing is vouched for.
    let w = world();
    w.write_audit_file("");
    w.serve_set(WILDCARD);
    serve_api(&w, 42, "2025-03-01T10:00:00.000000+00:00");
    w.reg.server().remove("/api/v1/crates/leafy/versions");
    let out = w.ok(&["import", "refresh"]);
    assert!(
        out.contains("publishers unknown: 1") && out.contains("leafy@1.0.1: lookup failed"),
        "{out}"
    );
    let (code, stdout) = w.check("human");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("who published leafy@1.0.1 is unknown"),
        "{stdout}"
    );
}
