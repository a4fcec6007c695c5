//! Argument handling of the real binary. (These tests also make `cargo test --workspace` build the
//! binary that the end-to-end tests in `tests/` run.)

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cargo-audit-trust"))
}

#[test]
fn runs_as_a_cargo_subcommand_and_directly() {
    for args in [&["audit-trust", "--version"][..], &["--version"][..]] {
        let out = bin().args(args).output().expect("run binary");
        assert!(out.status.success(), "{args:?}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.starts_with("cargo-audit-trust "), "{stdout}");
    }
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["stats", "--format", "xml"][..],
        &["no-such-command"][..],
        &["list", "--lockfile", "a", "--manifest-path", "b"][..],
    ] {
        let out = bin().args(args).output().expect("run binary");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?} printed no error");
    }
}

#[test]
fn missing_lockfile_exits_2_and_says_what_to_do() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("Cargo.lock");
    let out = bin()
        .args(["stats", "--lockfile"])
        .arg(&missing)
        .output()
        .expect("run binary");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cargo generate-lockfile"), "{stderr}");
}

#[test]
fn malformed_lockfile_names_the_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lock = dir.path().join("Cargo.lock");
    std::fs::write(
        &lock,
        "version = 4\n\n[[package]]\nname = \"x\"\nversion = = \"1\"\n",
    )
    .expect("write");
    let out = bin()
        .args(["list", "--lockfile"])
        .arg(&lock)
        .output()
        .expect("run binary");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Cargo.lock:5: malformed lockfile"),
        "{stderr}"
    );
}

#[test]
fn no_manifest_anywhere_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = bin()
        .arg("stats")
        .current_dir(dir.path())
        .output()
        .expect("run binary");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--manifest-path") && stderr.contains("--lockfile"),
        "{stderr}"
    );
}

#[test]
fn sarif_is_a_usage_error_for_every_command_but_check() {
    let dir = tempfile::tempdir().expect("temp dir");
    for command in ["stats", "list", "diff", "query", "key", "sign"] {
        let mut args = vec![command];
        args.extend(match command {
            "diff" | "query" => &["serde"][..],
            "key" => &["show"][..],
            "sign" => &["serde", "1.0.0", "--criteria", "reviewed"][..],
            _ => &[][..],
        });
        let out = bin()
            .args(&args)
            .args(["--format", "sarif"])
            .current_dir(dir.path())
            .output()
            .expect("run binary");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("--format sarif is for `check`"),
            "{args:?}: {stderr}"
        );
    }
}
