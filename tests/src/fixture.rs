//! The standard fixture of the end-to-end tests: a local registry with every kind of package
//! `stats` and `check` tell apart, and a two-member workspace resolved against it.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::{CrateSpec, LocalRegistry, Workspace, cli_command};

/// A small world with every kind of package `stats` tells apart.
pub struct Fixture {
    pub reg: LocalRegistry,
    pub ws: Workspace,
}

pub const LEAFY_1: &str = r#"//! Leafy: its unsafe words in comments and strings must not count.
/// Reads a byte. `unsafe { }` in a doc comment.
pub fn one() -> u8 {
    // unsafe { not counted }
    let _s = "unsafe { }";
    unsafe { std::ptr::read(&1u8) }
}
"#;

pub fn fixture() -> Fixture {
    let reg = LocalRegistry::start();
    reg.publish_crate(&CrateSpec::new("leafy", "1.0.0").file("src/lib.rs", LEAFY_1));
    reg.publish_crate(
        &CrateSpec::new("leafy", "2.0.0").file("src/lib.rs", "pub fn two() -> u8 {\n    2\n}\n"),
    );
    reg.publish_crate(
        &CrateSpec::new("middle", "0.2.0")
            .dep("leafy", "^1")
            .file("src/lib.rs", "pub fn mid() -> u8 {\n    leafy::one()\n}\n"),
    );
    reg.publish_crate(&CrateSpec::new("cc", "1.0.0"));
    reg.publish_crate(
        &CrateSpec::new("nativelib", "0.1.0")
            .manifest("links = \"nat\"")
            .build_dep("cc", "1")
            .file("build.rs", "fn main() {}\n")
            .file("src/lib.rs", "extern \"C\" {\n    fn nat();\n}\n"),
    );
    reg.publish_crate(
        &CrateSpec::new("macros", "0.1.0")
            .manifest("[lib]\nproc-macro = true")
            .file("src/lib.rs", "#![forbid(unsafe_code)]\n"),
    );
    reg.publish_crate(&CrateSpec::new("devonly", "0.1.0"));

    let ws = Workspace::new(&[
        (
            "app",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [dependencies]\nmiddle = \"0.2\"\nleafy = \"2\"\nnativelib = \"0.1\"\nmacros = \"0.1\"\n\
             helper = { path = \"../helper\" }\n\n[dev-dependencies]\ndevonly = \"0.1\"\n",
            &[("src/main.rs", "fn main() {}\n")],
        ),
        (
            "helper",
            "[package]\nname = \"helper\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
            &[],
        ),
    ]);
    ws.generate_lockfile(&reg);
    Fixture { reg, ws }
}

impl Fixture {
    /// Runs the binary with this registry's `CARGO_HOME` and the given cache folder.
    pub fn run(&self, cache: &Path, args: &[&str]) -> Output {
        self.run_with_env(cache, &[], args)
    }

    /// [`Self::run`] with extra environment variables.
    pub fn run_with_env(&self, cache: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
        self.run_in(self.ws.path(), cache, env, args)
    }

    /// [`Self::run_with_env`] in the folder `cwd` instead of the workspace root.
    pub fn run_in(&self, cwd: &Path, cache: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
        // Outputs that depend on the surroundings (annotations, the date) are set by each test.
        let mut cmd = cli_command(self.reg.cargo_home());
        cmd.current_dir(cwd)
            .arg("--cache-dir")
            .arg(cache)
            .args(args);
        for (key, value) in env {
            cmd.env(key, value);
        }
        cmd.output().expect("run cargo-audit-trust")
    }

    pub fn json(&self, cache: &Path, args: &[&str]) -> Value {
        let out = self.run(cache, args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("JSON output")
    }

    pub fn lockfile_arg(&self) -> String {
        self.ws.lockfile_path().display().to_string()
    }

    pub fn downloads(&self) -> usize {
        self.reg
            .requests()
            .iter()
            .filter(|r| r.path.starts_with("/dl/"))
            .count()
    }
}

/// The entry for `name@version` in a `list --format json` array.
pub fn package<'a>(list: &'a Value, name: &str, version: &str) -> &'a Value {
    list.as_array()
        .expect("list is an array")
        .iter()
        .find(|p| p["name"] == name && p["version"] == version)
        .unwrap_or_else(|| panic!("{name}@{version} not listed"))
}
