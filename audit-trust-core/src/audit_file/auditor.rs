//! `[[auditor]]`: whom the project trusts, with which keys, for which packages, and where their
//! records are. Each value is checked as it is read, so a bad one is reported at its own line
//! and column; checks that span several auditors run in [`check_auditors`].
//!
//! ```toml
//! [[auditor]]
//! name = "tokio-team"
//! covers = ["tokio", "tokio-*", "mio", "bytes"]
//! records = { folder = "supply-chain/sign-offs" }   # or { registry = "https://…" } or { url = "https://…" }
//! # A registry whose transparency log key is pinned is read per crate, with proofs:
//! # records = { registry = "https://…", log-origin = "audit-registry/…", log-key = "ed25519:…" }
//! keys = [
//!   { key = "ed25519:…", not-after = 2026-12-31 },
//!   { key = "ed25519:…", criteria = ["source-matches"] },   # a bot key
//! ]
//! ```

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::signoff::{Criterion, PublicKey};
use crate::time::{Date, Timestamp};

const MAX_AUDITOR_NAME_LEN: usize = 64;
const MAX_PATTERN_LEN: usize = 64;

/// One `[[auditor]]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "Spanned<RawAuditor>")]
pub struct Auditor {
    pub name: String,
    pub keys: Vec<PinnedKey>,
    pub records: RecordLocation,
    /// The registry's transparency log, when `records` pins it (`log-origin`, `log-key`): the
    /// gate then reads the registry per crate and verifies the log's proofs
    /// (`docs/transparency-log.md`).
    pub registry_log: Option<RegistryLogPin>,
    pub covers: Vec<CratePattern>,
    /// Byte range of the table in `Cargo.audit`, for messages.
    pub span: Range<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawAuditor {
    name: String,
    keys: Vec<PinnedKey>,
    records: PinnedLocation,
    covers: Vec<CratePattern>,
}

/// `records` as written: where, and the registry's log pin. Checked as it is read, so an error
/// points at the `records` value.
#[derive(Deserialize)]
#[serde(try_from = "RawLocation")]
struct PinnedLocation {
    location: RecordLocation,
    log: Option<RegistryLogPin>,
}

impl TryFrom<RawLocation> for PinnedLocation {
    type Error = String;

    fn try_from(raw: RawLocation) -> Result<PinnedLocation, String> {
        let log = raw.log_pin()?;
        Ok(PinnedLocation {
            location: RecordLocation::try_from(raw)?,
            log,
        })
    }
}

impl TryFrom<Spanned<RawAuditor>> for Auditor {
    type Error = String;

    fn try_from(raw: Spanned<RawAuditor>) -> Result<Auditor, String> {
        let span = raw.span();
        let raw = raw.into_inner();
        let name_ok = !raw.name.is_empty()
            && raw.name.len() <= MAX_AUDITOR_NAME_LEN
            && raw
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !name_ok {
            return Err(format!(
                "auditor name `{}` must be 1 to {MAX_AUDITOR_NAME_LEN} ASCII letters, digits, `-`, `_` or `.`",
                escape(&raw.name)
            ));
        }
        if raw.keys.is_empty() {
            return Err(format!(
                "auditor `{}` pins no key: add `keys = [{{ key = \"ed25519:…\" }}]`",
                raw.name
            ));
        }
        if raw.covers.is_empty() {
            return Err(format!(
                "auditor `{}` covers no package: add patterns such as `covers = [\"tokio-*\"]` or `[\"*\"]`",
                raw.name
            ));
        }
        for (i, k) in raw.keys.iter().enumerate() {
            if raw.keys[..i].iter().any(|earlier| earlier.key == k.key) {
                return Err(format!(
                    "auditor `{}` pins the key {} twice",
                    raw.name, k.key
                ));
            }
        }
        Ok(Auditor {
            name: raw.name,
            keys: raw.keys,
            records: raw.records.location,
            registry_log: raw.records.log,
            covers: raw.covers,
            span,
        })
    }
}

impl Auditor {
    /// Whether one of the `covers` patterns matches `crate_name`.
    pub fn covers(&self, crate_name: &str) -> bool {
        self.covers.iter().any(|p| p.matches(crate_name))
    }

    /// The pinned entry for `key`, if this auditor pins it.
    pub fn key(&self, key: &PublicKey) -> Option<&PinnedKey> {
        self.keys.iter().find(|k| &k.key == key)
    }
}

/// A public key an auditor signs with, and what it may be used for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PinnedKey {
    pub key: PublicKey,
    /// The last day the key counts; after it, nothing it signed is accepted. Creation times in
    /// records are claims of the signer, so expiry is judged against the clock, never them.
    #[serde(default)]
    pub not_after: Option<Date>,
    /// The criteria this key may assert; `None` means any. A bot key is limited to
    /// `source-matches` this way.
    #[serde(default)]
    pub criteria: Option<Vec<Criterion>>,
}

impl PinnedKey {
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.not_after.is_none_or(|day| now < day.end())
    }

    pub fn may_assert(&self, criterion: &Criterion) -> bool {
        self.criteria
            .as_ref()
            .is_none_or(|allowed| allowed.contains(criterion))
    }
}

/// Where an auditor's records and heads are read from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawLocation")]
pub enum RecordLocation {
    /// A local sign-off store; relative paths are relative to the folder of `Cargo.audit`.
    Folder(PathBuf),
    /// An `audit-registry` server.
    Registry(String),
    /// A static copy of a store served over HTTPS.
    Url(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawLocation {
    folder: Option<String>,
    registry: Option<String>,
    url: Option<String>,
    log_origin: Option<String>,
    log_key: Option<PublicKey>,
}

/// A registry's transparency log as `Cargo.audit` pins it: the log's origin (its name, also the
/// name of its key in checkpoint notes) and its ed25519 key, both as `GET /v1/log/key` shows
/// them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryLogPin {
    pub origin: String,
    pub key: PublicKey,
}

impl RawLocation {
    fn log_pin(&self) -> Result<Option<RegistryLogPin>, String> {
        let remote = self.registry.is_some() || self.url.is_some();
        match (remote, &self.log_origin, &self.log_key) {
            (_, None, None) => Ok(None),
            (true, Some(origin), Some(key)) => {
                if !crate::tlog::valid_key_name(origin) {
                    return Err(format!(
                        "`log-origin = \"{}\"` is not a log name (no spaces, no `+`)",
                        escape(origin)
                    ));
                }
                Ok(Some(RegistryLogPin {
                    origin: origin.clone(),
                    key: *key,
                }))
            }
            (true, _, _) => Err(
                "a registry's log pin needs both `log-origin` and `log-key` (as `GET /v1/log/key` shows them)"
                    .into(),
            ),
            (false, _, _) => Err(
                "`log-origin` and `log-key` pin a registry's log: only with `registry = \"URL\"` or its static export's `url = \"URL\"`"
                    .into(),
            ),
        }
    }
}

impl TryFrom<RawLocation> for RecordLocation {
    type Error = String;

    fn try_from(raw: RawLocation) -> Result<RecordLocation, String> {
        match (raw.folder, raw.registry, raw.url) {
            (Some(folder), None, None) => {
                if folder.trim().is_empty() || folder.chars().any(char::is_control) {
                    return Err(format!("`{}` is not a folder path", escape(&folder)));
                }
                Ok(RecordLocation::Folder(PathBuf::from(folder)))
            }
            (None, Some(url), None) => check_http_url(&url).map(|()| RecordLocation::Registry(url)),
            (None, None, Some(url)) => check_http_url(&url).map(|()| RecordLocation::Url(url)),
            _ => Err(
                "`records` needs exactly one of `folder = \"PATH\"`, `registry = \"URL\"` or `url = \"URL\"`"
                    .into(),
            ),
        }
    }
}

impl RecordLocation {
    /// The folder of a local store, resolved against the folder holding `Cargo.audit`.
    pub fn folder(&self, audit_file_dir: &Path) -> Option<PathBuf> {
        match self {
            RecordLocation::Folder(path) => Some(audit_file_dir.join(path)),
            _ => None,
        }
    }
}

/// https everywhere; plain http only on the loopback interface (a registry on this machine).
/// Signatures make records unforgeable on any transport, but withholding and tracking are easier
/// on plain http.
pub fn check_http_url(url: &str) -> Result<(), String> {
    let loopback = [
        "http://127.0.0.1:",
        "http://127.0.0.1/",
        "http://localhost:",
        "http://localhost/",
        "http://[::1]:",
    ];
    let ok = !url.chars().any(|c| c.is_control() || c.is_whitespace())
        && (url.len() > "https://".len() && url.starts_with("https://")
            || loopback.iter().any(|p| url.starts_with(p)));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not an https:// URL (plain http is allowed only for 127.0.0.1 and localhost)",
            escape(url)
        ))
    }
}

/// A package name pattern: a crate name in which `*` stands for any run of characters
/// (`tokio-*`, `*`, `*-sys`). Matching ignores ASCII case, as crates.io does for names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CratePattern(String);

impl CratePattern {
    pub fn parse(text: &str) -> Result<CratePattern, String> {
        let ok = !text.is_empty()
            && text.len() <= MAX_PATTERN_LEN
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '*'));
        if ok {
            Ok(CratePattern(text.to_ascii_lowercase()))
        } else {
            Err(format!(
                "`{}` is not a package pattern: a crate name where `*` matches anything, such as `tokio-*`",
                escape(text)
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn matches(&self, crate_name: &str) -> bool {
        glob_matches(
            self.0.as_bytes(),
            crate_name.to_ascii_lowercase().as_bytes(),
        )
    }
}

impl<'de> Deserialize<'de> for CratePattern {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        CratePattern::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// `*`-only glob, linear time: on a mismatch, retry from the last `*` one character further.
fn glob_matches(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    // The last `*` seen and the name position it currently extends to.
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if pattern.get(p) == Some(&b'*') {
            star = Some((p, n));
            p += 1;
        } else if pattern.get(p) == Some(&name[n]) {
            p += 1;
            n += 1;
        } else if let Some((star_at, matched_to)) = star {
            p = star_at + 1;
            n = matched_to + 1;
            star = Some((star_at, matched_to + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// Checks that need all auditors: unique names, and each key pinned by one auditor only (a key
/// shared by two would make its records count for both). Returns the offending auditor's span.
pub(super) fn check_auditors(auditors: &[Auditor]) -> Result<(), (Range<usize>, String)> {
    let mut names: HashMap<&str, ()> = HashMap::new();
    let mut keys: HashMap<&PublicKey, &str> = HashMap::new();
    for auditor in auditors {
        if names.insert(auditor.name.as_str(), ()).is_some() {
            return Err((
                auditor.span.clone(),
                format!("there are two auditors named `{}`", auditor.name),
            ));
        }
        for k in &auditor.keys {
            if let Some(other) = keys.insert(&k.key, &auditor.name) {
                return Err((
                    auditor.span.clone(),
                    format!(
                        "the key {} is pinned by both `{other}` and `{}`; give each auditor its own key",
                        k.key, auditor.name
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn escape(text: &str) -> String {
    text.chars()
        .take(80)
        .flat_map(char::escape_default)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_like_globs() {
        let p = |s: &str| CratePattern::parse(s).expect(s);
        assert!(p("tokio-*").matches("tokio-util"));
        assert!(p("tokio-*").matches("tokio-"));
        assert!(!p("tokio-*").matches("tokio"));
        assert!(p("*").matches("anything"));
        assert!(p("*-sys").matches("openssl-sys"));
        assert!(!p("*-sys").matches("openssl-sys2"));
        assert!(p("a*b*c").matches("aXXbYYc"));
        assert!(!p("a*b*c").matches("aXXbYY"));
        assert!(p("serde").matches("Serde"));
        assert!(p("Serde").matches("serde"));
        assert!(!p("serde").matches("serde_json"));
        for bad in ["", "../x", "a/b", "a b", "a?", "é"] {
            assert!(CratePattern::parse(bad).is_err(), "{bad:?}");
        }
    }
}
