//! The normalized `Cargo.toml` in a tarball is what cargo builds from, not `Cargo.toml.orig`.
//! `cargo package` writes it from `Cargo.toml.orig`, so the two must describe the same build:
//! name, version, edition, `links`, build script, lib/bin/proc-macro targets and their paths,
//! features, and normal and build dependencies with their versions and registries. A publisher
//! who edits the normalized file (say, to add a build script) is caught here, even though
//! `Cargo.toml.orig` matches the repository.

use std::collections::{BTreeMap, BTreeSet};

use toml::{Table, Value};

use super::manifest_deps::{build_dependencies, dependency_disagreements};
use crate::classify::manifest::{Targets, parse_manifest};

/// How the two manifests compare.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManifestComparison {
    /// Build-relevant differences; any makes the status `manifest_mismatch`.
    pub disagreements: Vec<String>,
    /// Fields that could not be compared (inherited from a workspace that was not found).
    pub unchecked: Vec<String>,
}

/// Compares the published `Cargo.toml` with `Cargo.toml.orig`. `workspace` is the workspace
/// root's manifest from the repository, used to resolve `workspace = true` inheritance; `files`
/// are the tarball's paths (targets cargo discovers by itself depend on them).
pub fn compare_manifests(
    published: &str,
    original: &str,
    workspace: Option<&Table>,
    files: &[&str],
) -> ManifestComparison {
    let mut result = ManifestComparison::default();
    let (published_table, original_table) = match (parse(published), parse(original)) {
        (Ok(p), Ok(o)) => (p, o),
        (Err(e), _) => {
            result
                .disagreements
                .push(format!("Cargo.toml is not valid TOML: {e}"));
            return result;
        }
        (_, Err(e)) => {
            result
                .disagreements
                .push(format!("Cargo.toml.orig is not valid TOML: {e}"));
            return result;
        }
    };
    let package = |t: &Table| t.get("package").and_then(Value::as_table).cloned();
    let (Some(published_package), Some(original_package)) =
        (package(&published_table), package(&original_table))
    else {
        result
            .disagreements
            .push("a [package] table is missing from Cargo.toml or Cargo.toml.orig".into());
        return result;
    };
    let workspace_package = workspace
        .and_then(|w| w.get("workspace"))
        .and_then(|w| w.get("package"))
        .and_then(Value::as_table);

    for (field, default) in [("name", None), ("version", None), ("edition", Some("2015"))] {
        let published_value =
            plain_string(&published_package, field).or(default.map(str::to_owned));
        match inherited_string(&original_package, field, workspace_package) {
            Inherited::Value(v) => {
                if published_value.as_deref() != Some(v.as_str()) {
                    result.disagreements.push(format!(
                        "{field}: `{}` in Cargo.toml, `{v}` in Cargo.toml.orig",
                        published_value.unwrap_or_default()
                    ));
                }
            }
            Inherited::Absent => {
                if published_value.as_deref() != default {
                    result.disagreements.push(format!(
                        "{field}: `{}` in Cargo.toml, not set in Cargo.toml.orig",
                        published_value.unwrap_or_default()
                    ));
                }
            }
            Inherited::Unresolved => result
                .unchecked
                .push(format!("{field} (inherited from the workspace)")),
        }
    }
    compare(
        &mut result,
        "links",
        plain_string(&published_package, "links"),
        plain_string(&original_package, "links"),
    );
    match (
        targets(published, files, &published_package),
        targets(original, files, &original_package),
    ) {
        (Ok(p), Ok(o)) => compare_targets(&mut result, p, o),
        (Err(e), _) | (_, Err(e)) => result.disagreements.push(e),
    }
    compare(
        &mut result,
        "features",
        features(&published_table),
        features(&original_table),
    );
    match (
        build_dependencies(&published_table, None),
        build_dependencies(&original_table, workspace),
    ) {
        (Ok(p), Ok(o)) => result
            .disagreements
            .extend(dependency_disagreements(&p, &o)),
        (Err(e), _) => result.disagreements.push(format!("Cargo.toml: {e}")),
        (_, Err(e)) if workspace.is_none() => {
            result.unchecked.push(format!("dependencies ({e})"));
        }
        (_, Err(e)) => result.disagreements.push(format!("Cargo.toml.orig: {e}")),
    }
    result
}

fn parse(text: &str) -> Result<Table, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.parse::<Table>()
        .map_err(|e| e.message().trim().to_owned())
}

fn plain_string(package: &Table, key: &str) -> Option<String> {
    package.get(key).and_then(Value::as_str).map(str::to_owned)
}

enum Inherited {
    Value(String),
    Absent,
    /// `{ workspace = true }` without a workspace to read it from.
    Unresolved,
}

fn inherited_string(package: &Table, key: &str, workspace: Option<&Table>) -> Inherited {
    match package.get(key) {
        Some(Value::String(v)) => Inherited::Value(v.clone()),
        Some(Value::Table(t)) if t.get("workspace").and_then(Value::as_bool) == Some(true) => {
            match workspace.and_then(|w| w.get(key)).and_then(Value::as_str) {
                Some(v) => Inherited::Value(v.to_owned()),
                None => Inherited::Unresolved,
            }
        }
        Some(other) => Inherited::Value(other.to_string()),
        None => Inherited::Absent,
    }
}

fn compare<T: PartialEq + std::fmt::Debug>(
    result: &mut ManifestComparison,
    field: &str,
    published: T,
    original: T,
) {
    if published != original {
        result.disagreements.push(format!(
            "{field}: {published:?} in Cargo.toml, {original:?} in Cargo.toml.orig"
        ));
    }
}

/// What the targets resolve to with the tarball's files, plus the proc-macro flag.
#[derive(Debug, PartialEq, Eq)]
struct BuildTargets {
    targets: Targets,
    proc_macro: bool,
}

fn targets(text: &str, files: &[&str], package: &Table) -> Result<BuildTargets, String> {
    let manifest = parse_manifest(text).map_err(|e| format!("manifest: {e}"))?;
    let mut targets = manifest.targets(files);
    targets.bins.sort();
    // Edition 2015 turns bin auto-discovery off when any [[bin]] is declared.
    let edition_2015 = package
        .get("edition")
        .is_none_or(|e| e.as_str() == Some("2015"));
    if edition_2015 && !manifest.bins.is_empty() && package.get("autobins").is_none() {
        let explicit = parse_manifest(text)
            .map(|mut m| {
                m.autobins = false;
                m.targets(files).bins
            })
            .unwrap_or_default();
        targets.bins = explicit;
        targets.bins.sort();
    }
    Ok(BuildTargets {
        targets,
        proc_macro: manifest.proc_macro,
    })
}

fn compare_targets(
    result: &mut ManifestComparison,
    published: BuildTargets,
    original: BuildTargets,
) {
    compare(
        result,
        "build script",
        &published.targets.build_scripts,
        &original.targets.build_scripts,
    );
    compare(result, "lib", &published.targets.lib, &original.targets.lib);
    compare(
        result,
        "proc-macro",
        published.proc_macro,
        original.proc_macro,
    );
    compare(
        result,
        "bins",
        &published.targets.bins,
        &original.targets.bins,
    );
}

fn features(table: &Table) -> BTreeMap<String, BTreeSet<String>> {
    table
        .get("features")
        .and_then(Value::as_table)
        .map(|features| {
            features
                .iter()
                .map(|(name, list)| {
                    let items = list
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default();
                    (name.clone(), items)
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILES: &[&str] = &["Cargo.toml", "src/lib.rs", "build.rs", "evil.rs"];

    #[test]
    fn what_cargo_writes_agrees_with_the_original() {
        let original = "[package]\nname = \"a\"\nversion.workspace = true\nedition = \"2021\"\n\
                        [features]\nx = []\n[dependencies]\nb = { workspace = true }\n";
        let published = "[package]\nedition = \"2021\"\nname = \"a\"\nversion = \"1.2.0\"\n\
                         build = \"build.rs\"\nautobins = false\n[lib]\nname = \"a\"\npath = \"src/lib.rs\"\n\
                         [features]\nx = []\n[dependencies.b]\nversion = \"0.3\"\n";
        let workspace: Table =
            "[workspace.package]\nversion = \"1.2.0\"\n[workspace.dependencies]\nb = \"0.3\"\n"
                .parse()
                .expect("toml");
        let result = compare_manifests(published, original, Some(&workspace), FILES);
        assert_eq!(result, ManifestComparison::default());
        // Without the workspace, inherited fields are reported as unchecked, not as mismatches.
        let result = compare_manifests(published, original, None, FILES);
        assert!(result.disagreements.is_empty(), "{result:?}");
        assert_eq!(result.unchecked.len(), 2, "{result:?}");
    }

    #[test]
    fn an_added_build_script_is_a_disagreement() {
        let original = "[package]\nname = \"a\"\nversion = \"1.0.0\"\nbuild = false\n";
        let published = "[package]\nname = \"a\"\nversion = \"1.0.0\"\nbuild = \"evil.rs\"\n";
        let result = compare_manifests(published, original, None, FILES);
        assert_eq!(result.disagreements.len(), 1, "{result:?}");
        assert!(
            result.disagreements[0].starts_with("build script"),
            "{result:?}"
        );
    }
}
