//! A CI bot's secret key in `AUDIT_TRUST_SIGNING_KEY` never reaches a process we start: cargo
//! runs build scripts and credential helpers. A wrapper standing in for cargo records the
//! environment it was given, then runs the real cargo.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt as _;

use audit_trust_e2e::{LocalRegistry, Workspace, cli_command};

#[test]
fn the_signing_key_is_removed_from_cargo_metadata_s_environment() {
    let reg = LocalRegistry::start();
    let ws = Workspace::single(
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        &[],
    );
    ws.generate_lockfile(&reg);

    let dir = tempfile::tempdir().expect("temp dir");
    let dump = dir.path().join("env-seen-by-cargo");
    let wrapper = dir.path().join("cargo-wrapper");
    let real_cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nenv > '{}'\nexec '{}' \"$@\"\n",
            dump.display(),
            real_cargo
        ),
    )
    .expect("write wrapper");
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).expect("chmod");

    let out = cli_command(reg.cargo_home())
        .env("CARGO", &wrapper)
        .env("AUDIT_TRUST_SIGNING_KEY", "ed25519-secret:c2VjcmV0")
        .env("AUDIT_TRUST_CANARY", "passed-on")
        .arg("stats")
        .arg("--manifest-path")
        .arg(ws.path().join("Cargo.toml"))
        .arg("--cache-dir")
        .arg(dir.path().join("cache"))
        .output()
        .expect("run cargo-audit-trust");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen = std::fs::read_to_string(&dump).expect("the wrapper ran: cargo metadata was used");
    assert!(
        seen.contains("AUDIT_TRUST_CANARY=passed-on"),
        "other variables pass"
    );
    assert!(
        !seen.contains("AUDIT_TRUST_SIGNING_KEY") && !seen.contains("c2VjcmV0"),
        "the secret reached cargo:\n{seen}"
    );
}
