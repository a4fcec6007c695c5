//! `[licenses]`: which licenses the project accepts, enforced by `check`. Parsed strictly like the
//! rest of `Cargo.audit`: an unknown key, a misspelt license identifier or action is an error at
//! its line, so a typo never weakens the policy.
//!
//! ```toml
//! [licenses]
//! allow = ["MIT", "Apache-2.0", "BSD-3-Clause", "ISC", "Unicode-3.0"]
//! deny = ["GPL-3.0-only"]     # wins over `allow` and over OR alternatives
//! unknown = "deny"            # no license, or one that is not SPDX (default deny)
//! mismatch = "warn"           # a shipped text that is another license (default warn)
//! dev-copyleft = "allow"      # copyleft licenses in dev-only packages (default allow)
//!
//! [[licenses.exception]]
//! package = "ring@0.17.14"    # or `package = "ring"` with `versions = ">=0.17"`
//! allow = ["OpenSSL"]         # empty: any license for this package
//! reason = "ring's OpenSSL-derived parts, reviewed by legal"
//! expires = "2027-03-03"
//! ```

use serde::Deserialize;
use toml::Spanned;

use super::RiskAction;
use crate::names::{validate_crate_name, validate_version};
use crate::time::Date;

/// Whether the policy is in force: only when the project wrote a `[licenses]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LicensePolicy {
    #[serde(default)]
    pub allow: Vec<Spanned<String>>,
    #[serde(default)]
    pub deny: Vec<Spanned<String>>,
    /// Missing or unparseable `license` (default deny).
    pub unknown: Option<RiskAction>,
    /// A shipped text that is clearly another license (default warn).
    pub mismatch: Option<RiskAction>,
    /// Copyleft licenses in packages only dev-dependencies reach (default allow: they are not
    /// shipped).
    pub dev_copyleft: Option<RiskAction>,
    #[serde(default, rename = "exception")]
    pub exceptions: Vec<LicenseException>,
}

/// `[[licenses.exception]]`: licenses accepted for some versions of one package, for a while.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "Spanned<RawException>")]
pub struct LicenseException {
    pub name: String,
    pub versions: semver::VersionReq,
    /// Licenses accepted for this package; empty: any.
    pub allow: Vec<String>,
    pub reason: String,
    pub expires: Date,
    pub offset: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawException {
    package: String,
    versions: Option<String>,
    #[serde(default)]
    allow: Vec<String>,
    reason: String,
    expires: Date,
}

impl TryFrom<Spanned<RawException>> for LicenseException {
    type Error = String;

    fn try_from(raw: Spanned<RawException>) -> Result<LicenseException, String> {
        let offset = raw.span().start;
        let raw = raw.into_inner();
        let (name, versions) = match (raw.package.split_once('@'), &raw.versions) {
            (Some((name, version)), None) => {
                let exact =
                    validate_version(version).map_err(|e| format!("[[licenses.exception]] {e}"))?;
                let req =
                    semver::VersionReq::parse(&format!("={exact}")).map_err(|e| e.to_string())?;
                (name.to_owned(), req)
            }
            (None, Some(range)) => (
                raw.package.clone(),
                semver::VersionReq::parse(range).map_err(|e| {
                    format!(
                        "[[licenses.exception]] versions `{}` is not a version range: {e}",
                        range.escape_default()
                    )
                })?,
            ),
            (None, None) => (raw.package.clone(), semver::VersionReq::STAR),
            (Some(_), Some(_)) => {
                return Err(
                    "[[licenses.exception]] gives both `name@version` and `versions`: use one"
                        .into(),
                );
            }
        };
        validate_crate_name(&name).map_err(|e| format!("[[licenses.exception]] {e}"))?;
        for id in &raw.allow {
            check_license_id(id).map_err(|e| format!("[[licenses.exception]] allow: {e}"))?;
        }
        if raw.reason.trim().is_empty() {
            return Err("[[licenses.exception]] needs a non-empty `reason`".into());
        }
        Ok(LicenseException {
            name,
            versions,
            allow: raw.allow,
            reason: raw.reason,
            expires: raw.expires,
            offset,
        })
    }
}

/// An SPDX license identifier (or a `LicenseRef-`), exactly as the SPDX list spells it.
fn check_license_id(id: &str) -> Result<(), String> {
    if id.starts_with("LicenseRef-") && id.len() > "LicenseRef-".len() {
        return Ok(());
    }
    match spdx::license_id(id) {
        Some(found) if found.name == id.trim_end_matches('+') => Ok(()),
        Some(found) => Err(format!(
            "`{}` is spelt `{}` in the SPDX license list",
            id.escape_default(),
            found.name
        )),
        None => Err(format!(
            "`{}` is not an SPDX license identifier (see https://spdx.org/licenses/)",
            id.escape_default()
        )),
    }
}

impl LicensePolicy {
    /// Checks each identifier; `Err((byte offset, message))`.
    pub(super) fn validate(&self) -> Result<(), (usize, String)> {
        for (key, list) in [("allow", &self.allow), ("deny", &self.deny)] {
            for id in list {
                check_license_id(id.get_ref())
                    .map_err(|e| (id.span().start, format!("[licenses] {key}: {e}")))?;
            }
        }
        Ok(())
    }

    pub fn unknown_action(&self) -> RiskAction {
        self.unknown.unwrap_or(RiskAction::Deny)
    }

    pub fn mismatch_action(&self) -> RiskAction {
        self.mismatch.unwrap_or(RiskAction::Warn)
    }

    pub fn dev_copyleft_action(&self) -> RiskAction {
        self.dev_copyleft.unwrap_or(RiskAction::Allow)
    }

    pub fn allows(&self, id: &str) -> bool {
        self.allow
            .iter()
            .any(|a| crate::license::same_license(a.get_ref(), id) && same_variant(a.get_ref(), id))
    }

    pub fn denies(&self, id: &str) -> bool {
        self.deny
            .iter()
            .any(|d| crate::license::same_license(d.get_ref(), id) && same_variant(d.get_ref(), id))
    }

    /// The live exception for this package, if any.
    pub fn exception(
        &self,
        name: &str,
        version: &semver::Version,
        today: Date,
    ) -> Option<&LicenseException> {
        self.exceptions
            .iter()
            .find(|x| x.name == name && x.versions.matches(version) && today <= x.expires)
    }

    /// An exception for this package that has expired (reported so it gets renewed).
    pub fn expired_exception(
        &self,
        name: &str,
        version: &semver::Version,
        today: Date,
    ) -> Option<&LicenseException> {
        self.exceptions
            .iter()
            .find(|x| x.name == name && x.versions.matches(version) && today > x.expires)
    }
}

/// `GPL-2.0-only` and `GPL-2.0-or-later` are different grants: an allow entry names one of them
/// exactly (the deprecated bare `GPL-2.0` means `-only`, `+` means `-or-later`).
fn same_variant(policy: &str, declared: &str) -> bool {
    fn later(id: &str) -> bool {
        id.ends_with('+') || id.ends_with("-or-later")
    }
    later(policy) == later(declared)
}
