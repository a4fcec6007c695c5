//! The end-to-end harness: one [`World`] (a local registry, a workspace resolved against it and
//! a home folder) that runs the real `cargo-audit-trust` isolated from the developer's machine,
//! and [`RegistryProcess`], a real `audit-registry serve` on a loopback port. Every test that
//! drives the binaries starts them through here, so the isolation (no `CARGO_*` or
//! `AUDIT_TRUST_*` from the outer cargo, a temp `HOME`, loopback past any proxy) is written once.

use std::ffi::OsStr;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;
use tempfile::TempDir;

use crate::{LocalRegistry, Workspace, binary_path};

/// The clock the harness's commands run at unless a test says otherwise (`--now`).
pub const NOW: &str = "2025-06-01T12:00:00Z";

/// `cargo-audit-trust` with nothing of the developer's environment that changes what it does:
/// `CARGO_*` (the outer `cargo test` exports its own) and `AUDIT_TRUST_*` are removed, as are
/// `GITHUB_ACTIONS` and `AUDIT_REGISTRY_TOKEN`; `CARGO_HOME` is `cargo_home` (a local
/// registry's), and loopback bypasses any proxy. [`World`] also gives it a home folder of its own.
pub fn cli_command(cargo_home: &Path) -> Command {
    let mut cmd = Command::new(binary_path("cargo-audit-trust"));
    for (key, _) in std::env::vars_os() {
        let key_text = key.to_string_lossy();
        if key_text.starts_with("CARGO_") || key_text.starts_with("AUDIT_TRUST_") {
            cmd.env_remove(key);
        }
    }
    cmd.env_remove("GITHUB_ACTIONS")
        .env_remove("AUDIT_REGISTRY_TOKEN")
        .env("CARGO_HOME", cargo_home)
        .env("no_proxy", "127.0.0.1,localhost")
        .env("NO_PROXY", "127.0.0.1,localhost");
    cmd
}

/// A local registry, a workspace resolved against it, and a home folder for the CLI's keys,
/// config and cache. Commands run in the workspace, with `--cache-dir HOME/cache`, `--now NOW`
/// and `CI=1` (no progress bars).
pub struct World {
    pub reg: LocalRegistry,
    pub ws: Workspace,
    pub home: TempDir,
}

impl World {
    pub fn new(reg: LocalRegistry, ws: Workspace) -> World {
        World {
            reg,
            ws,
            home: crate::temp_dir("home"),
        }
    }

    /// `cargo-audit-trust` in the workspace at [`NOW`].
    pub fn cmd(&self) -> Command {
        self.cmd_at(NOW)
    }

    /// `cargo-audit-trust` in the workspace at `now`.
    pub fn cmd_at(&self, now: &str) -> Command {
        let mut cmd = cli_command(self.reg.cargo_home());
        cmd.env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env("CI", "1")
            .current_dir(self.ws.path())
            .arg("--cache-dir")
            .arg(self.cache_dir())
            .args(["--now", now]);
        cmd
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.home.path().join("cache")
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd()
            .args(args)
            .output()
            .expect("run cargo-audit-trust")
    }

    /// Runs `args`, which must succeed; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs `args`, which must fail with exit code 2; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?} did not fail with 2:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// A new key file in the home folder, made by `key new`; returns `(path, public key)`.
    pub fn new_key(&self, file: &str) -> (PathBuf, String) {
        let path = self.home.path().join(file);
        let public = self.ok(&["key", "new", "--out", path.to_str().expect("utf-8")]);
        (path, public.trim().to_owned())
    }

    /// `check --format json ARGS`: the exit code and the report (a test failure, with stderr,
    /// when there is no report).
    pub fn check_json(&self, args: &[&str]) -> (Option<i32>, Value) {
        let out = self
            .cmd()
            .args(["check", "--format", "json"])
            .args(args)
            .output()
            .expect("run check");
        let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "check {args:?} wrote no JSON report ({e}):\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code(), report)
    }

    /// `query --format json ARGS`, which must succeed.
    pub fn query(&self, args: &[&str]) -> Value {
        let mut all = vec!["query", "--format", "json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).expect("JSON")
    }

    /// `query` when an auditor covering the crate has a log that does not verify: what was
    /// served is printed, and the query fails (exit 2) because a flag may be missing.
    pub fn query_refused(&self, args: &[&str]) -> Value {
        let mut all = vec!["query", "--format", "json"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{all:?}: {stderr}");
        assert!(stderr.contains("a flag may be withheld"), "{stderr}");
        serde_json::from_slice(&out.stdout).expect("JSON")
    }
}

/// The status of the package `name` in a `check --format json` report (empty when it is not
/// there).
pub fn status_of(report: &Value, name: &str) -> String {
    report["packages"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == name))
        .and_then(|p| p["status"].as_str())
        .unwrap_or_default()
        .to_owned()
}

/// The database URL of a SQLite file.
pub fn sqlite_url(db: &Path) -> String {
    format!("sqlite://{}", db.display())
}

/// Runs an `audit-registry` admin command (`auditor add`, `admin-token new`, `export`, …) on the
/// database `db` (a URL); it must succeed. Returns stdout.
pub fn registry_admin(db: &str, args: &[&str]) -> String {
    let out = Command::new(binary_path("audit-registry"))
        .args(args)
        .args(["--db", db])
        .output()
        .expect("run audit-registry");
    assert!(
        out.status.success(),
        "audit-registry {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A new admin token named `name` for the registry database `db`.
pub fn admin_token(db: &str, name: &str) -> String {
    registry_admin(db, &["admin-token", "new", name])
        .trim()
        .to_owned()
}

/// A running `audit-registry serve` on a loopback port, killed when dropped.
pub struct RegistryProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`, as the server announced it.
    pub url: String,
}

impl RegistryProcess {
    /// `audit-registry serve --listen 127.0.0.1:0 --db DB OPTIONS…`.
    pub fn serve<S: AsRef<OsStr>>(db: &str, options: &[S]) -> RegistryProcess {
        RegistryProcess::serve_at("127.0.0.1:0", db, options)
    }

    /// [`Self::serve`] on the address `listen` (to start again where a stopped server listened,
    /// so clients find it at the same URL). Returns once the server says where it listens.
    /// Logs only errors, to this test's stderr.
    pub fn serve_at<S: AsRef<OsStr>>(listen: &str, db: &str, options: &[S]) -> RegistryProcess {
        let listen = listen.trim_start_matches("http://");
        let fixed = ["serve", "--listen", listen, "--db", db];
        let mut args: Vec<&OsStr> = fixed.iter().map(OsStr::new).collect();
        args.extend(options.iter().map(AsRef::as_ref));
        let (child, url) = start_listening(&args);
        RegistryProcess { url, child }
    }

    /// Stops the server at once (SIGKILL), as a crash would.
    pub fn kill(self) {
        drop(self);
    }
}

impl Drop for RegistryProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running `audit-registry witness` on a loopback port, killed when dropped.
pub struct WitnessProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`, as the witness announced it.
    pub url: String,
}

impl WitnessProcess {
    /// `audit-registry witness ARGS…` (which include `--listen`). Returns once the witness says
    /// where it listens; it has then read its state and taken its lock.
    pub fn start<S: AsRef<OsStr>>(args: &[S]) -> WitnessProcess {
        let mut all = vec![OsStr::new("witness")];
        all.extend(args.iter().map(AsRef::as_ref));
        let (child, url) = start_listening(&all);
        WitnessProcess { child, url }
    }
}

impl Drop for WitnessProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `audit-registry ARGS…` and reads the `listening on URL` line it prints first. Logs
/// only errors, to this test's stderr.
fn start_listening(args: &[&OsStr]) -> (Child, String) {
    let mut child = Command::new(binary_path("audit-registry"))
        .args(args)
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start audit-registry");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("first line");
    let Some(url) = line.trim().strip_prefix("listening on ") else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("unexpected first line from audit-registry {args:?}: {line:?}");
    };
    (child, url.to_owned())
}
