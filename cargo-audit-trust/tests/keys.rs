//! `key new` and `key show` through the real binary, with HOME and the config folder in a temp
//! dir.

use std::path::Path;
use std::process::{Command, Output};

fn bin(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-audit-trust"));
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env_remove("AUDIT_TRUST_SIGNING_KEY");
    cmd
}

fn run(cmd: &mut Command) -> (Output, String, String) {
    let out = cmd.output().expect("run binary");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

fn secret_line(path: &Path) -> String {
    std::fs::read_to_string(path)
        .expect("read key file")
        .lines()
        .find(|l| l.starts_with("ed25519-secret:"))
        .expect("secret line")
        .to_owned()
}

#[test]
fn key_new_writes_a_private_file_in_the_config_folder_and_prints_only_the_public_key() {
    let home = tempfile::tempdir().expect("temp dir");
    let (out, stdout, stderr) = run(bin(home.path()).args(["key", "new"]));
    assert!(out.status.success(), "{stderr}");
    let public = stdout.trim();
    assert!(
        public.starts_with("ed25519:") && public.len() == 52,
        "{stdout}"
    );
    let path = home.path().join("config/cargo-audit-trust/signing-key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path)
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let secret = secret_line(&path);
    let encoded = &secret["ed25519-secret:".len()..];
    assert!(!stdout.contains(encoded) && !stderr.contains(encoded));
    assert!(stderr.contains("keys = [{ key = \"ed25519:"), "{stderr}");

    // `key show` finds the same key; JSON says where it came from.
    let (_, shown, _) = run(bin(home.path()).args(["key", "show"]));
    assert_eq!(shown.trim(), public);
    let (_, json, _) = run(bin(home.path()).args(["key", "show", "--format", "json"]));
    let json: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(json["public_key"], public);
    assert!(
        json["origin"]
            .as_str()
            .is_some_and(|o| o.ends_with("signing-key"))
    );

    // A second `key new` never replaces the first.
    let (out, _, stderr) = run(bin(home.path()).args(["key", "new"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("never overwritten"), "{stderr}");
    assert_eq!(secret_line(&path), secret);
}

#[test]
fn explicit_paths_and_the_environment_variable() {
    let home = tempfile::tempdir().expect("temp dir");
    let out_path = home.path().join("bot.key");
    let (out, public, stderr) = run(bin(home.path())
        .args(["key", "new", "--out"])
        .arg(&out_path));
    assert!(out.status.success(), "{stderr}");
    let (_, shown, _) = run(bin(home.path())
        .args(["key", "show", "--key"])
        .arg(&out_path));
    assert_eq!(shown, public);

    // The secret line in AUDIT_TRUST_SIGNING_KEY is used when no --key is given.
    let secret = secret_line(&out_path);
    let (out, shown, _) = run(bin(home.path())
        .env("AUDIT_TRUST_SIGNING_KEY", &secret)
        .args(["key", "show", "--format", "json"]));
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_str(&shown).expect("JSON");
    assert_eq!(json["public_key"], public.trim());
    assert_eq!(json["origin"], "AUDIT_TRUST_SIGNING_KEY");

    // A malformed secret is an error that does not repeat it.
    let (out, _, stderr) = run(bin(home.path())
        .env("AUDIT_TRUST_SIGNING_KEY", "ed25519-secret:hunter2hunter2")
        .args(["key", "show"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("AUDIT_TRUST_SIGNING_KEY") && !stderr.contains("hunter2"),
        "{stderr}"
    );

    // No key anywhere: a clear way forward.
    let (out, _, stderr) = run(bin(home.path()).args(["key", "show"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("cargo audit-trust key new"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn a_key_file_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let home = tempfile::tempdir().expect("temp dir");
    let path = home.path().join("k");
    let (out, _, _) = run(bin(home.path()).args(["key", "new", "--out"]).arg(&path));
    assert!(out.status.success());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let (out, _, stderr) = run(bin(home.path()).args(["key", "show", "--key"]).arg(&path));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("chmod 600"), "{stderr}");
}
