//! Index lines in the format crates.io serves, derived from `cargo metadata` as `cargo publish`
//! derives them from the manifest.

use serde_json::{Map, Value, json};

use crate::registry::str_field;

/// One index line in the format crates.io serves (see the cargo book, "Registry Index").
pub(crate) fn index_entry(pkg: &Value, cksum: &str) -> Value {
    let deps: Vec<Value> = pkg["dependencies"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|d| {
            let real = str_field(d, "name");
            // The index names a renamed dependency by its key and keeps the crate in `package`.
            let (name, package) = match d["rename"].as_str() {
                Some(alias) => (alias.to_owned(), Some(real)),
                None => (real, None),
            };
            let mut dep = json!({
                "name": name,
                "req": d["req"],
                "features": d["features"],
                "optional": d["optional"],
                "default_features": d["uses_default_features"],
                "target": d["target"],
                // metadata says null for normal deps; the index spells it out.
                "kind": d["kind"].as_str().unwrap_or("normal"),
            });
            if let Some(package) = package {
                dep["package"] = package.into();
            }
            if let Some(registry) = d["registry"].as_str() {
                dep["registry"] = registry.into();
            }
            dep
        })
        .collect();
    // `dep:` and `?/` syntax goes in `features2` with `v: 2`, as crates.io does, so the entries
    // stay readable by index parsers that predate it.
    let (mut features, mut features2) = (Map::new(), Map::new());
    for (k, v) in pkg["features"].as_object().cloned().unwrap_or_default() {
        let new_syntax = v.as_array().is_some_and(|vals| {
            vals.iter()
                .filter_map(Value::as_str)
                .any(|s| s.starts_with("dep:") || s.contains("?/"))
        });
        if new_syntax {
            features2.insert(k, v)
        } else {
            features.insert(k, v)
        };
    }
    let mut entry = json!({
        "name": pkg["name"],
        "vers": pkg["version"],
        "deps": deps,
        "cksum": cksum,
        "features": features,
        "yanked": false,
        "links": pkg["links"],
    });
    if !features2.is_empty() {
        entry["features2"] = features2.into();
        entry["v"] = 2.into();
    }
    if let Some(rv) = pkg["rust_version"].as_str() {
        entry["rust_version"] = rv.into();
    }
    entry
}
