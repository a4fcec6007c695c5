//! `Cargo.audit`: the project's audit file. It pins auditors and states the policy; this module
//! parses it strictly — an unknown key is an error, because a typo must never weaken a policy —
//! and every error points at the line and column.
//!
//! Sections so far: `[policy]` (`micro-lines`), `[sources]` (pinned repositories) and
//! `[url-rewrite]` (fetch repositories from mirrors). The auditor and gate issues add
//! `[[auditor]]`, exemptions and the rest of the policy.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::Error;
use crate::lockfile::line_of;
use crate::names::validate_crate_name;

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
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Policy {
    /// Packages with fewer lines of library code than this are "micro".
    pub micro_lines: Option<u64>,
}

impl AuditFile {
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
        if file.policy.micro_lines == Some(0) {
            return Err(error(
                find_key(text, "policy", "micro-lines"),
                "[policy] micro-lines must be at least 1".into(),
            ));
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
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
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
}
