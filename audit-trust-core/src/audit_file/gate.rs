//! The gate's parts of `Cargo.audit` besides `[policy]`: exemptions, advisory ignores, custom
//! criteria, allowed sources and where advisories come from. Every entry is validated as it is
//! read, so an error points at the entry's own line.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use crate::names::{validate_crate_name, validate_version};
use crate::signoff::Criterion;
use crate::source_url::SourceLocation;
use crate::time::Date;

/// `[[exemption]]`: admits a package without a sign-off — never past an advisory or a flag.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "Spanned<RawExemption>")]
pub struct Exemption {
    pub name: String,
    /// The versions admitted: `=1.2.3` for `package = "name@1.2.3"`, or the `versions` range.
    pub versions: semver::VersionReq,
    pub reason: String,
    /// The last day the exemption counts.
    pub expires: Date,
    /// `allow-yanked = true`: the admitted versions may be yanked until `expires` (a warning
    /// instead of a block). The per-version, expiring waiver `init --baseline` writes.
    pub allow_yanked: bool,
    /// Byte offset of the entry in `Cargo.audit`.
    pub offset: usize,
    /// Where the `reason` and `expires` values are written, for `exemptions renew`'s edits.
    pub reason_span: std::ops::Range<usize>,
    pub expires_span: std::ops::Range<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawExemption {
    package: String,
    versions: Option<String>,
    reason: Spanned<String>,
    expires: Spanned<Date>,
    #[serde(default)]
    allow_yanked: bool,
}

impl TryFrom<Spanned<RawExemption>> for Exemption {
    type Error = String;

    fn try_from(raw: Spanned<RawExemption>) -> Result<Exemption, String> {
        let offset = raw.span().start;
        let raw = raw.into_inner();
        let (reason_span, expires_span) = (raw.reason.span(), raw.expires.span());
        let (reason, expires) = (raw.reason.into_inner(), raw.expires.into_inner());
        let (name, versions) = match (raw.package.split_once('@'), &raw.versions) {
            (Some((name, version)), None) => {
                let exact = validate_version(version).map_err(|e| format!("[[exemption]] {e}"))?;
                (
                    name.to_owned(),
                    semver::VersionReq::parse(&format!("={exact}")).map_err(|e| e.to_string())?,
                )
            }
            (None, Some(range)) => (
                raw.package.clone(),
                semver::VersionReq::parse(range).map_err(|e| {
                    format!("[[exemption]] versions `{range}` is not a version range: {e}")
                })?,
            ),
            (Some(_), Some(_)) => {
                return Err(
                    "[[exemption]] gives both `name@version` and `versions`: use one".into(),
                );
            }
            (None, None) => {
                return Err(format!(
                    "[[exemption]] for `{}` needs an exact `package = \"{0}@VERSION\"` or a `versions` range",
                    raw.package
                ));
            }
        };
        validate_crate_name(&name).map_err(|e| format!("[[exemption]] {e}"))?;
        require_reason(&reason, "[[exemption]]")?;
        Ok(Exemption {
            name,
            versions,
            reason,
            expires,
            allow_yanked: raw.allow_yanked,
            offset,
            reason_span,
            expires_span,
        })
    }
}

impl Exemption {
    pub fn matches(&self, name: &str, version: &semver::Version) -> bool {
        self.name == name && self.versions.matches(version)
    }

    /// Live on `today` (the expiry day itself included).
    pub fn is_live(&self, today: Date) -> bool {
        today <= self.expires
    }
}

/// `[[ignore-advisory]]`: an advisory the project has looked at and accepts, for a while.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "Spanned<RawIgnore>")]
pub struct AdvisoryIgnore {
    pub id: String,
    pub reason: String,
    pub expires: Date,
    pub offset: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawIgnore {
    id: String,
    reason: String,
    expires: Date,
}

impl TryFrom<Spanned<RawIgnore>> for AdvisoryIgnore {
    type Error = String;

    fn try_from(raw: Spanned<RawIgnore>) -> Result<AdvisoryIgnore, String> {
        let offset = raw.span().start;
        let raw = raw.into_inner();
        let id_ok = raw.id.len() <= 64
            && !raw.id.is_empty()
            && raw
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !id_ok {
            return Err(format!(
                "[[ignore-advisory]] `{}` is not an advisory id such as RUSTSEC-2024-0001",
                raw.id.escape_default()
            ));
        }
        require_reason(&raw.reason, "[[ignore-advisory]]")?;
        Ok(AdvisoryIgnore {
            id: raw.id,
            reason: raw.reason,
            expires: raw.expires,
            offset,
        })
    }
}

impl AdvisoryIgnore {
    pub fn is_live(&self, today: Date) -> bool {
        today <= self.expires
    }
}

fn require_reason(reason: &str, section: &str) -> Result<(), String> {
    if reason.trim().is_empty() {
        return Err(format!(
            "{section} needs a `reason`: say why, for the next reader"
        ));
    }
    Ok(())
}

/// `[criteria.NAME]`: a custom criterion and the criteria it implies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CustomCriterion {
    pub description: Option<String>,
    #[serde(default)]
    pub implies: Vec<Criterion>,
    /// `false`: only signed evidence grants this criterion; imported audits never do.
    pub imports_allowed: Option<bool>,
}

impl CustomCriterion {
    pub fn allows_imports(&self) -> bool {
        self.imports_allowed.unwrap_or(true)
    }
}

/// `[allowed-sources]`: where packages may come from. Absent: crates.io only for registries,
/// and any git repository (git packages still need a sign-off on their commit or an exemption).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AllowedSources {
    /// `crates-io`, or registry index URLs as the lockfile writes them (`sparse+https://…`).
    #[serde(default = "crates_io_only")]
    pub registries: Vec<String>,
    /// Git repository URL prefixes (`https://github.com/my-org/`), matched by whole path segments
    /// after cargo's normalization; `None`: any.
    pub git: Option<Vec<String>>,
}

impl Default for AllowedSources {
    fn default() -> Self {
        AllowedSources {
            registries: crates_io_only(),
            git: None,
        }
    }
}

fn crates_io_only() -> Vec<String> {
    vec!["crates-io".into()]
}

/// Every `[allowed-sources]` entry must be comparable the way lockfile sources are (see
/// [`crate::source_url`]), so a typo is an error instead of an entry that silently admits
/// nothing. `Err((key, message))`.
pub(super) fn check_allowed_sources(
    allowed: &AllowedSources,
) -> Result<(), (&'static str, String)> {
    for registry in &allowed.registries {
        if registry != "crates-io" {
            SourceLocation::registry(registry).map_err(|e| {
                (
                    "registries",
                    format!("[allowed-sources] registries: `{registry}`: {e}"),
                )
            })?;
        }
    }
    for prefix in allowed.git.iter().flatten() {
        SourceLocation::git_prefix(prefix)
            .map_err(|e| ("git", format!("[allowed-sources] git: `{prefix}`: {e}")))?;
    }
    Ok(())
}

/// `[advisories]`: where the RustSec database comes from and how old it may be.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AdvisoriesConfig {
    /// A local database folder (relative to `Cargo.audit`).
    pub db: Option<PathBuf>,
    /// A git URL to fetch the database from (default: the RustSec repository).
    pub git: Option<String>,
    /// Older than this many days is stale (default 90, as cargo-audit).
    pub max_age_days: Option<u32>,
}

/// Checks across entries: custom criteria must not shadow built-in ones, and may imply only
/// criteria that exist. `Err((name, message))`.
pub(super) fn check_criteria(
    criteria: &BTreeMap<String, CustomCriterion>,
) -> Result<(), (String, String)> {
    for (name, custom) in criteria {
        match Criterion::parse(name) {
            Ok(Criterion::Custom(_)) => {}
            Ok(_) => {
                return Err((
                    name.clone(),
                    format!("[criteria.{name}] redefines a built-in criterion"),
                ));
            }
            Err(e) => return Err((name.clone(), format!("[criteria]: {e}"))),
        }
        for implied in &custom.implies {
            if let Criterion::Custom(other) = implied
                && !criteria.contains_key(other)
            {
                return Err((
                    name.clone(),
                    format!("[criteria.{name}] implies `{other}`, which is not defined"),
                ));
            }
        }
    }
    Ok(())
}
