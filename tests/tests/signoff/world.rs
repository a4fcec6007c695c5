//! Shared set-up of the sign-off end-to-end tests: `key new`, `sign`, `query` and `check` through the real binary, against crates published
//! with the real `cargo package` to a registry on a loopback port, with a real `Cargo.audit`
//! and a local sign-off store. Nothing here reaches the internet.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use audit_trust_e2e::{CrateSpec, LocalRegistry, Published, Workspace, binary_path};
use serde_json::Value;

pub const NOW: &str = "2025-06-01T12:00:00Z";

/// The custom criteria the tests sign with.
pub const CRITERIA: &str = "[criteria.safe-to-deploy]\ndescription = \"deployable\"\nimplies = [\"reviewed\"]\n\n\
    [criteria.c-offline]\ndescription = \"t\"\n[criteria.c-one]\ndescription = \"t\"\n\
    [criteria.c-two]\ndescription = \"t\"\n[criteria.c-three]\ndescription = \"t\"\n\
    [criteria.c-four]\ndescription = \"t\"\n[criteria.c-five]\ndescription = \"t\"\n\n";

pub struct World {
    pub reg: LocalRegistry,
    pub ws: Workspace,
    pub home: tempfile::TempDir,
    /// leafy 1.0.1 as published (`None` in worlds without leafy).
    pub leafy_101: Option<Published>,
}

pub fn world() -> World {
    let reg = LocalRegistry::start();
    reg.publish_crate(&CrateSpec::new("leafy", "1.0.0").file("src/lib.rs", "pub fn one() {}\n"));
    let leafy_101 = reg.publish_crate(
        &CrateSpec::new("leafy", "1.0.1").file("src/lib.rs", "pub fn one() {}\npub fn two() {}\n"),
    );
    reg.publish_crate(&CrateSpec::new("other", "0.1.0"));
    let ws = Workspace::single(
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\nleafy = \"=1.0.1\"\n",
        &[],
    );
    ws.generate_lockfile(&reg);
    World {
        reg,
        ws,
        home: tempfile::tempdir().expect("temp dir"),
        leafy_101: Some(leafy_101),
    }
}

impl World {
    pub fn cmd(&self) -> Command {
        self.cmd_at(NOW)
    }

    pub fn cmd_at(&self, now: &str) -> Command {
        let mut cmd = Command::new(binary_path("cargo-audit-trust"));
        for (key, _) in std::env::vars_os() {
            let key_text = key.to_string_lossy();
            if key_text.starts_with("CARGO_") || key_text.starts_with("AUDIT_TRUST_") {
                cmd.env_remove(key);
            }
        }
        cmd.env("CARGO_HOME", self.reg.cargo_home())
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env("CI", "1")
            .env("no_proxy", "127.0.0.1")
            .env("NO_PROXY", "127.0.0.1")
            .current_dir(self.ws.path())
            .arg("--cache-dir")
            .arg(self.home.path().join("cache"))
            .args(["--now", now]);
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd()
            .args(args)
            .output()
            .expect("run cargo-audit-trust")
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?} did not fail with 2");
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// A new key file; returns `(path, public key)`.
    pub fn new_key(&self, file: &str) -> (PathBuf, String) {
        let path = self.home.path().join(file);
        let public = self.ok(&["key", "new", "--out", path.to_str().expect("utf-8")]);
        (path, public.trim().to_owned())
    }

    pub fn write_audit_file(&self, keys: &str) {
        self.ws.write_file(
            "Cargo.audit",
            &format!(
                "{CRITERIA}[[auditor]]\nname = \"team\"\ncovers = [\"leafy\", \"other\"]\n\
                 records = {{ folder = \"supply-chain/sign-offs\" }}\nkeys = [{keys}]\n"
            ),
        );
    }

    /// SHA-256 of leafy 1.0.1's crate file.
    pub fn leafy_checksum(&self) -> &str {
        &self
            .leafy_101
            .as_ref()
            .expect("a world with leafy")
            .checksum_hex
    }

    pub fn store(&self) -> PathBuf {
        self.ws.path().join("supply-chain/sign-offs")
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

    pub fn query(&self, args: &[&str]) -> Value {
        let mut all = vec!["query", "--format", "json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).expect("JSON")
    }
}

pub fn path_arg(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}
