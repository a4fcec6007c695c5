//! Metadata mode: runs `cargo metadata` (through cargo_metadata) and maps its resolve graph onto
//! the lockfile's packages.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use cargo_metadata::{DependencyKind, MetadataCommand};

use super::{Declaration, DependencySection, PackageId};
use crate::Error;
use crate::lockfile::Lockfile;

#[derive(Debug, Clone, Default)]
pub struct MetadataOptions {
    pub offline: bool,
    /// The `cargo` to run; `None` means `$CARGO` or `cargo` on the PATH.
    pub cargo: Option<PathBuf>,
    /// Target triples that matter: for each, cargo resolves the graph for that platform only
    /// (`--filter-platform`), and the inventory records which packages any of them uses.
    pub targets: Vec<String>,
}

/// What metadata adds to the lockfile.
#[derive(Debug, Default)]
pub(super) struct Graph {
    pub members: HashSet<PackageId>,
    /// Packages that appear in cargo's resolve.
    pub resolved: HashSet<PackageId>,
    /// Edges `(from, to)` that exist only as dev-dependencies.
    pub dev_only_edges: HashSet<(PackageId, PackageId)>,
    /// Packages resolved for at least one requested target platform.
    pub on_targets: Option<HashSet<PackageId>>,
    /// The members' requirements on registry packages.
    pub declarations: Vec<Declaration>,
}

pub(super) fn load(
    manifest_path: &Path,
    options: &MetadataOptions,
) -> Result<(Lockfile, Graph), Error> {
    let manifest_path = manifest_path.to_path_buf();
    if !manifest_path.is_file() {
        return Err(Error::Metadata {
            manifest: manifest_path,
            message: "no such manifest; pass `--manifest-path PATH/Cargo.toml` or run inside a cargo project".into(),
        });
    }
    // Find the lockfile first: `cargo metadata` would otherwise create one silently.
    let lockfile_path = find_lockfile(&manifest_path).ok_or_else(|| Error::NoLockfile {
        manifest: manifest_path.clone(),
    })?;

    let mut command = MetadataCommand::new();
    command.manifest_path(&manifest_path);
    if let Some(cargo) = &options.cargo {
        command.cargo_path(cargo);
    }
    // The lockfile resolves every feature of the workspace; ask metadata for the same graph.
    command.features(cargo_metadata::CargoOpt::AllFeatures);
    let mut extra = vec!["--locked".to_owned()];
    if options.offline {
        extra.push("--offline".to_owned());
    }
    command.other_options(extra);
    // cargo runs build scripts and credential helpers: no secret of ours may reach them.
    for name in crate::child_env::SECRET_ENV_VARS {
        command.env_remove(*name);
    }
    let metadata = command.exec().map_err(|e| Error::Metadata {
        manifest: manifest_path.clone(),
        message: metadata_error_message(e),
    })?;

    let workspace_lock = metadata.workspace_root.as_std_path().join("Cargo.lock");
    if workspace_lock != lockfile_path && !workspace_lock.is_file() {
        return Err(Error::NoLockfile {
            manifest: manifest_path,
        });
    }
    let lock = Lockfile::load(&workspace_lock)?;

    let mut index: HashMap<(&str, String, Option<&str>), PackageId> = HashMap::new();
    for (i, p) in lock.packages.iter().enumerate() {
        index.insert(
            (p.name.as_str(), p.version.to_string(), p.source.as_deref()),
            i,
        );
    }
    let mut id_to_lock: HashMap<&cargo_metadata::PackageId, PackageId> = HashMap::new();
    for p in &metadata.packages {
        let source = p.source.as_ref().map(|s| s.repr.as_str());
        if let Some(&i) = index.get(&(p.name.as_str(), p.version.to_string(), source)) {
            id_to_lock.insert(&p.id, i);
        }
    }

    let mut graph = Graph::default();
    for member in &metadata.workspace_members {
        if let Some(&i) = id_to_lock.get(member) {
            graph.members.insert(i);
        }
    }
    if let Some(resolve) = &metadata.resolve {
        for node in &resolve.nodes {
            let Some(&from) = id_to_lock.get(&node.id) else {
                continue;
            };
            graph.resolved.insert(from);
            for dep in &node.deps {
                let Some(&to) = id_to_lock.get(&dep.pkg) else {
                    continue;
                };
                let dev_only = !dep.dep_kinds.is_empty()
                    && dep
                        .dep_kinds
                        .iter()
                        .all(|k| k.kind == DependencyKind::Development);
                if dev_only {
                    graph.dev_only_edges.insert((from, to));
                }
            }
        }
    }
    graph.declarations = declarations(&metadata, &lock, &id_to_lock);
    if !options.targets.is_empty() {
        let mut on_targets = graph.members.clone();
        for target in &options.targets {
            let filtered = run_metadata(&manifest_path, options, Some(target))?;
            let ids: HashMap<&cargo_metadata::PackageId, PackageId> = filtered
                .packages
                .iter()
                .filter_map(|p| {
                    let source = p.source.as_ref().map(|s| s.repr.as_str());
                    index
                        .get(&(p.name.as_str(), p.version.to_string(), source))
                        .map(|&i| (&p.id, i))
                })
                .collect();
            for node in filtered.resolve.iter().flat_map(|r| &r.nodes) {
                if let Some(&i) = ids.get(&node.id) {
                    on_targets.insert(i);
                }
            }
        }
        graph.on_targets = Some(on_targets);
    }
    Ok((lock, graph))
}

/// Each member's registry requirements, matched to the lockfile package they resolved to (a
/// resolved dependency of the member with that name whose version the requirement admits).
fn declarations(
    metadata: &cargo_metadata::Metadata,
    lock: &Lockfile,
    id_to_lock: &HashMap<&cargo_metadata::PackageId, PackageId>,
) -> Vec<Declaration> {
    let mut out = Vec::new();
    let Some(resolve) = &metadata.resolve else {
        return out;
    };
    let root_manifest = metadata.workspace_root.as_std_path().join("Cargo.toml");
    for member in metadata.workspace_packages() {
        let Some(node) = resolve.nodes.iter().find(|n| n.id == member.id) else {
            continue;
        };
        let resolved: Vec<PackageId> = node
            .deps
            .iter()
            .filter_map(|d| id_to_lock.get(&d.pkg).copied())
            .collect();
        let inherited = inherited_names(member.manifest_path.as_std_path());
        for dep in member.dependencies.iter().filter(|d| d.path.is_none()) {
            let Some(&package) = resolved.iter().find(|&&i| {
                lock.packages.get(i).is_some_and(|p| {
                    p.name == dep.name && p.source.is_some() && dep.req.matches(&p.version)
                })
            }) else {
                continue;
            };
            let section = match dep.kind {
                DependencyKind::Development => DependencySection::DevDependencies,
                DependencyKind::Build => DependencySection::BuildDependencies,
                _ => DependencySection::Dependencies,
            };
            let key = dep.rename.as_deref().unwrap_or(&dep.name);
            let is_inherited = inherited.contains(&(section.as_str().to_owned(), key.to_owned()));
            out.push(Declaration {
                package,
                member: member.name.to_string(),
                manifest: if is_inherited {
                    root_manifest.clone()
                } else {
                    member.manifest_path.as_std_path().to_path_buf()
                },
                requirement: dep.req.to_string(),
                section,
                inherited: is_inherited,
                renamed_or_targeted: dep.rename.is_some() || dep.target.is_some(),
            });
        }
    }
    out.sort_by(|a, b| (&a.manifest, &a.member).cmp(&(&b.manifest, &b.member)));
    out.dedup_by(|a, b| {
        a.package == b.package && a.manifest == b.manifest && a.section == b.section
    });
    out
}

/// `(section, key)` of a member's dependencies written `KEY.workspace = true`. A manifest that
/// cannot be read gives none (the member's own manifest is then named, which is still where
/// the dependency is declared).
fn inherited_names(manifest: &Path) -> HashSet<(String, String)> {
    let mut out = HashSet::new();
    let Some(doc) = std::fs::read_to_string(manifest)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
    else {
        return out;
    };
    for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
        let Some(table) = doc.get(section).and_then(toml::Value::as_table) else {
            continue;
        };
        for (key, value) in table {
            let inherits = value
                .get("workspace")
                .and_then(toml::Value::as_bool)
                .unwrap_or(false);
            if inherits {
                out.insert((section.to_owned(), key.clone()));
            }
        }
    }
    out
}

/// `cargo metadata --locked --all-features` (the lockfile resolves every feature, so metadata
/// must too), optionally for one target platform.
fn run_metadata(
    manifest_path: &Path,
    options: &MetadataOptions,
    target: Option<&str>,
) -> Result<cargo_metadata::Metadata, Error> {
    let mut command = MetadataCommand::new();
    command.manifest_path(manifest_path);
    if let Some(cargo) = &options.cargo {
        command.cargo_path(cargo);
    }
    command.features(cargo_metadata::CargoOpt::AllFeatures);
    let mut extra = vec!["--locked".to_owned()];
    if options.offline {
        extra.push("--offline".to_owned());
    }
    if let Some(target) = target {
        extra.push(format!("--filter-platform={target}"));
    }
    command.other_options(extra);
    command.exec().map_err(|e| Error::Metadata {
        manifest: manifest_path.to_owned(),
        message: metadata_error_message(e),
    })
}

/// The nearest `Cargo.lock` in the manifest's folder or above it, where cargo keeps the
/// workspace's lockfile.
pub fn find_lockfile(manifest_path: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(manifest_path).ok()?;
    absolute
        .ancestors()
        .skip(1)
        .map(|dir| dir.join("Cargo.lock"))
        .find(|candidate| candidate.is_file())
}

fn metadata_error_message(e: cargo_metadata::Error) -> String {
    match e {
        cargo_metadata::Error::CargoMetadata { stderr } => {
            let text = stderr.trim();
            if text.contains("--locked") {
                format!(
                    "{text}\nhint: Cargo.lock is out of date; run `cargo update -w` (this tool never rewrites it)"
                )
            } else {
                text.to_owned()
            }
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::inherited_names;

    #[test]
    fn inherited_requirements_are_found_per_table() {
        let dir = tempfile::tempdir().expect("dir");
        let manifest = dir.path().join("Cargo.toml");
        std::fs::write(
            &manifest,
            "[package]\nname = \"m\"\nversion = \"0.1.0\"\n\n[dependencies]\nring.workspace = true\n\
             serde = { workspace = true, features = [\"derive\"] }\nitoa = \"1\"\n\n\
             [dev-dependencies]\nproptest = { workspace = true }\n",
        )
        .expect("write");
        let found = inherited_names(&manifest);
        let has = |section: &str, key: &str| found.contains(&(section.to_owned(), key.to_owned()));
        assert!(has("dependencies", "ring") && has("dependencies", "serde"));
        assert!(has("dev-dependencies", "proptest"));
        assert!(!has("dependencies", "itoa") && !has("dependencies", "proptest"));
        // An unreadable manifest names nothing (the member's own manifest is then named).
        assert!(inherited_names(&dir.path().join("missing.toml")).is_empty());
    }
}
