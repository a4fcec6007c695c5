//! `[risk]`: what the gate does with each risk signal (see [`crate::risk`]), the thresholds the
//! signals are computed with, and exceptions with an expiry. Parsed strictly, like the rest of
//! `Cargo.audit`: an unknown key, signal or action is an error at its line.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::names::{validate_crate_name, validate_version};
use crate::risk::SignalCode;
use crate::time::Date;

/// What the policy does with one signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RiskAction {
    /// Blocks the package with reason `risk`.
    Deny,
    /// Reported, does not block.
    Warn,
    /// Not reported.
    Allow,
}

impl RiskAction {
    pub fn as_str(self) -> &'static str {
        match self {
            RiskAction::Deny => "deny",
            RiskAction::Warn => "warn",
            RiskAction::Allow => "allow",
        }
    }
}

pub const DEFAULT_MIN_AGE_SECONDS: i64 = 3 * 86_400;
pub const DEFAULT_YOUNG_CRATE_DAYS: u32 = 30;
pub const DEFAULT_FEW_VERSIONS: u32 = 3;
pub const DEFAULT_UNSAFE_INCREASE: u64 = 10;
pub const DEFAULT_YANKED_PREDECESSORS: u32 = 2;
pub const DEFAULT_BLOB_BYTES: u64 = 16 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RiskPolicy {
    /// `recently-published` below this age: `"3 days"`, `"12 hours"`, `"1 week"`.
    pub min_age: Option<Spanned<String>>,
    /// `young-crate` when a new dependency's first version is younger than this (days).
    pub young_crate_days: Option<u32>,
    /// `few-versions` when a new dependency has fewer published versions than this.
    pub few_versions: Option<u32>,
    /// `unsafe-increase` when unsafe constructs went up by more than this.
    pub unsafe_increase: Option<u64>,
    /// `yanked-predecessors` when at least this many versions right before are yanked.
    pub yanked_predecessors: Option<u32>,
    /// `opaque-file` for a base64 or hex run at least this long (bytes).
    pub blob_bytes: Option<u64>,
    /// What a signal that could not be computed does (default warn).
    pub not_computed: Option<RiskAction>,
    /// Per signal code: deny, warn or allow.
    #[serde(default)]
    pub signals: BTreeMap<String, RiskAction>,
    #[serde(default, rename = "exception")]
    pub exceptions: Vec<RiskException>,
}

/// `[[risk.exception]]`: signals the project has looked at for some versions of a crate, for a
/// while.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "Spanned<RawException>")]
pub struct RiskException {
    pub name: String,
    pub versions: semver::VersionReq,
    /// The signals excepted; empty: every signal.
    pub signals: Vec<SignalCode>,
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
    signals: Vec<String>,
    reason: String,
    expires: Date,
}

impl TryFrom<Spanned<RawException>> for RiskException {
    type Error = String;

    fn try_from(raw: Spanned<RawException>) -> Result<RiskException, String> {
        let offset = raw.span().start;
        let raw = raw.into_inner();
        let (name, versions) = match (raw.package.split_once('@'), &raw.versions) {
            (Some((name, version)), None) => {
                let exact =
                    validate_version(version).map_err(|e| format!("[[risk.exception]] {e}"))?;
                let req =
                    semver::VersionReq::parse(&format!("={exact}")).map_err(|e| e.to_string())?;
                (name.to_owned(), req)
            }
            (None, Some(range)) => (
                raw.package.clone(),
                semver::VersionReq::parse(range).map_err(|e| {
                    format!("[[risk.exception]] versions `{range}` is not a version range: {e}")
                })?,
            ),
            (Some(_), Some(_)) => {
                return Err(
                    "[[risk.exception]] gives both `name@version` and `versions`: use one".into(),
                );
            }
            (None, None) => {
                return Err(format!(
                    "[[risk.exception]] for `{}` needs `package = \"{0}@VERSION\"` or a `versions` range",
                    raw.package.escape_default()
                ));
            }
        };
        validate_crate_name(&name).map_err(|e| format!("[[risk.exception]] {e}"))?;
        let mut signals = Vec::new();
        for s in &raw.signals {
            signals.push(SignalCode::parse(s).ok_or_else(|| unknown_signal(s))?);
        }
        if raw.reason.trim().is_empty() {
            return Err("[[risk.exception]] needs a non-empty `reason`".into());
        }
        Ok(RiskException {
            name,
            versions,
            signals,
            reason: raw.reason,
            expires: raw.expires,
            offset,
        })
    }
}

fn unknown_signal(s: &str) -> String {
    format!(
        "`{}` is not a risk signal; the signals are: {}",
        s.escape_default(),
        SignalCode::ALL
            .iter()
            .map(|c| c.code())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

impl RiskException {
    pub fn applies(
        &self,
        name: &str,
        version: &semver::Version,
        signal: SignalCode,
        today: Date,
    ) -> bool {
        self.name == name
            && self.versions.matches(version)
            && (self.signals.is_empty() || self.signals.contains(&signal))
            && today <= self.expires
    }
}

/// What the policy does with one signal raised for one package version: the rule `check`'s gate
/// and the registry's automatic auditor share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RiskDecision<'a> {
    Deny,
    Warn,
    Allow,
    /// A live `[[risk.exception]]` covers it: reported as information, never blocking.
    Excepted(&'a RiskException),
}

impl RiskPolicy {
    /// The decision for `signal` raised by `name@version` on `today`.
    pub fn decide(
        &self,
        name: &str,
        version: &semver::Version,
        signal: SignalCode,
        today: Date,
    ) -> RiskDecision<'_> {
        match self.action(signal) {
            RiskAction::Allow => RiskDecision::Allow,
            action => match self.exception(name, version, signal, today) {
                Some(x) => RiskDecision::Excepted(x),
                None if action == RiskAction::Deny => RiskDecision::Deny,
                None => RiskDecision::Warn,
            },
        }
    }

    /// The signals of a "not computed" entry the policy looks at (those it does not allow):
    /// only they need computing.
    pub fn wanted(&self, signals: &[SignalCode]) -> Vec<SignalCode> {
        signals
            .iter()
            .copied()
            .filter(|c| self.action(*c) != RiskAction::Allow)
            .collect()
    }

    pub fn action(&self, signal: SignalCode) -> RiskAction {
        self.signals
            .iter()
            .find(|(k, _)| k.as_str() == signal.code())
            .map_or_else(|| signal.default_action(), |(_, a)| *a)
    }

    pub fn not_computed_action(&self) -> RiskAction {
        self.not_computed.unwrap_or(RiskAction::Warn)
    }

    /// `[risk] min-age` in seconds (validated when the file was read).
    pub fn min_age_seconds(&self) -> i64 {
        self.min_age
            .as_ref()
            .and_then(|s| parse_age(s.get_ref()))
            .unwrap_or(DEFAULT_MIN_AGE_SECONDS)
    }

    pub fn young_crate_days(&self) -> u32 {
        self.young_crate_days.unwrap_or(DEFAULT_YOUNG_CRATE_DAYS)
    }

    pub fn few_versions(&self) -> u32 {
        self.few_versions.unwrap_or(DEFAULT_FEW_VERSIONS)
    }

    pub fn unsafe_increase(&self) -> u64 {
        self.unsafe_increase.unwrap_or(DEFAULT_UNSAFE_INCREASE)
    }

    pub fn yanked_predecessors(&self) -> u32 {
        self.yanked_predecessors
            .unwrap_or(DEFAULT_YANKED_PREDECESSORS)
    }

    pub fn blob_bytes(&self) -> u64 {
        self.blob_bytes.unwrap_or(DEFAULT_BLOB_BYTES)
    }

    /// The live exception for this signal of this package, if any.
    pub fn exception(
        &self,
        name: &str,
        version: &semver::Version,
        signal: SignalCode,
        today: Date,
    ) -> Option<&RiskException> {
        self.exceptions
            .iter()
            .find(|x| x.applies(name, version, signal, today))
    }

    /// Checks what serde cannot; `Err((where, message))`: a byte offset, or the key to point at
    /// (in `[risk.signals]` or `[risk]`).
    pub(super) fn validate(&self) -> Result<(), (Where, String)> {
        if let Some(age) = &self.min_age
            && parse_age(age.get_ref()).is_none()
        {
            return Err((
                Where::Offset(age.span().start),
                format!(
                    "[risk] min-age `{}` is not a duration such as \"3 days\", \"12 hours\" or \"1 week\"",
                    age.get_ref().escape_default()
                ),
            ));
        }
        for key in self.signals.keys() {
            if SignalCode::parse(key).is_none() {
                return Err((
                    Where::Key("risk.signals", key.clone()),
                    format!("[risk.signals] {}", unknown_signal(key)),
                ));
            }
        }
        for (key, value) in [
            ("few-versions", self.few_versions.map(u64::from)),
            (
                "yanked-predecessors",
                self.yanked_predecessors.map(u64::from),
            ),
            ("blob-bytes", self.blob_bytes),
        ] {
            if value == Some(0) {
                return Err((
                    Where::Key("risk", key.to_owned()),
                    format!("[risk] {key} must be at least 1"),
                ));
            }
        }
        Ok(())
    }
}

/// Where a `[risk]` error is.
#[derive(Debug)]
pub(super) enum Where {
    Offset(usize),
    Key(&'static str, String),
}

/// `"3 days"`, `"12 hours"`, `"90 minutes"`, `"1 week"`, `"0 days"`: the spelling cargo's
/// `min-publish-age` uses. Seconds, or `None`.
pub fn parse_age(text: &str) -> Option<i64> {
    let mut parts = text.split_whitespace();
    let number: i64 = parts.next()?.parse().ok()?;
    let unit = parts.next()?;
    if parts.next().is_some() || number < 0 {
        return None;
    }
    let seconds = match unit.trim_end_matches('s') {
        "second" | "sec" => 1,
        "minute" | "min" => 60,
        "hour" | "h" => 3_600,
        "day" | "d" => 86_400,
        "week" | "w" => 7 * 86_400,
        _ => return None,
    };
    number.checked_mul(seconds)
}
