//! What the risk signals need from one published crate, read once from its (already safely
//! unpacked) files: dependencies, build-time code and what it calls, unsafe counts, opaque
//! files, the claimed repository.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::build_scan::{Site, normalize, scan_file};
use super::opaque::opaque_reason;
use crate::classify::classify_files;
use crate::classify::manifest::parse_manifest;
use crate::provenance::manifest_deps::build_dependencies;
use crate::tarball::CrateArchive;

/// How a dependency is used (dev-dependencies never reach a dependent and are left out).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepUse {
    pub normal: bool,
    /// A build-dependency: it runs in the build script.
    pub build: bool,
}

/// One opaque file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpaqueFile {
    pub path: String,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CrateFacts {
    /// `name@version`.
    pub spec: String,
    pub repository: Option<String>,
    pub proc_macro: bool,
    pub links: Option<String>,
    /// Native-build crates among the build-dependencies (cc, cmake, ...), normalized.
    pub native_build_deps: BTreeSet<String>,
    /// Real package names (as the manifest spells them) of normal and build dependencies.
    pub dependencies: BTreeMap<String, DepUse>,
    /// The build script paths, and a digest of their contents (to see a change).
    pub build_scripts: Vec<String>,
    pub build_script_digest: Option<String>,
    /// Spawn, network and env sites in build-time code: build scripts, files next to them
    /// outside `src/`, and every source of a proc-macro library.
    pub build_time_sites: Vec<Site>,
    /// Unsafe constructs in library sources and the build script.
    pub unsafe_total: u64,
    pub opaque: Vec<OpaqueFile>,
}

/// Reads the facts of `spec` from its files. `Err` says why they cannot be read (no or broken
/// `Cargo.toml`): every signal of this crate is then "not computed".
pub fn crate_facts(
    spec: &str,
    archive: &CrateArchive,
    blob_bytes: u64,
) -> Result<CrateFacts, String> {
    let manifest_file = archive
        .get("Cargo.toml")
        .ok_or_else(|| "the package has no Cargo.toml".to_owned())?;
    let text = std::str::from_utf8(&manifest_file.contents)
        .map_err(|_| "Cargo.toml is not UTF-8".to_owned())?;
    let manifest = parse_manifest(text).map_err(|e| e.to_string())?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| e.message().to_owned())?;
    let package = ["package", "project"]
        .iter()
        .find_map(|k| table.get(*k).and_then(toml::Value::as_table));
    let repository = package
        .and_then(|p| p.get("repository"))
        .and_then(toml::Value::as_str)
        .map(str::to_owned);
    let mut dependencies: BTreeMap<String, DepUse> = BTreeMap::new();
    // Unresolvable inherited entries do not occur in published (normalized) manifests; one
    // that does is read as no dependency rather than failing every signal.
    for ((section, _), dep) in build_dependencies(&table, None).unwrap_or_default() {
        let entry = dependencies.entry(dep.package.clone()).or_default();
        if section.ends_with("build-dependencies") {
            entry.build = true;
        } else {
            entry.normal = true;
        }
    }
    let paths: Vec<&str> = archive.files().iter().map(|f| f.path.as_str()).collect();
    let targets = manifest.targets(&paths);
    let classification = classify_files(
        archive
            .files()
            .iter()
            .map(|f| (f.path.as_str(), f.contents.as_slice())),
    )
    .map_err(|e| e.to_string())?;

    let mut digest_input = Vec::new();
    let mut sites = Vec::new();
    for file in archive.files() {
        let is_build_script = targets.build_scripts.contains(&file.path);
        if is_build_script {
            digest_input.extend_from_slice(file.path.as_bytes());
            digest_input.push(0);
            digest_input.extend_from_slice(&file.contents);
        }
        if file.path.ends_with(".rs") && is_build_time(&file.path, is_build_script, &manifest) {
            sites.extend(scan_file(&file.path, &file.contents));
        }
    }
    let build_script_digest =
        (!targets.build_scripts.is_empty()).then(|| crate::fetch::sha256_hex(&digest_input));
    let opaque = archive
        .files()
        .iter()
        .filter_map(|f| {
            opaque_reason(f, blob_bytes).map(|why| OpaqueFile {
                path: f.path.clone(),
                why,
            })
        })
        .collect();
    Ok(CrateFacts {
        spec: spec.to_owned(),
        repository,
        proc_macro: manifest.proc_macro,
        links: manifest.links.clone(),
        native_build_deps: manifest
            .build_dependencies
            .iter()
            .map(|d| normalize(d))
            .filter(|d| NATIVE_BUILD_DEPS.contains(&d.as_str()))
            .collect(),
        dependencies,
        build_scripts: targets.build_scripts,
        build_script_digest,
        build_time_sites: sites,
        unsafe_total: classification.unsafe_usage.total(),
        opaque,
    })
}

/// Build-dependency crates that compile or link native code (as classification counts them).
const NATIVE_BUILD_DEPS: &[&str] = &[
    "cc",
    "cmake",
    "cxx-build",
    "bindgen",
    "pkg-config",
    "vcpkg",
    "autotools",
    "nasm-rs",
];

/// Whether a `.rs` file runs at build time: the build script; helper files of the build script
/// (outside `src/`, `tests/`, `benches/`, `examples/`); any source of a proc-macro library.
fn is_build_time(
    path: &str,
    is_build_script: bool,
    manifest: &crate::classify::manifest::Manifest,
) -> bool {
    if is_build_script {
        return true;
    }
    let in_dir = |d: &str| path.starts_with(d);
    if manifest.proc_macro && in_dir("src/") {
        return true;
    }
    let has_build_script = !matches!(
        manifest.build,
        crate::classify::manifest::BuildSetting::Disabled
    );
    has_build_script
        && path.contains('/')
        && !["src/", "tests/", "benches/", "examples/"]
            .iter()
            .any(|d| in_dir(d))
        && (path.starts_with("build/") || path.starts_with("build-"))
}
