//! Cargo's own minimum publish age (RFC 3923, `-Zmin-publish-age`, being stabilized in 2026):
//! `[registry] global-min-publish-age` and `[registry] min-publish-age` in cargo's config
//! files, or their `CARGO_REGISTRY_*` environment variables. When a project set one, a younger
//! version is `recently-published` whatever `[risk] min-age` says: the stricter of the two wins.

use std::path::Path;

use crate::audit_file::parse_age;

/// The strictest minimum age (seconds) cargo's configuration sets, read from the config files
/// cargo reads for `project_dir` (nearest first, then `cargo_home`) and the environment values
/// the caller passes (`CARGO_REGISTRY_GLOBAL_MIN_PUBLISH_AGE`, `CARGO_REGISTRY_MIN_PUBLISH_AGE`).
/// A value that does not parse is an error naming where it was.
pub fn cargo_min_publish_age(
    project_dir: &Path,
    cargo_home: &Path,
    env: &[(&str, Option<String>)],
) -> Result<Option<i64>, String> {
    let mut strictest: Option<i64> = None;
    let mut take = |value: &str, origin: &str| -> Result<(), String> {
        let seconds = parse_age(value).ok_or_else(|| {
            format!(
                "{origin}: `{}` is not a duration such as \"7 days\"",
                value.escape_default()
            )
        })?;
        strictest = Some(strictest.map_or(seconds, |s| s.max(seconds)));
        Ok(())
    };
    for (name, value) in env {
        if let Some(v) = value {
            take(v, name)?;
        }
    }
    let mut dirs: Vec<std::path::PathBuf> =
        project_dir.ancestors().map(|d| d.join(".cargo")).collect();
    dirs.push(cargo_home.to_path_buf());
    for dir in dirs {
        for file in ["config.toml", "config"] {
            let path = dir.join(file);
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let table: toml::Table = text
                .parse()
                .map_err(|e: toml::de::Error| format!("{}: {}", path.display(), e.message()))?;
            let registry = table.get("registry").and_then(toml::Value::as_table);
            for key in ["global-min-publish-age", "min-publish-age"] {
                if let Some(v) = registry
                    .and_then(|r| r.get(key))
                    .and_then(toml::Value::as_str)
                {
                    take(v, &format!("{} [registry] {key}", path.display()))?;
                }
            }
            break;
        }
    }
    Ok(strictest)
}
