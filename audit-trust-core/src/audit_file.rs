//! `Cargo.audit`: the project's audit file. It pins auditors and states the policy; this module
//! parses it strictly — an unknown key is an error, because a typo must never weaken a policy —
//! and every error points at the line and column.
//!
//! Sections: `[policy]` (see [`policy`]), `[sources]` (pinned repositories), `[url-rewrite]`
//! (fetch repositories from mirrors), `[[auditor]]` (pinned keys, see [`auditor`]), `[[import]]`
//! (external audit sets, see [`import`]), and the gate's `[[exemption]]`, `[[ignore-advisory]]`,
//! `[criteria.NAME]`, `[allowed-sources]` and `[advisories]` (see [`gate`]).

mod auditor;
pub mod baseline;
mod gate;
mod import;
mod licenses;
mod policy;
pub mod prune;
pub mod renew;
mod risk;
pub mod starter;
mod user_config;
mod witness;

pub use auditor::{
    Auditor, CratePattern, PinnedKey, RecordLocation, RegistryLogPin, check_http_url,
};
use gate::check_allowed_sources;
pub use gate::{AdvisoriesConfig, AdvisoryIgnore, AllowedSources, CustomCriterion, Exemption};
pub use import::{Import, ImportFormat, ImportSource};
pub use licenses::{LicenseException, LicensePolicy};
pub use policy::{Action, Policy};
pub use risk::{RiskAction, RiskDecision, RiskException, RiskPolicy, parse_age};
pub use user_config::UserConfig;
pub use witness::WitnessPin;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::Error;
use crate::lockfile::line_of;
use crate::names::validate_crate_name;
use crate::signoff::Criterion;

/// The file name looked for next to `Cargo.lock`.
pub const AUDIT_FILE_NAME: &str = "Cargo.audit";

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AuditFile {
    #[serde(default)]
    pub policy: Policy,
    /// Pinned source repositories: crate name → repository URL. A pinned repository is the only
    /// one provenance checks use for that crate, whatever its tarball claims.
    #[serde(default)]
    pub sources: BTreeMap<String, String>,
    /// Repository URL rewrites, like git's `insteadOf`: URL prefix → the prefix to fetch from
    /// instead (an internal mirror). The repository's identity stays the original URL.
    #[serde(default)]
    pub url_rewrite: BTreeMap<String, String>,
    /// The auditors this project trusts, each with its pinned keys.
    #[serde(default, rename = "auditor")]
    pub auditors: Vec<Auditor>,
    /// Transparency-log witnesses whose cosignatures the gate counts (`[policy]
    /// witnesses-required`).
    #[serde(default, rename = "witness")]
    pub witnesses: Vec<WitnessPin>,
    /// External audit sets (cargo-vet `audits.toml`), pinned in `Cargo.audit.lock`.
    #[serde(default, rename = "import")]
    pub imports: Vec<Import>,
    /// Packages admitted without a sign-off, each with a reason and an expiry date.
    #[serde(default, rename = "exemption")]
    pub exemptions: Vec<Exemption>,
    /// Advisories accepted for a while, each with a reason and an expiry date.
    #[serde(default, rename = "ignore-advisory")]
    pub ignored_advisories: Vec<AdvisoryIgnore>,
    /// Custom criteria and what they imply.
    #[serde(default)]
    pub criteria: BTreeMap<String, CustomCriterion>,
    #[serde(default)]
    pub allowed_sources: AllowedSources,
    #[serde(default)]
    pub advisories: AdvisoriesConfig,
    /// What the gate does with risk signals (see `docs/risk.md`).
    #[serde(default)]
    pub risk: RiskPolicy,
    /// Which licenses the project accepts (see `docs/licenses.md`); `None`: no license policy.
    pub licenses: Option<LicensePolicy>,
}

impl AuditFile {
    /// The auditors whose `covers` patterns match `crate_name`.
    pub fn auditors_covering<'a>(
        &'a self,
        crate_name: &'a str,
    ) -> impl Iterator<Item = &'a Auditor> + 'a {
        self.auditors.iter().filter(move |a| a.covers(crate_name))
    }

    /// The imports whose `covers` (and include/exclude) let them vouch for `crate_name`.
    pub fn imports_covering<'a>(
        &'a self,
        crate_name: &'a str,
    ) -> impl Iterator<Item = &'a Import> + 'a {
        self.imports.iter().filter(move |i| i.covers(crate_name))
    }

    /// Whether imported (unsigned) evidence may count for `crate_name`: not when `[policy]
    /// imports-not-allowed` matches it.
    pub fn imports_allowed_for(&self, crate_name: &str) -> bool {
        !self
            .policy
            .imports_not_allowed
            .iter()
            .any(|p| p.matches(crate_name))
    }

    /// `Cargo.audit` in `dir`, if there is one.
    pub fn find(dir: &Path) -> Option<PathBuf> {
        let path = dir.join(AUDIT_FILE_NAME);
        path.is_file().then_some(path)
    }

    pub fn load(path: &Path) -> Result<AuditFile, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        AuditFile::parse(&text, path)
    }

    /// Parses and validates; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<AuditFile, Error> {
        let error = |offset: Option<usize>, message: String| {
            let (line, column) = offset.map_or((None, None), |o| {
                let (l, c) = line_and_column(text, o);
                (Some(l), Some(c))
            });
            Error::AuditFile {
                path: path.to_owned(),
                line,
                column,
                message,
            }
        };
        let file: AuditFile = toml::from_str(text)
            .map_err(|e| error(e.span().map(|s| s.start), e.message().to_owned()))?;
        for (name, url) in &file.sources {
            let at = find_key(text, "sources", name);
            validate_crate_name(name).map_err(|e| error(at, format!("[sources]: {e}")))?;
            if !is_supported_repository_url(url) {
                return Err(error(
                    at,
                    format!(
                        "[sources] {name}: `{url}` is not a repository URL this tool accepts \
                         (https://, ssh://, git@host:path, file:// or an absolute path)"
                    ),
                ));
            }
        }
        for (prefix, replacement) in &file.url_rewrite {
            let at = find_key(text, "url-rewrite", prefix);
            for url in [prefix, replacement] {
                if !is_supported_repository_url(url) {
                    return Err(error(
                        at,
                        format!(
                            "[url-rewrite] `{url}` is not a repository URL prefix this tool \
                             accepts (https://, ssh://, git@host:, file:// or an absolute path)"
                        ),
                    ));
                }
            }
        }
        check_allowed_sources(&file.allowed_sources)
            .map_err(|(key, message)| error(find_key(text, "allowed-sources", key), message))?;
        auditor::check_auditors(&file.auditors)
            .map_err(|(span, message)| error(Some(span.start), message))?;
        witness::check_witnesses(&file.witnesses, file.policy.witnesses_required).map_err(
            |message| {
                error(
                    text.find("[[witness]]").or_else(|| text.find("[policy]")),
                    message,
                )
            },
        )?;
        let auditor_names: Vec<&str> = file.auditors.iter().map(|a| a.name.as_str()).collect();
        import::check_imports(&file.imports, &auditor_names, &file.criteria)
            .map_err(|(span, message)| error(Some(span.start), message))?;
        file.policy
            .validate()
            .map_err(|(key, message)| error(find_key(text, "policy", key), message))?;
        file.risk.validate().map_err(|(at, message)| {
            let offset = match at {
                risk::Where::Offset(o) => Some(o),
                risk::Where::Key(table, key) => find_key(text, table, &key),
            };
            error(offset, message)
        })?;
        if let Some(licenses) = &file.licenses {
            licenses
                .validate()
                .map_err(|(offset, message)| error(Some(offset), message))?;
        }
        gate::check_criteria(&file.criteria)
            .map_err(|(name, message)| error(text.find(&format!("[criteria.{name}]")), message))?;
        for (criterion_list, key) in [
            (file.policy.criteria.iter().flatten(), "criteria"),
            (file.policy.dev_criteria.iter().flatten(), "dev-criteria"),
        ] {
            for c in criterion_list {
                if let Criterion::Custom(name) = c
                    && !file.criteria.contains_key(name)
                {
                    return Err(error(
                        find_key(text, "policy", key),
                        format!(
                            "[policy] {key}: `{name}` is not defined; add a `[criteria.{name}]` table"
                        ),
                    ));
                }
            }
        }
        Ok(file)
    }
}

/// The schemes a repository may be fetched with. Anything else (`http://`, `ext::`, `fd::`…) is
/// refused: plain http can be tampered with in transit and git's exotic transports run commands.
pub fn is_supported_repository_url(url: &str) -> bool {
    let url = url.trim();
    if url.is_empty() || url.chars().any(char::is_control) {
        return false;
    }
    url.starts_with("https://")
        || url.starts_with("ssh://")
        || url.starts_with("file://")
        || url.starts_with('/')
        || (url.starts_with("git@") && url.contains(':'))
}

/// 1-based line and column of a byte offset.
pub(crate) fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let line = line_of(text, offset);
    let end = offset.min(text.len());
    let line_start = text[..end].rfind('\n').map_or(0, |i| i + 1);
    let column = text
        .get(line_start..end)
        .map_or(1, |s| s.chars().count() + 1);
    (line, column)
}

/// Best-effort offset of `key` inside `[table]`, for pointing at values that parsed but are
/// invalid. Falls back to the table header.
fn find_key(text: &str, table: &str, key: &str) -> Option<usize> {
    let header = format!("[{table}]");
    let start = text.find(&header)?;
    let mut offset = start;
    for line in text[start..].split_inclusive('\n') {
        let trimmed = line.trim_start();
        let bare = trimmed.trim_start_matches('"');
        if bare.starts_with(key)
            && bare[key.len()..]
                .trim_start_matches('"')
                .trim_start()
                .starts_with('=')
        {
            return Some(offset + (line.len() - trimmed.len()));
        }
        offset += line.len();
    }
    Some(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<AuditFile, String> {
        AuditFile::parse(text, Path::new("Cargo.audit")).map_err(|e| e.to_string())
    }

    #[test]
    fn empty_file_is_the_default() {
        assert_eq!(parse(""), Ok(AuditFile::default()));
    }

    #[test]
    fn reads_policy_and_sources() {
        let f = parse(
            "[policy]\nmicro-lines = 150\n\n[sources]\ntokio = \"https://github.com/tokio-rs/tokio\"\n",
        )
        .expect("valid");
        assert_eq!(f.policy.micro_lines, Some(150));
        assert_eq!(f.sources["tokio"], "https://github.com/tokio-rs/tokio");
    }

    #[test]
    fn unknown_keys_are_errors_with_line_and_column() {
        let err = parse("[policy]\nmicro-line = 150\n").expect_err("typo must fail");
        assert!(
            err.starts_with("Cargo.audit:2:1: unknown field `micro-line`"),
            "{err}"
        );
        let err = parse("[polcy]\n").expect_err("typo must fail");
        assert!(err.starts_with("Cargo.audit:1:"), "{err}");
    }

    #[test]
    fn wrong_types_and_values_point_at_the_key() {
        let err = parse("[policy]\nmicro-lines = \"many\"\n").expect_err("must fail");
        assert!(err.starts_with("Cargo.audit:2:15:"), "{err}");
        let err = parse("[policy]\n\nmicro-lines = 0\n").expect_err("must fail");
        assert!(
            err.starts_with("Cargo.audit:3:1: [policy] micro-lines must be at least 1"),
            "{err}"
        );
    }

    #[test]
    fn reads_url_rewrites_and_refuses_bad_ones() {
        let f = parse(
            "[url-rewrite]\n\"https://github.com/\" = \"https://git.corp.example/github/\"\n",
        )
        .expect("valid");
        assert_eq!(
            f.url_rewrite["https://github.com/"],
            "https://git.corp.example/github/"
        );
        let err = parse("[url-rewrite]\n\n\"https://github.com/\" = \"http://mirror/\"\n")
            .expect_err("plain http must fail");
        assert!(
            err.starts_with("Cargo.audit:3:1: [url-rewrite] `http://mirror/`"),
            "{err}"
        );
        let err = parse("[url-rewrites]\n").expect_err("typo must fail");
        assert!(err.starts_with("Cargo.audit:1:"), "{err}");
    }

    #[test]
    fn hostile_sources_are_refused() {
        let err =
            parse("[sources]\n\"../x\" = \"https://example.com/x\"\n").expect_err("must fail");
        assert!(
            err.contains("Cargo.audit:2:1: [sources]: crate name"),
            "{err}"
        );
        for url in ["http://example.com/x", "ext::sh -c evil", "", "fd::17"] {
            let err = parse(&format!("[sources]\nx = {url:?}\n")).expect_err(url);
            assert!(err.contains("not a repository URL"), "{err}");
        }
    }

    const KEY_A: &str = "ed25519:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const KEY_B: &str = "ed25519:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

    fn auditor_file(keys: &str, extra: &str) -> String {
        format!(
            "[[auditor]]\nname = \"tokio-team\"\ncovers = [\"tokio\", \"tokio-*\"]\n\
             records = {{ folder = \"sign-offs\" }}\nkeys = [{keys}]\n{extra}"
        )
    }

    #[test]
    fn reads_auditors_with_keys_dates_criteria_and_locations() {
        let text = format!(
            "{}\n[[auditor]]\nname = \"bot\"\ncovers = [\"*\"]\n\
             records = {{ registry = \"https://audit.example.com\" }}\n\n\
             [[auditor.keys]]\nkey = \"{KEY_B}\"\nnot-after = 2026-12-31\ncriteria = [\"source-matches\"]\n",
            auditor_file(&format!("{{ key = \"{KEY_A}\" }}"), "")
        );
        let f = parse(&text).expect("valid");
        assert_eq!(f.auditors.len(), 2);
        let team = &f.auditors[0];
        assert!(team.covers("tokio-util") && team.covers("tokio") && !team.covers("mio"));
        assert_eq!(
            team.records.folder(Path::new("/p")),
            Some(PathBuf::from("/p/sign-offs"))
        );
        let bot = &f.auditors[1];
        assert_eq!(
            bot.records,
            RecordLocation::Registry("https://audit.example.com".into())
        );
        let key = &bot.keys[0];
        assert_eq!(key.key.to_string(), KEY_B);
        let last_second = crate::time::Timestamp::parse("2026-12-31T23:59:59Z").expect("valid");
        assert!(key.is_live(last_second));
        assert!(!key.is_live(crate::time::Timestamp(last_second.0 + 1)));
        assert!(key.may_assert(&crate::signoff::Criterion::SourceMatches));
        assert!(!key.may_assert(&crate::signoff::Criterion::Reviewed));
        assert!(team.keys[0].may_assert(&crate::signoff::Criterion::Reviewed));
        let covering: Vec<&str> = f
            .auditors_covering("tokio-util")
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(covering, ["tokio-team", "bot"]);
    }

    #[test]
    fn auditor_errors_point_at_the_value() {
        let cases = [
            // An unknown key in the auditor table.
            (
                auditor_file(&format!("{{ key = \"{KEY_A}\" }}"), "cover = []\n"),
                "Cargo.audit:6:1: unknown field `cover`",
            ),
            // A malformed key, at its string.
            (
                auditor_file("{ key = \"ed25519:abc\" }", ""),
                "Cargo.audit:5:17: `ed25519:abc` is not a valid ed25519 public key",
            ),
            (
                auditor_file("{ key = \"rsa:abc\" }", ""),
                "Cargo.audit:5:17: a public key must look like",
            ),
            // A date that is not one.
            (
                auditor_file(
                    &format!("{{ key = \"{KEY_A}\", not-after = \"soon\" }}"),
                    "",
                ),
                "`soon` is not a date",
            ),
            (
                auditor_file(
                    &format!("{{ key = \"{KEY_A}\", not-after = 2026-02-30 }}"),
                    "",
                ),
                "Cargo.audit:5:",
            ),
            (
                auditor_file(
                    &format!("{{ key = \"{KEY_A}\", criteria = [\"Reviewed\"] }}"),
                    "",
                ),
                "`Reviewed` is not a criterion name",
            ),
            (
                auditor_file(&format!("{{ key = \"{KEY_A}\", criterion = [] }}"), ""),
                "unknown field `criterion`",
            ),
            (auditor_file("", ""), "auditor `tokio-team` pins no key"),
            (
                auditor_file(
                    &format!("{{ key = \"{KEY_A}\" }}, {{ key = \"{KEY_A}\" }}"),
                    "",
                ),
                "pins the key",
            ),
        ];
        for (text, expected) in cases {
            let err = parse(&text).expect_err(&text);
            assert!(
                err.contains(expected),
                "{text}\n=> {err}\nexpected {expected}"
            );
        }
        let located = |text: &str| parse(text).expect_err(text);
        let with_records = |records: &str| {
            format!(
                "[[auditor]]\nname = \"x\"\ncovers = [\"*\"]\nkeys = [{{ key = \"{KEY_A}\" }}]\nrecords = {records}\n"
            )
        };
        for records in [
            "{ folder = \"a\", url = \"https://x\" }",
            "{}",
            "{ url = \"http://example.com/x\" }",
            "{ registry = \"ftp://example.com\" }",
            "{ folder = \"\" }",
            "{ path = \"a\" }",
        ] {
            let err = located(&with_records(records));
            assert!(err.starts_with("Cargo.audit:5:"), "{records} => {err}");
        }
        assert!(parse(&with_records("{ registry = \"http://127.0.0.1:8080\" }")).is_ok());
        let bad_pattern = "[[auditor]]\nname = \"x\"\ncovers = [\"../etc\"]\n";
        assert!(
            located(bad_pattern).starts_with("Cargo.audit:3:10:"),
            "{}",
            located(bad_pattern)
        );
        let bad_name = located(&with_records("{ folder = \"a\" }").replace("\"x\"", "\"a b\""));
        assert!(bad_name.contains("auditor name `a b`"), "{bad_name}");
    }

    #[test]
    fn auditors_must_be_distinct() {
        let one = auditor_file(&format!("{{ key = \"{KEY_A}\" }}"), "");
        let err = parse(&format!("{one}\n{one}")).expect_err("duplicate name");
        assert!(
            err.starts_with("Cargo.audit:7:1: there are two auditors named `tokio-team`"),
            "{err}"
        );
        let other = one.replace("tokio-team", "other");
        let err = parse(&format!("{one}\n{other}")).expect_err("shared key");
        assert!(
            err.contains("is pinned by both `tokio-team` and `other`"),
            "{err}"
        );
    }
}

#[cfg(test)]
mod example_tests {
    use super::*;

    /// The annotated example shipped with the project must always be a valid audit file.
    #[test]
    fn the_shipped_example_parses() {
        let text = include_str!("../../Cargo.audit.example");
        let file =
            AuditFile::parse(text, Path::new("Cargo.audit.example")).expect("example is valid");
        assert_eq!(file.policy.micro_lines, Some(300));
    }
}

#[cfg(test)]
mod gate_tests;
#[cfg(test)]
mod risk_tests;
