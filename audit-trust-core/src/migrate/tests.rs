//! `init --from-cargo-vet`'s translation, on a small cargo-vet folder written here.

use std::path::Path;

use super::*;
use crate::audit_file::AuditFile;
use crate::inventory::{CRATES_IO_SOURCE_ID, Package, SourceKind};
use crate::signoff::SigningKey;
use crate::time::Date;

const CONFIG: &str = r#"
# cargo-vet config file

[cargo-vet]
version = "0.10"

[imports.mozilla]
url = "https://raw.githubusercontent.com/mozilla/supply-chain/main/audits.toml"

[imports.google]
url = ["https://example.com/a.toml", "https://example.com/b.toml"]
exclude = ["openssl"]
criteria-map = { ub-risk-2 = "safe-to-deploy" }

[policy.app]
audit-as-crates-io = false

[policy.tool]
criteria = "safe-to-run"

[[exemptions.itoa]]
version = "1.0.2"
criteria = "safe-to-deploy"
notes = "vendored \"copy\""

[[exemptions.criterion]]
version = "0.5.1"
criteria = "safe-to-run"

[[exemptions.syn]]
version = "2.0.1"
criteria = "safe-to-run"

[[exemptions.gone]]
version = "0.1.0"
criteria = "safe-to-deploy"
"#;

const AUDITS: &str = r#"
[criteria.crypto-reviewed]
description = "Cryptography read by an expert"
implies = "safe-to-deploy"

[[audits.itoa]]
who = "A <a@example.com>"
criteria = "safe-to-deploy"
version = "1.0.1"
"#;

const IMPORTS_LOCK: &str = r#"
[[publisher.bumpalo]]
version = "3.10.0"
when = "2022-06-01"
user-id = 696
user-login = "fitzgen"
user-name = "Nick Fitzgerald"

[[publisher.smallvec]]
version = "1.13.2"
when = "2024-03-20"
trusted-publisher = "github:servo/rust-smallvec"

[[audits.mozilla.audits.itoa]]
who = "B <b@example.com>"
criteria = "safe-to-deploy"
version = "1.0.2"

[[audits.unknown.audits.itoa]]
who = "C <c@example.com>"
criteria = "safe-to-deploy"
version = "1.0.2"
"#;

fn package(name: &str, version: &str, dev_only: bool) -> Package {
    Package {
        name: name.into(),
        version: semver::Version::parse(version).expect("version"),
        source: SourceKind::from_source_id(Some(CRATES_IO_SOURCE_ID)),
        source_id: Some(CRATES_IO_SOURCE_ID.into()),
        checksum: None,
        dependencies: Vec::new(),
        direct: true,
        dev_only: Some(dev_only),
        workspace_member: false,
        lock_line: 1,
    }
}

fn migrate(config: &str) -> Result<Migration, crate::Error> {
    use base64::Engine as _;
    let secret = format!(
        "ed25519-secret:{}",
        base64::engine::general_purpose::STANDARD.encode([3u8; 32])
    );
    let key = SigningKey::parse(&secret).expect("key").public_key();
    let packages = [
        package("itoa", "1.0.2", false),
        package("criterion", "0.5.1", true),
        package("syn", "2.0.1", false),
    ];
    migrate_cargo_vet(
        &VetFolder {
            dir: Path::new("/project/supply-chain"),
            config,
            audits: Some(AUDITS),
            imports_lock: Some(IMPORTS_LOCK),
            dir_from_audit_file: "supply-chain",
        },
        &MigrationTarget {
            auditor: "me",
            key: &key,
            records_folder: "supply-chain/sign-offs",
            today: Date::parse("2026-12-03").expect("date"),
            expires: Date::parse("2027-03-03").expect("date"),
        },
        &packages,
    )
}

#[test]
fn a_cargo_vet_folder_becomes_an_audit_file_with_imports_and_exact_exemptions() {
    let m = migrate(CONFIG).expect("migrates");
    // What it writes is a file this tool reads back (imports aside, which their parser checks).
    let doc: toml::Table = toml::from_str(&m.text).expect("TOML");
    assert_eq!(m.imports, [LOCAL_IMPORT_NAME, "google", "mozilla"]);
    let imports = doc["import"].as_array().expect("imports");
    assert_eq!(imports[0]["url"].as_str(), Some("supply-chain/audits.toml"));
    assert_eq!(
        imports[0]["criteria-map"]["crypto-reviewed"].as_str(),
        Some("crypto-reviewed")
    );
    let google = &imports[1];
    assert_eq!(google["url"].as_str(), Some("https://example.com/a.toml"));
    assert_eq!(
        google["criteria-map"]["ub-risk-2"].as_str(),
        Some("safe-to-deploy")
    );
    assert_eq!(
        google["criteria-map"]["safe-to-run"].as_str(),
        Some("safe-to-run")
    );
    assert_eq!(google["exclude"][0].as_str(), Some("openssl"));
    assert_eq!(
        doc["criteria"]["crypto-reviewed"]["implies"][0].as_str(),
        Some("safe-to-deploy")
    );
    assert_eq!(
        doc["policy"]["dev-criteria"][0].as_str(),
        Some("safe-to-run")
    );

    // itoa (safe-to-deploy) and criterion (safe-to-run, dev-only) are exempted; syn was
    // granted safe-to-run but is built for more, and `gone` is not in the lockfile.
    assert_eq!(m.exemptions, 2);
    let exemptions = doc["exemption"].as_array().expect("exemptions");
    let packages: Vec<&str> = exemptions
        .iter()
        .filter_map(|e| e["package"].as_str())
        .collect();
    assert_eq!(packages, ["criterion@0.5.1", "itoa@1.0.2"]);
    assert!(
        exemptions[1]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("vendored \"copy\""))
    );
    assert_eq!(exemptions[1]["expires"].to_string(), "2027-03-03");
    let left = m.left_out.join("\n");
    assert!(
        left.contains("syn@2.0.1: granted safe-to-run only"),
        "{left}"
    );
    assert!(left.contains("1 exemption that no package"), "{left}");
    assert!(left.contains("lists 2 URLs"), "{left}");
    assert!(left.contains("policy `tool`: criteria"), "{left}");
    assert!(!left.contains("policy `app`"), "{left}");
    assert_eq!(m.publishers.len(), 2);
    assert_eq!(
        (m.publishers[0].name.as_str(), m.publishers[0].user_id),
        ("bumpalo", Some(696))
    );
    assert_eq!(
        m.publishers[1].trusted_publisher.as_deref(),
        Some("github:servo/rust-smallvec")
    );
    // The audits cargo-vet kept per import are pinned as that import's set; a set for no
    // import of config.toml is not.
    assert_eq!(m.locked_sets.keys().collect::<Vec<_>>(), ["mozilla"]);
    let set: toml::Table = toml::from_str(&m.locked_sets["mozilla"]).expect("TOML");
    assert_eq!(set["audits"]["itoa"][0]["version"].as_str(), Some("1.0.2"));

    // What it writes is a Cargo.audit this tool reads, `[[import]]` entries included.
    let whole = AuditFile::parse(&m.text, Path::new("Cargo.audit")).expect("parses whole");
    assert!(!whole.imports.is_empty());
}

#[test]
fn broken_cargo_vet_files_are_errors_with_a_place() {
    let err = migrate("[imports.x]\nurl = 3\n").expect_err("bad url");
    let text = err.to_string();
    assert!(
        text.starts_with("/project/supply-chain/config.toml:2:"),
        "{text}"
    );
    let err = migrate("[[exemptions.itoa]]\nversion = \"one\"\n").expect_err("bad version");
    assert!(
        err.to_string()
            .contains("[[exemptions.itoa]] version `one`"),
        "{err}"
    );
    let err = migrate("[[exemptions.\"bad name!\"]]\nversion = \"1.0.0\"\n").expect_err("name");
    assert!(err.to_string().contains("exemptions.bad name!"), "{err}");
}
