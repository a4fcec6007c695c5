//! End-to-end test helpers: a real sparse cargo registry on a loopback port, real cargo
//! workspaces in temp dirs, the paths of the workspace's built binaries, and the harness that
//! runs them ([`World`], [`RegistryProcess`]).
//!
//! Nothing here touches the internet or `~/.cargo`: every cargo invocation gets a temp
//! `CARGO_HOME` whose config replaces crates-io with a [`LocalRegistry`].

pub mod check_world;
mod crate_file;
pub mod doc_commands;
pub mod fixture;
mod freshness;
mod git_daemon;
mod git_repo;
pub mod hijack;
mod hostile_git;
mod index_entry;
mod registry;
mod server;
pub mod tmux;
mod workspace;
mod world;

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

pub use crate_file::{build_crate, crate_files, tamper_crate};
pub use git_daemon::GitDaemon;
pub use git_repo::{GitRepo, PackagedCrate, git_command, package_crate};
pub use hostile_git::{HostileGitServer, Lie};
pub use registry::{CrateSpec, LocalRegistry, Published, index_path};
pub use server::{RequestRecord, StaticServer, hex};
pub use workspace::{LockedPackage, Member, Workspace};
pub use world::{
    NOW, RegistryProcess, WitnessProcess, World, admin_token, cli_command, registry_admin,
    sqlite_url, status_of,
};

/// A `cargo` command isolated from the developer's environment, with `CARGO_HOME` = `cargo_home`.
///
/// Uses the cargo running the tests (`$CARGO`) so the toolchain matches. Inherited `CARGO_*`
/// variables are removed: `cargo test` exports package variables, and settings such as
/// `CARGO_TARGET_DIR` or `CARGO_NET_OFFLINE` would leak into fixtures (a shared target dir, or no
/// access to the local registry). Loopback bypasses any configured proxy.
pub fn cargo_command(cargo_home: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut cmd = Command::new(cargo);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("CARGO_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("CARGO_HOME", cargo_home)
        .env("CARGO_TERM_COLOR", "never")
        .env("no_proxy", "127.0.0.1,localhost")
        .env("NO_PROXY", "127.0.0.1,localhost");
    cmd
}

/// Runs `cmd` to completion; panics with the command line, stdout and stderr when it fails.
pub fn run_checked(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({})\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    out
}

/// Path of a binary built from this workspace, e.g. `binary_path("cargo-audit-trust")`, checked
/// to be up to date with its sources.
///
/// This crate's tests cannot have cargo's `CARGO_BIN_EXE_*` for another package's binaries, so
/// they find them where cargo puts them: integration tests run from `target/<profile>/deps/`, and
/// binaries of other packages live one level up. `cargo test --workspace` builds them (both
/// binary packages have integration tests of their own); a narrower run (`--test NAME`) does
/// not, and would run whatever binary an earlier build left. So the binary is compared with the
/// dep-info file cargo writes beside it (the sources of the binary and of its path dependencies,
/// the very files cargo watches), and a binary older than any of them fails the test with the
/// command that rebuilds it, instead of testing old code.
pub fn binary_path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("path of the running test binary");
    let mut dir = exe
        .parent()
        .expect("test binary has a parent dir")
        .to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    // With cargo's `build.build-dir` moved (one build folder shared by several checkouts), test
    // binaries run from there while binaries land in the target folder, which cargo names in the
    // environment it was started with.
    if let (Some(target), Some(profile)) = (std::env::var_os("CARGO_TARGET_DIR"), dir.file_name()) {
        let candidate = PathBuf::from(target).join(profile);
        if candidate.is_dir() {
            dir = candidate;
        }
    }
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "binary `{name}` not found at {}: run `cargo build --workspace --bins` (same profile as the \
         tests) before the end-to-end tests",
        path.display()
    );
    // Checked once per binary and test process.
    static FRESH: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    let mut fresh = FRESH
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if fresh.contains(&path) {
        return path;
    }
    if let Err(why) = freshness::check(&path) {
        panic!(
            "binary `{name}` at {} is stale: {why}. Run `cargo build --workspace --bins` (same \
             profile and CARGO_TARGET_DIR as the tests) so the end-to-end tests run the code in \
             this checkout",
            path.display()
        );
    }
    fresh.push(path.clone());
    path
}

pub(crate) fn write_file(path: &Path, contents: &str) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap_or_else(|e| panic!("create {}: {e}", parent.display()));
    }
    fs::write(path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

pub(crate) fn temp_dir(what: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(&format!("audit-trust-e2e-{what}-"))
        .tempdir()
        .expect("create a temp dir")
}
