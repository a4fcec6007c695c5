//! A real cargo workspace in a temp dir, resolved against a [`LocalRegistry`].

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

use crate::registry::LocalRegistry;
use crate::{cargo_command, run_checked, temp_dir, write_file};

/// A member: `(dir, Cargo.toml contents, [(path relative to dir, contents)])`.
pub type Member<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);

/// A cargo workspace on disk; deleted when dropped.
#[derive(Debug)]
pub struct Workspace {
    dir: TempDir,
}

impl Workspace {
    /// Writes a root `Cargo.toml` (`[workspace]` listing every member dir) and the members.
    ///
    /// A member whose dir is `"."` is the root package instead: its manifest is written verbatim
    /// as the root `Cargo.toml` (add `[workspace]` to it yourself when there are other members).
    /// Members without `src/lib.rs` or `src/main.rs` among their files get an empty `src/lib.rs`.
    pub fn new(members: &[Member<'_>]) -> Workspace {
        let ws = Workspace {
            dir: temp_dir("workspace"),
        };
        let has_root = members.iter().any(|(dir, ..)| is_root(dir));
        if !has_root {
            let list: Vec<String> = members.iter().map(|(dir, ..)| format!("{dir:?}")).collect();
            let root = format!(
                "[workspace]\nresolver = \"2\"\nmembers = [{}]\n",
                list.join(", ")
            );
            ws.write_file("Cargo.toml", &root);
        }
        for (dir, manifest, files) in members {
            let base = if is_root(dir) {
                PathBuf::new()
            } else {
                PathBuf::from(dir)
            };
            ws.write_file(base.join("Cargo.toml"), manifest);
            if !files
                .iter()
                .any(|(p, _)| *p == "src/lib.rs" || *p == "src/main.rs")
            {
                ws.write_file(base.join("src/lib.rs"), "");
            }
            for (path, contents) in *files {
                ws.write_file(base.join(path), contents);
            }
        }
        ws
    }

    /// One package at the root, no `[workspace]` table needed.
    pub fn single(manifest: &str, files: &[(&str, &str)]) -> Workspace {
        Workspace::new(&[(".", manifest, files)])
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes (or overwrites) a file relative to the workspace root, creating parent dirs.
    pub fn write_file(&self, rel: impl AsRef<Path>, contents: &str) {
        write_file(&self.path().join(rel), contents);
    }

    pub fn read_file(&self, rel: impl AsRef<Path>) -> String {
        let path = self.path().join(rel);
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    /// `cargo` in the workspace root with `CARGO_HOME` = the registry's (see [`cargo_command`]).
    pub fn cargo(&self, reg: &LocalRegistry) -> Command {
        let mut cmd = cargo_command(reg.cargo_home());
        cmd.current_dir(self.path());
        cmd
    }

    /// Runs `cargo <args>` here and panics with its output on failure.
    pub fn run_cargo(&self, reg: &LocalRegistry, args: &[&str]) -> Output {
        run_checked(self.cargo(reg).args(args))
    }

    /// The real `cargo generate-lockfile` against the local registry; returns the new `Cargo.lock`.
    pub fn generate_lockfile(&self, reg: &LocalRegistry) -> String {
        self.run_cargo(reg, &["generate-lockfile"]);
        self.lockfile()
    }

    /// The real `cargo fetch`: downloads into `reg.cargo_home()/registry/cache/*/`.
    pub fn fetch(&self, reg: &LocalRegistry) {
        self.run_cargo(reg, &["fetch"]);
    }

    pub fn lockfile_path(&self) -> PathBuf {
        self.path().join("Cargo.lock")
    }

    pub fn lockfile(&self) -> String {
        self.read_file("Cargo.lock")
    }

    pub fn locked_packages(&self) -> Vec<LockedPackage> {
        LockedPackage::parse(&self.lockfile())
    }
}

fn is_root(dir: &str) -> bool {
    dir.is_empty() || dir == "."
}

/// One `[[package]]` of a `Cargo.lock`, enough for assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedPackage {
    pub name: String,
    pub version: String,
    /// `None` for workspace members.
    pub source: Option<String>,
    pub checksum: Option<String>,
}

impl LockedPackage {
    /// A line-based reader of the format cargo writes (no TOML parser dependency needed).
    pub fn parse(lockfile: &str) -> Vec<LockedPackage> {
        let mut out: Vec<LockedPackage> = Vec::new();
        let mut in_package = false;
        for line in lockfile.lines().map(str::trim) {
            if line.starts_with('[') {
                in_package = line == "[[package]]";
                if in_package {
                    let empty = String::new;
                    out.push(LockedPackage {
                        name: empty(),
                        version: empty(),
                        source: None,
                        checksum: None,
                    });
                }
                continue;
            }
            let (Some(pkg), Some((key, value))) = (
                out.last_mut().filter(|_| in_package),
                line.split_once(" = "),
            ) else {
                continue;
            };
            let value = value.trim_matches('"').to_owned();
            match key {
                "name" => pkg.name = value,
                "version" => pkg.version = value,
                "source" => pkg.source = Some(value),
                "checksum" => pkg.checksum = Some(value),
                _ => {}
            }
        }
        out
    }
}
