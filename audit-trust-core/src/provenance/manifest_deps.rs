//! The dependencies a manifest builds with, in a form where `Cargo.toml.orig` (as written, maybe
//! inheriting from the workspace) and the normalized `Cargo.toml` (as published) compare equal
//! when they describe the same build.

use std::collections::{BTreeMap, BTreeSet};

use toml::{Table, Value};

/// `(section, key)`: `("dependencies", "serde")`, `("target.'cfg(unix)'.build-dependencies", "cc")`.
pub type DependencyKey = (String, String);

/// What one dependency entry means for a build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// The real package name (after `package = ".."`).
    pub package: String,
    /// The version requirement as written (`None`: none given).
    pub requirement: Option<String>,
    pub optional: bool,
    pub default_features: bool,
    pub features: BTreeSet<String>,
    /// From another registry than crates.io (`registry` or `registry-index`).
    pub registry: Option<String>,
}

/// Dependencies that reach a dependent's build: normal and build, also target-specific.
/// Dev-dependencies are left out: they never build for a dependent. `Err` names an inherited
/// entry that could not be resolved.
pub fn build_dependencies(
    manifest: &Table,
    workspace: Option<&Table>,
) -> Result<BTreeMap<DependencyKey, Dependency>, String> {
    let mut out = BTreeMap::new();
    let mut sections: Vec<(String, &Table)> = vec![(String::new(), manifest)];
    if let Some(targets) = manifest.get("target").and_then(Value::as_table) {
        for (cfg, table) in targets {
            if let Some(table) = table.as_table() {
                sections.push((format!("target.'{cfg}'."), table));
            }
        }
    }
    let workspace_deps = workspace
        .and_then(|w| w.get("workspace"))
        .and_then(|w| w.get("dependencies"))
        .and_then(Value::as_table);
    for (prefix, table) in sections {
        for (spelling, label) in [
            ("dependencies", "dependencies"),
            ("build-dependencies", "build-dependencies"),
            ("build_dependencies", "build-dependencies"),
        ] {
            let Some(deps) = table.get(spelling).and_then(Value::as_table) else {
                continue;
            };
            for (key, spec) in deps {
                let dependency = dependency(key, spec, workspace_deps)?;
                out.insert((format!("{prefix}{label}"), key.clone()), dependency);
            }
        }
    }
    Ok(out)
}

fn dependency(key: &str, spec: &Value, workspace: Option<&Table>) -> Result<Dependency, String> {
    let table = match spec {
        Value::String(requirement) => {
            return Ok(Dependency {
                package: key.to_owned(),
                requirement: Some(requirement.clone()),
                optional: false,
                default_features: true,
                features: BTreeSet::new(),
                registry: None,
            });
        }
        Value::Table(table) => table,
        _ => {
            return Err(format!(
                "dependency `{key}` is neither a string nor a table"
            ));
        }
    };
    let inherits = table.get("workspace").and_then(Value::as_bool) == Some(true);
    let mut dependency = if inherits {
        let base = workspace.and_then(|w| w.get(key)).ok_or_else(|| {
            format!("dependency `{key}` is inherited from a workspace that does not define it")
        })?;
        let mut base = self::dependency(key, base, None)?;
        base.optional = false;
        base
    } else {
        Dependency {
            package: key.to_owned(),
            requirement: None,
            optional: false,
            default_features: true,
            features: BTreeSet::new(),
            registry: None,
        }
    };
    let string = |k: &str| table.get(k).and_then(Value::as_str).map(str::to_owned);
    if let Some(package) = string("package") {
        dependency.package = package;
    }
    if let Some(requirement) = string("version") {
        dependency.requirement = Some(requirement);
    }
    if let Some(registry) = string("registry").or_else(|| string("registry-index")) {
        dependency.registry = Some(registry);
    }
    if let Some(optional) = table.get("optional").and_then(Value::as_bool) {
        dependency.optional = optional;
    }
    let default_features = table
        .get("default-features")
        .or_else(|| table.get("default_features"))
        .and_then(Value::as_bool);
    if let Some(default_features) = default_features {
        dependency.default_features = default_features;
    }
    if let Some(features) = table.get("features").and_then(Value::as_array) {
        dependency
            .features
            .extend(features.iter().filter_map(Value::as_str).map(str::to_owned));
    }
    Ok(dependency)
}

/// Lines that say how two dependency sets differ; empty when they agree.
pub fn dependency_disagreements(
    published: &BTreeMap<DependencyKey, Dependency>,
    original: &BTreeMap<DependencyKey, Dependency>,
) -> Vec<String> {
    let mut out = Vec::new();
    for ((section, key), dep) in published {
        let Some(orig) = original.get(&(section.clone(), key.clone())) else {
            out.push(format!(
                "[{section}] `{key}` is in Cargo.toml but not in Cargo.toml.orig"
            ));
            continue;
        };
        let mut differences = Vec::new();
        if dep.package != orig.package {
            differences.push(format!("package `{}` vs `{}`", dep.package, orig.package));
        }
        if !same_requirement(dep.requirement.as_deref(), orig.requirement.as_deref()) {
            differences.push(format!(
                "version `{}` vs `{}`",
                dep.requirement.as_deref().unwrap_or("(none)"),
                orig.requirement.as_deref().unwrap_or("(none)")
            ));
        }
        if dep.optional != orig.optional {
            differences.push(format!("optional {} vs {}", dep.optional, orig.optional));
        }
        if dep.default_features != orig.default_features {
            differences.push(format!(
                "default-features {} vs {}",
                dep.default_features, orig.default_features
            ));
        }
        if dep.features != orig.features {
            differences.push(format!(
                "features {:?} vs {:?}",
                dep.features, orig.features
            ));
        }
        // Cargo turns `registry = "name"` into `registry-index = "url"`: only whether the
        // dependency comes from crates.io can be compared.
        if dep.registry.is_some() != orig.registry.is_some() {
            differences.push(format!(
                "registry {} vs {}",
                dep.registry.as_deref().unwrap_or("crates.io"),
                orig.registry.as_deref().unwrap_or("crates.io")
            ));
        }
        if !differences.is_empty() {
            out.push(format!(
                "[{section}] `{key}` differs (Cargo.toml vs Cargo.toml.orig): {}",
                differences.join(", ")
            ));
        }
    }
    for (section, key) in original.keys() {
        if !published.contains_key(&(section.clone(), key.clone())) {
            out.push(format!(
                "[{section}] `{key}` is in Cargo.toml.orig but not in Cargo.toml"
            ));
        }
    }
    out
}

/// `1.2` and `^1.2` are the same requirement; unparsable ones compare as text.
fn same_requirement(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => match (semver::VersionReq::parse(a), semver::VersionReq::parse(b)) {
            (Ok(a), Ok(b)) => a == b,
            _ => a.trim() == b.trim(),
        },
        (a, b) => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deps(text: &str, workspace: Option<&str>) -> BTreeMap<DependencyKey, Dependency> {
        let table: Table = text.parse().expect("toml");
        let ws: Option<Table> = workspace.map(|w| w.parse().expect("toml"));
        build_dependencies(&table, ws.as_ref()).expect("resolvable")
    }

    #[test]
    fn normalized_and_original_spellings_agree() {
        let original = deps(
            "[dependencies]\na = \"1\"\nb = { workspace = true, features = [\"x\"], optional = true }\n\
             c = { path = \"../c\", version = \"0.3\", default_features = false }\n\
             [target.'cfg(unix)'.build-dependencies]\ncc = \"1.0\"\n[dev-dependencies]\nt = \"1\"\n",
            Some("[workspace.dependencies]\nb = { version = \"2.1\", features = [\"y\"] }\n"),
        );
        let published = deps(
            "[dependencies.a]\nversion = \"^1\"\n[dependencies.b]\nversion = \"2.1\"\nfeatures = [\"y\", \"x\"]\n\
             optional = true\n[dependencies.c]\nversion = \"0.3\"\ndefault-features = false\n\
             [target.\"cfg(unix)\".build-dependencies.cc]\nversion = \"1.0\"\n",
            None,
        );
        assert_eq!(
            dependency_disagreements(&published, &original),
            Vec::<String>::new()
        );
    }

    #[test]
    fn added_or_changed_dependencies_are_named() {
        let original = deps("[dependencies]\na = \"1\"\n", None);
        let published = deps(
            "[dependencies]\na = \"2\"\n[build-dependencies]\nevil = \"1\"\n",
            None,
        );
        let lines = dependency_disagreements(&published, &original);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(
            lines[0].contains("`evil` is in Cargo.toml but not"),
            "{lines:?}"
        );
        assert!(lines[1].contains("version `2` vs `1`"), "{lines:?}");
    }
}
