//! End to end: `cargo audit-trust diff` — the real binary, crates packaged by the real cargo from
//! real git repositories and served by a local registry on a loopback port. Nothing here reaches
//! the internet.

use std::path::Path;
use std::process::{Command, Output};

use audit_trust_e2e::{GitRepo, LocalRegistry, Published, Workspace, cli_command, tamper_crate};
use serde_json::Value;
use tempfile::TempDir;

const GENUINE: &str = "https://git.example/popular/popular";
const LOOKALIKE: &str = "https://git.example/attacker/popular";

/// A registry with `popular` 1.0.0 and 1.1.0 from its genuine repository and 1.2.0 from an
/// attacker's look-alike repository, and a workspace that locks 1.2.0 and reaches both
/// repositories through `[url-rewrite]` rules in its `Cargo.audit`.
struct World {
    reg: LocalRegistry,
    ws: Workspace,
    genuine: GitRepo,
    /// Kept alive: `Cargo.audit` rewrites the look-alike's URL to it.
    _lookalike: GitRepo,
    cache: TempDir,
    releases: Vec<Published>,
}

fn write_release(repo: &GitRepo, version: &str, repository: &str, body: &str) {
    repo.write(
        "Cargo.toml",
        format!(
            "[package]\nname = \"popular\"\nversion = \"{version}\"\nedition = \"2021\"\n\
             description = \"a popular crate\"\nlicense = \"MIT\"\nrepository = \"{repository}\"\n"
        ),
    );
    repo.write("src/lib.rs", body);
    repo.commit_all(&format!("release {version}"));
}

fn world() -> World {
    let reg = LocalRegistry::start();
    let genuine = GitRepo::init();
    let lookalike = GitRepo::init();
    let mut releases = Vec::new();
    write_release(
        &genuine,
        "1.0.0",
        GENUINE,
        "pub fn answer() -> u32 {\n    42\n}\n",
    );
    releases.push(reg.publish_manifest(&genuine.path().join("Cargo.toml"), &[]));
    write_release(
        &genuine,
        "1.1.0",
        GENUINE,
        "pub fn answer() -> u32 {\n    42\n}\n\npub fn question() -> u32 {\n    6 * 7\n}\n",
    );
    releases.push(reg.publish_manifest(&genuine.path().join("Cargo.toml"), &[]));
    // The hijack: an attacker's repository that matches its release exactly.
    write_release(
        &lookalike,
        "1.2.0",
        LOOKALIKE,
        "pub fn answer() -> u32 {\n    std::env::var(\"TOKEN\").map(|t| t.len() as u32).unwrap_or(42)\n}\n",
    );
    releases.push(reg.publish_manifest(&lookalike.path().join("Cargo.toml"), &[]));

    let ws = Workspace::single(
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\npopular = \"1\"\n",
        &[("src/main.rs", "fn main() {}\n")],
    );
    ws.write_file(
        "Cargo.audit",
        &format!(
            "[url-rewrite]\n\"{GENUINE}\" = \"{}\"\n\"{LOOKALIKE}\" = \"{}\"\n",
            genuine.url(),
            lookalike.url()
        ),
    );
    ws.generate_lockfile(&reg);
    World {
        reg,
        ws,
        genuine,
        _lookalike: lookalike,
        cache: tempfile::tempdir().expect("cache dir"),
        releases,
    }
}

impl World {
    fn run(&self, args: &[&str]) -> Output {
        run_in(
            self.ws.path(),
            self.reg.cargo_home(),
            self.cache.path(),
            args,
        )
    }

    fn json(&self, args: &[&str], expected_exit: i32) -> Value {
        let out = self.run(&[args, &["--format", "json"]].concat());
        assert_eq!(
            out.status.code(),
            Some(expected_exit),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("JSON output")
    }
}

fn run_in(dir: &Path, cargo_home: &Path, cache: &Path, args: &[&str]) -> Output {
    command_in(dir, cargo_home, cache)
        .args(args)
        .output()
        .expect("run cargo-audit-trust")
}

/// `diff` in `dir`, with no user config unless the caller sets `XDG_CONFIG_HOME`.
fn command_in(dir: &Path, cargo_home: &Path, cache: &Path) -> Command {
    let mut cmd = cli_command(cargo_home);
    cmd.current_dir(dir)
        .arg("audit-trust")
        .arg("diff")
        .arg("--cache-dir")
        .arg(cache);
    cmd
}

fn statuses(report: &Value) -> Vec<(String, String)> {
    report["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or("").to_owned(),
                f["status"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[test]
fn the_hijacked_locked_version_is_unverifiable_and_the_genuine_one_matches() {
    let w = world();
    // Version from the lockfile: 1.2.0, from the look-alike repository.
    let report = w.json(&["popular"], 1);
    assert_eq!(report["version"], "1.2.0");
    assert_eq!(report["verdict"], "unverifiable", "{report}");
    assert_eq!(report["repository"], LOOKALIKE);
    assert_eq!(report["repository_source"], "claimed");
    let reason = report["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains(&format!(
            "repository changed from {GENUINE} (named by version 1.1.0) to {LOOKALIKE}"
        )),
        "{reason}"
    );
    assert_eq!(report["files"], Value::Array(Vec::new()));

    // 1.1.0 is not in the lockfile: fetched through the index, it matches its repository.
    let report = w.json(&["popular@1.1.0"], 0);
    assert_eq!(report["verdict"], "matches", "{report}");
    // `diff NAME VERSION` names the same version, as `sign NAME VERSION` does.
    assert_eq!(w.json(&["popular", "1.1.0"], 0), report);
    assert_eq!(report["repository_source"], "claimed");
    assert_eq!(report["fetched_from"], w.genuine.url());
    assert_eq!(report["commit"], w.genuine.head());
    assert_eq!(report["commit_source"], "vcs_info");
    assert_eq!(report["ref"], "refs/heads/main");
    assert_eq!(report["tag"], Value::Null);
    assert_eq!(report["tag_commit_mismatch"], false);
    assert_eq!(report["dirty"], false);
    assert_eq!(report["path_in_vcs"], "");
    assert_eq!(report["warnings"], Value::Array(Vec::new()));
    let expected: Vec<(String, String)> = [
        (".cargo_vcs_info.json", "generated"),
        ("Cargo.lock", "generated"),
        ("Cargo.toml", "generated"),
        ("Cargo.toml.orig", "identical"),
        ("src/lib.rs", "identical"),
    ]
    .iter()
    .map(|(p, s)| (p.to_string(), s.to_string()))
    .collect();
    assert_eq!(statuses(&report), expected);

    // Pinning the genuine repository: the hijacked release's commit is not in it.
    w.ws.write_file(
        "Cargo.audit",
        &format!(
            "[sources]\npopular = \"{GENUINE}\"\n\n[url-rewrite]\n\"{GENUINE}\" = \"{}\"\n",
            w.genuine.url()
        ),
    );
    let report = w.json(&["popular"], 1);
    assert_eq!(report["verdict"], "unverifiable", "{report}");
    assert_eq!(report["repository_source"], "pinned");
    assert!(
        report["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("is not on any branch or tag")
    );
}

#[test]
fn a_tampered_copy_shows_the_changed_file_with_escaped_control_characters() {
    let w = world();
    let genuine = &w.releases[1];
    let clean = w.run(&["popular@1.1.0", "--color", "never"]);
    assert_eq!(
        clean.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&clean.stderr)
    );
    let text = String::from_utf8_lossy(&clean.stdout);
    assert!(text.starts_with("popular 1.1.0: matches\n"), "{text}");
    assert!(text.contains("repository  https://git.example/popular/popular (claimed by the crate, fetched from file://"), "{text}");
    // What was fetched only with -v: here, the local mirror read where it is.
    assert!(!text.contains("fetch "), "{text}");
    let verbose = w.run(&["popular@1.1.0", "--color", "never", "-v"]);
    let verbose = String::from_utf8_lossy(&verbose.stdout);
    assert!(
        verbose.contains("\n  fetch       read file://"),
        "{verbose}"
    );
    assert!(
        verbose.contains("in place (a local repository is not copied)\n"),
        "{verbose}"
    );

    let tampered = tamper_crate(
        &genuine.crate_bytes,
        "src/lib.rs",
        "pub fn answer() -> u32 {\n    // \u{1b}[2J\u{1b}[Hall clear\n    0\n}\n",
    );
    let file = w.cache.path().join("tampered.crate");
    std::fs::write(&file, tampered).expect("write");
    let file = file.display().to_string();
    let out = w.run(&[
        "popular",
        "--crate-file",
        &file,
        "--repo",
        &w.genuine.path().display().to_string(),
        "--color",
        "never",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        !out.stdout.contains(&0x1b),
        "a raw escape reached the terminal"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("popular 1.1.0: DIFFERS\n"), "{text}");
    assert!(text.contains("  modified  src/lib.rs\n"), "{text}");
    assert!(
        text.contains("--- repository/src/lib.rs\n+++ published/src/lib.rs\n"),
        "{text}"
    );
    assert!(
        text.contains("+    // \\u{1b}[2J\\u{1b}[Hall clear\n"),
        "{text}"
    );
    assert!(text.contains("-pub fn question() -> u32 {\n"), "{text}");

    let stat = w.run(&[
        "popular",
        "--crate-file",
        &file,
        "--repo",
        &w.genuine.path().display().to_string(),
        "--stat",
        "--color",
        "never",
    ]);
    let text = String::from_utf8_lossy(&stat.stdout);
    assert!(text.contains("  modified  src/lib.rs (+2 -5)\n"), "{text}");
    assert!(!text.contains("+++"), "--stat shows no diff: {text}");
}

#[test]
fn two_published_versions_are_compared_file_by_file() {
    let w = world();
    let diff = w.json(&["popular", "1.0.0", "1.1.0"], 1);
    assert_eq!(diff["old_version"], "1.0.0");
    assert_eq!(diff["new_version"], "1.1.0");
    let lib = diff["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["path"] == "src/lib.rs")
        .expect("src/lib.rs changed")
        .clone();
    assert_eq!(lib["status"], "modified");
    assert_eq!(lib["lines_added"], 4);
    assert_eq!(lib["lines_removed"], 0);
    assert_eq!(lib["binary"], false);
    assert_eq!(diff["totals"]["files_added"], 0);
    assert_eq!(diff["totals"]["files_removed"], 0);
    assert!(diff["totals"]["lines_added"].as_u64() >= Some(4), "{diff}");

    let out = w.run(&["popular", "1.0.0", "1.1.0", "--color", "never"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("popular 1.0.0 → 1.1.0: "), "{text}");
    assert!(text.contains("  M  src/lib.rs"), "{text}");
    assert!(text.contains("+pub fn question() -> u32 {\n"), "{text}");

    let same = w.json(&["popular", "1.1.0", "1.1.0"], 0);
    assert_eq!(same["files"], Value::Array(Vec::new()));
}

#[test]
fn usage_errors_exit_2_and_unreachable_repositories_exit_1() {
    let w = world();
    for args in [
        &["popular", "--repo", "http://plain.example/r"][..],
        &["popular@1.1.0", "1.0.0"][..],
        &["popular", "1.0.0", "1.1.0", "--repo", "/tmp"][..],
        &["../etc@1.0.0"][..],
        &["popular@1.x"][..],
        &["not-locked"][..],
    ] {
        let out = w.run(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stderr.is_empty(), "{args:?} printed no error");
    }
    let missing = w
        .cache
        .path()
        .join("no-such-repository")
        .display()
        .to_string();
    let report = w.json(&["popular@1.1.0", "--repo", &missing], 1);
    assert_eq!(report["verdict"], "unverifiable");
    assert!(
        report["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("unreachable"),
        "{report}"
    );
    // The human report says what to do about it.
    let out = w.run(&["popular@1.1.0", "--repo", &missing]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("hint: `--repo PATH`") && text.contains("[url-rewrite]"),
        "{text}"
    );
}

#[test]
fn per_machine_rewrites_in_the_user_config_win_over_cargo_audit() {
    let w = world();
    // The committed Cargo.audit sends the genuine repository to a mirror this machine lacks...
    let gone = w.cache.path().join("no-such-mirror");
    w.ws.write_file(
        "Cargo.audit",
        &format!("[url-rewrite]\n\"{GENUINE}\" = \"{}\"\n", gone.display()),
    );
    let config_home = tempfile::tempdir().expect("config home");
    let diff = |config_home: &Path| {
        let out = command_in(w.ws.path(), w.reg.cargo_home(), w.cache.path())
            .env("XDG_CONFIG_HOME", config_home)
            .args(["popular@1.1.0", "--format", "json"])
            .output()
            .expect("run cargo-audit-trust");
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), report)
    };
    let (code, report) = diff(config_home.path());
    assert_eq!(
        (code, &report["verdict"]),
        (Some(1), &Value::from("unverifiable")),
        "{report}"
    );
    // ...and this machine's config.toml points it at the clone it has: the machine wins.
    let dir = config_home.path().join("cargo-audit-trust");
    std::fs::create_dir_all(&dir).expect("config dir");
    std::fs::write(
        dir.join("config.toml"),
        format!("[url-rewrite]\n\"{GENUINE}\" = \"{}\"\n", w.genuine.url()),
    )
    .expect("write config");
    let (code, report) = diff(config_home.path());
    assert_eq!(
        (code, &report["verdict"]),
        (Some(0), &Value::from("matches")),
        "{report}"
    );
    // A config file that does not parse names itself and stops the run.
    std::fs::write(dir.join("config.toml"), "[url-rewrites]\n").expect("write config");
    let out = command_in(w.ws.path(), w.reg.cargo_home(), w.cache.path())
        .env("XDG_CONFIG_HOME", config_home.path())
        .arg("popular@1.1.0")
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("config.toml:1"), "{stderr}");
}
