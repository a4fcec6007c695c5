//! Reading one commit's tree straight from the object store: no checkout, and nothing of the
//! repository ever reaches the filesystem. Symlinks are followed inside the tree only; a link
//! that is absolute or climbs above the repository root is never followed.

use std::collections::HashMap;
use std::path::Path;

use git2::{ObjectType, Oid, Repository, Tree, TreeWalkMode, TreeWalkResult};

use super::vcs_info::{join, resolve_within_repository};

const MODE_TREE: i32 = 0o040000;
const MODE_BLOB: i32 = 0o100644;
const MODE_EXECUTABLE: i32 = 0o100755;
const MODE_LINK: i32 = 0o120000;
const MODE_SUBMODULE: i32 = 0o160000;

/// Symlinks followed for one path at most (Linux's limit is 40 too).
const MAX_LINK_HOPS: usize = 40;
/// A symlink's target is a path: anything longer is not one.
const MAX_LINK_BYTES: usize = 4096;
/// Manifests read at most while searching for the package's folder.
const MAX_MANIFESTS: usize = 5000;
/// Largest `Cargo.toml` read while searching.
const MAX_MANIFEST_BYTES: usize = 1024 * 1024;

/// What a path in the tree turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// A file; `path` is where it really is (differs from the path asked for after symlinks).
    File {
        oid: Oid,
        path: String,
        via_symlink: bool,
    },
    NotFound,
    /// A directory, not a file.
    Directory,
    /// A symlink on the way points outside the repository tree.
    OutsideRepository {
        link: String,
        target: String,
    },
    /// The path is inside a git submodule, whose files are in another repository.
    InSubmodule {
        submodule: String,
    },
    SymlinkLoop {
        link: String,
    },
}

/// A file entry found by walking a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeFile {
    pub oid: Oid,
    pub is_symlink: bool,
}

pub struct CommitTree<'r> {
    repo: &'r Repository,
    root: Tree<'r>,
}

impl<'r> CommitTree<'r> {
    pub fn new(repo: &'r Repository, commit: Oid) -> Result<CommitTree<'r>, git2::Error> {
        let root = repo.find_commit(commit)?.tree()?;
        Ok(CommitTree { repo, root })
    }

    /// Follows `path` component by component, resolving symlinks (also symlinked folders).
    pub fn resolve(&self, path: &str) -> Lookup {
        let mut pending: Vec<String> = path.split('/').rev().map(str::to_owned).collect();
        let mut folder: Vec<String> = Vec::new();
        let mut hops = 0;
        let mut via_symlink = false;
        while let Some(component) = pending.pop() {
            let folder_path = folder.join("/");
            let Some(tree) = self.tree_at(&folder_path) else {
                return Lookup::NotFound;
            };
            let Some(entry) = tree.get_name(&component) else {
                return Lookup::NotFound;
            };
            let here = join(&folder_path, &component);
            match entry.filemode() {
                MODE_TREE => {
                    if pending.is_empty() {
                        return Lookup::Directory;
                    }
                    folder.push(component);
                }
                MODE_BLOB | MODE_EXECUTABLE => {
                    if !pending.is_empty() {
                        return Lookup::NotFound;
                    }
                    return Lookup::File {
                        oid: entry.id(),
                        path: here,
                        via_symlink,
                    };
                }
                MODE_LINK => {
                    hops += 1;
                    if hops > MAX_LINK_HOPS {
                        return Lookup::SymlinkLoop { link: here };
                    }
                    let target = self
                        .read_blob(entry.id(), MAX_LINK_BYTES)
                        .and_then(|bytes| String::from_utf8(bytes).ok())
                        .unwrap_or_default();
                    let Some(resolved) = resolve_within_repository(&folder_path, &target) else {
                        return Lookup::OutsideRepository { link: here, target };
                    };
                    via_symlink = true;
                    folder.clear();
                    pending.extend(
                        resolved
                            .split('/')
                            .filter(|c| !c.is_empty())
                            .rev()
                            .map(str::to_owned),
                    );
                    // A link to the root itself (`.` from the top): nothing left to name a file.
                    if pending.is_empty() {
                        return Lookup::Directory;
                    }
                }
                MODE_SUBMODULE => return Lookup::InSubmodule { submodule: here },
                _ => return Lookup::NotFound,
            }
        }
        Lookup::Directory
    }

    fn tree_at(&self, folder: &str) -> Option<Tree<'r>> {
        if folder.is_empty() {
            return Some(self.root.clone());
        }
        let entry = self.root.get_path(Path::new(folder)).ok()?;
        if entry.kind() != Some(ObjectType::Tree) {
            return None;
        }
        self.repo.find_tree(entry.id()).ok()
    }

    /// Whether `folder` is a directory of this tree (`""` is the root).
    pub fn has_folder(&self, folder: &str) -> bool {
        self.tree_at(folder).is_some()
    }

    /// A blob's bytes, or `None` when it is missing or larger than `max_bytes`.
    pub fn read_blob(&self, oid: Oid, max_bytes: usize) -> Option<Vec<u8>> {
        let odb = self.repo.odb().ok()?;
        let (size, kind) = odb.read_header(oid).ok()?;
        if kind != ObjectType::Blob || size > max_bytes {
            return None;
        }
        Some(self.repo.find_blob(oid).ok()?.content().to_vec())
    }

    /// Every file (and symlink) under `folder`, keyed by its path relative to `folder`.
    pub fn files_under(&self, folder: &str) -> HashMap<String, TreeFile> {
        let mut files = HashMap::new();
        let Some(tree) = self.tree_at(folder) else {
            return files;
        };
        let _ = tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
            let (Some(name), mode) = (entry.name(), entry.filemode()) else {
                return TreeWalkResult::Ok;
            };
            if matches!(mode, MODE_BLOB | MODE_EXECUTABLE | MODE_LINK) {
                files.insert(
                    format!("{dir}{name}"),
                    TreeFile {
                        oid: entry.id(),
                        is_symlink: mode == MODE_LINK,
                    },
                );
            }
            TreeWalkResult::Ok
        });
        files
    }

    /// Folders whose `Cargo.toml` has `[package] name = NAME`, shallowest first.
    pub fn package_folders(&self, name: &str) -> Vec<String> {
        let mut manifests = Vec::new();
        let _ = self.root.walk(TreeWalkMode::PreOrder, |dir, entry| {
            if manifests.len() >= MAX_MANIFESTS {
                return TreeWalkResult::Abort;
            }
            if entry.name() == Some("Cargo.toml")
                && matches!(entry.filemode(), MODE_BLOB | MODE_EXECUTABLE)
            {
                manifests.push((dir.trim_end_matches('/').to_owned(), entry.id()));
            }
            TreeWalkResult::Ok
        });
        let mut found: Vec<String> = manifests
            .into_iter()
            .filter(|(_, oid)| {
                self.read_blob(*oid, MAX_MANIFEST_BYTES)
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .and_then(|text| text.parse::<toml::Table>().ok())
                    .is_some_and(|table| manifest_names(&table, name))
            })
            .map(|(folder, _)| folder)
            .collect();
        found.sort_by_key(|folder| (folder.split('/').count(), folder.clone()));
        found
    }

    /// The nearest `Cargo.toml` at or above `folder` that has a `[workspace]` table.
    pub fn workspace_root(&self, folder: &str) -> Option<(String, toml::Table)> {
        let mut current = folder.to_owned();
        loop {
            let path = join(&current, "Cargo.toml");
            if let Lookup::File { oid, .. } = self.resolve(&path)
                && let Some(table) = self
                    .read_blob(oid, MAX_MANIFEST_BYTES)
                    .and_then(|b| String::from_utf8(b).ok())
                    .and_then(|t| t.parse::<toml::Table>().ok())
                && table.contains_key("workspace")
            {
                return Some((current, table));
            }
            if current.is_empty() {
                return None;
            }
            current = current
                .rsplit_once('/')
                .map_or(String::new(), |(parent, _)| parent.to_owned());
        }
    }
}

fn manifest_names(table: &toml::Table, name: &str) -> bool {
    table
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(toml::Value::as_str)
        == Some(name)
}
