//! End to end: `[allowed-sources]` compares git and registry sources as cargo resolves them,
//! with the real binary on a lockfile whose sources try the tricks cargo would resolve elsewhere:
//! `..` segments, another case, a prefix without a boundary, an encoded `/`. The lockfile is
//! written by hand (cargo accepts each of these spellings and fetches what they resolve to), so
//! nothing is fetched: every package is exempted, and only its source decides. (Registry
//! sources get the same normalization; a registry package would need its index served, so
//! they are covered by the unit tests of `source_url`.)

use std::path::Path;

use audit_trust_e2e::cli_command;
use serde_json::Value;

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// (package name, lockfile source after `git+`, allowed by `https://github.com/my-org`)
const GIT_SOURCES: &[(&str, &str, bool)] = &[
    ("plain", "https://github.com/my-org/plain?branch=main", true),
    ("dotgit", "https://github.com/my-org/dotgit.git", true),
    ("cased", "https://GitHub.com/My-Org/cased", true),
    ("dotdot", "https://github.com/my-org/../evil/dotdot", false),
    (
        "encdot",
        "https://github.com/my-org/%2e%2e/evil/encdot",
        false,
    ),
    ("sibling", "https://github.com/my-org-evil/sibling", false),
    (
        "encslash",
        "https://github.com/my-org/x%2F..%2F..%2Fevil",
        false,
    ),
    (
        "userhost",
        "https://github.com@evil.example/my-org/userhost",
        false,
    ),
];

fn lockfile() -> String {
    let mut text = String::from(
        "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n",
    );
    for (name, _, _) in GIT_SOURCES {
        text.push_str(&format!(" \"{name}\",\n"));
    }
    text.push_str("]\n");
    for (name, url, _) in GIT_SOURCES {
        text.push_str(&format!(
            "\n[[package]]\nname = \"{name}\"\nversion = \"1.0.0\"\nsource = \"git+{url}#{COMMIT}\"\n"
        ));
    }
    text
}

fn audit_file(git_prefix: &str) -> String {
    let mut text = format!("[allowed-sources]\ngit = [\"{git_prefix}\"]\n");
    for (name, _, _) in GIT_SOURCES {
        text.push_str(&format!(
            "\n[[exemption]]\npackage = \"{name}@1.0.0\"\nreason = \"fixture\"\nexpires = 2099-01-01\n"
        ));
    }
    text
}

fn check(dir: &Path) -> (Option<i32>, Value, String) {
    let db = dir.join("advisory-db");
    std::fs::create_dir_all(db.join("crates")).expect("advisory db");
    let out = cli_command(&dir.join("cargo-home"))
        .current_dir(dir)
        .arg("--cache-dir")
        .arg(dir.join("cache"))
        .args([
            "check",
            "--offline",
            "--format",
            "json",
            "--now",
            "2026-11-01T12:00:00Z",
        ])
        .arg("--lockfile")
        .arg(dir.join("Cargo.lock"))
        .arg("--advisory-db")
        .arg(&db)
        .output()
        .expect("run cargo-audit-trust");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (out.status.code(), json, format!("{stdout}\n{stderr}"))
}

fn not_allowed(report: &Value, name: &str) -> bool {
    let package = report["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in the report"));
    package["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .any(|r| r["code"] == "source-not-allowed")
}

#[test]
fn git_sources_are_compared_as_cargo_resolves_them() {
    for prefix in ["https://github.com/my-org/", "https://github.com/my-org"] {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("Cargo.lock"), lockfile()).expect("lockfile");
        std::fs::write(dir.path().join("Cargo.audit"), audit_file(prefix)).expect("audit file");
        let (code, report, output) = check(dir.path());
        assert_eq!(code, Some(1), "{prefix}: {output}");
        for (name, _, allowed) in GIT_SOURCES {
            assert_eq!(
                not_allowed(&report, name),
                !allowed,
                "{prefix}: {name}: {output}"
            );
        }
    }
}

#[test]
fn an_allowed_source_that_cannot_be_compared_is_an_error_at_its_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("Cargo.lock"), lockfile()).expect("lockfile");
    std::fs::write(
        dir.path().join("Cargo.audit"),
        "[allowed-sources]\ngit = [\"https://github.com/my-org/?branch=main\"]\n",
    )
    .expect("audit file");
    let (code, _, output) = check(dir.path());
    assert_eq!(code, Some(2), "{output}");
    assert!(
        output.contains("Cargo.audit:2:1: [allowed-sources] git:")
            && output.contains("a query or fragment"),
        "{output}"
    );
}
