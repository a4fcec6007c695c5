//! `export --format cargo-vet`: verified sign-offs become a cargo-vet `audits.toml`; records
//! outside an auditor's `covers` stay out; a log that does not verify stops the export.

use crate::world::{CRITERIA, path_arg, world};

#[test]
fn export_writes_verified_sign_offs_and_flags_as_cargo_vet_audits() {
    let w = world();
    let (key, public) = w.new_key("team.key");
    // `other` is not covered: the team's record on it must not be exported as trusted.
    w.ws.write_file(
        "Cargo.audit",
        &format!(
            "{CRITERIA}[[auditor]]\nname = \"team\"\ncovers = [\"leafy\"]\n\
             records = {{ folder = \"supply-chain/sign-offs\" }}\nkeys = [{{ key = \"{public}\" }}]\n"
        ),
    );
    let key = path_arg(&key);
    w.ok(&[
        "sign",
        "leafy",
        "1.0.0",
        "--criteria",
        "safe-to-deploy",
        "--notes",
        "read \"it\" all",
        "--key",
        key,
    ]);
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
        "other",
        "0.1.0",
        "--criteria",
        "reviewed",
        "--key",
        key,
    ]);

    let out = w.run(&["export", "--format", "cargo-vet"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("exported 2 audits"), "{stderr}");
    assert!(
        stderr.contains("left out 1 record on crates outside their auditor's `covers`"),
        "{stderr}"
    );
    let doc: toml::Table = toml::from_str(&String::from_utf8_lossy(&out.stdout)).expect("TOML");
    assert!(doc["audits"].get("other").is_none(), "{doc}");
    let leafy = doc["audits"]["leafy"].as_array().expect("leafy audits");
    assert_eq!(leafy.len(), 2, "{doc}");
    assert_eq!(leafy[0]["who"].as_str(), Some("team"));
    assert_eq!(leafy[0]["version"].as_str(), Some("1.0.0"));
    assert_eq!(leafy[1]["delta"].as_str(), Some("1.0.0 -> 1.0.1"));
    let criteria: Vec<&str> = leafy[0]["criteria"]
        .as_array()
        .expect("criteria")
        .iter()
        .filter_map(|c| c.as_str())
        .collect();
    assert_eq!(criteria, ["reviewed", "safe-to-deploy"]);
    assert!(
        leafy[0]["notes"]
            .as_str()
            .is_some_and(|n| n.starts_with("read \"it\" all"))
    );
    assert!(
        leafy[1]["notes"]
            .as_str()
            .is_some_and(|n| n.contains(w.leafy_checksum())),
        "the exact file read is named: {doc}"
    );
    // Our criteria are defined for the importer, cargo-vet's own built-in is not redefined.
    assert!(doc["criteria"].get("reviewed").is_some());
    assert!(doc["criteria"].get("safe-to-deploy").is_none());

    // A flag becomes a violation; `-o` writes the same file whole.
    w.ok(&[
        "sign",
        "leafy",
        "1.0.1",
        "--flag",
        "steals tokens",
        "--key",
        key,
    ]);
    let file = w.home.path().join("audits.toml");
    w.ok(&["export", "--format", "cargo-vet", "-o", path_arg(&file)]);
    let doc: toml::Table =
        toml::from_str(&std::fs::read_to_string(&file).expect("written")).expect("TOML");
    let violation = doc["audits"]["leafy"]
        .as_array()
        .expect("leafy")
        .iter()
        .find(|a| a.get("violation").is_some())
        .expect("the flag is a violation")
        .clone();
    assert_eq!(violation["violation"].as_str(), Some("=1.0.1"));
    assert!(
        violation["notes"]
            .as_str()
            .is_some_and(|n| n.starts_with("flagged: steals tokens"))
    );

    // Formats and names that do not apply are usage errors.
    assert!(
        w.fails(&["export", "--format", "json"])
            .contains("--format cargo-vet")
    );
    assert!(
        w.fails(&["export", "--format", "cargo-vet", "--auditor", "nobody"])
            .contains("nobody")
    );
    assert!(
        w.fails(&["check", "--format", "cargo-vet"])
            .contains("is for `export`")
    );

    // An edited store cannot be verified as a whole, and a flag may hide in it: no export.
    let store_file = w.store().join("crates/leafy.jsonl");
    let text = std::fs::read_to_string(&store_file).expect("read");
    std::fs::write(&store_file, text.replace("steals tokens", "steals nothing")).expect("write");
    let before = std::fs::read_to_string(&file).expect("read");
    let stderr = w.fails(&["export", "--format", "cargo-vet", "-o", path_arg(&file)]);
    assert!(stderr.contains("auditor `team`"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&file).expect("read"),
        before,
        "the old file is kept"
    );
}
