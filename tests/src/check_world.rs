//! The world of the risk and pull-request tests: a loopback registry, a workspace resolved
//! against it, and the folders `check` and `update` use (cache, home, a local advisory
//! database that starts empty), run at a fixed instant. Shared so that the hijack replay and
//! pull-request mode are built from the same parts.

use serde_json::Value;
use tempfile::TempDir;

use crate::{LocalRegistry, Workspace, git_command};

pub struct CheckWorld {
    pub reg: LocalRegistry,
    pub ws: Workspace,
    pub cache: TempDir,
    pub home: TempDir,
    /// The advisory database (`crates/NAME/ID.md` files); empty and undated at first.
    pub db: TempDir,
    /// `--now` of every command.
    pub now: &'static str,
}

impl CheckWorld {
    pub fn new(reg: LocalRegistry, ws: Workspace, now: &'static str) -> CheckWorld {
        let w = CheckWorld {
            reg,
            ws,
            cache: tempfile::tempdir().expect("cache"),
            home: tempfile::tempdir().expect("home"),
            db: tempfile::tempdir().expect("db"),
            now,
        };
        std::fs::create_dir_all(w.db.path().join("crates")).expect("empty advisory db");
        w
    }

    /// `cargo-audit-trust ARGS` in the workspace at `now`; `check` and `update` read the
    /// local advisory database (`check` accepts it undated). Exit code, stdout, stderr.
    pub fn run(&self, args: &[&str]) -> (Option<i32>, String, String) {
        self.run_env(&[], args)
    }

    /// [`Self::run`] with extra environment variables (`GITHUB_*` are unset unless given).
    pub fn run_env(&self, env: &[(&str, &str)], args: &[&str]) -> (Option<i32>, String, String) {
        let db = self.db.path().display().to_string();
        let mut all: Vec<&str> = vec!["--now", self.now, "--color", "never"];
        all.extend_from_slice(args);
        if args.iter().any(|a| ["update", "check"].contains(a)) {
            all.extend_from_slice(&["--advisory-db", &db]);
        }
        if args.contains(&"check") {
            all.push("--allow-stale");
        }
        let out = crate::cli_command(self.reg.cargo_home())
            .env("HOME", self.home.path())
            .env_remove("GITHUB_BASE_REF")
            .envs(env.iter().copied())
            .current_dir(self.ws.path())
            .arg("--cache-dir")
            .arg(self.cache.path())
            .args(&all)
            .output()
            .expect("run cargo-audit-trust");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// The JSON a command printed, after checking its exit code.
    pub fn json(&self, args: &[&str], code: i32) -> Value {
        let (status, stdout, stderr) = self.run(args);
        assert_eq!(status, Some(code), "{args:?}\n{stdout}\n{stderr}");
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    }

    /// `git ARGS` in the workspace; its trimmed stdout.
    pub fn git(&self, args: &[&str]) -> String {
        git(&self.ws, args)
    }
}

/// `git ARGS` in `ws`; its trimmed stdout (panics when git fails).
pub fn git(ws: &Workspace, args: &[&str]) -> String {
    let out = git_command(ws.path()).args(args).output().expect("run git");
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The verdict on `name@version` in a `check --format json` report.
pub fn verdict<'a>(report: &'a Value, name: &str, version: &str) -> &'a Value {
    report["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == name && p["version"] == version)
        .unwrap_or_else(|| panic!("{name}@{version} missing from {report}"))
}

/// `(signal, severity)` of every risk reason of a verdict.
pub fn risk_signals(v: &Value) -> Vec<(String, String)> {
    v["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .filter(|r| r["code"] == "risk" && r["details"]["signal"].is_string())
        .map(|r| {
            let text = |x: &Value| x.as_str().unwrap_or_default().to_owned();
            (text(&r["details"]["signal"]), text(&r["severity"]))
        })
        .collect()
}
