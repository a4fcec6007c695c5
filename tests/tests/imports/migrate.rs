//! `init --from-cargo-vet`: a project's cargo-vet folder becomes a `Cargo.audit` and a pinned
//! `Cargo.audit.lock`, and `check` then admits what cargo-vet's lock admits without fetching a set: the own
//! audits, what `imports.lock` kept of an import (its URL is never fetched: example.invalid),
//! trusted publishers from the lock's publisher cache, and exemptions with an expiry.

use crate::world;

const CONFIG: &str = r#"
[cargo-vet]
version = "0.10"

[imports.remote]
url = "https://example.invalid/audits.toml"

[[exemptions.other]]
version = "0.1.0"
criteria = "safe-to-deploy"
notes = "vendored"

[[exemptions.gone]]
version = "9.9.9"
criteria = "safe-to-deploy"
"#;

/// The project's own audits: a delta on top of the import's full audit.
const OWN_AUDITS: &str = r#"
[[audits.leafy]]
who = "Me <me@example.com>"
criteria = "safe-to-deploy"
delta = "1.0.0 -> 1.0.1"
"#;

/// What cargo-vet kept of the import; `pub` 1.0.0 was published by a trusted user.
const IMPORTS_LOCK: &str = r#"
[[publisher.pubd]]
version = "1.0.0"
when = "2024-06-01"
user-id = 42
user-login = "someone"

[[audits.remote.audits.leafy]]
who = "Them <them@example.com>"
criteria = "safe-to-deploy"
version = "1.0.0"

[[audits.remote.trusted.pubd]]
criteria = "safe-to-deploy"
user-id = 42
start = "2024-01-01"
end = "2025-12-31"
"#;

#[test]
fn a_cargo_vet_folder_migrates_and_check_admits_what_cargo_vet_admits_from_the_pins() {
    let w = world();
    w.reg
        .publish_crate(&audit_trust_e2e::CrateSpec::new("other", "0.1.0"));
    w.reg
        .publish_crate(&audit_trust_e2e::CrateSpec::new("pubd", "1.0.0"));
    w.ws.write_file(
        "Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\nleafy = \"=1.0.1\"\nother = \"0.1.0\"\npubd = \"1.0.0\"\n",
    );
    w.ws.generate_lockfile(&w.reg);
    w.ws.write_file("supply-chain/config.toml", CONFIG);
    w.ws.write_file("supply-chain/audits.toml", OWN_AUDITS);
    w.ws.write_file("supply-chain/imports.lock", IMPORTS_LOCK);
    let key = w.home.path().join("me.key");
    w.ok(&["key", "new", "--out", key.to_str().expect("utf-8")]);

    let out = w.ok(&[
        "init",
        "--from-cargo-vet",
        "--key",
        key.to_str().expect("utf-8"),
    ]);
    assert!(
        out.contains("2 imports (local-audits, remote), 1 exemption"),
        "{out}"
    );
    assert!(
        out.contains("1 exemption that no package of Cargo.lock uses"),
        "{out}"
    );
    assert!(
        out.contains("Pinned in Cargo.audit.lock: local-audits, remote"),
        "{out}"
    );
    let lock = std::fs::read_to_string(w.lock_path()).expect("lock");
    assert!(
        lock.contains("origin = \"cargo-vet's imports.lock"),
        "{lock}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(w.ws.path().join("Cargo.audit"))
            .expect("written")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o644, "a file to commit, not a secret");
    }

    // The pins decide: the import's URL (example.invalid) is never fetched.
    let db = w.advisory_db();
    let out = w
        .cmd()
        .args(["check", "--format", "json", "--advisory-db", &db])
        .output()
        .expect("run check");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let status = |name: &str| {
        report["packages"]
            .as_array()
            .expect("packages")
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| (p["status"].clone(), p["reasons"][0]["details"].clone()))
            .expect("package")
    };
    // leafy: the import's full audit and the project's own delta, chained across the sets.
    let (leafy, details) = status("leafy");
    assert_eq!(leafy, "audited");
    assert_eq!(details["imports"][0], "local-audits+remote", "{details}");
    // pubd: the trusted publisher, judged from the migrated publisher cache.
    assert_eq!(status("pubd").0, "audited");
    assert_eq!(status("other").0, "exempted");
    // The day-one picture: where the evidence of each package comes from.
    let mix = &report["summary"]["evidence"];
    assert_eq!(
        (
            mix["packages"].as_u64(),
            mix["signed"].as_u64(),
            mix["imported"].as_u64()
        ),
        (Some(3), Some(0), Some(2)),
        "{mix}"
    );
    assert_eq!(
        (mix["exempted"].as_u64(), mix["none"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(mix["by_set"]["local-audits+remote"], 1, "{mix}");
    assert_eq!(mix["by_set"]["remote"], 1, "{mix}");

    // A second run refuses to overwrite either file.
    let err = w.fails(&[
        "init",
        "--from-cargo-vet",
        "--key",
        key.to_str().expect("utf-8"),
    ]);
    assert!(err.contains("already exists"), "{err}");
}

#[test]
fn a_folder_without_cargo_vet_config_is_a_clear_error() {
    let w = world();
    let key = w.home.path().join("me.key");
    w.ok(&["key", "new", "--out", key.to_str().expect("utf-8")]);
    let err = w.fails(&[
        "init",
        "--from-cargo-vet",
        "nowhere",
        "--key",
        key.to_str().expect("utf-8"),
    ]);
    assert!(err.contains("has no cargo-vet config.toml"), "{err}");
    assert!(!w.ws.path().join("Cargo.audit").exists());
    w.ws.write_file("supply-chain/config.toml", "[imports.x]\nurl = 3\n");
    let err = w.fails(&[
        "init",
        "--from-cargo-vet",
        "--key",
        key.to_str().expect("utf-8"),
    ]);
    assert!(err.contains("config.toml:2:"), "{err}");
    assert!(!w.ws.path().join("Cargo.audit").exists(), "nothing written");
}
