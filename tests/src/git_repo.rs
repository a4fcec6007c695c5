//! Real git repositories in temp dirs, driven by the real `git` command, and crates packaged from
//! them by the real `cargo package` (which records `.cargo_vcs_info.json`). Nothing is faked:
//! provenance tests check against exactly what git and cargo produce.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use crate::{cargo_command, run_checked, temp_dir};

/// A non-bare repository with a work tree, on branch `main`; deleted when dropped.
#[derive(Debug)]
pub struct GitRepo {
    dir: TempDir,
}

/// `git` isolated from the developer's configuration, with a fixed identity and dates so commit
/// ids do not depend on who runs the tests.
pub fn git_command(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.com")
        .env("GIT_COMMITTER_NAME", "Test Author")
        .env("GIT_COMMITTER_EMAIL", "author@example.com")
        .env("GIT_AUTHOR_DATE", "2024-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2024-01-01T00:00:00Z")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE");
    cmd
}

impl GitRepo {
    /// `git init` with `main` as the default branch and no line-ending conversion.
    pub fn init() -> GitRepo {
        let repo = GitRepo {
            dir: temp_dir("git"),
        };
        repo.git(&["init", "--quiet", "--initial-branch=main"]);
        repo.git(&["config", "core.autocrlf", "false"]);
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `file://` URL of this repository.
    pub fn url(&self) -> String {
        format!("file://{}", self.path().display())
    }

    /// Runs `git <args>` here; panics on failure; returns stdout, trimmed.
    pub fn git<S: AsRef<OsStr>>(&self, args: &[S]) -> String {
        let out = run_checked(git_command(self.path()).args(args));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Writes a file (creating folders), relative to the work tree.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) {
        let path = self.path().join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create folders");
        }
        fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    pub fn read(&self, rel: &str) -> Vec<u8> {
        fs::read(self.path().join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    /// Creates the symlink `rel` → `target` (as git stores it: the target text).
    pub fn symlink(&self, rel: &str, target: &str) {
        let path = self.path().join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create folders");
        }
        std::os::unix::fs::symlink(target, &path)
            .unwrap_or_else(|e| panic!("symlink {}: {e}", path.display()));
    }

    /// `git add -A && git commit`; returns the new commit id.
    pub fn commit_all(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "--quiet", "--allow-empty", "-m", message]);
        self.head()
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"])
    }

    /// A lightweight tag at `rev`, moved there if it already exists.
    pub fn tag(&self, name: &str, rev: &str) {
        self.git(&["tag", "--force", name, rev]);
    }

    /// An annotated tag at `rev`.
    pub fn annotated_tag(&self, name: &str, rev: &str) {
        self.git(&["tag", "--force", "-a", "-m", name, name, rev]);
    }

    /// `git checkout [-b] branch`.
    pub fn checkout(&self, branch: &str, create: bool) {
        if create {
            self.git(&["checkout", "--quiet", "-b", branch]);
        } else {
            self.git(&["checkout", "--quiet", branch]);
        }
    }

    /// A bare clone of this repository (`git clone --bare`), e.g. to serve as a mirror.
    pub fn bare_clone(&self) -> TempDir {
        let dir = temp_dir("bare");
        run_checked(
            git_command(self.path())
                .args(["clone", "--quiet", "--bare", "--no-local"])
                .arg(self.path())
                .arg(dir.path()),
        );
        dir
    }
}

/// A `.crate` made by the real `cargo package`.
#[derive(Debug, Clone)]
pub struct PackagedCrate {
    pub bytes: Vec<u8>,
    pub path: PathBuf,
}

/// Runs `cargo package --no-verify --offline [extra]` on `manifest` with an empty `CARGO_HOME`
/// (no network, no registry: the package must have no registry dependencies) and returns the
/// `.crate`. `output` holds the target dir, outside the repository.
pub fn package_crate(manifest: &Path, extra: &[&str], output: &Path) -> PackagedCrate {
    let home = output.join("cargo-home");
    fs::create_dir_all(&home).expect("create CARGO_HOME");
    let target = output.join("target");
    let package_dir = target.join("package");
    // Earlier packages from the same output dir must not be picked up.
    let _ = fs::remove_dir_all(&package_dir);
    run_checked(
        cargo_command(&home)
            .args(["package", "--no-verify", "--offline", "--quiet"])
            .args(extra)
            .arg("--manifest-path")
            .arg(manifest)
            .arg("--target-dir")
            .arg(&target),
    );
    let crate_path = fs::read_dir(&package_dir)
        .expect("cargo package wrote target/package")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension() == Some(OsStr::new("crate")))
        .expect("a .crate in target/package");
    PackagedCrate {
        bytes: fs::read(&crate_path).expect("read .crate"),
        path: crate_path,
    }
}
