//! How every command finds the project's files. These are the only discovery rules; `--help`
//! (`cli.rs`) and docs/guide.md ("Where the tool looks for your files") state them.
//!
//! 1. **`Cargo.toml`**: `--manifest-path`, else the nearest `Cargo.toml` in the current folder
//!    or above it, as cargo finds it. None with `--lockfile` (lockfile-only mode reads no
//!    manifests).
//! 2. **`Cargo.lock`**: `--lockfile`, else the nearest `Cargo.lock` in the manifest's folder or
//!    above it (a workspace member's lockfile is the workspace root's); without a manifest, the
//!    nearest one in the current folder or above.
//! 3. **`Cargo.audit`**: `--audit-file`, else the nearest `Cargo.audit` in the lockfile's folder
//!    or above it; without a lockfile, from the manifest's folder, else the current folder.
//!
//! So a command run in a member folder sees the same files as in the workspace root, and
//! `--lockfile PATH` alone finds the `Cargo.audit` next to that lockfile. Relative paths are
//! taken from the current folder. Nothing is read here: a path that does not exist is reported
//! by whoever opens it.

use std::path::{Path, PathBuf};

use audit_trust_core::audit_file::AUDIT_FILE_NAME;

pub const MANIFEST_NAME: &str = "Cargo.toml";
pub const LOCKFILE_NAME: &str = "Cargo.lock";

/// The paths given on the command line (`--manifest-path`, `--lockfile`, `--audit-file`).
#[derive(Debug, Clone, Default)]
pub struct GivenPaths {
    pub manifest: Option<PathBuf>,
    pub lockfile: Option<PathBuf>,
    pub audit_file: Option<PathBuf>,
}

/// Where the project's files are, absolute. `None`: not given and not found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectPaths {
    /// The folder the search started from (the current folder); named in "not found" messages.
    pub start: PathBuf,
    /// The manifest `cargo metadata` runs on; `None` in lockfile-only mode or when none is found.
    pub manifest: Option<PathBuf>,
    pub lockfile: Option<PathBuf>,
    pub audit_file: Option<PathBuf>,
    /// `--lockfile` was given: no manifests, no `cargo metadata`.
    pub lockfile_only: bool,
}

impl ProjectPaths {
    /// The folder the project lives in: the lockfile's (the workspace root), else the manifest's,
    /// else where the search started. Cargo's configuration is looked up from here.
    pub fn root(&self) -> PathBuf {
        self.lockfile
            .as_deref()
            .or(self.manifest.as_deref())
            .and_then(Path::parent)
            .unwrap_or(&self.start)
            .to_path_buf()
    }

    /// The folder `Cargo.audit`'s relative paths (record folders, `[advisories] db`) start from:
    /// the audit file's own folder, else the project root.
    pub fn audit_dir(&self) -> PathBuf {
        self.audit_file
            .as_deref()
            .and_then(Path::parent)
            .map_or_else(|| self.root(), Path::to_path_buf)
    }
}

/// Applies the rules above to `given`, relative to the folder `cwd`.
pub fn discover(given: &GivenPaths, cwd: &Path) -> ProjectPaths {
    let absolute = |path: &Path| normalize(&cwd.join(path));
    let lockfile_only = given.lockfile.is_some();
    let manifest = match (&given.lockfile, &given.manifest) {
        (Some(_), _) => None,
        (None, Some(manifest)) => Some(absolute(manifest)),
        (None, None) => nearest(cwd, MANIFEST_NAME),
    };
    let lockfile = match &given.lockfile {
        Some(lockfile) => Some(absolute(lockfile)),
        None => {
            let from = manifest.as_deref().and_then(Path::parent).unwrap_or(cwd);
            nearest(from, LOCKFILE_NAME)
        }
    };
    let audit_file = match &given.audit_file {
        Some(path) => Some(absolute(path)),
        None => {
            let from = lockfile
                .as_deref()
                .or(manifest.as_deref())
                .and_then(Path::parent)
                .unwrap_or(cwd);
            nearest(from, AUDIT_FILE_NAME)
        }
    };
    ProjectPaths {
        start: cwd.to_path_buf(),
        manifest,
        lockfile,
        audit_file,
        lockfile_only,
    }
}

/// The nearest file called `name` in `dir` or a folder above it.
fn nearest(dir: &Path, name: &str) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join(name))
        .find(|candidate| candidate.is_file())
}

/// `path` without `.` parts and with `..` applied to what comes before it, so that walking up
/// from `../Cargo.lock` visits real parents (the file system is not asked: no symlinks resolved).
fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push(component);
                }
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    /// A temp folder laid out as a workspace: `root/{Cargo.toml, Cargo.lock, Cargo.audit}` and
    /// a member `root/member/Cargo.toml` with `src/`.
    struct Tree {
        dir: tempfile::TempDir,
    }

    impl Tree {
        fn new(files: &[&str]) -> Tree {
            let tree = Tree {
                dir: tempfile::tempdir().expect("temp dir"),
            };
            for file in files {
                let path = tree.path(file);
                if let Some(parent) = path.parent() {
                    fs::create_dir_all(parent).expect("mkdir");
                }
                fs::write(&path, "").expect("write");
            }
            tree
        }

        fn path(&self, rel: &str) -> PathBuf {
            self.dir.path().join(rel)
        }

        fn workspace() -> Tree {
            Tree::new(&[
                "root/Cargo.toml",
                "root/Cargo.lock",
                "root/Cargo.audit",
                "root/member/Cargo.toml",
                "root/member/src/lib.rs",
            ])
        }
    }

    fn given(manifest: Option<PathBuf>, lockfile: Option<PathBuf>) -> GivenPaths {
        GivenPaths {
            manifest,
            lockfile,
            audit_file: None,
        }
    }

    #[test]
    fn the_root_finds_its_own_files() {
        let t = Tree::workspace();
        let found = discover(&GivenPaths::default(), &t.path("root"));
        assert_eq!(found.manifest, Some(t.path("root/Cargo.toml")));
        assert_eq!(found.lockfile, Some(t.path("root/Cargo.lock")));
        assert_eq!(found.audit_file, Some(t.path("root/Cargo.audit")));
        assert!(!found.lockfile_only);
        assert_eq!(found.root(), t.path("root"));
    }

    #[test]
    fn a_member_folder_finds_the_workspace_lockfile_and_audit_file() {
        let t = Tree::workspace();
        for cwd in ["root/member", "root/member/src"] {
            let found = discover(&GivenPaths::default(), &t.path(cwd));
            assert_eq!(
                found.manifest,
                Some(t.path("root/member/Cargo.toml")),
                "{cwd}"
            );
            assert_eq!(found.lockfile, Some(t.path("root/Cargo.lock")), "{cwd}");
            assert_eq!(found.audit_file, Some(t.path("root/Cargo.audit")), "{cwd}");
            assert_eq!(found.root(), t.path("root"), "{cwd}");
        }
    }

    #[test]
    fn manifest_path_is_walked_up_from_not_the_current_folder() {
        let t = Tree::workspace();
        let elsewhere = Tree::new(&["Cargo.toml", "Cargo.lock"]);
        let manifest = t.path("root/member/Cargo.toml");
        let found = discover(&given(Some(manifest.clone()), None), elsewhere.dir.path());
        assert_eq!(found.manifest, Some(manifest));
        assert_eq!(found.lockfile, Some(t.path("root/Cargo.lock")));
        assert_eq!(found.audit_file, Some(t.path("root/Cargo.audit")));
    }

    #[test]
    fn lockfile_alone_finds_the_audit_file_next_to_it_and_no_manifest() {
        let t = Tree::new(&["image/Cargo.lock", "image/Cargo.audit", "cwd/Cargo.toml"]);
        let found = discover(
            &given(None, Some(t.path("image/Cargo.lock"))),
            &t.path("cwd"),
        );
        assert!(found.lockfile_only);
        assert_eq!(found.manifest, None);
        assert_eq!(found.lockfile, Some(t.path("image/Cargo.lock")));
        assert_eq!(found.audit_file, Some(t.path("image/Cargo.audit")));
    }

    #[test]
    fn relative_paths_are_taken_from_the_current_folder() {
        let t = Tree::workspace();
        let found = discover(
            &given(None, Some(PathBuf::from("../Cargo.lock"))),
            &t.path("root/member"),
        );
        assert_eq!(found.lockfile, Some(t.path("root/Cargo.lock")));
        assert_eq!(found.audit_file, Some(t.path("root/Cargo.audit")));
    }

    #[test]
    fn audit_file_is_taken_as_given() {
        let t = Tree::workspace();
        let found = discover(
            &GivenPaths {
                audit_file: Some(PathBuf::from("policy/Other.audit")),
                ..GivenPaths::default()
            },
            &t.path("root"),
        );
        assert_eq!(found.audit_file, Some(t.path("root/policy/Other.audit")));
        assert_eq!(found.audit_dir(), t.path("root/policy"));
    }

    #[test]
    fn without_a_lockfile_the_audit_file_is_looked_for_from_the_current_folder() {
        let t = Tree::new(&["auditors/Cargo.audit", "auditors/notes/x"]);
        let found = discover(&GivenPaths::default(), &t.path("auditors/notes"));
        assert_eq!(found.manifest, None);
        assert_eq!(found.lockfile, None);
        assert_eq!(found.audit_file, Some(t.path("auditors/Cargo.audit")));
        assert_eq!(found.audit_dir(), t.path("auditors"));
        assert_eq!(found.root(), t.path("auditors/notes"));
    }

    #[test]
    fn nothing_found_is_none_not_an_error() {
        let t = Tree::new(&["empty/x"]);
        let found = discover(&GivenPaths::default(), &t.path("empty"));
        assert_eq!(
            (found.manifest, found.lockfile, found.audit_file),
            (None, None, None)
        );
    }

    #[test]
    fn a_lockfile_above_the_manifest_wins_over_one_in_the_current_folder() {
        // cargo reads the workspace's lockfile, wherever the command runs.
        let t = Tree::workspace();
        let cwd = Tree::new(&["Cargo.lock"]);
        let found = discover(
            &given(Some(t.path("root/member/Cargo.toml")), None),
            cwd.dir.path(),
        );
        assert_eq!(found.lockfile, Some(t.path("root/Cargo.lock")));
    }
}
