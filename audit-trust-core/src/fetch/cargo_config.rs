//! Just enough of cargo's configuration to know where crates.io's packages really come from:
//! `[source.crates-io] replace-with = "..."` chains (mirrors, vendoring, local registries).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::Error;

/// Where the packages of one registry source are fetched from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryLocation {
    /// A sparse HTTP index (`sparse+http(s)://…/`).
    Sparse { index_url: String },
    /// A cargo local registry folder holding `NAME-VERSION.crate` files.
    LocalRegistry { path: PathBuf },
    /// Cannot be downloaded from by this tool; the message says why and what to do.
    Unsupported { reason: String },
}

/// The `[source.*]` tables of every cargo config file that applies, closest first.
#[derive(Debug, Default, Clone)]
pub struct CargoSources {
    sources: BTreeMap<String, SourceEntry>,
}

#[derive(Debug, Clone, Default)]
struct SourceEntry {
    replace_with: Option<String>,
    registry: Option<String>,
    local_registry: Option<PathBuf>,
    directory: Option<PathBuf>,
}

impl CargoSources {
    /// Reads `.cargo/config.toml` in `project_dir` and each folder above it, then
    /// `CARGO_HOME/config.toml`, as cargo does; a nearer file wins.
    pub fn load(project_dir: &Path, cargo_home: &Path) -> Result<CargoSources, Error> {
        let mut files = Vec::new();
        for dir in project_dir.ancestors() {
            files.push(dir.join(".cargo"));
        }
        files.push(cargo_home.to_path_buf());
        let mut sources = CargoSources::default();
        let mut seen = std::collections::HashSet::new();
        for dir in files {
            for name in ["config.toml", "config"] {
                let path = dir.join(name);
                if !path.is_file() || !seen.insert(path.clone()) {
                    continue;
                }
                let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
                sources.merge_file(&path, &text)?;
                // cargo reads `config` only when `config.toml` is absent.
                break;
            }
        }
        Ok(sources)
    }

    fn merge_file(&mut self, path: &Path, text: &str) -> Result<(), Error> {
        let table: toml::Table = toml::from_str(text).map_err(|e| Error::CargoConfig {
            path: path.to_owned(),
            message: format!("malformed cargo config: {}", e.message()),
        })?;
        let Some(toml::Value::Table(sources)) = table.get("source") else {
            return Ok(());
        };
        let base = path
            .parent()
            .and_then(Path::parent)
            .unwrap_or(Path::new("."));
        for (name, value) in sources {
            if self.sources.contains_key(name) {
                continue;
            }
            let Some(t) = value.as_table() else { continue };
            let string = |k: &str| t.get(k).and_then(|v| v.as_str()).map(str::to_owned);
            self.sources.insert(
                name.clone(),
                SourceEntry {
                    replace_with: string("replace-with"),
                    registry: string("registry"),
                    local_registry: string("local-registry").map(|p| base.join(p)),
                    directory: string("directory").map(|p| base.join(p)),
                },
            );
        }
        Ok(())
    }

    /// Where packages whose lockfile source id is `source_id` are downloaded from.
    pub fn locate(&self, source_id: &str, crates_io: bool) -> RegistryLocation {
        if crates_io {
            return self.follow("crates-io", crates_index::sparse::URL);
        }
        if source_id.starts_with("sparse+") {
            return RegistryLocation::Sparse {
                index_url: source_id.to_owned(),
            };
        }
        RegistryLocation::Unsupported {
            reason: format!(
                "registry `{source_id}` uses a git index, which this tool does not fetch; \
                 run `cargo fetch` so its crate files are in cargo's cache, or use its sparse index"
            ),
        }
    }

    /// Follows `replace-with` from the source named `name` (at most a few hops: a cycle in a
    /// config is an error cargo reports too).
    fn follow(&self, name: &str, default_index: &str) -> RegistryLocation {
        let mut current = name.to_owned();
        for hop in 0.. {
            let Some(entry) = self.sources.get(&current) else {
                break;
            };
            if let Some(next) = &entry.replace_with {
                if hop == 8 {
                    return RegistryLocation::Unsupported {
                        reason: format!(
                            "cargo's `replace-with` settings for `{name}` form a cycle"
                        ),
                    };
                }
                current = next.clone();
                continue;
            }
            if let Some(path) = &entry.local_registry {
                return RegistryLocation::LocalRegistry { path: path.clone() };
            }
            if let Some(dir) = &entry.directory {
                return RegistryLocation::Unsupported {
                    reason: format!(
                        "crates.io is replaced by the vendored folder {}, which holds no crate files to verify",
                        dir.display()
                    ),
                };
            }
            if let Some(url) = &entry.registry {
                if url.starts_with("sparse+") {
                    return RegistryLocation::Sparse {
                        index_url: url.clone(),
                    };
                }
                return RegistryLocation::Unsupported {
                    reason: format!(
                        "crates.io is replaced by the git index `{url}`, which this tool does not fetch"
                    ),
                };
            }
            break;
        }
        if current == name {
            RegistryLocation::Sparse {
                index_url: default_index.to_owned(),
            }
        } else {
            RegistryLocation::Unsupported {
                reason: format!(
                    "cargo's config replaces `{name}` with `{current}`, which has no usable definition"
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(text: &str) -> CargoSources {
        let mut s = CargoSources::default();
        s.merge_file(Path::new("/home/u/.cargo/config.toml"), text)
            .expect("valid config");
        s
    }

    #[test]
    fn crates_io_defaults_to_the_sparse_index() {
        let s = CargoSources::default();
        assert_eq!(
            s.locate("registry+x", true),
            RegistryLocation::Sparse {
                index_url: crates_index::sparse::URL.into()
            }
        );
    }

    #[test]
    fn follows_replacement_chains() {
        let s = sources(
            "[source.crates-io]\nreplace-with = \"corp\"\n[source.corp]\nreplace-with = \"mirror\"\n\
             [source.mirror]\nregistry = \"sparse+http://127.0.0.1:1/index/\"\n",
        );
        assert_eq!(
            s.locate("registry+x", true),
            RegistryLocation::Sparse {
                index_url: "sparse+http://127.0.0.1:1/index/".into()
            }
        );
        let s = sources(
            "[source.crates-io]\nreplace-with = \"l\"\n[source.l]\nlocal-registry = \"reg\"\n",
        );
        assert_eq!(
            s.locate("registry+x", true),
            RegistryLocation::LocalRegistry {
                path: PathBuf::from("/home/u/reg")
            }
        );
    }

    #[test]
    fn vendoring_git_indexes_and_cycles_are_unsupported() {
        for text in [
            "[source.crates-io]\nreplace-with = \"v\"\n[source.v]\ndirectory = \"vendor\"\n",
            "[source.crates-io]\nreplace-with = \"g\"\n[source.g]\nregistry = \"https://git.example/index\"\n",
            "[source.crates-io]\nreplace-with = \"a\"\n[source.a]\nreplace-with = \"crates-io\"\n",
        ] {
            assert!(
                matches!(
                    sources(text).locate("registry+x", true),
                    RegistryLocation::Unsupported { .. }
                ),
                "{text}"
            );
        }
    }
}
