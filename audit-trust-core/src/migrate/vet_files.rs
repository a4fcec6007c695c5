//! cargo-vet's own files as it writes them: `config.toml` (imports, policy, exemptions),
//! `audits.toml` (only its `[criteria]` matter here) and `imports.lock` (only its publisher
//! cache matters here). Parsed leniently where cargo-vet is lenient, and every error names the
//! file, line and column.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::Error;

/// A string or a list of strings, as cargo-vet accepts for criteria and URLs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// `config.toml`. Keys that do not matter here (`[cargo-vet] version`, `default-criteria`, which
/// is what `cargo vet certify` proposes and not a policy) are ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct VetConfig {
    #[serde(default)]
    pub imports: BTreeMap<String, VetImport>,
    #[serde(default)]
    pub policy: BTreeMap<String, VetPolicy>,
    #[serde(default, alias = "unaudited")]
    pub exemptions: BTreeMap<String, Vec<VetExemption>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct VetImport {
    pub url: OneOrMany,
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Their criteria → ours.
    #[serde(default)]
    pub criteria_map: BTreeMap<String, OneOrMany>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct VetPolicy {
    #[serde(default)]
    pub audit_as_crates_io: Option<bool>,
    #[serde(default)]
    pub criteria: Option<OneOrMany>,
    #[serde(default)]
    pub dev_criteria: Option<OneOrMany>,
    #[serde(default)]
    pub dependency_criteria: Option<BTreeMap<String, OneOrMany>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct VetExemption {
    pub version: String,
    #[serde(default)]
    pub criteria: Option<OneOrMany>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// `[criteria.NAME]` of an `audits.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct VetCriterion {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub description_url: Option<String>,
    #[serde(default)]
    pub implies: Option<OneOrMany>,
}

#[derive(Debug, Default, Deserialize)]
pub struct VetAuditsCriteria {
    #[serde(default)]
    pub criteria: BTreeMap<String, VetCriterion>,
}

/// One `[[publisher.NAME]]` entry of `imports.lock`: who published a version, and when.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct VetPublisher {
    #[serde(skip)]
    pub name: String,
    pub version: String,
    pub when: String,
    /// The crates.io user, or else `trusted_publisher` (a CI identity, e.g. `github:org/repo`).
    #[serde(default)]
    pub user_id: Option<u64>,
    #[serde(default)]
    pub user_login: Option<String>,
    #[serde(default)]
    pub trusted_publisher: Option<String>,
    #[serde(default)]
    pub user_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct VetImportsLock {
    #[serde(default)]
    publisher: BTreeMap<String, Vec<VetPublisher>>,
    /// Per import, the part of its `audits.toml` the project used, in the same shape.
    #[serde(default)]
    audits: BTreeMap<String, toml::Table>,
}

/// What cargo-vet's `imports.lock` keeps: the publisher cache, and per import the audits the
/// project used, each written back as an `audits.toml` text.
#[derive(Debug, Default)]
pub struct VetLockContents {
    pub publishers: Vec<VetPublisher>,
    pub sets: BTreeMap<String, String>,
}

pub fn parse_config(text: &str, path: &Path) -> Result<VetConfig, Error> {
    parse(text, path)
}

pub fn parse_audits_criteria(text: &str, path: &Path) -> Result<VetAuditsCriteria, Error> {
    parse(text, path)
}

/// The publisher cache of an `imports.lock`, every entry with its crate name, and its sets.
pub fn parse_imports_lock(text: &str, path: &Path) -> Result<VetLockContents, Error> {
    let lock: VetImportsLock = parse(text, path)?;
    let publishers = lock
        .publisher
        .into_iter()
        .flat_map(|(name, entries)| {
            entries.into_iter().map(move |mut p| {
                p.name = name.clone();
                p
            })
        })
        .collect();
    let mut sets = BTreeMap::new();
    for (name, table) in lock.audits {
        let text = toml::to_string(&table).map_err(|e| Error::CargoVetStore {
            path: path.to_path_buf(),
            line: None,
            column: None,
            message: format!("[audits.{name}]: {e}"),
        })?;
        sets.insert(name, text);
    }
    Ok(VetLockContents { publishers, sets })
}

fn parse<T: serde::de::DeserializeOwned>(text: &str, path: &Path) -> Result<T, Error> {
    toml::from_str(text).map_err(|e| {
        let (line, column) = match e.span() {
            Some(span) => {
                let before = &text[..span.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                (Some(line), Some(column))
            }
            None => (None, None),
        };
        Error::CargoVetStore {
            path: path.to_path_buf(),
            line,
            column,
            message: e.message().to_owned(),
        }
    })
}
