//! Parsing `Cargo.lock` (format versions 1 to 4). The lockfile is input like any other: names and
//! versions are validated before use, and every error names the file and the line.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::Error;
use crate::names::{validate_crate_name, validate_version};

/// One `[[package]]` of a lockfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedPackage {
    pub name: String,
    pub version: semver::Version,
    /// The source id as cargo writes it (`registry+URL`, `sparse+URL`, `git+URL#sha`); `None` for
    /// workspace members and path dependencies.
    pub source: Option<String>,
    pub checksum: Option<String>,
    /// Indices into [`Lockfile::packages`].
    pub dependencies: Vec<usize>,
    /// 1-based line of the `[[package]]` header, for messages.
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct Lockfile {
    pub path: PathBuf,
    pub version: Option<u32>,
    pub packages: Vec<LockedPackage>,
}

#[derive(Deserialize)]
struct RawLockfile {
    version: Option<u32>,
    #[serde(default)]
    package: Vec<Spanned<RawPackage>>,
    /// Format 1 kept checksums here: `"checksum NAME VERSION (SOURCE)" = "HEX"`.
    #[serde(default)]
    metadata: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RawPackage {
    name: String,
    version: String,
    source: Option<String>,
    checksum: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

impl Lockfile {
    /// Reads and parses the lockfile at `path`.
    pub fn load(path: &Path) -> Result<Lockfile, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                Error::NoLockfile {
                    manifest: path.to_owned(),
                }
            } else {
                Error::io(path, source)
            }
        })?;
        Lockfile::parse(&text, path)
    }

    /// Parses lockfile text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Lockfile, Error> {
        let err = |line: Option<usize>, message: String| Error::Lockfile {
            path: path.to_owned(),
            line,
            message,
        };
        let raw: RawLockfile = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start));
            err(line, format!("malformed lockfile: {}", e.message()))
        })?;
        if let Some(v) = raw.version
            && !(1..=4).contains(&v)
        {
            return Err(err(
                None,
                format!(
                    "lockfile format version {v} is not supported (1 to 4 are); update cargo-audit-trust"
                ),
            ));
        }
        let v1_checksums = v1_checksums(&raw.metadata);

        // One pass over the text for every package's line (counting from the start for each
        // package was quadratic: most of a warm run's time on an 880-package lockfile).
        let lines = LineIndex::new(text);
        let mut packages = Vec::with_capacity(raw.package.len());
        for spanned in &raw.package {
            let line = lines.line_of(spanned.span().start);
            let p = spanned.get_ref();
            validate_crate_name(&p.name).map_err(|e| err(Some(line), e.to_string()))?;
            let version = validate_version(&p.version)
                .map_err(|e| err(Some(line), format!("package `{}`: {e}", p.name)))?;
            let checksum = match &p.checksum {
                Some(c) => Some(c.clone()),
                None => v1_checksums
                    .get(&(p.name.as_str(), p.version.as_str(), p.source.as_deref()))
                    .map(|c| (*c).to_owned()),
            };
            if let Some(c) = &checksum
                && !is_sha256_hex(c)
            {
                return Err(err(
                    Some(line),
                    format!(
                        "package `{}`: checksum `{c}` is not a SHA-256 hex digest",
                        p.name
                    ),
                ));
            }
            packages.push(LockedPackage {
                name: p.name.clone(),
                version,
                source: p.source.clone(),
                checksum,
                dependencies: Vec::new(),
                line,
            });
        }

        let lookup = DependencyLookup::new(&packages);
        let mut edges = Vec::with_capacity(raw.package.len());
        for (spanned, package) in raw.package.iter().zip(&packages) {
            let line = package.line;
            debug_assert_eq!(line, lines.line_of(spanned.span().start));
            let mut deps = Vec::new();
            for dep in &spanned.get_ref().dependencies {
                deps.push(lookup.resolve(dep).map_err(|m| err(Some(line), m))?);
            }
            deps.sort_unstable();
            deps.dedup();
            edges.push(deps);
        }
        for (package, deps) in packages.iter_mut().zip(edges) {
            package.dependencies = deps;
        }
        Ok(Lockfile {
            path: path.to_owned(),
            version: raw.version,
            packages,
        })
    }
}

/// Resolves the dependency strings of a lockfile (`name`, `name version`,
/// `name version (source)`) to package indices.
struct DependencyLookup<'a> {
    packages: &'a [LockedPackage],
    by_name: HashMap<&'a str, Vec<usize>>,
}

impl<'a> DependencyLookup<'a> {
    fn new(packages: &'a [LockedPackage]) -> Self {
        let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, p) in packages.iter().enumerate() {
            by_name.entry(p.name.as_str()).or_default().push(i);
        }
        DependencyLookup { packages, by_name }
    }

    fn resolve(&self, spec: &str) -> Result<usize, String> {
        let mut parts = spec.splitn(3, ' ');
        let name = parts.next().unwrap_or_default();
        let version = parts.next();
        let source = parts
            .next()
            .map(|s| s.trim_start_matches('(').trim_end_matches(')'));
        let candidates: Vec<usize> = self
            .by_name
            .get(name)
            .into_iter()
            .flatten()
            .copied()
            .filter(|&i| {
                let p = &self.packages[i];
                version.is_none_or(|v| p.version.to_string() == v)
                    && source.is_none_or(|s| p.source.as_deref() == Some(s))
            })
            .collect();
        match candidates.as_slice() {
            [one] => Ok(*one),
            [] => Err(format!(
                "dependency `{spec}` names no package in this lockfile; regenerate it with `cargo generate-lockfile`"
            )),
            _ => Err(format!(
                "dependency `{spec}` is ambiguous (several packages match); regenerate it with `cargo generate-lockfile`"
            )),
        }
    }
}

fn v1_checksums(metadata: &BTreeMap<String, String>) -> HashMap<(&str, &str, Option<&str>), &str> {
    let mut out = HashMap::new();
    for (key, value) in metadata {
        let Some(rest) = key.strip_prefix("checksum ") else {
            continue;
        };
        let mut parts = rest.splitn(3, ' ');
        if let (Some(name), Some(version), source) = (parts.next(), parts.next(), parts.next()) {
            let source = source.map(|s| s.trim_start_matches('(').trim_end_matches(')'));
            out.insert((name, version, source), value.as_str());
        }
    }
    out
}

pub(crate) fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// The offsets of a text's newlines, to answer many [`line_of`] questions with one pass.
struct LineIndex {
    newlines: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        LineIndex {
            newlines: text
                .bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i)
                .collect(),
        }
    }

    /// [`line_of`] for the indexed text.
    fn line_of(&self, offset: usize) -> usize {
        self.newlines.partition_point(|&newline| newline < offset) + 1
    }
}

/// 1-based line number of a byte offset.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

pub mod at_revision;
#[cfg(test)]
mod tests;
