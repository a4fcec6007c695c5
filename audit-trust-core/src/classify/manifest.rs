//! The facts classification needs from a published `Cargo.toml`, read as an untyped TOML table.
//!
//! Published manifests are normalized by cargo, but older crates carry whatever their authors wrote
//! (`[project]` instead of `[package]`, `proc_macro`, `build_dependencies`, odd value types), so the
//! table is read leniently: a key with an unexpected type is treated as absent rather than an error.
//! Only a manifest that is not TOML at all (or has no package table) is an error.

use super::ClassifyError;
use toml::{Table, Value};

/// Build-dependency packages that mean "this build script compiles or links native code".
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

/// What `package.build` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildSetting {
    /// No `build` key: `build.rs` is the build script if the package has one.
    Auto,
    /// `build = false`: no build script, even if `build.rs` exists.
    Disabled,
    /// `build = "path"`, `build = true` (meaning `build.rs`), or a list of paths (cargo's unstable
    /// multiple build scripts).
    Paths(Vec<String>),
}

/// One `[[bin]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinTarget {
    pub name: Option<String>,
    pub path: Option<String>,
}

/// The parts of a manifest that classification uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub name: Option<String>,
    pub proc_macro: bool,
    pub build: BuildSetting,
    pub links: Option<String>,
    /// `[lib] path`, if given (cargo's default is `src/lib.rs`).
    pub lib_path: Option<String>,
    pub bins: Vec<BinTarget>,
    /// False when `package.autobins = false`: only the listed `[[bin]]` targets exist.
    pub autobins: bool,
    /// Real package names (after `package = ".."` renames) of all build-dependencies, including
    /// target-specific ones.
    pub build_dependencies: Vec<String>,
}

/// The targets of a package, resolved against the files it contains.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets {
    pub lib: Option<String>,
    pub bins: Vec<String>,
    pub build_scripts: Vec<String>,
}

/// The license keys of a package table, as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LicenseFields {
    pub license: Option<String>,
    pub license_file: Option<String>,
    /// `repository`, for the SBOM's external references (a claim of the publisher).
    pub repository: Option<String>,
}

/// Reads `license` and `license-file` (also the old `license_file` spelling) from `Cargo.toml`.
pub fn license_fields(text: &str) -> Result<LicenseFields, ClassifyError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let table: Table = parse_table(text)?;
    let package = ["package", "project"]
        .iter()
        .find_map(|key| table.get(*key).and_then(Value::as_table))
        .ok_or(ClassifyError::NoPackage)?;
    Ok(LicenseFields {
        license: get_str(package, "license"),
        license_file: get_str(package, "license-file").or_else(|| get_str(package, "license_file")),
        repository: get_str(package, "repository"),
    })
}

fn parse_table(text: &str) -> Result<Table, ClassifyError> {
    text.parse().map_err(|e: toml::de::Error| {
        let line = e.span().map(|span| line_of(text, span.start));
        ClassifyError::InvalidManifest {
            line,
            message: e.message().trim().to_owned(),
        }
    })
}

/// Parses `Cargo.toml` text. Errors say what is wrong; the caller adds which package it was.
pub fn parse_manifest(text: &str) -> Result<Manifest, ClassifyError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let table: Table = text.parse().map_err(|e: toml::de::Error| {
        let line = e.span().map(|span| line_of(text, span.start));
        ClassifyError::InvalidManifest {
            line,
            message: e.message().trim().to_owned(),
        }
    })?;
    // `[project]` is the pre-1.0 spelling of `[package]`, still found in old crates.
    let package = ["package", "project"]
        .iter()
        .find_map(|key| table.get(*key).and_then(Value::as_table))
        .ok_or(ClassifyError::NoPackage)?;
    let lib = table.get("lib").and_then(Value::as_table);
    let lib_flag = |key: &str| lib.and_then(|l| l.get(key)).and_then(Value::as_bool);
    Ok(Manifest {
        name: get_str(package, "name"),
        proc_macro: lib_flag("proc-macro")
            .or_else(|| lib_flag("proc_macro"))
            .unwrap_or(false),
        build: match package.get("build") {
            None => BuildSetting::Auto,
            Some(Value::Boolean(false)) => BuildSetting::Disabled,
            Some(Value::Boolean(true)) => BuildSetting::Paths(vec!["build.rs".to_owned()]),
            Some(Value::String(path)) => BuildSetting::Paths(vec![normalize_path(path)]),
            Some(Value::Array(paths)) => BuildSetting::Paths(
                paths
                    .iter()
                    .filter_map(Value::as_str)
                    .map(normalize_path)
                    .collect(),
            ),
            Some(_) => BuildSetting::Auto,
        },
        links: get_str(package, "links"),
        lib_path: lib
            .and_then(|l| get_str(l, "path"))
            .map(|p| normalize_path(&p)),
        bins: table
            .get("bin")
            .and_then(Value::as_array)
            .map(|bins| {
                bins.iter()
                    .filter_map(Value::as_table)
                    .map(bin_target)
                    .collect()
            })
            .unwrap_or_default(),
        autobins: package
            .get("autobins")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        build_dependencies: build_dependencies(&table),
    })
}

impl Manifest {
    /// Resolves the lib, bin and build-script paths against the package's file paths, the way cargo
    /// would: declared paths win, then cargo's defaults for the files that exist.
    pub fn targets(&self, paths: &[&str]) -> Targets {
        let exists = |wanted: &str| paths.contains(&wanted);
        let lib_path = self
            .lib_path
            .clone()
            .unwrap_or_else(|| "src/lib.rs".to_owned());
        let lib = exists(&lib_path).then_some(lib_path);
        let build_scripts = match &self.build {
            BuildSetting::Auto => {
                if exists("build.rs") {
                    vec!["build.rs".to_owned()]
                } else {
                    Vec::new()
                }
            }
            BuildSetting::Disabled => Vec::new(),
            BuildSetting::Paths(list) => list.clone(),
        };
        let mut bins: Vec<String> = Vec::new();
        let mut push = |path: String| {
            if !bins.contains(&path) {
                bins.push(path);
            }
        };
        for bin in &self.bins {
            if let Some(path) = &bin.path {
                push(normalize_path(path));
            } else if let Some(name) = &bin.name {
                // Cargo's inference for a named [[bin]] without a path.
                let candidates = [
                    format!("src/bin/{name}.rs"),
                    format!("src/bin/{name}/main.rs"),
                ];
                let main = (self.name.as_ref() == Some(name)).then(|| "src/main.rs".to_owned());
                if let Some(found) = candidates.into_iter().chain(main).find(|c| exists(c)) {
                    push(found);
                }
            }
        }
        if self.autobins {
            for &path in paths {
                if path == "src/main.rs" || is_auto_bin(path) {
                    push(path.to_owned());
                }
            }
        }
        Targets {
            lib,
            bins,
            build_scripts,
        }
    }

    /// True when a build-dependency is one of the crates used to build or link native code.
    pub fn has_native_build_dependency(&self) -> bool {
        self.build_dependencies.iter().any(|dep| {
            // crates.io treats `-` and `_` as the same name, so `pkg_config` is `pkg-config`.
            let dep = dep.replace('_', "-");
            NATIVE_BUILD_DEPS.contains(&dep.as_str())
        })
    }
}

/// `src/bin/<name>.rs` or `src/bin/<name>/main.rs`: the binaries cargo discovers by itself.
fn is_auto_bin(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("src/bin/") else {
        return false;
    };
    match rest.split_once('/') {
        None => rest.ends_with(".rs"),
        Some((dir, file)) => !dir.is_empty() && file == "main.rs",
    }
}

fn bin_target(table: &Table) -> BinTarget {
    BinTarget {
        name: get_str(table, "name"),
        path: get_str(table, "path"),
    }
}

fn get_str(table: &Table, key: &str) -> Option<String> {
    table.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// Manifest paths may be written `./build.rs` or with Windows separators; file paths are not.
pub(super) fn normalize_path(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut rest = path.as_str();
    while let Some(stripped) = rest.strip_prefix("./") {
        rest = stripped;
    }
    rest.to_owned()
}

/// Package names of `[build-dependencies]`, `[build_dependencies]` and their
/// `[target.<cfg>.build-dependencies]` variants, with renames resolved.
fn build_dependencies(table: &Table) -> Vec<String> {
    let targets = table.get("target").and_then(Value::as_table);
    let sections = std::iter::once(table).chain(
        targets
            .into_iter()
            .flat_map(|t| t.values().filter_map(Value::as_table)),
    );
    let mut names = Vec::new();
    for section in sections {
        for key in ["build-dependencies", "build_dependencies"] {
            let Some(deps) = section.get(key).and_then(Value::as_table) else {
                continue;
            };
            for (alias, spec) in deps {
                // `alias = { package = "cc", .. }` depends on `cc` under another name.
                let real = spec.get("package").and_then(Value::as_str).unwrap_or(alias);
                names.push(real.to_owned());
            }
        }
    }
    names
}

/// 1-based line number of a byte offset, for error messages.
fn line_of(text: &str, offset: usize) -> usize {
    let before = text.as_bytes().get(..offset).unwrap_or(text.as_bytes());
    before.iter().filter(|&&b| b == b'\n').count() + 1
}
