//! The dependency inventory: every package of the lockfile, where it comes from, and the edges
//! between packages. Built from `Cargo.lock` alone, or from `Cargo.lock` plus `cargo metadata`,
//! which adds workspace membership and dependency kinds (so dev-only packages are known).

mod metadata;

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::Error;
use crate::lockfile::Lockfile;

pub use metadata::{MetadataOptions, find_lockfile};

/// Which table of a manifest a requirement is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DependencySection {
    Dependencies,
    DevDependencies,
    BuildDependencies,
}

impl DependencySection {
    /// The table's name in a manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            DependencySection::Dependencies => "dependencies",
            DependencySection::DevDependencies => "dev-dependencies",
            DependencySection::BuildDependencies => "build-dependencies",
        }
    }
}

/// A workspace member's requirement on a registry package: where to change it when a fix
/// needs a version the requirement does not admit. Known only with `cargo metadata`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Declaration {
    /// The package of the lockfile the requirement resolved to.
    #[serde(skip)]
    pub package: PackageId,
    /// The member that declares it.
    pub member: String,
    /// The manifest to edit: the member's, or the workspace root's when the member inherits
    /// the requirement (`NAME.workspace = true`, set in `[workspace.dependencies]`).
    pub manifest: PathBuf,
    /// The requirement as cargo read it (`^0.16.20`).
    pub requirement: String,
    pub section: DependencySection,
    /// Whether the requirement comes from `[workspace.dependencies]`.
    pub inherited: bool,
    /// `package = "…"` renames and `[target.….dependencies]`: a plain `cargo add` cannot
    /// rewrite those, so no command is offered for them.
    pub renamed_or_targeted: bool,
}

/// The lockfile source id cargo writes for crates.io. It is an identifier inside lockfiles, not
/// an address this tool connects to: downloads use crates-index's sparse URL and the index's
/// `config.json`.
pub const CRATES_IO_SOURCE_ID: &str = "registry+https://github.com/rust-lang/crates.io-index";

/// Index of a package in [`Inventory::packages`].
pub type PackageId = usize;

/// Where a package comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SourceKind {
    /// A registry: crates.io (also when cargo's config replaces it with a mirror) or another one.
    Registry { id: String, crates_io: bool },
    /// A git repository; `commit` is the exact commit cargo locked.
    Git { url: String, commit: Option<String> },
    /// A workspace member or a path dependency.
    Path,
}

impl SourceKind {
    pub fn from_source_id(id: Option<&str>) -> SourceKind {
        let Some(id) = id else {
            return SourceKind::Path;
        };
        if let Some(rest) = id.strip_prefix("git+") {
            let (url, commit) = match rest.rsplit_once('#') {
                Some((url, commit)) => (url, Some(commit.to_owned())),
                None => (rest, None),
            };
            return SourceKind::Git {
                url: url.to_owned(),
                commit,
            };
        }
        SourceKind::Registry {
            id: id.to_owned(),
            crates_io: id == CRATES_IO_SOURCE_ID,
        }
    }

    pub fn is_registry(&self) -> bool {
        matches!(self, SourceKind::Registry { .. })
    }

    /// A short label for tables: `crates.io`, `registry`, `git`, `path`.
    pub fn label(&self) -> &'static str {
        match self {
            SourceKind::Registry {
                crates_io: true, ..
            } => "crates.io",
            SourceKind::Registry { .. } => "registry",
            SourceKind::Git { .. } => "git",
            SourceKind::Path => "path",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Package {
    pub name: String,
    pub version: semver::Version,
    pub source: SourceKind,
    /// The raw source id from the lockfile (`None` for path packages).
    pub source_id: Option<String>,
    pub checksum: Option<String>,
    /// Packages this one depends on, sorted.
    pub dependencies: Vec<PackageId>,
    /// A dependency of a workspace member or path package (not itself a path package).
    pub direct: bool,
    /// Reached only through dev-dependencies. Known only with `cargo metadata`.
    pub dev_only: Option<bool>,
    /// A member of the workspace (metadata mode) or a path package (lockfile mode).
    pub workspace_member: bool,
    /// Line of its `[[package]]` entry in `Cargo.lock`, for annotations.
    pub lock_line: usize,
}

impl Package {
    /// `name@version`, the way the tool names a package everywhere.
    pub fn spec(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

/// How the inventory was built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InventoryMode {
    Lockfile,
    Metadata,
}

#[derive(Debug, Clone)]
pub struct Inventory {
    pub mode: InventoryMode,
    pub lockfile: PathBuf,
    /// Folder that holds the lockfile; cargo config lookups start here.
    pub root: PathBuf,
    pub packages: Vec<Package>,
    /// Packages used on at least one of the requested target platforms; `None` when no targets
    /// were asked for or the mode cannot know (lockfile-only).
    pub on_targets: Option<HashSet<PackageId>>,
    /// The workspace members' requirements on registry packages (empty in lockfile mode).
    pub declarations: Vec<Declaration>,
}

impl Inventory {
    /// Lockfile-only mode: no manifests, no `cargo metadata`.
    pub fn from_lockfile(path: &Path) -> Result<Inventory, Error> {
        let lock = Lockfile::load(path)?;
        Ok(Self::build(lock, InventoryMode::Lockfile, None))
    }

    /// Lockfile-only mode over a lockfile already parsed (a registry evaluates uploaded text).
    pub fn from_parsed_lockfile(lock: Lockfile) -> Inventory {
        Self::build(lock, InventoryMode::Lockfile, None)
    }

    /// Lockfile-only mode from lockfile text read elsewhere (a git revision, for a base to
    /// compare with); `label` names it in messages.
    pub fn from_lockfile_text(text: &str, label: &Path) -> Result<Inventory, Error> {
        let lock = Lockfile::parse(text, label)?;
        Ok(Self::build(lock, InventoryMode::Lockfile, None))
    }

    /// Metadata mode: `cargo metadata` for the workspace of `manifest_path`, merged with its
    /// lockfile. The package set is the lockfile's in both modes, so both agree on the inventory.
    pub fn from_manifest(
        manifest_path: &Path,
        options: &MetadataOptions,
    ) -> Result<Inventory, Error> {
        let (lock, graph) = metadata::load(manifest_path, options)?;
        Ok(Self::build(lock, InventoryMode::Metadata, Some(graph)))
    }

    fn build(lock: Lockfile, mode: InventoryMode, graph: Option<metadata::Graph>) -> Inventory {
        let mut packages: Vec<Package> = lock
            .packages
            .iter()
            .map(|p| Package {
                name: p.name.clone(),
                version: p.version.clone(),
                source: SourceKind::from_source_id(p.source.as_deref()),
                source_id: p.source.clone(),
                checksum: p.checksum.clone(),
                dependencies: p.dependencies.clone(),
                direct: false,
                dev_only: None,
                workspace_member: p.source.is_none(),
                lock_line: p.line,
            })
            .collect();

        let roots: Vec<PackageId> = match &graph {
            Some(g) => g.members.iter().copied().collect(),
            None => (0..packages.len())
                .filter(|&i| packages[i].source == SourceKind::Path)
                .collect(),
        };
        if let Some(g) = &graph {
            for p in packages.iter_mut() {
                p.workspace_member = false;
            }
            for &m in &g.members {
                packages[m].workspace_member = true;
            }
        }
        for &root in &roots {
            for dep in packages[root].dependencies.clone() {
                if packages[dep].source != SourceKind::Path {
                    packages[dep].direct = true;
                }
            }
        }
        if let Some(g) = &graph {
            let normal = reachable_without_dev_edges(&packages, &roots, g);
            for (i, p) in packages.iter_mut().enumerate() {
                p.dev_only = Some(g.resolved.contains(&i) && !normal.contains(&i));
            }
        }
        let root = lock
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Inventory {
            mode,
            lockfile: lock.path,
            root,
            packages,
            declarations: graph
                .as_ref()
                .map(|g| g.declarations.clone())
                .unwrap_or_default(),
            on_targets: graph.and_then(|g| g.on_targets),
        }
    }

    /// Line of package `id`'s entry in `Cargo.lock` (1 when unknown), for annotations.
    pub fn lock_line(&self, id: PackageId) -> usize {
        self.packages.get(id).map_or(1, |p| p.lock_line.max(1))
    }

    /// The packages that depend on `id`, by name and version (what brings it in).
    pub fn dependents(&self, id: PackageId) -> Vec<&Package> {
        self.packages
            .iter()
            .filter(|p| p.dependencies.contains(&id))
            .collect()
    }

    /// How many packages share each name; a name with more than one is a duplicate.
    pub fn versions_per_name(&self) -> BTreeMap<&str, usize> {
        let mut counts = BTreeMap::new();
        for p in &self.packages {
            *counts.entry(p.name.as_str()).or_insert(0) += 1;
        }
        counts
    }
}

/// Packages reachable from the workspace members without crossing a dev-dependency edge of a
/// member (only members have dev edges in a resolve).
fn reachable_without_dev_edges(
    packages: &[Package],
    roots: &[PackageId],
    graph: &metadata::Graph,
) -> HashSet<PackageId> {
    let mut seen: HashSet<PackageId> = roots.iter().copied().collect();
    let mut queue: VecDeque<PackageId> = roots.iter().copied().collect();
    while let Some(from) = queue.pop_front() {
        for &to in &packages[from].dependencies {
            if graph.dev_only_edges.contains(&(from, to)) {
                continue;
            }
            if seen.insert(to) {
                queue.push_back(to);
            }
        }
    }
    seen
}

#[cfg(test)]
mod tests;
